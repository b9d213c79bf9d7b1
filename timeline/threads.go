package timeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ThreadWindow is how far apart in time two messages may be for the
// subject fallback to put them in one thread.
const ThreadWindow = 60 * 24 * time.Hour

// maxThreadRefs bounds the Message-IDs of one message that take part in
// threading: the newest References are the ones that matter, and a
// pathological header must not cost thousands of rows.
const maxThreadRefs = 100

// threadMessage is what threading needs of a stored message.
type threadMessage struct {
	id        int64
	subject   string
	at        time.Time // sent_at, else the first event's time, else capture time
	threadID  *int64
	customers []int64
	keys      []string // its Message-ID, In-Reply-To and newest References
	found     []int64  // the live threads of keys, oldest first
	nFound    int      // how many of keys are registered
}

// liveCustomerSQL is the customer that customer (an SQL expression) is,
// following the redirect a merge left: a save racing a merge still lands
// on the right timeline.
func liveCustomerSQL(customer string) string {
	return "coalesce((SELECT new_id FROM customer_redirects WHERE old_id = " + customer + "), " + customer + ")"
}

// threaded is the outcome of assignThread.
type threaded struct {
	thread int64
	moved  []int64      // customers whose events changed thread by a merge
	events []savedEvent // the message's events, with their thread
}

// assignThread puts a stored message into a thread, in this order:
//  1. the thread of any Message-ID it has or refers to (RFC 5322 3.6.4
//     In-Reply-To and References), whether that id belongs to a message
//     already stored or was only referred to by one (a reply stored before
//     its parent);
//  2. else, for clients that drop those headers (many Chinese clients), the
//     thread of a message with the same SubjectKey, a customer in common
//     and a time within ThreadWindow, the later of the two being a reply;
//  3. else a new thread.
//
// When its ids lead to two threads or more, they are one conversation: the
// younger threads are merged into the oldest. A message that already has a
// thread keeps it (saving a copy again changes nothing), but its events get
// the thread id. It costs one round trip for most messages (m was read in
// the batch that saved it), none of its own for a new message (its
// statement goes in the save's batch): this runs for every message
// captured.
func assignThread(ctx context.Context, db DB, m threadMessage) (threaded, error) {
	st, err := threadStatement(ctx, db, m)
	if err != nil {
		return st.out, err
	}
	if err := st.scan(db.QueryRow(ctx, st.sql, st.args...)); err != nil {
		return st.out, err
	}
	return st.settle(ctx, db)
}

// threading is assignThread's statement for one message, and then what it
// found.
type threading struct {
	m        threadMessage
	keys     []string
	sql      string
	args     []any
	out      threaded
	inserted int // ids newly registered by the statement
}

// threadStatement merges the threads that m's ids lead to, if several,
// and returns the statement that threads m, for the caller to run (alone,
// or in a batch with other statements of the save) and scan.
func threadStatement(ctx context.Context, db DB, m threadMessage) (*threading, error) {
	st := &threading{m: m, keys: m.keys}
	var err error
	subjectKey, isReply := SubjectKey(m.subject)
	switch {
	case m.threadID != nil:
		st.out.thread = *m.threadID
		subjectKey, isReply = "", false // already set
		st.keys = []string{}
	case len(m.found) > 0:
		st.out.thread = m.found[0]
		if len(m.found) > 1 {
			if st.out.moved, err = mergeThreads(ctx, db, st.out.thread, m.found[1:]); err != nil {
				return st, err
			}
		}
	}
	// One statement finds the thread by subject or opens one (when no id
	// led to one), registers the ids (a concurrent transaction's
	// conflicting row makes DO NOTHING wait for it; see settle), threads the
	// message and its events, and returns the events.
	tid, args := `tid AS (SELECT $2::bigint AS id),`, []any{m.id, st.out.thread, st.keys, subjectKey, isReply}
	if m.threadID == nil && len(m.found) == 0 {
		tid, args = bySubjectOrNewSQL, append(args, m.at, ThreadWindow, m.customers)
	}
	st.args = args
	st.sql = `
		WITH ` + tid + `
		r AS (
			INSERT INTO thread_refs (msgid, thread_id) SELECT k, (SELECT id FROM tid) FROM unnest($3::text[]) k
			ON CONFLICT DO NOTHING RETURNING 1),
		mu AS (
			UPDATE messages SET thread_id = (SELECT id FROM tid), subject_key = $4, is_reply = $5
			WHERE id = $1 AND thread_id IS NULL RETURNING 1),
		eu AS (
			UPDATE events SET thread_id = (SELECT id FROM tid) WHERE message_id = $1
			RETURNING id, customer_id, kind, direction, occurred_at)
		SELECT (SELECT id FROM tid), (SELECT count(*) FROM r),
			coalesce(array_agg(id ORDER BY id), '{}'), coalesce(array_agg(customer_id ORDER BY id), '{}'),
			coalesce(array_agg(kind ORDER BY id), '{}'), coalesce(array_agg(direction ORDER BY id), '{}'),
			coalesce(array_agg(occurred_at ORDER BY id), '{}')
		FROM eu`
	return st, nil
}

