package timeline

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/message"
)

// captureSQL saves the messages of a group in one statement (SaveMany):
// each message row once per dedup key, with its thread decided first (the
// thread of any id it has or refers to, else by subject, else a new one);
// its ids registered for threading; where it was found; its raw bytes,
// unless a RawWriter takes them; and its events, with their thread, quote
// details and search outbox rows. A message already stored gets only its
// copy's news (a Sent copy's Bcc line, a noise verdict lifted) and its
// location, unless it is another message reusing the Message-ID; SaveMany
// completes both cases with the statements of a stored copy.
//
// One statement for many messages, rather than one each: with one each,
// starting the statement (opening two dozen tables and indexes, building
// the plan's nodes) was a fifth of the saving backend's CPU in a sync,
// and the protocol's steps another tenth (perf). The statement's messages
// see the database as it was before it, not each other: captureGroups
// puts those that could find one another (by a shared id, dedup key or
// subject key) in separate statements. An inquiry's quote and reply
// links see only the events stored before its statement; Relinks, which
// the transaction runs before it commits, completes them.
//
// Parameters: $1 the messages (captureRow, a JSON array), $2 their raw
// bytes by position (NULL when a RawWriter takes them), $3 ThreadWindow,
// $4 QuoteWindow, $5 their bodies by position (apart from the JSON, which
// PostgreSQL reads a character at a time). It returns a row per message,
// in the order of $1: its position, then as captured.scan.
var captureSQL = `
WITH m AS (
		SELECT * FROM jsonb_to_recordset($1::jsonb) AS m(i int, dedup_key text, content_hash text, message_id text, subject text,
			sent_at timestamptz, from_addrs jsonb, to_addrs jsonb, cc_addrs jsonb, bcc_addrs jsonb, in_reply_to text[],
			refs text[], attachments jsonb, size bigint, direction text, malformed boolean, problems text[],
			noise text, noise_rule text, keys text[], subject_key text, is_reply boolean, at timestamptz,
			rep text, folder text, uidvalidity bigint, uid bigint, ev jsonb, quote_ref text, currency text, amount numeric)),
	-- Each message with what it finds stored: the threads of its ids, how
	-- many of them are registered, whether it is stored, and its thread
	-- (theirs, else by subject, else a new one, numbered here; coalesce
	-- takes a number only when it comes to it).
	p AS MATERIALIZED (
		SELECT m.*, k.threads, k.n, k.stored,
			coalesce(k.threads[1], nr.id,
				CASE WHEN NOT k.stored AND cardinality(k.threads) = 0 THEN nextval('threads_id_seq') END) AS tid,
			NOT k.stored AND cardinality(k.threads) = 0 AND nr.id IS NULL AS new_thread
		FROM m
		-- OFFSET 0 computes each once: flattened, they were computed again
		-- at each use. "stored" is a scalar subquery rather than EXISTS,
		-- which PostgreSQL may run as a hash of the whole table.
		CROSS JOIN LATERAL (SELECT ARRAY(SELECT DISTINCT ` + liveCustomerSQL("u.c") + `
			FROM jsonb_to_recordset(m.ev) AS u(c bigint)) AS ids OFFSET 0) cu
		CROSS JOIN LATERAL (SELECT
			ARRAY(SELECT DISTINCT coalesce(t.merged_into, t.id) AS tid FROM thread_refs r JOIN threads t ON t.id = r.thread_id
				WHERE r.msgid = ANY (m.keys) ORDER BY tid) AS threads,
			(SELECT count(*) FROM thread_refs r WHERE r.msgid = ANY (m.keys)) AS n,
			coalesce((SELECT true FROM messages WHERE dedup_key = m.dedup_key), false) AS stored OFFSET 0) k
		LEFT JOIN LATERAL (SELECT near.id FROM (` +
	nearestSQL("NOT k.stored AND cardinality(k.threads) = 0", "0", "m.subject_key", "m.is_reply", "m.at", "$3", "cu.ids") + `
			) near ORDER BY near.dist, near.oid LIMIT 1) nr ON true),
	fresh AS (INSERT INTO threads (id) SELECT tid FROM p WHERE new_thread),
	ins AS (
		INSERT INTO messages (dedup_key, content_hash, message_id, subject, sent_at, from_addrs, to_addrs,
			cc_addrs, bcc_addrs, in_reply_to, refs, body, attachments, size, direction,
			malformed, problems, noise, noise_rule, thread_id, subject_key, is_reply)
		SELECT p.dedup_key, p.content_hash, p.message_id, p.subject, p.sent_at, p.from_addrs, p.to_addrs,
			p.cc_addrs, p.bcc_addrs, p.in_reply_to, p.refs, ($5::text[])[p.i + 1], p.attachments, p.size, p.direction,
			p.malformed, p.problems, p.noise, p.noise_rule, p.tid, p.subject_key, p.is_reply
		FROM p ORDER BY p.i
		ON CONFLICT (dedup_key) DO UPDATE SET
			bcc_addrs = CASE WHEN messages.content_hash <> EXCLUDED.content_hash OR messages.bcc_addrs <> '[]'::jsonb
				THEN messages.bcc_addrs ELSE EXCLUDED.bcc_addrs END,
			noise = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN NULL ELSE messages.noise END,
			noise_rule = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN '' ELSE messages.noise_rule END
		RETURNING id, (xmax = 0) AS inserted, content_hash, dedup_key),
	mi AS MATERIALIZED (
		SELECT p.i, ins.id, ins.inserted, ins.content_hash AS stored_hash, p.content_hash, p.keys, p.rep, p.folder,
			p.uidvalidity, p.uid, p.ev, p.quote_ref, p.currency, p.amount, p.tid, p.threads, p.n
		FROM ins JOIN p ON p.dedup_key = ins.dedup_key),
	refs_added AS (
		INSERT INTO thread_refs (msgid, thread_id) SELECT k, mi.tid FROM mi, unnest(mi.keys) k
		WHERE mi.inserted ON CONFLICT DO NOTHING RETURNING msgid),
	loc AS (
		INSERT INTO message_locations (rep, folder, uidvalidity, uid, message_id)
		SELECT mi.rep, mi.folder, mi.uidvalidity, mi.uid, mi.id FROM mi
		WHERE mi.rep IS NOT NULL AND (mi.inserted OR mi.stored_hash = mi.content_hash OR mi.content_hash = '') -- not on a reused id's message
		ON CONFLICT DO NOTHING),
	rw AS (
		INSERT INTO message_raw (message_id, raw) SELECT mi.id, ($2::bytea[])[mi.i + 1] FROM mi -- not through m: big
		WHERE mi.inserted AND $2::bytea[] IS NOT NULL
		ON CONFLICT DO NOTHING),
	` + insertEventsSQL("mi CROSS JOIN LATERAL "+eventRowsSQL(`ROWS FROM (jsonb_to_recordset(mi.ev)
			AS (c bigint, k text, d text, rep text, at timestamptz, rule text, conf real)) WITH ORDINALITY AS u(c, k, d, rep, at, rule, conf, o)`),
	"mi.id", "mi.tid", [3]string{"mi.quote_ref", "mi.currency", "mi.amount"}, "$4", "WHERE mi.inserted ORDER BY mi.i, x.o") + `
SELECT mi.i, mi.id, mi.inserted, mi.stored_hash, mi.threads, mi.n,
	coalesce(mi.tid, 0), (SELECT count(*) FROM refs_added WHERE msgid = ANY (mi.keys)), -- then as threadStatement's (threading.scan)
	coalesce(e.ids, '{}'), coalesce(e.custs, '{}'), coalesce(e.kinds, '{}'), coalesce(e.dirs, '{}'), coalesce(e.ats, '{}')
FROM mi
LEFT JOIN LATERAL (
	SELECT array_agg(id ORDER BY id) AS ids, array_agg(customer_id ORDER BY id) AS custs, array_agg(kind ORDER BY id) AS kinds,
		array_agg(direction ORDER BY id) AS dirs, array_agg(occurred_at ORDER BY id) AS ats
	FROM eu WHERE eu.message_id = mi.id) e ON true
ORDER BY mi.i`

