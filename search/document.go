package search

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// maxBody caps the body text sent to Meilisearch, in bytes. Mail beyond
// 32 KB is quoted history, signatures and pasted tables; indexing it costs
// disk (about 3.4 times the JSON) and rarely finds anything new.
const maxBody = 32 << 10

// excerptBytes is how much of the body's start Search crops its snippet
// from. Cropping re-reads the cropped text for every hit at query time:
// measured on 20 hits, about 2 ms per KB of English and 4 ms per KB of
// Chinese, so cropping whole 32 KB bodies would cost 60-130 ms a search.
// The start of a mail is its new text; quoted history comes after.
const excerptBytes = 1 << 10

// document is what Meilisearch stores for one event. The field names are
// the index's schema: Ensure's attribute lists and Search's decoding use
// them.
type document struct {
	ID           int64    `json:"id"` // the event id
	CustomerID   int64    `json:"customer_id"`
	CustomerName string   `json:"customer_name"`
	Kind         string   `json:"kind"`
	Direction    string   `json:"direction"`
	Rep          string   `json:"rep"`
	OccurredAt   int64    `json:"occurred_at"` // unix seconds, for range filters and sort
	MessageID    string   `json:"message_id,omitempty"`
	Subject      string   `json:"subject"`
	From         string   `json:"from"` // display form: `Name <addr>, ...`
	To           []string `json:"to"`   // To and Cc, display form
	Body         string   `json:"body"`
	Excerpt      string   `json:"excerpt"`      // the body's first excerptBytes: shown, not searched
	Attachments  []string `json:"attachments"`  // file names
	ZH           string   `json:"zh,omitempty"` // simplified fold of the Han text, only when it differs
}

// addr mirrors the JSON of message.Address stored in messages.*_addrs.
type addr struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// attachment is the part of message.Attachment (messages.attachments) we
// index.
type attachment struct {
	Filename string `json:"filename"`
}

// querier is what loadDocuments needs: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// One query builds every document of a batch. left() bounds what
// PostgreSQL sends for a huge body (in characters: up to 4 bytes each);
// truncate then cuts to maxBody bytes.
const documentsSQL = `
SELECT e.id, e.customer_id, c.name, e.kind, e.direction, e.rep, e.occurred_at,
       coalesce(m.message_id, ''), m.subject, m.from_addrs, m.to_addrs, m.cc_addrs,
       left(m.body, $2), m.attachments
FROM events e
JOIN messages m ON m.id = e.message_id
JOIN customers c ON c.id = e.customer_id
WHERE e.id = ANY($1)
ORDER BY e.id`

// loadDocuments returns the documents of the events in ids that exist.
// Missing ids are not an error: the event was deleted after its outbox row
// was written, and the caller deletes its document instead.
func loadDocuments(ctx context.Context, q querier, ids []int64) ([]document, error) {
	rows, err := q.Query(ctx, documentsSQL, ids, maxBody)
	if err != nil {
		return nil, fmt.Errorf("load documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (document, error) {
		var (
			d            document
			at           time.Time
			from, to, cc []addr
			atts         []attachment
		)
		err := row.Scan(&d.ID, &d.CustomerID, &d.CustomerName, &d.Kind, &d.Direction, &d.Rep, &at,
			&d.MessageID, &d.Subject, &from, &to, &cc, &d.Body, &atts)
		if err != nil {
			return d, err
		}
		d.OccurredAt = at.Unix()
		d.From = strings.Join(display(from), ", ")
		d.To = append(display(to), display(cc)...)
		for _, a := range atts {
			if a.Filename != "" {
				d.Attachments = append(d.Attachments, a.Filename)
			}
		}
		d.Subject = stripMarkers(d.Subject)
		d.Body = stripMarkers(truncate(d.Body, maxBody))
		d.Excerpt = truncate(d.Body, excerptBytes)
		d.ZH = fold(d.Subject, d.CustomerName, strings.Join(d.Attachments, " "), d.Body)
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load documents: %w", err)
	}
	return docs, nil
}

// display formats addresses as a person reads them: `Name <email>`, or the
// bare address when there is no name.
func display(as []addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		switch {
		case a.Name != "" && a.Email != "":
			out = append(out, a.Name+" <"+a.Email+">")
		case a.Email != "":
			out = append(out, a.Email)
		case a.Name != "":
			out = append(out, a.Name)
		}
	}
	return out
}

// fold joins the simplified fold of each part that has traditional
// characters; "" when none has, so most documents carry no extra field.
func fold(parts ...string) string {
	var out []string
	for _, p := range parts {
		if s := simplify(p); s != p {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// stripMarkers removes the private-use characters Search uses as highlight
// tags, so that mail containing them cannot forge a highlight.
func stripMarkers(s string) string {
	if !strings.ContainsAny(s, markPre+markPost) {
		return s
	}
	return strings.NewReplacer(markPre, "", markPost, "").Replace(s)
}
