package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The statements of SaveMessage and SaveMessages: one message row per
// dedup key, its raw bytes, where it was found, and its events with their
// search outbox rows.
const (
	insertMessageSQL = `
		INSERT INTO messages (dedup_key, content_hash, message_id, subject, sent_at, from_addrs, to_addrs,
			cc_addrs, bcc_addrs, in_reply_to, refs, body, attachments, size, direction,
			malformed, problems, noise, noise_rule)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (dedup_key) DO UPDATE SET
			bcc_addrs = CASE WHEN messages.content_hash <> EXCLUDED.content_hash OR messages.bcc_addrs <> '[]'::jsonb
				THEN messages.bcc_addrs ELSE EXCLUDED.bcc_addrs END,
			noise = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN NULL ELSE messages.noise END,
			noise_rule = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN '' ELSE messages.noise_rule END
		RETURNING id, (xmax = 0), content_hash`
	insertRawSQL      = `INSERT INTO message_raw (message_id, raw) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	insertLocationSQL = `
		INSERT INTO message_locations (rep, folder, uidvalidity, uid, message_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	// insertEventSQL: see insertEvent (a save racing a merge follows the
	// customer's redirect).
	insertEventSQL = insertEvent
)

func messageArgs(c *Captured, key string) []any {
	js := func(v any) []byte {
		b, _ := json.Marshal(v)
		if string(b) == "null" {
			return []byte("[]")
		}
		return b
	}
	var sentAt *time.Time
	if !c.SentAt.IsZero() {
		sentAt = &c.SentAt
	}
	noise := nullable(c.Noise)
	if len(c.Events) > 0 {
		noise = nil
	}
	return []any{key, c.ContentHash, nullable(c.MessageID), c.Subject, sentAt, js(c.From), js(c.To),
		js(c.Cc), js(c.Bcc), nonNil(c.InReplyTo), nonNil(c.References), c.Body, js(c.Attachments), c.Size,
		nullable(c.Direction), c.Malformed, nonNil(c.Problems), noise, c.NoiseRule}
}

func locationArgs(loc *Location, messageID int64) []any {
	return []any{loc.Rep, loc.Folder, int64(loc.UIDValidity), int64(loc.UID), messageID}
}

func eventArgs(e NewEvent, messageID int64) []any {
	return []any{messageID, e.CustomerID, e.Kind, e.Direction, e.Rep, e.OccurredAt, e.Rule, e.Confidence}
}

// reusedID reports whether the row found under c's dedup key is another
// message that reuses its Message-ID (a different content hash).
func reusedID(c *Captured, r SaveResult, storedHash string) bool {
	return !r.Inserted && storedHash != c.ContentHash && c.ContentHash != ""
}

// BatchDB is a DB that pipelines statements: a transaction or the pool.
type BatchDB interface {
	DB
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// SaveMessages is SaveMessage for many messages in three or four round
// trips instead of four or more per message: the statements are the same
// and run in the same order on the server, so the outcome is the same as
// saving the messages one by one in order (a later copy in the batch sees
// an earlier one). locs[i] may be nil; len(locs) == len(cs).
func SaveMessages(ctx context.Context, db BatchDB, cs []*Captured, locs []*Location) ([]SaveResult, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	rs := make([]SaveResult, len(cs))
	hashes := make([]string, len(cs))
	run := func(idx []int, key func(*Captured) string) error {
		b := &pgx.Batch{}
		for _, i := range idx {
			b.Queue(insertMessageSQL, messageArgs(cs[i], key(cs[i]))...)
		}
		br := db.SendBatch(ctx, b)
		defer br.Close()
		for _, i := range idx {
			if err := br.QueryRow().Scan(&rs[i].MessageID, &rs[i].Inserted, &hashes[i]); err != nil {
				return fmt.Errorf("save message %s: %w", cs[i].DedupKey, err)
			}
		}
		return br.Close()
	}
	all := make([]int, len(cs))
	for i := range cs {
		all[i] = i
	}
	if err := run(all, func(c *Captured) string { return c.DedupKey }); err != nil {
		return nil, err
	}
	var again []int
	for i, c := range cs {
		if reusedID(c, rs[i], hashes[i]) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		// Messages that reuse another's Message-ID: kept apart, never dropped.
		if err := run(again, func(c *Captured) string { return c.DedupKey + "#" + c.ContentHash }); err != nil {
			return nil, err
		}
	}

	type stmt struct {
		msg   int
		event bool
		what  string
	}
	b := &pgx.Batch{}
	var stmts []stmt
	for i, c := range cs {
		if rs[i].Inserted {
			b.Queue(insertRawSQL, rs[i].MessageID, c.Raw)
			stmts = append(stmts, stmt{i, false, "save raw message"})
		}
		if locs[i] != nil {
			b.Queue(insertLocationSQL, locationArgs(locs[i], rs[i].MessageID)...)
			stmts = append(stmts, stmt{i, false, "save location of"})
		}
		for _, e := range c.Events {
			b.Queue(insertEventSQL, eventArgs(e, rs[i].MessageID)...)
			stmts = append(stmts, stmt{i, true, "save event of"})
		}
	}
	if len(stmts) == 0 {
		return rs, nil
	}
	br := db.SendBatch(ctx, b)
	defer br.Close()
	for _, s := range stmts {
		tag, err := br.Exec()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", s.what, cs[s.msg].DedupKey, err)
		}
		if s.event {
			rs[s.msg].NewEvents += int(tag.RowsAffected())
		}
	}
	return rs, br.Close()
}

// CustomerNeed is a customer a message's event needs: a known one
// (CustomerID), maybe with a new contact address, or one created from
// mail under AutoKey ("domain:<d>" or "email:<a>") as EnsureAutoCustomer
// does.
type CustomerNeed struct {
	CustomerID int64
	NewContact *Contact // add to CustomerID
	AutoKey    string
	Name       string // of an auto customer
	Owner      string // of an auto customer
}

// Statements of EnsureCustomers; the domain and contact of an auto
// customer find it by its key, so they need no answer from the first.
const (
	ensureAutoSQL = `
		INSERT INTO customers (name, owner, auto_created, auto_key) VALUES ($1, $2, true, $3)
		ON CONFLICT (auto_key) DO UPDATE SET auto_key = EXCLUDED.auto_key
		RETURNING id`
	autoDomainSQL = `
		INSERT INTO customer_domains (customer_id, domain)
		SELECT id, $2 FROM customers WHERE auto_key = $1 ON CONFLICT DO NOTHING`
	autoContactSQL = `
		INSERT INTO contacts (customer_id, email, name)
		SELECT id, $2, '' FROM customers WHERE auto_key = $1 ON CONFLICT DO NOTHING`
	addContactSQL = `INSERT INTO contacts (customer_id, email, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
)

// EnsureCustomers does what AddContact and EnsureAutoCustomer do for
// every need, in one round trip, and returns each need's customer id.
// Auto customers are created in the order of their keys, so that two
// workers creating the same ones lock them in the same order.
func EnsureCustomers(ctx context.Context, db BatchDB, needs []CustomerNeed) ([]int64, error) {
	ids := make([]int64, len(needs))
	first := map[string]int{} // auto key -> first need
	var keys []string
	contacts := map[[2]string]bool{}
	b := &pgx.Batch{}
	for i, n := range needs {
		switch {
		case n.AutoKey != "":
			if _, ok := first[n.AutoKey]; !ok {
				first[n.AutoKey] = i
				keys = append(keys, n.AutoKey)
			}
		case n.NewContact != nil:
			k := [2]string{fmt.Sprint(n.CustomerID), n.NewContact.Email}
			if !contacts[k] {
				contacts[k] = true
				b.Queue(addContactSQL, n.CustomerID, n.NewContact.Email, n.NewContact.Name)
			}
			ids[i] = n.CustomerID
		default:
			ids[i] = n.CustomerID
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := needs[first[k]]
		b.Queue(ensureAutoSQL, n.Name, nullable(n.Owner), k)
		kind, value, _ := strings.Cut(k, ":")
		switch kind {
		case "domain":
			b.Queue(autoDomainSQL, k, value)
		case "email":
			b.Queue(autoContactSQL, k, value)
		}
	}
	if b.Len() == 0 {
		return ids, nil
	}
	br := db.SendBatch(ctx, b)
	defer br.Close()
	for range len(contacts) {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("add contact: %w", err)
		}
	}
	byKey := map[string]int64{}
	for _, k := range keys {
		var id int64
		if err := br.QueryRow().Scan(&id); err != nil {
			return nil, fmt.Errorf("create customer for %s: %w", k, err)
		}
		byKey[k] = id
		if kind, _, _ := strings.Cut(k, ":"); kind == "domain" || kind == "email" {
			if _, err := br.Exec(); err != nil {
				return nil, fmt.Errorf("create customer for %s: %w", k, err)
			}
		}
	}
	for i, n := range needs {
		if n.AutoKey != "" {
			ids[i] = byKey[n.AutoKey]
		}
	}
	return ids, br.Close()
}
