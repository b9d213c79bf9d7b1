package timeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/net/idna"

	"github.com/mailtrail/mailtrail/message"
)

// Concern says which stored messages a change of the customer records can
// move from one timeline to another.
type Concern struct {
	// CustomerIDs: messages with an event on these customers.
	CustomerIDs []int64 `json:"customer_ids,omitempty"`
	// Domains and Emails (normalized): messages with a From, To, Cc or Bcc
	// address at one of the domains (or a subdomain) or equal to one of the
	// addresses.
	Domains []string `json:"domains,omitempty"`
	Emails  []string `json:"emails,omitempty"`
	// AutoCreated: messages on customers created from mail, whose verdict
	// a new customer can change (a look-alike of it, a name imitating it).
	AutoCreated bool `json:"auto_created,omitempty"`
	// Noise: messages on no timeline for want of a customer (unmatched,
	// pending_reply, suspicious), which include inline forwards whose
	// buyer is only named in the body.
	Noise  bool   `json:"noise,omitempty"`
	Reason string `json:"reason"` // recorded in rematch_queue.reason
}

// QueueRematch queues the messages c concerns for re-matching and returns
// how many it concerns (queued now or already). Stored addresses are
// compared lower-cased, in punycode and Unicode form, so that a message
// stored with a Unicode domain is found by its punycode form.
func QueueRematch(ctx context.Context, db DB, c Concern) (int, error) {
	hits, err := messagesAddressing(ctx, db, c.Domains, c.Emails)
	if err != nil {
		return 0, err
	}
	var n int
	err = db.QueryRow(ctx, `
		WITH hits AS (
			SELECT unnest($1::bigint[]) AS id
			UNION
			SELECT message_id FROM events WHERE customer_id = ANY($2)
			UNION
			SELECT e.message_id FROM events e JOIN customers c ON c.id = e.customer_id WHERE $3 AND c.auto_created
			UNION
			SELECT id FROM messages WHERE $4 AND noise IN ('unmatched', 'pending_reply', 'suspicious')),
		queued AS (
			INSERT INTO rematch_queue (message_id, reason)
			SELECT id, $5 FROM hits ORDER BY id
			ON CONFLICT DO NOTHING)
		SELECT count(*) FROM hits`,
		hits, nonNil(c.CustomerIDs), c.AutoCreated, c.Noise, c.Reason).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue messages for matching: %w", err)
	}
	return n, nil
}

