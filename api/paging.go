package api

// How lists page. Every list answers a page and next_cursor, null on the
// last page; the client passes next_cursor back as cursor. A cursor is
// opaque to clients and names the last item of its page by the list's
// order (a keyset), so that rows added or removed meanwhile neither repeat
// nor skip an item. Search alone pages by position: Meilisearch ranks by
// relevance, which has no key.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/timeline"
)

const (
	defaultLimit = 50
	maxLimit     = 200
)

// limitParam reads limit: 1 to maxLimit, defaultLimit when absent.
func limitParam(r *http.Request) (int, error) { return limitOr(r, defaultLimit) }

// limitOr reads limit with def when absent. The lists that answered whole
// before they had pages (a thread's events, merges, mailboxes, rules
// feedback) default to maxLimit, so that a client that never learned of
// next_cursor still gets everything up to that many.
func limitOr(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badParam{"limit", fmt.Sprintf("must be a whole number from 1 to %d", maxLimit)}
	}
	return n, nil
}

// pageParams reads limit (1..200, default 50), the cursor for the list's
// own decoder, and the deprecated offset (0..100000) of the lists that
// paged by offset before they had cursors. Offset stays accepted so that
// those clients keep working: it skips rows before the first page, and the
// answer's next_cursor continues from there. With a cursor it is ignored,
// so that a client that keeps offset in its URL while following
// next_cursor does not skip rows again on every page.
func pageParams(r *http.Request) (pg timeline.Page, cursor string, err error) {
	if pg.Limit, err = limitParam(r); err != nil {
		return pg, "", err
	}
	q := r.URL.Query()
	if v := q.Get("offset"); v != "" {
		if pg.Offset, err = strconv.Atoi(v); err != nil || pg.Offset < 0 || pg.Offset > 100000 {
			return pg, "", badParam{"offset", "must be a whole number from 0 to 100000"}
		}
	}
	if cursor = q.Get("cursor"); cursor != "" {
		pg.Offset = 0
	}
	return pg, cursor, nil
}

// encodeIDCursor is the cursor of a list ordered by id alone (customers,
// the pool, merges): the last id of the page, in decimal, as customers'
// cursors always were.
func encodeIDCursor(id int64) string { return strconv.FormatInt(id, 10) }

// decodeIDCursor reads an id cursor; "" is the first page (0).
func decodeIDCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(c, 10, 64)
	if err != nil || id < 0 {
		return 0, badParam{"cursor", "is not a cursor this API returned"}
	}
	return id, nil
}

// Cursors are opaque to clients: base64 of "unixnano:id".
func encodeCursor(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d", t.UnixNano(), id))
}

func decodeCursor(s string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		a, c, ok := strings.Cut(string(b), ":")
		if ok {
			ns, err1 := strconv.ParseInt(a, 10, 64)
			id, err2 := strconv.ParseInt(c, 10, 64)
			if err1 == nil && err2 == nil {
				return time.Unix(0, ns), id, nil
			}
		}
	}
	return time.Time{}, 0, badParam{"cursor", "is not a cursor this API returned"}
}

// Churn cursors are opaque: base64 of "unixnano:shortfall:customer id",
// the shortfall written so that it reads back to the same float64.
func encodeChurnCursor(at time.Time, c timeline.ChurnCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%s:%d",
		at.UnixNano(), strconv.FormatFloat(c.Shortfall, 'g', -1, 64), c.CustomerID))
}

func decodeChurnCursor(s string) (time.Time, timeline.ChurnCursor, error) {
	bad := badParam{"cursor", "is not a cursor this API returned"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	parts := strings.Split(string(b), ":")
	if err != nil || len(parts) != 3 {
		return time.Time{}, timeline.ChurnCursor{}, bad
	}
	ns, err1 := strconv.ParseInt(parts[0], 10, 64)
	short, err2 := strconv.ParseFloat(parts[1], 64)
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || id < 1 {
		return time.Time{}, timeline.ChurnCursor{}, bad
	}
	return time.Unix(0, ns), timeline.ChurnCursor{Shortfall: short, CustomerID: id}, nil
}

// Rule cursors are opaque: base64 of "disagree:rule".
func encodeRuleCursor(f timeline.RuleFeedback) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%s", f.Disagree, f.Rule))
}

func decodeRuleCursor(c string) (*timeline.RuleFeedback, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		d, rule, ok := strings.Cut(string(b), ":")
		if n, err := strconv.ParseInt(d, 10, 64); ok && err == nil {
			return &timeline.RuleFeedback{Disagree: n, Rule: rule}, nil
		}
	}
	return nil, badParam{"cursor", "is not a cursor this API returned"}
}

// Duplicate cursors are opaque: base64 of "score:a:b".
func encodeDupCursor(c timeline.DuplicatesCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d:%d",
		strconv.FormatFloat(c.Score, 'g', -1, 64), c.A, c.B))
}

func decodeDupCursor(s string) (timeline.DuplicatesCursor, error) {
	bad := badParam{"cursor", "is not a cursor this API returned"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return timeline.DuplicatesCursor{}, bad
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 {
		return timeline.DuplicatesCursor{}, bad
	}
	score, err1 := strconv.ParseFloat(parts[0], 64)
	a, err2 := strconv.ParseInt(parts[1], 10, 64)
	c, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return timeline.DuplicatesCursor{}, bad
	}
	return timeline.DuplicatesCursor{Score: score, A: a, B: c}, nil
}

// Mailbox cursors are the last rep of the page in base64, so that an
// address's "+" survives a query string that a client did not escape.
func encodeRepCursor(rep string) string { return base64.RawURLEncoding.EncodeToString([]byte(rep)) }

func decodeRepCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", badParam{"cursor", "is not a cursor this API returned"}
	}
	return string(b), nil
}

// maxSearchOffset bounds how deep search pages go (Meilisearch's own
// maxTotalHits is 1000 by default).
const maxSearchOffset = 10000

// Search cursors are opaque to clients: base64 of "o:<offset>".
func encodeOffsetCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeOffsetCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if v, ok := strings.CutPrefix(string(b), "o:"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= maxSearchOffset {
				return n, nil
			}
		}
	}
	return 0, badParam{"cursor", "is not a cursor this API returned"}
}
