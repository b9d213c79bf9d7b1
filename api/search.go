package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

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

// restrictSearch limits a rep's search to the customers the rep may see,
// by a Meilisearch filter built from their ids (integers, never caller
// text). Asking for another customer is ErrNotFound (404); nothing is
// true when the rep may see no customer at all.
func (s *Server) restrictSearch(r *http.Request, q *search.Query) (nothing bool, err error) {
	scope := principal(r).Scope()
	if scope.All() {
		return false, nil
	}
	visible, err := timeline.VisibleCustomerIDs(r.Context(), s.store.Pool, scope)
	if err != nil {
		return false, err
	}
	if len(q.CustomerIDs) > 0 {
		for _, id := range q.CustomerIDs {
			if _, found := slices.BinarySearch(visible, id); !found {
				return false, timeline.ErrNotFound
			}
		}
		return false, nil
	}
	q.CustomerIDs = visible
	return len(visible) == 0, nil
}

// searchAnswer is the JSON of a search: hits in snake_case, the total
// estimate, and a cursor to the next page while there is one.
func searchAnswer(q search.Query, hits []search.Hit, total int64, took time.Duration) map[string]any {
	out := make([]hit, len(hits))
	for i, h := range hits {
		out[i] = hit{EventID: h.EventID, CustomerID: h.CustomerID, CustomerName: h.CustomerName, Kind: h.Kind,
			Direction: h.Direction, Rep: h.Rep, Subject: h.Subject, From: h.From, Snippet: h.Snippet, OccurredAt: h.OccurredAt}
	}
	resp := map[string]any{"hits": out, "total": total, "took_ms": took.Milliseconds(), "next_cursor": nil}
	if next := q.Offset + len(hits); len(hits) > 0 && len(hits) == q.Limit && int64(next) < total && next <= maxSearchOffset {
		resp["next_cursor"] = encodeOffsetCursor(next)
	}
	return resp
}
