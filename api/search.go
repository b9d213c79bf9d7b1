package api

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

// maxSearchOffset bounds how deep search pages go (Meilisearch's own
// maxTotalHits is 1000 by default).
const maxSearchOffset = 10000

// hit is a search result as the API returns it.
type hit struct {
	EventID      int64     `json:"event_id"`
	CustomerID   int64     `json:"customer_id"`
	CustomerName string    `json:"customer_name"`
	Kind         string    `json:"kind"`
	Direction    string    `json:"direction"`
	Rep          string    `json:"rep"`
	Subject      string    `json:"subject"`
	From         string    `json:"from"`
	Snippet      string    `json:"snippet"` // HTML: escaped text, matches in <mark>
	OccurredAt   time.Time `json:"occurred_at"`
}

// search finds timeline events. A rep's search is limited to the
// customers the rep may see, by a Meilisearch filter built from their ids
// (integers, never caller text); asking for another customer is 404.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	query := search.Query{Q: q.Get("q"), Rep: q.Get("rep"), Kind: q.Get("kind"), Limit: limit}
	if strings.TrimSpace(query.Q) == "" {
		s.fail(w, r, badParam{"q", "required"})
		return
	}
	if v := q.Get("customer_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			s.fail(w, r, badParam{"customer_id", "must be a positive whole number"})
			return
		}
		query.CustomerIDs = []int64{id}
	}
	switch query.Kind {
	case "", timeline.KindInquiry, timeline.KindQuote, timeline.KindEmail:
	default:
		s.fail(w, r, badParam{"kind", "must be inquiry, quote or email"})
		return
	}
	if v := q.Get("offset"); v != "" {
		if query.Offset, err = strconv.Atoi(v); err != nil || query.Offset < 0 || query.Offset > maxSearchOffset {
			s.fail(w, r, badParam{"offset", "must be a whole number from 0 to 10000"})
			return
		}
	}
	if v := q.Get("cursor"); v != "" {
		if query.Offset, err = decodeOffsetCursor(v); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if scope := principal(r).Scope(); !scope.All() {
		visible, err := timeline.VisibleCustomerIDs(r.Context(), s.store.Pool, scope)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(query.CustomerIDs) > 0 {
			if _, found := slices.BinarySearch(visible, query.CustomerIDs[0]); !found {
				s.fail(w, r, timeline.ErrNotFound)
				return
			}
		} else {
			query.CustomerIDs = visible
		}
		if len(query.CustomerIDs) == 0 { // a rep with no customers finds nothing
			writeJSON(w, http.StatusOK, map[string]any{"hits": []hit{}, "total": 0, "took_ms": 0, "next_cursor": nil})
			return
		}
	}
	start := time.Now()
	hits, total, err := s.index.Search(r.Context(), query)
	if err != nil {
		s.log.Error("search", "err", err)
		writeError(w, http.StatusServiceUnavailable, "search_unavailable", "search is unavailable; timelines still work")
		return
	}
	out := make([]hit, len(hits))
	for i, h := range hits {
		out[i] = hit{EventID: h.EventID, CustomerID: h.CustomerID, CustomerName: h.CustomerName, Kind: h.Kind,
			Direction: h.Direction, Rep: h.Rep, Subject: h.Subject, From: h.From, Snippet: h.Snippet, OccurredAt: h.OccurredAt}
	}
	resp := map[string]any{"hits": out, "total": total, "took_ms": time.Since(start).Milliseconds(), "next_cursor": nil}
	if next := query.Offset + len(hits); len(hits) == limit && int64(next) < total && next <= maxSearchOffset {
		resp["next_cursor"] = encodeOffsetCursor(next)
	}
	writeJSON(w, http.StatusOK, resp)
}

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