// scan reads the row of the statement.
func (st *threading) scan(row pgx.Row) error {
	var ids, custs []int64
	var kinds, dirs []string
	var ats []time.Time
	if err := row.Scan(&st.out.thread, &st.inserted, &ids, &custs, &kinds, &dirs, &ats); err != nil {
		return fmt.Errorf("thread message %d: %w", st.m.id, err)
	}
	for i := range ids {
		st.out.events = append(st.out.events, savedEvent{id: ids[i], customerID: custs[i], kind: kinds[i], direction: dirs[i],
			at: ats[i], thread: st.out.thread})
	}
	return nil
}

// settle checks, after the statement, that no other transaction
// registered some of the ids for another thread meanwhile, and merges the
// threads if one did.
func (st *threading) settle(ctx context.Context, db DB) (threaded, error) {
	out := st.out
	if st.m.nFound+st.inserted < len(st.keys) {
		// Another transaction registered some of the ids meanwhile, maybe
		// for another thread: look again, now that it has committed.
		found, err := threadsOfKeys(ctx, db, st.keys, out.thread)
		if err != nil {
			return out, err
		}
		if len(found) > 1 {
			moved, err := mergeThreads(ctx, db, found[0], found[1:])
			if err != nil {
				return out, err
			}
			out.moved = append(out.moved, moved...)
			out.thread = found[0]
			for i := range out.events {
				out.events[i].thread = found[0]
			}
		}
	}
	return out, nil
}

// insertEventsSQL is the CTE "eu" that inserts the events of from, an
// SQL FROM item ending in eventRowsSQL's x, for message in thread (SQL
// expressions), with what a quote states (quote: its ref, currency and
// amount, SQL expressions) on quote events and QuoteWindow window; tail
// follows the FROM item (a WHERE, an ORDER BY). It returns them, with
// "so", their search outbox rows. An inquiry gets its links as the events
// stored so far give them: written with the row, which Relinks'
// recomputation then mostly finds right, rather than written by it a
// second time.
func insertEventsSQL(from, message, thread string, quote [3]string, window, tail string) string {
	return `eu AS (
			INSERT INTO events (message_id, customer_id, kind, direction, rep, occurred_at, rule, confidence, thread_id,
				quote_ref, currency, amount, quote_event_id, quoted_at, reply_event_id, replied_at)
			SELECT ` + message + `, x.c, x.k, x.d, x.rep, x.at, x.rule, x.conf, ` + thread + `,
				CASE WHEN x.k = 'quote' THEN ` + quote[0] + ` END, CASE WHEN x.k = 'quote' THEN ` + quote[1] + ` END,
				CASE WHEN x.k = 'quote' THEN ` + quote[2] + ` END, q.id, q.occurred_at, r.id, r.occurred_at
			FROM ` + from + linkJoinsSQL("x.k = 'inquiry'", thread, "x.c", "x.at", window) + `
			` + tail + `
			ON CONFLICT (message_id, customer_id) DO NOTHING
			RETURNING id, message_id, customer_id, kind, direction, occurred_at),
		so AS (INSERT INTO search_outbox (event_id) SELECT id FROM eu)`
}

// eventRowsSQL is the FROM item x of insertEventsSQL over u, an SQL FROM
// item of the events' columns (c, k, d, rep, at, rule, conf, o: o their
// order). A customer id that was merged away is replaced by the customer
// it was merged into, so a save racing a merge still lands on the right
// timeline.
func eventRowsSQL(u string) string {
	return `(SELECT ` + liveCustomerSQL("u.c") + ` AS c, u.k, u.d, u.rep, u.at, u.rule, u.conf, u.o FROM ` + u + `) x`
}

// insertEvents adds events of message $1 (then eventColumns) without a
// thread or quote details, and counts those added: a message already
// threaded gets its new events' thread from assignThread, and the caller
// writes what a quote states (setQuoteDetails).
var insertEvents = `WITH ` + insertEventsSQL(eventRowsSQL(`unnest($2::bigint[], $3::text[], $4::text[], $5::text[],
		$6::timestamptz[], $7::text[], $8::real[]) WITH ORDINALITY AS u(c, k, d, rep, at, rule, conf, o)`),
	"$1", "NULL", [3]string{"NULL::text", "NULL::text", "NULL::numeric"}, "$9", "") + ` SELECT count(*) FROM eu`

