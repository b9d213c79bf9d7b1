package timeline

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// captureSQL saves a message in one statement, so that a batch's messages
// go to the server together (SaveMany), each statement seeing those before
// it: the message row once per dedup key, with its thread decided first
// (the thread of any id it has or refers to, else by subject, else a new
// one); its ids registered for threading; where it was found; its raw
// bytes, unless a RawWriter takes them; and its events, with their thread,
// quote details and search outbox rows. A message already stored gets
// only its copy's news (a Sent copy's Bcc line, a noise verdict lifted)
// and its location, unless it is another message reusing the Message-ID;
// SaveMany completes both cases with the statements of a stored copy.
//
// Parameters: $1-$19 messageArgs, $20 the ids (threadMessage.keys), $21
// the events' customers, $22 subject key, $23 is a reply, $24 its time,
// $25 ThreadWindow, $26-$29 its location (all NULL for none), $30 the raw
// bytes (NULL when a RawWriter takes them), $31-$41 eventColumns.
var captureSQL = `
WITH cust AS (
		SELECT ARRAY(SELECT DISTINCT ` + liveCustomerSQL("c") + ` FROM unnest($21::bigint[]) c) AS ids),
	known AS (
		SELECT ARRAY(SELECT DISTINCT coalesce(t.merged_into, t.id) AS tid FROM thread_refs r JOIN threads t ON t.id = r.thread_id
				WHERE r.msgid = ANY ($20::text[]) ORDER BY tid) AS threads,
			(SELECT count(*) FROM thread_refs r WHERE r.msgid = ANY ($20::text[])) AS n,
			EXISTS (SELECT 1 FROM messages WHERE dedup_key = $1) AS stored),
	open AS (SELECT NOT stored AND cardinality(threads) = 0 AS by_subject FROM known),` +
	nearSQL("(SELECT by_subject FROM open)", "0", "$22", "$23", "$24", "$25", "(SELECT ids FROM cust)") + `
	fresh AS (INSERT INTO threads SELECT WHERE (SELECT by_subject FROM open) AND NOT EXISTS (SELECT 1 FROM cand) RETURNING id),
	tid AS (SELECT coalesce((SELECT threads[1] FROM known), (SELECT id FROM cand), (SELECT id FROM fresh)) AS id),
	ins AS (
		INSERT INTO messages (dedup_key, content_hash, message_id, subject, sent_at, from_addrs, to_addrs,
			cc_addrs, bcc_addrs, in_reply_to, refs, body, attachments, size, direction,
			malformed, problems, noise, noise_rule, thread_id, subject_key, is_reply)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
			(SELECT id FROM tid), $22, $23)
		ON CONFLICT (dedup_key) DO UPDATE SET
			bcc_addrs = CASE WHEN messages.content_hash <> EXCLUDED.content_hash OR messages.bcc_addrs <> '[]'::jsonb
				THEN messages.bcc_addrs ELSE EXCLUDED.bcc_addrs END,
			noise = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN NULL ELSE messages.noise END,
			noise_rule = CASE WHEN messages.content_hash = EXCLUDED.content_hash AND EXCLUDED.noise IS NULL THEN '' ELSE messages.noise_rule END
		RETURNING id, (xmax = 0) AS inserted, content_hash),
	r AS (
		INSERT INTO thread_refs (msgid, thread_id) SELECT k, (SELECT id FROM tid) FROM ins, unnest($20::text[]) k
		WHERE ins.inserted ON CONFLICT DO NOTHING RETURNING 1),
	loc AS (
		INSERT INTO message_locations (rep, folder, uidvalidity, uid, message_id) SELECT $26, $27, $28, $29, ins.id FROM ins
		WHERE $26::text IS NOT NULL AND (ins.inserted OR ins.content_hash = $2 OR $2 = '') -- not on a reused id's message
		ON CONFLICT DO NOTHING),
	rw AS (
		INSERT INTO message_raw (message_id, raw) SELECT ins.id, $30 FROM ins WHERE ins.inserted AND $30::bytea IS NOT NULL
		ON CONFLICT DO NOTHING),
	` + insertEventsSQL(31, "ins.id", "(SELECT id FROM tid)", "ins WHERE ins.inserted") + `
SELECT ins.id, ins.inserted, ins.content_hash, (SELECT threads FROM known), (SELECT n FROM known),
	coalesce((SELECT id FROM tid), 0), (SELECT count(*) FROM r), -- then as threadStatement's (threading.scan)
	ARRAY(SELECT id FROM eu ORDER BY id), ARRAY(SELECT customer_id FROM eu ORDER BY id),
	ARRAY(SELECT kind FROM eu ORDER BY id), ARRAY(SELECT direction FROM eu ORDER BY id),
	ARRAY(SELECT occurred_at FROM eu ORDER BY id)
FROM ins`

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

func locationArgs(loc *Location) []any {
	return []any{loc.Rep, loc.Folder, int64(loc.UIDValidity), int64(loc.UID)}
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

// nonNilBytes keeps an empty raw message from being sent as NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
