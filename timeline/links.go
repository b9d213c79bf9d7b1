package timeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// An inquiry's links, kept on its row so that the follow-up lists and the
// reports are plain scans:
//   - quote_event_id / quoted_at: the first quote to the same customer after
//     the inquiry in the same thread, else the first quote to that
//     customer after it within QuoteWindow in any thread;
//   - reply_event_id / replied_at: the first outbound event to that
//     customer after it (a quote is a reply too).
// Events of other kinds have none.

// QuoteWindow bounds the fallback link of an inquiry to a quote in another
// thread: a quote months later answers some other request.
const QuoteWindow = 60 * 24 * time.Hour

// linkScope says which inquiries of a customer to recompute. The zero value
// recomputes all of them; after new events were saved, only the inquiries
// those events can change: new inquiries, inquiries in the threads of new
// quotes, inquiries up to QuoteWindow before a new quote, and inquiries
// before a new outbound event that have no earlier reply.
type linkScope struct {
	partial   bool
	inquiries []int64   // new inquiries: always recomputed
	minAt     time.Time // earliest new quote or outbound event
	maxAt     time.Time // latest new quote or outbound event
	threads   []int64   // threads of the new quotes
}

// relinkSQL recomputes the links of customer $1's inquiries: all of them
// unless $2, else those of linkScope ($3 to $6). The scope's parts are
// branches that each read an index (the new inquiries by id, the older
// ones by time): one filter with ORs read every inquiry of the customer
// for every batch, which grew with the mailbox. The new inquiries are
// looked up by their ids alone ("customer_id + 0" is no index's key):
// "id = ANY" let a plan made on a first sync's small tables read every
// inquiry of every customer instead (338 rows read for 2 found, at 4,000
// messages), and a plan made later every inquiry of the customer.
var relinkSQL = `
WITH inq AS (
	SELECT e.id, e.occurred_at, e.thread_id FROM events e
	WHERE NOT $2 AND e.customer_id = $1 AND e.kind = 'inquiry'
	UNION ALL
	SELECT e.id, e.occurred_at, e.thread_id FROM unnest($3::bigint[]) n JOIN events e ON e.id = n
	WHERE $2 AND e.customer_id + 0 = $1 AND e.kind = 'inquiry'
	UNION ALL
	SELECT e.id, e.occurred_at, e.thread_id FROM events e
	WHERE $2 AND e.customer_id = $1 AND e.kind = 'inquiry' AND e.occurred_at < $5 AND NOT e.id = ANY($3)
		AND (e.occurred_at >= $4::timestamptz - $7::interval OR e.thread_id = ANY($6)
			OR e.replied_at IS NULL OR e.replied_at > $4)
), link AS (
	SELECT inq.id, q.id AS qid, q.occurred_at AS qat, r.id AS rid, r.occurred_at AS rat
	FROM inq` + linkJoinsSQL("true", "inq.thread_id", "$1", "inq.occurred_at", "$7") + `
)
UPDATE events e SET quote_event_id = link.qid, quoted_at = link.qat, reply_event_id = link.rid, replied_at = link.rat
FROM link
WHERE e.id = link.id
	AND (e.quote_event_id, e.quoted_at, e.reply_event_id, e.replied_at) IS DISTINCT FROM (link.qid, link.qat, link.rid, link.rat)`

// linkJoinsSQL is the two LEFT JOIN LATERAL that find an inquiry's links,
// q (id, occurred_at) its quote and r its reply, when ok: for an inquiry
// in thread, of customer, at its time at, with QuoteWindow window (SQL
// expressions all). The quote in the thread is read from the thread's
// events (events_thread): "customer_id + 0" keeps a plan made on a first
// sync's small tables from reading every later quote of the customer
// instead, which in a backfill (newest first) is all of them.
func linkJoinsSQL(ok, thread, customer, at, window string) string {
	return strings.NewReplacer("{ok}", ok, "{thread}", thread, "{customer}", customer, "{at}", at, "{window}", window).Replace(`
	LEFT JOIN LATERAL (
		SELECT c.id, c.occurred_at FROM (
			(SELECT q.id, q.occurred_at, 0 AS pref FROM events q
			 WHERE {ok} AND q.thread_id = {thread} AND q.kind = 'quote' AND q.customer_id + 0 = {customer}
				AND q.occurred_at > {at}
			 ORDER BY q.occurred_at, q.id LIMIT 1)
			UNION ALL
			(SELECT q.id, q.occurred_at, 1 FROM events q
			 WHERE {ok} AND q.customer_id = {customer} AND q.kind = 'quote' AND q.occurred_at > {at}
				AND q.occurred_at <= {at} + {window}::interval
			 ORDER BY q.occurred_at, q.id LIMIT 1)
		) c ORDER BY c.pref LIMIT 1) q ON true
	LEFT JOIN LATERAL (
		SELECT r.id, r.occurred_at FROM events r
		WHERE {ok} AND r.customer_id = {customer} AND r.direction = 'out' AND r.occurred_at > {at}
		ORDER BY r.occurred_at, r.id LIMIT 1) r ON true`)
}

