package search

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Query is a search over timeline events. Every field is optional.
type Query struct {
	Q           string  // words to find; "" lists the newest events first
	CustomerIDs []int64 // only these customers; empty means all
	Rep         string  // only this rep's events: the whole address, compared ignoring case
	Kind        string  // only this kind: inquiry, quote or email (ignoring case)
	Limit       int     // hits to return: 0 means 20, capped at MaxLimit
	Offset      int     // hits to skip; negative means 0
}

// MaxLimit caps Query.Limit.
const MaxLimit = 200

// Hit is one event found by Search.
type Hit struct {
	EventID      int64  `json:"event_id"`
	CustomerID   int64  `json:"customer_id"`
	CustomerName string `json:"customer_name"`
	Kind         string `json:"kind"`      // inquiry, quote or email
	Direction    string `json:"direction"` // in or out
	Rep          string `json:"rep"`
	Subject      string `json:"subject"`
	From         string `json:"from"` // display form, `Name <addr>, ...`
	// Snippet is about 30 words from the first KB of the body, around
	// the best match there, as HTML: the text is escaped and matched words
	// are wrapped in <mark>...</mark>, so it can be shown as is. A match
	// further down the body is found but not shown: the snippet is then
	// the body's first words. It falls back to the escaped subject when
	// the body is empty.
	Snippet    string    `json:"snippet"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Highlight tags asked of Meilisearch: private-use characters that
// document text never carries (loadDocuments strips them), replaced by
// <mark> tags after the snippet is HTML-escaped. Asking for "<mark>"
// directly would leave the body's own markup unescaped.
const (
	markPre  = "\uE000"
	markPost = "\uE001"
)

// retrieve lists the stored fields a hit needs: never body (up to 32 KB),
// zh or excerpt, which comes back only cropped, as the snippet.
var retrieve = []string{"id", "customer_id", "customer_name", "kind", "direction", "rep", "subject", "from", "occurred_at"}

// Search finds events matching q, best match first, or newest first when
// q.Q is empty. total is Meilisearch's estimate of all matches (exact up to
// a few hundred, and capped at its maxTotalHits, 1000 by default), meant
// for "about N results", not for counting.
//
// When q.Q has traditional Chinese characters, it is searched twice in one
// federated request, as typed and folded to simplified (see chinese.go), and
// the results merged by score: the folded query finds both scripts, the
// original keeps Japanese kanji queries (見積書) working, which the fold
// would otherwise turn into Chinese that the Japanese segmenter never saw.
// A query with kana is tokenized as Japanese.
func (ix *Index) Search(ctx context.Context, q Query) (hits []Hit, total int64, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, MaxLimit)
	offset := max(q.Offset, 0)
	text := strings.TrimSpace(q.Q)
	var raw json.RawMessage
	if folded := simplify(text); folded != text {
		resp, err := ix.meili.MultiSearchWithContext(ctx, &meilisearch.MultiSearchRequest{
			Federation: &meilisearch.MultiSearchFederation{Offset: int64(offset), Limit: int64(limit)},
			Queries:    []*meilisearch.SearchRequest{ix.request(text, q), ix.request(folded, q)},
		})
		if err != nil {
			return nil, 0, fmt.Errorf("search %s: %w", ix.name, err)
		}
		// Hits come back decoded into maps; one more round of JSON for
		// 20 hits is cheaper than a second decoder.
		if raw, err = json.Marshal(map[string]any{"hits": resp.Hits, "estimatedTotalHits": resp.EstimatedTotalHits}); err != nil {
			return nil, 0, fmt.Errorf("search %s: %w", ix.name, err)
		}
	} else {
		req := ix.request(text, q)
		req.Limit, req.Offset = int64(limit), int64(offset)
		if text == "" {
			req.Sort = []string{"occurred_at:desc"}
		}
		r, err := ix.index.SearchRawWithContext(ctx, text, req)
		if err != nil {
			return nil, 0, fmt.Errorf("search %s: %w", ix.name, err)
		}
		raw = *r
	}
	return decodeHits(raw)
}

// request is the part of a search request shared by plain and federated
// searches: text, filter, fields to return, snippet and locale.
func (ix *Index) request(text string, q Query) *meilisearch.SearchRequest {
	req := &meilisearch.SearchRequest{
		IndexUID:              ix.name, // needed in a federated search, dropped by a plain one
		Query:                 text,
		AttributesToRetrieve:  retrieve,
		AttributesToCrop:      []string{"excerpt"},
		CropLength:            30,
		CropMarker:            "…",
		AttributesToHighlight: []string{"excerpt"},
		HighlightPreTag:       markPre,
		HighlightPostTag:      markPost,
	}
	if f := filter(q); len(f) > 0 {
		req.Filter = f
	}
	if hasKana(text) {
		// In a mixed index Meilisearch may take kanji for Chinese and
		// segment them differently from the documents.
		req.Locales = []string{"jpn"}
	}
	return req
}

// decodeHits reads a search response into Hits.
func decodeHits(raw json.RawMessage) ([]Hit, int64, error) {
	var resp struct {
		Hits []struct {
			document
			Formatted struct {
				Excerpt string `json:"excerpt"`
			} `json:"_formatted"`
		} `json:"hits"`
		EstimatedTotalHits int64 `json:"estimatedTotalHits"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, 0, fmt.Errorf("decode search response: %w", err)
	}
	hits := make([]Hit, len(resp.Hits))
	for i, h := range resp.Hits {
		snippet := h.Formatted.Excerpt
		if strings.TrimSpace(snippet) == "" {
			snippet = h.Subject
		}
		hits[i] = Hit{
			EventID:      h.ID,
			CustomerID:   h.CustomerID,
			CustomerName: h.CustomerName,
			Kind:         h.Kind,
			Direction:    h.Direction,
			Rep:          h.Rep,
			Subject:      h.Subject,
			From:         h.From,
			Snippet:      markup(snippet),
			OccurredAt:   time.Unix(h.OccurredAt, 0).UTC(),
		}
	}
	return hits, resp.EstimatedTotalHits, nil
}

// markup escapes s for HTML and turns the highlight markers into <mark>.
var markReplacer = strings.NewReplacer(markPre, "<mark>", markPost, "</mark>")

func markup(s string) string {
	return markReplacer.Replace(html.EscapeString(s))
}