// messagesAddressing returns the messages with a From, To, Cc or Bcc
// address equal to one of emails or at one of domains (or a subdomain). It
// reads every message's addresses once and compares them here: measured on
// a loaded 2-core machine with 100,000 messages and 1,000 domains, a
// suffix join in SQL took 9 s, this 1.3 to 1.8 s (BenchmarkQueueRematch).
func messagesAddressing(ctx context.Context, db DB, domains, emails []string) ([]int64, error) {
	if len(domains) == 0 && len(emails) == 0 {
		return []int64{}, nil
	}
	doms, addrs := map[string]bool{}, map[string]bool{}
	for _, d := range withUnicode(domains) {
		doms[d] = true
	}
	for _, e := range withUnicode(emails) {
		addrs[e] = true
	}
	rows, err := db.Query(ctx, `
		SELECT m.id, a->>'email'
		FROM messages m, jsonb_array_elements(m.from_addrs || m.to_addrs || m.cc_addrs || m.bcc_addrs) a`)
	if err != nil {
		return nil, fmt.Errorf("scan message addresses: %w", err)
	}
	hits := []int64{}
	var id int64
	var a string
	_, err = pgx.ForEachRow(rows, []any{&id, &a}, func() error {
		if len(hits) > 0 && hits[len(hits)-1] == id {
			return nil // a message's rows come together; a repeat would be harmless anyway
		}
		a = strings.ToLower(a) // no copy when it is lower-case already
		if addrs[a] || len(doms) > 0 && atDomain(a, doms) {
			hits = append(hits, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan message addresses: %w", err)
	}
	return hits, nil
}

// atDomain reports whether addr's domain, or a parent of it, is in doms.
func atDomain(addr string, doms map[string]bool) bool {
	_, d, ok := strings.Cut(addr, "@")
	for ok && strings.Contains(d, ".") {
		if doms[d] {
			return true
		}
		_, d, ok = strings.Cut(d, ".")
	}
	return false
}

// QueueAllForRematch queues every stored message (mailtrail rematch, or a
// change of the matching config).
func QueueAllForRematch(ctx context.Context, db DB, reason string) (int, error) {
	tag, err := db.Exec(ctx, `
		INSERT INTO rematch_queue (message_id, reason) SELECT id, $1 FROM messages ORDER BY id
		ON CONFLICT DO NOTHING`, reason)
	if err != nil {
		return 0, fmt.Errorf("queue all messages for matching: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeferRematch records c for ExpandConcerns, in db's transaction: what a
// request cannot wait for (QueueRematch reads every message's addresses).
func DeferRematch(ctx context.Context, db DB, c Concern) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `INSERT INTO rematch_concerns (concern) VALUES ($1)`, b); err != nil {
		return fmt.Errorf("defer re-matching: %w", err)
	}
	return nil
}

// ExpandConcerns queues the messages of the concerns DeferRematch
// recorded (QueueRematch), deleting them in tx; another daemon's skip the
// ones tx holds. It returns how many concerns it expanded.
func ExpandConcerns(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `
		DELETE FROM rematch_concerns WHERE id IN (SELECT id FROM rematch_concerns FOR UPDATE SKIP LOCKED)
		RETURNING concern`)
	if err != nil {
		return 0, fmt.Errorf("deferred re-matching: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowTo[Concern])
	if err != nil {
		return 0, fmt.Errorf("deferred re-matching: %w", err)
	}
	// One QueueRematch per reason, not per concern: each reads every stored
	// message's addresses, and a burst of edits leaves many concerns.
	byReason := map[string]*Concern{}
	var reasons []string
	for _, c := range cs {
		u := byReason[c.Reason]
		if u == nil {
			u = &Concern{Reason: c.Reason}
			byReason[c.Reason] = u
			reasons = append(reasons, c.Reason)
		}
		u.CustomerIDs = append(u.CustomerIDs, c.CustomerIDs...)
		u.Domains = append(u.Domains, c.Domains...)
		u.Emails = append(u.Emails, c.Emails...)
		u.AutoCreated = u.AutoCreated || c.AutoCreated
		u.Noise = u.Noise || c.Noise
	}
	for _, r := range reasons {
		if _, err := QueueRematch(ctx, tx, *byReason[r]); err != nil {
			return 0, err
		}
	}
	return len(cs), nil
}

// RematchBacklog is the number of messages waiting to be matched again.
func RematchBacklog(ctx context.Context, db DB) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM rematch_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rematch queue: %w", err)
	}
	return n, nil
}

// ClaimRematch takes up to n queued messages, oldest id first, inside tx:
// their queue rows are deleted and locked by tx, so a rollback puts them
// back and two daemons never take the same message.
func ClaimRematch(ctx context.Context, tx pgx.Tx, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, `
		DELETE FROM rematch_queue WHERE message_id IN (
			SELECT message_id FROM rematch_queue ORDER BY message_id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING message_id`, n)
	if err != nil {
		return nil, fmt.Errorf("claim messages to match: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	slices.Sort(ids)
	return ids, err
}

// Stored is a stored message as re-matching needs it.
type Stored struct {
	ID        int64
	Raw       []byte
	Bcc       []message.Address // stored Bcc: a later Sent copy may have added it
	Mailbox   string            // a rep whose mailbox holds it
	Direction string
	Noise     string
	NoiseRule string
	Events    []StoredEvent
}

// StoredEvent is an event of a stored message.
type StoredEvent struct {
	ID         int64
	CustomerID int64
}

// LoadStored reads the messages ids (in id order; missing ones are left
// out) with their raw bytes and events, locking the message rows so that a
// concurrent save of another copy waits for the re-match.
func LoadStored(ctx context.Context, tx pgx.Tx, ids []int64) ([]Stored, error) {
	rows, err := tx.Query(ctx, `
		SELECT m.id, r.raw, m.bcc_addrs, coalesce((SELECT min(rep) FROM message_locations l WHERE l.message_id = m.id), ''),
			coalesce(m.direction, ''), coalesce(m.noise, ''), m.noise_rule
		FROM messages m JOIN message_raw r ON r.message_id = m.id
		WHERE m.id = ANY($1) ORDER BY m.id FOR UPDATE OF m`, ids)
	if err != nil {
		return nil, fmt.Errorf("load messages to match: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Stored, error) {
		var s Stored
		err := row.Scan(&s.ID, &s.Raw, &s.Bcc, &s.Mailbox, &s.Direction, &s.Noise, &s.NoiseRule)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("load messages to match: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT message_id, id, customer_id FROM events WHERE message_id = ANY($1) ORDER BY message_id, id`, ids)
	if err != nil {
		return nil, fmt.Errorf("load events to match: %w", err)
	}
	byID := make(map[int64]*Stored, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	var mid int64
	var e StoredEvent
	_, err = pgx.ForEachRow(rows, []any{&mid, &e.ID, &e.CustomerID}, func() error {
		if s := byID[mid]; s != nil {
			s.Events = append(s.Events, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load events to match: %w", err)
	}
	return out, nil
}

// Rematched says what ApplyRematch changed on one message.
type Rematched struct {
	Added, Removed int
	NoiseChanged   bool
	Lost           []int64 // customers whose event was removed
}

// ApplyRematch makes a stored message's events those of want (one per
// customer): events of customers no longer wanted are deleted, missing
// ones inserted, the others left as they are (their kind and rep stay).
// Each change gets its search outbox row, and added quote events what the
// quote states (quote, from the message as parsed again). The message's
// noise and direction are set to what the new match says (noise is
// cleared when an event remains).
func ApplyRematch(ctx context.Context, tx pgx.Tx, s *Stored, want []NewEvent, quote QuoteDetails, noise, noiseRule, direction string) (Rematched, error) {
	var r Rematched
	wanted := map[int64]bool{}
	for _, e := range want {
		wanted[e.CustomerID] = true
	}
	var drop []int64
	have := map[int64]bool{}
	for _, e := range s.Events {
		have[e.CustomerID] = true
		if !wanted[e.CustomerID] {
			drop = append(drop, e.ID)
			r.Lost = append(r.Lost, e.CustomerID)
		}
	}
	if len(drop) > 0 {
		tag, err := tx.Exec(ctx, `
			WITH d AS (DELETE FROM events WHERE id = ANY($1) RETURNING id)
			INSERT INTO search_outbox (event_id, op) SELECT id, 'delete' FROM d`, drop)
		if err != nil {
			return r, fmt.Errorf("remove events of message %d: %w", s.ID, err)
		}
		r.Removed = int(tag.RowsAffected())
	}
	var add []NewEvent
	for _, e := range want {
		if !have[e.CustomerID] {
			have[e.CustomerID] = true
			add = append(add, e)
		}
	}
	if len(add) > 0 {
		if err := tx.QueryRow(ctx, insertEvents, append([]any{s.ID}, eventColumns(add)...)...).Scan(&r.Added); err != nil {
			return r, fmt.Errorf("add events of message %d: %w", s.ID, err)
		}
		if r.Added > 0 && !quote.IsZero() {
			if err := setQuoteDetails(ctx, tx, `message_id = $1 AND kind = 'quote'`, s.ID, quote); err != nil {
				return r, err
			}
		}
	}
	if len(want) > 0 {
		noise, noiseRule = "", ""
	}
	if noise != s.Noise || noiseRule != s.NoiseRule || direction != s.Direction {
		if _, err := tx.Exec(ctx, `UPDATE messages SET noise = $2, noise_rule = $3, direction = $4 WHERE id = $1`,
			s.ID, nullable(noise), noiseRule, nullable(direction)); err != nil {
			return r, fmt.Errorf("update message %d: %w", s.ID, err)
		}
		r.NoiseChanged = noise != s.Noise
	}
	return r, nil
}

// DropEmptyAutoCustomers deletes, of ids, the customers created from mail
// that have no event left (re-matching took them all away: the mail was a
// look-alike's, or belongs to a customer imported since). Such a customer
// existed only because of that mail, which stays stored; keeping it would
// offer it as a duplicate of the customer it imitated, and a merge would
// then hand the phisher's domain to the real customer.
//
// A customer a person has touched is kept: one with edited_at set (every
// write by a person stamps it: the API's create and update, an owner
// change by handover or the command line, an import row, a merge into
// it), one with owner history (owner_changes would go with it by cascade;
// the history of a customer from mail starts with a person's change),
// one another merged id redirects to, or one anything else references.
// edited_at is the signal rather than the tables a person writes to
// (owner_changes, listed contacts, ...), because a grade or phone leaves
// no trace elsewhere, and one column set at each write is simpler to keep
// true than a list of tables to consult.
//
// Each removed customer leaves its record (name, owner, domains,
// contacts, ...) in customer_removals. It returns the ids deleted.
func DropEmptyAutoCustomers(ctx context.Context, tx pgx.Tx, ids []int64) ([]int64, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var dropped []int64
	for _, id := range ids {
		var gone bool
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			gone = false
			// A person's write updates the row (edited_at), which FOR
			// UPDATE checks again after waiting for it; an event saved
			// meanwhile makes the delete fail (23503: kept, below).
			var ok bool
			err := sp.QueryRow(ctx, `
				SELECT true FROM customers c WHERE c.id = $1 AND c.auto_created AND c.edited_at IS NULL
					AND NOT EXISTS (SELECT 1 FROM events WHERE customer_id = $1)
					AND NOT EXISTS (SELECT 1 FROM owner_changes WHERE customer_id = $1)
					AND NOT EXISTS (SELECT 1 FROM customer_redirects WHERE new_id = $1)
				FOR UPDATE`, id).Scan(&ok)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			rec, err := customerRecord(ctx, sp, id)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, `DELETE FROM customers WHERE id = $1`, id); err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, `INSERT INTO customer_removals (customer_id, reason, customer) VALUES ($1, $2, $3)`,
				id, RemovedByRematch, rec); err != nil {
				return err
			}
			gone = true
			return nil
		})
		var pe *pgconn.PgError
		switch {
		case errors.As(err, &pe) && pe.Code == "23503": // referenced from elsewhere: keep it
		case err != nil:
			return dropped, fmt.Errorf("drop customer %d: %w", id, err)
		case gone:
			dropped = append(dropped, id)
		}
	}
	return dropped, nil
}

// RemovedByRematch is the reason of a customer removed by
// DropEmptyAutoCustomers.
const RemovedByRematch = "created from mail; re-matching moved all its mail elsewhere"

// CustomerRemoval is a customer that was removed, as it was.
type CustomerRemoval struct {
	ID         int64          `json:"removal_id"`
	CustomerID int64          `json:"customer_id"`
	Reason     string         `json:"reason"`
	RemovedAt  time.Time      `json:"removed_at"`
	Customer   MergedCustomer `json:"customer"`
}

// CustomerRemovals returns the removals of customer id (at most one,
// since ids are not reused; none when it was never removed).
func CustomerRemovals(ctx context.Context, db DB, id int64) ([]CustomerRemoval, error) {
	rows, err := db.Query(ctx, `
		SELECT id, customer_id, reason, removed_at, customer FROM customer_removals WHERE customer_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("removals of customer %d: %w", id, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[CustomerRemoval])
}

// AddPending records that message waits for a rep's reply to the new
// buyer key ("domain:<d>", "email:<a>").
func AddPending(ctx context.Context, db DB, messageID int64, key string) error {
	if _, err := db.Exec(ctx, `INSERT INTO pending_replies (key, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, key, messageID); err != nil {
		return fmt.Errorf("record message %d pending a reply to %s: %w", messageID, key, err)
	}
	return nil
}

// ClearPending forgets what message waited for (before it is matched again).
func ClearPending(ctx context.Context, db DB, messageID int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM pending_replies WHERE message_id = $1`, messageID); err != nil {
		return fmt.Errorf("clear pending replies of message %d: %w", messageID, err)
	}
	return nil
}

// ReleasePending queues for re-matching the messages that waited for a
// reply to key, now that a rep wrote to that buyer.
func ReleasePending(ctx context.Context, db DB, key string) (int, error) {
	tag, err := db.Exec(ctx, `
		WITH p AS (DELETE FROM pending_replies WHERE key = $1 RETURNING message_id)
		INSERT INTO rematch_queue (message_id, reason) SELECT message_id, 'reply' FROM p
		ON CONFLICT DO NOTHING`, key)
	if err != nil {
		return 0, fmt.Errorf("release messages pending a reply to %s: %w", key, err)
	}
	return int(tag.RowsAffected()), nil
}

// withUnicode adds the Unicode form of each punycode domain or address.
func withUnicode(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s)
		if !strings.Contains(s, "xn--") {
			continue
		}
		local, dom, isAddr := strings.Cut(s, "@")
		if !isAddr {
			dom, local = local, ""
		}
		u, err := idna.ToUnicode(dom)
		if err != nil || u == dom {
			continue
		}
		if isAddr {
			u = local + "@" + u
		}
		out = append(out, strings.ToLower(u))
	}
	return out
}

// SwapFingerprint stores the fingerprint of the matching config and queues
// every stored message for re-matching when it differs from the stored
// one (the messages were matched under another config). It returns how
// many messages were queued. An empty store just records the fingerprint.
func SwapFingerprint(ctx context.Context, tx pgx.Tx, fp string) (int, error) {
	var old string
	if err := tx.QueryRow(ctx, `SELECT config_fingerprint FROM matching_state FOR UPDATE`).Scan(&old); err != nil {
		return 0, fmt.Errorf("read matching state: %w", err)
	}
	if old == fp {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE matching_state SET config_fingerprint = $1`, fp); err != nil {
		return 0, fmt.Errorf("record matching config: %w", err)
	}
	return QueueAllForRematch(ctx, tx, "config")
}