// eventColumns returns the parameters of insertEvents after the message:
// the events' columns, and QuoteWindow.
func eventColumns(events []NewEvent) []any {
	var (
		cust       []int64
		kind, dir  []string
		rep, rule  []string
		at         []time.Time
		confidence []float32
	)
	for _, e := range events {
		cust, kind, dir = append(cust, e.CustomerID), append(kind, e.Kind), append(dir, e.Direction)
		rep, at, rule = append(rep, e.Rep), append(at, e.OccurredAt), append(rule, e.Rule)
		confidence = append(confidence, float32(e.Confidence))
	}
	return []any{cust, kind, dir, rep, at, rule, confidence, QuoteWindow}
}

// loadThreadSQL reads what threading needs of message $1. "= ANY (ARRAY
// ...)" rather than "IN (SELECT ...)": the planner then looks the ids up in
// thread_refs' key instead of scanning it while it is small, which it
// stays for only part of a first sync.
const loadThreadSQL = `
		WITH m AS (SELECT * FROM messages WHERE id = $1),
		k AS (
			SELECT DISTINCT x FROM m,
				unnest(ARRAY[m.message_id] || m.in_reply_to || m.refs[greatest(1, cardinality(m.refs) - $2 + 1):]) AS x
			WHERE x IS NOT NULL AND x <> '')
		SELECT m.subject,
			coalesce(m.sent_at, (SELECT min(occurred_at) FROM events e WHERE e.message_id = m.id), m.created_at),
			m.thread_id,
			ARRAY(SELECT DISTINCT customer_id FROM events e WHERE e.message_id = m.id),
			ARRAY(SELECT x FROM k ORDER BY x),
			ARRAY(SELECT DISTINCT coalesce(t.merged_into, t.id) AS tid FROM thread_refs r JOIN threads t ON t.id = r.thread_id
				WHERE r.msgid = ANY (ARRAY(SELECT x FROM k)) ORDER BY tid),
			(SELECT count(*) FROM thread_refs r WHERE r.msgid = ANY (ARRAY(SELECT x FROM k)))
		FROM m`

// newThreadMessage is what threading needs of c, as loadThreadSQL would
// read it back once saved: the time is the Date, else the
// first event's, else now; the ids are the Message-ID, In-Reply-To and the
// newest maxThreadRefs References, each once.
func newThreadMessage(c *Captured) threadMessage {
	m := threadMessage{subject: c.Subject, at: c.SentAt, keys: []string{}}
	if m.at.IsZero() {
		for _, e := range c.Events {
			if m.at.IsZero() || e.OccurredAt.Before(m.at) {
				m.at = e.OccurredAt
			}
		}
	}
	if m.at.IsZero() {
		m.at = time.Now()
	}
	refs := c.References[max(0, len(c.References)-maxThreadRefs):]
	for _, k := range slices.Concat([]string{c.MessageID}, c.InReplyTo, refs) {
		if k != "" && !slices.Contains(m.keys, k) {
			m.keys = append(m.keys, k)
		}
	}
	return m
}

// scanThreadMessage reads the row of loadThreadSQL for message id.
func scanThreadMessage(row pgx.Row, id int64) (threadMessage, error) {
	m := threadMessage{id: id}
	err := row.Scan(&m.subject, &m.at, &m.threadID, &m.customers, &m.keys, &m.found, &m.nFound)
	if err != nil {
		return m, fmt.Errorf("load message %d for threading: %w", id, notFound(err))
	}
	return m, nil
}