// relink recomputes the links of a customer's inquiries within scope,
// after taking the customer's link lock (lockLinks).
func relink(ctx context.Context, db DB, customerID int64, s linkScope) error {
	if err := lockLinks(ctx, db, customerID); err != nil {
		return err
	}
	return relinkLocked(ctx, db, customerID, s)
}

// lockLinks takes a transaction-level advisory lock on the customer's
// links, so that two transactions saving mail of one customer link in
// turn, the second seeing the first's events: without it, an inquiry and
// its quote saved at the same moment by two reps' workers would never be
// linked.
func lockLinks(ctx context.Context, db DB, customerID int64) error {
	// JIT off for the rest of the transaction: for a big customer the
	// planner's estimate crosses jit_above_cost, and compiling takes longer
	// (a second, measured) than these index lookups.
	if _, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2), set_config('jit', 'off', true)`, linkLockSpace, int32(customerID)); err != nil {
		return fmt.Errorf("lock customer %d for linking: %w", customerID, err)
	}
	return nil
}

func relinkLocked(ctx context.Context, db DB, customerID int64, s linkScope) error {
	if !s.partial {
		if _, err := db.Exec(ctx, `
			UPDATE events SET quote_event_id = NULL, quoted_at = NULL, reply_event_id = NULL, replied_at = NULL
			WHERE customer_id = $1 AND kind <> 'inquiry' AND (quote_event_id IS NOT NULL OR reply_event_id IS NOT NULL)`,
			customerID); err != nil {
			return fmt.Errorf("unlink customer %d: %w", customerID, err)
		}
	}
	if s.inquiries == nil {
		s.inquiries = []int64{}
	}
	if s.threads == nil {
		s.threads = []int64{}
	}
	if _, err := db.Exec(ctx, relinkSQL, customerID, s.partial, s.inquiries, s.minAt, s.maxAt, s.threads, QuoteWindow); err != nil {
		return fmt.Errorf("link inquiries of customer %d: %w", customerID, err)
	}
	return nil
}

// linkLockSpace is the first key of the two-key advisory locks that
// serialize linking per customer (the second is the customer id). The
// two-key space never meets the one-key locks used elsewhere.
const linkLockSpace int32 = 0x6d74 // "mt"

// RelinkCustomer recomputes every link of one customer's inquiries: after
// a correction of a kind, a reclassification or a merge.
func RelinkCustomer(ctx context.Context, db DB, customerID int64) error {
	return relink(ctx, db, customerID, linkScope{})
}

// savedEvent is an event of a message just saved.
type savedEvent struct {
	id, customerID  int64
	kind, direction string
	at              time.Time
	thread          int64
}

// Relinks gathers the inquiry links that saved messages can change, so
// that a batch recomputes each customer's links once, at its end, taking
// the customers' link locks in id order. Taking them message by message
// let two reps' batches lock two customers in opposite orders: a deadlock
// that repeated on every retry.
//
// With Defer (a backfill, an import: mail older than what is stored), a
// batch links its new inquiries, and notes the links its quotes and
// outbound mail change in inquiries stored before in pending_links, for
// FlushPendingLinks: going back in time, every batch changed the links of
// every older inquiry of its customers, which the next batch changed
// again.
type Relinks struct {
	Defer  bool
	full   map[int64]bool
	scopes map[int64]*linkScope
}

// add notes the links that a saved message's events can change.
func (l *Relinks) add(th threaded) {
	if l.full == nil {
		l.full, l.scopes = map[int64]bool{}, map[int64]*linkScope{}
	}
	for _, id := range th.moved {
		l.full[id] = true
		delete(l.scopes, id)
	}
	for _, e := range th.events {
		if l.full[e.customerID] {
			continue
		}
		s := l.scopes[e.customerID]
		if s == nil {
			s = &linkScope{partial: true}
		}
		// A batch's scope is the union of its messages' scopes: relinking is
		// a recomputation, so a wider scope gives the same links.
		switch {
		case e.kind == KindInquiry:
			s.inquiries = append(s.inquiries, e.id)
		case e.kind == KindQuote || e.direction == "out":
			if s.minAt.IsZero() || e.at.Before(s.minAt) {
				s.minAt = e.at
			}
			if e.at.After(s.maxAt) {
				s.maxAt = e.at
			}
			if e.kind == KindQuote {
				s.threads = append(s.threads, e.thread)
			}
		default:
			continue // an inbound email changes no link
		}
		l.scopes[e.customerID] = s
	}
}

// Flush recomputes the links gathered so far, in the caller's transaction,
// locking customers in id order, and empties l.
func (l *Relinks) Flush(ctx context.Context, db DB) error {
	ids := append(slices.Collect(maps.Keys(l.full)), slices.Collect(maps.Keys(l.scopes))...)
	slices.Sort(ids) // the two sets are disjoint
	for _, id := range ids {
		s := linkScope{}
		if !l.full[id] {
			s = *l.scopes[id]
		}
		var err error
		if l.Defer && s.partial {
			err = deferLinks(ctx, db, id, s)
		} else {
			err = relink(ctx, db, id, s)
		}
		if err != nil {
			return err
		}
	}
	l.full, l.scopes = nil, nil
	return nil
}

// deferLinks links a customer's new inquiries now and notes the rest of
// scope in pending_links.
func deferLinks(ctx context.Context, db DB, customerID int64, s linkScope) error {
	if err := lockLinks(ctx, db, customerID); err != nil {
		return err
	}
	if len(s.inquiries) > 0 {
		if err := relinkLocked(ctx, db, customerID, linkScope{partial: true, inquiries: s.inquiries}); err != nil {
			return err
		}
	}
	if s.minAt.IsZero() {
		return nil
	}
	if s.threads == nil {
		s.threads = []int64{}
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO pending_links AS p (customer_id, min_at, max_at, threads) VALUES ($1, $2, $3, $4)
		ON CONFLICT (customer_id) DO UPDATE SET min_at = least(p.min_at, EXCLUDED.min_at),
			max_at = greatest(p.max_at, EXCLUDED.max_at),
			threads = ARRAY(SELECT DISTINCT t FROM unnest(p.threads || EXCLUDED.threads) t)`,
		customerID, s.minAt, s.maxAt, s.threads); err != nil {
		return fmt.Errorf("note links of customer %d: %w", customerID, err)
	}
	return nil
}

// FlushPendingLinks recomputes the links noted in pending_links, one
// customer per transaction, and returns how many customers it relinked.
// The sync runs it after each turn of a backfill, an import at its end,
// and Maintain after every pass (for what a crash left).
func FlushPendingLinks(ctx context.Context, s *Store) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT customer_id FROM pending_links ORDER BY customer_id`)
	if err != nil {
		return 0, fmt.Errorf("pending links: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("pending links: %w", err)
	}
	n := 0
	for _, id := range ids {
		found := false
		err := s.InTxRetry(ctx, func(tx pgx.Tx) error {
			found = false
			if err := lockLinks(ctx, tx, id); err != nil {
				return err
			}
			sc := linkScope{partial: true, inquiries: []int64{}}
			err := tx.QueryRow(ctx, `DELETE FROM pending_links WHERE customer_id = $1 RETURNING min_at, max_at, threads`, id).
				Scan(&sc.minAt, &sc.maxAt, &sc.threads)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // another daemon flushed it
			}
			if err != nil {
				return fmt.Errorf("pending links of customer %d: %w", id, err)
			}
			found = true
			return relinkLocked(ctx, tx, id, sc)
		})
		if err != nil {
			return n, err
		}
		if found {
			n++
		}
	}
	return n, nil
}
