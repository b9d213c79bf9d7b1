package timeline

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// The statements of SaveMessage: one message row per
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
