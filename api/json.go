package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultLimit = 50
	maxLimit     = 200
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// badParam is an invalid query or path parameter; its message names it.
type badParam struct{ name, msg string }

func (e badParam) Error() string { return e.name + ": " + e.msg }

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

func idParam(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 1 {
		return 0, badParam{name, "must be a positive whole number"}
	}
	return n, nil
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