// captureRow is a message of captureSQL's $1.
type captureRow struct {
	I           int                  `json:"i"`
	DedupKey    string               `json:"dedup_key"`
	ContentHash string               `json:"content_hash"`
	MessageID   *string              `json:"message_id"`
	Subject     string               `json:"subject"`
	SentAt      *time.Time           `json:"sent_at"`
	From        []message.Address    `json:"from_addrs"`
	To          []message.Address    `json:"to_addrs"`
	Cc          []message.Address    `json:"cc_addrs"`
	Bcc         []message.Address    `json:"bcc_addrs"`
	InReplyTo   []string             `json:"in_reply_to"`
	Refs        []string             `json:"refs"`
	Attachments []message.Attachment `json:"attachments"`
	Size        int64                `json:"size"`
	Direction   *string              `json:"direction"`
	Malformed   bool                 `json:"malformed"`
	Problems    []string             `json:"problems"`
	Noise       *string              `json:"noise"`
	NoiseRule   string               `json:"noise_rule"`
	Keys        []string             `json:"keys"`
	SubjectKey  string               `json:"subject_key"`
	IsReply     bool                 `json:"is_reply"`
	At          time.Time            `json:"at"`
	Rep         *string              `json:"rep"`
	Folder      *string              `json:"folder"`
	UIDValidity *int64               `json:"uidvalidity"`
	UID         *int64               `json:"uid"`
	Events      []captureEvent       `json:"ev"`
	QuoteRef    *string              `json:"quote_ref"`
	Currency    *string              `json:"currency"`
	Amount      *string              `json:"amount"`
}