// threadsOfKeys returns the live threads that keys are registered to, plus
// also (when not 0), oldest first.
func threadsOfKeys(ctx context.Context, db DB, keys []string, also int64) ([]int64, error) {
	// "= ANY (ARRAY ...)", not "IN (...) OR": the OR made it a scan of
	// every thread.
	rows, err := db.Query(ctx, `
		SELECT DISTINCT coalesce(t.merged_into, t.id) FROM threads t
		WHERE t.id = ANY (ARRAY(SELECT thread_id FROM thread_refs WHERE msgid = ANY($1)) || $2::bigint)
		ORDER BY 1`, keys, also)
	if err != nil {
		return nil, fmt.Errorf("threads of message ids: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// nearSQL is the CTE "near": the thread of a message with the same
// subject key (subject), a customer in common (customers, bigint[]) and
// a time within window of at, the later of the two being a reply (isReply
// for this one), other than message self; if ok, a boolean expression.
//
// The nearest is the better of two index scans that stop at their first
// hit, one back in time and one forward, rather than the whole window
// sorted by distance: a subject such as "RFQ: LED panel" recurs across
// customers, and reading every message of the window made threading
// grow with the mailbox.
func nearSQL(ok, self, subject, isReply, at, window, customers string) string {
	return `
		near AS (` + nearestSQL(ok, self, subject, isReply, at, window, customers) + `),
		cand AS (SELECT id FROM near ORDER BY dist, oid LIMIT 1),`
}

// nearestSQL is the query of nearSQL's "near": a row (id, dist, oid) for
// the nearest message back in time and one for the nearest forward.
func nearestSQL(ok, self, subject, isReply, at, window, customers string) string {
	r := strings.NewReplacer("{ok}", ok, "{self}", self, "{subject}", subject, "{isReply}", isReply, "{at}", at,
		"{window}", window, "{customers}", customers)
	return r.Replace(`
			(SELECT coalesce(t.merged_into, t.id) AS id, {at}::timestamptz - o.sent_at AS dist, o.id AS oid
			FROM messages o JOIN threads t ON t.id = o.thread_id
			WHERE {ok} AND {isReply} AND {subject} <> '' AND cardinality({customers}::bigint[]) > 0
				AND o.subject_key = {subject} AND o.subject_key <> '' AND o.id <> {self} -- "<> ''": the partial index
				AND o.sent_at <= {at}::timestamptz AND o.sent_at >= {at}::timestamptz - {window}::interval
				AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = o.id AND e.customer_id = ANY({customers}::bigint[]))
			ORDER BY o.sent_at DESC, o.id LIMIT 1)
			UNION ALL
			(SELECT coalesce(t.merged_into, t.id), o.sent_at - {at}::timestamptz, o.id
			FROM messages o JOIN threads t ON t.id = o.thread_id
			WHERE {ok} AND {subject} <> '' AND cardinality({customers}::bigint[]) > 0
				AND o.subject_key = {subject} AND o.subject_key <> '' AND o.id <> {self} AND o.is_reply
				AND o.sent_at > {at}::timestamptz AND o.sent_at <= {at}::timestamptz + {window}::interval
				AND EXISTS (SELECT 1 FROM events e WHERE e.message_id = o.id AND e.customer_id = ANY({customers}::bigint[]))
			ORDER BY o.sent_at, o.id LIMIT 1)`)
}

// bySubjectOrNewSQL is the tid of assignThread's statement for a message
// none of whose ids leads to a thread: the thread nearest in time (then
// the lowest id) of nearSQL, with the subject key $4, $5 for whether it
// is a reply, its time $6, the window $7 and its customers $8; else a new
// thread.
var bySubjectOrNewSQL = nearSQL("true", "$1", "$4", "$5", "$6", "$7", "$8") + `
		fresh AS (INSERT INTO threads SELECT WHERE NOT EXISTS (SELECT 1 FROM cand) RETURNING id),
		tid AS (SELECT coalesce((SELECT id FROM cand), (SELECT id FROM fresh), $2::bigint) AS id),`

// mergeThreads moves everything of losers into winner and leaves each
// loser pointing at it. It returns the customers whose events moved.
func mergeThreads(ctx context.Context, db DB, winner int64, losers []int64) ([]int64, error) {
	for _, q := range []string{
		`UPDATE thread_refs SET thread_id = $1 WHERE thread_id = ANY($2)`,
		`UPDATE messages SET thread_id = $1 WHERE thread_id = ANY($2)`,
		`UPDATE threads SET merged_into = $1 WHERE id = ANY($2) OR merged_into = ANY($2)`,
	} {
		if _, err := db.Exec(ctx, q, winner, losers); err != nil {
			return nil, fmt.Errorf("merge threads %v into %d: %w", losers, winner, err)
		}
	}
	rows, err := db.Query(ctx, `
		WITH u AS (UPDATE events SET thread_id = $1 WHERE thread_id = ANY($2) RETURNING customer_id)
		SELECT DISTINCT customer_id FROM u`, winner, losers)
	if err != nil {
		return nil, fmt.Errorf("merge threads %v into %d: %w", losers, winner, err)
	}
	defer rows.Close()
	var moved []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		moved = append(moved, id)
	}
	return moved, rows.Err()
}

// resolveThread follows a merged thread to the one it lives on.
func resolveThread(ctx context.Context, db DB, id int64) (int64, error) {
	var live int64
	err := db.QueryRow(ctx, `SELECT coalesce(merged_into, id) FROM threads WHERE id = $1`, id).Scan(&live)
	if err != nil {
		return 0, fmt.Errorf("thread %d: %w", id, notFound(err))
	}
	return live, nil
}