// captureEvent is an event of a captureRow.
type captureEvent struct {
	Customer   int64     `json:"c"`
	Kind       string    `json:"k"`
	Direction  string    `json:"d"`
	Rep        string    `json:"rep"`
	At         time.Time `json:"at"`
	Rule       string    `json:"rule"`
	Confidence float32   `json:"conf"`
}

// newCaptureRow is c, found at loc (nil for none), as message i of
// captureSQL, st its threading. Times go to microseconds first, as
// PostgreSQL keeps them: its text input rounds where pgx's binary one
// truncates.
func newCaptureRow(i int, c *Captured, st *captured, loc *Location) captureRow {
	us := func(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
	r := captureRow{I: i, DedupKey: c.DedupKey, ContentHash: c.ContentHash, MessageID: nullable(c.MessageID),
		Subject: c.Subject, From: nonNil(c.From), To: nonNil(c.To), Cc: nonNil(c.Cc), Bcc: nonNil(c.Bcc),
		InReplyTo: nonNil(c.InReplyTo), Refs: nonNil(c.References), Attachments: nonNil(c.Attachments),
		Size: int64(c.Size), Direction: nullable(c.Direction), Malformed: c.Malformed, Problems: nonNil(c.Problems),
		Noise: nullable(c.Noise), NoiseRule: c.NoiseRule, Keys: st.m.keys, SubjectKey: st.subjectKey, IsReply: st.isReply,
		At: us(st.m.at), QuoteRef: nullable(c.Quote.Ref), Currency: nullable(c.Quote.Currency), Amount: nullable(c.Quote.Amount),
		Events: make([]captureEvent, 0, len(c.Events))}
	if !c.SentAt.IsZero() {
		t := us(c.SentAt)
		r.SentAt = &t
	}
	if len(c.Events) > 0 {
		r.Noise = nil
	}
	if loc != nil {
		v, u := int64(loc.UIDValidity), int64(loc.UID)
		r.Rep, r.Folder, r.UIDValidity, r.UID = &loc.Rep, &loc.Folder, &v, &u
	}
	for _, e := range c.Events {
		r.Events = append(r.Events, captureEvent{Customer: e.CustomerID, Kind: e.Kind, Direction: e.Direction, Rep: e.Rep,
			At: us(e.OccurredAt), Rule: e.Rule, Confidence: float32(e.Confidence)})
	}
	return r
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
