package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// listDuplicates answers GET /api/v1/customers/duplicates: the stored
// duplicate candidate pairs, highest score first, each with both
// customers, the score and the reasons. Managers and admins only: a pair
// shows customers of several reps.
func (s *Server) listDuplicates(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cur timeline.DuplicatesCursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		if cur, err = decodeDupCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	pairs, err := timeline.Duplicates(r.Context(), s.store.Pool, cur, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"duplicates": pairs, "next_cursor": nil}
	if len(pairs) == limit {
		last := pairs[len(pairs)-1]
		resp["next_cursor"] = encodeDupCursor(timeline.DuplicatesCursor{Score: last.Score, A: last.A.ID, B: last.B.ID})
	}
	writeJSON(w, http.StatusOK, resp)
}

// mergeRequest is the body of POST /api/v1/customers/{id}/merge.
type mergeRequest struct {
	From int64 `json:"from"`
}

// mergeCustomer answers POST /api/v1/customers/{id}/merge {"from": other}:
// customer other is merged into {id} in one transaction (see
// timeline.MergeCustomers) and the audit row comes back. Repeating the
// call answers the same audit row with "already_merged": true. Managers
// and admins only. Re-matching of the kept customer's mail and the
// duplicate scan follow within seconds in the daemon; the moved events
// reach search through the outbox.
func (s *Server) mergeCustomer(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	keep, err := idParam(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req mergeRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", `body must be {"from": <customer id>}: `+err.Error())
		return
	}
	if req.From < 1 {
		writeError(w, http.StatusBadRequest, "invalid_body", "from: must be the positive id of the customer to merge into "+strconv.FormatInt(keep, 10))
		return
	}
	var m timeline.Merge
	err = s.store.InTxRetry(r.Context(), func(tx pgx.Tx) error {
		m, err = timeline.MergeCustomers(r.Context(), tx, keep, req.From, "api:"+principal(r).Name)
		return err
	})
	var merged *timeline.MergedError
	switch {
	case errors.Is(err, timeline.ErrMergeSelf):
		writeError(w, http.StatusBadRequest, "invalid_body", "from: "+err.Error())
	case errors.As(err, &merged):
		writeJSON(w, http.StatusConflict, map[string]any{
			"error":       map[string]string{"code": "merged", "message": merged.Error()},
			"customer_id": merged.ID, "merged_into": merged.Into,
		})
	case errors.Is(err, timeline.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("customer %d or %d does not exist", keep, req.From))
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, http.StatusOK, m)
	}
}

// listMerges answers GET /api/v1/customers/{id}/merges: the audit rows of
// the merges into a customer, oldest first, paged by merge id.
func (s *Server) listMerges(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	id, err := idParam(r, "id")
	var limit int
	var after int64
	if err == nil {
		limit, err = limitOr(r, maxLimit)
	}
	if err == nil {
		after, err = decodeIDCursor(r.URL.Query().Get("cursor"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := timeline.GetCustomer(r.Context(), s.store.Pool, id); err != nil {
		if errors.Is(err, timeline.ErrNotFound) && s.redirectMerged(w, r, id) {
			return
		}
		s.fail(w, r, err)
		return
	}
	ms, err := timeline.Merges(r.Context(), s.store.Pool, id, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ms == nil {
		ms = []timeline.Merge{}
	}
	resp := map[string]any{"merges": ms, "next_cursor": nil}
	if len(ms) == limit {
		resp["next_cursor"] = encodeIDCursor(ms[len(ms)-1].ID)
	}
	writeJSON(w, http.StatusOK, resp)
}

// redirectMerged answers for a customer id that was merged away: 308
// Permanent Redirect to the same path under the kept customer's id (query
// kept, so a timeline cursor still works: events keep their ids), with a
// body naming merged_into for clients that do not follow redirects. It
// returns false, writing nothing, when id was never merged.
func (s *Server) redirectMerged(w http.ResponseWriter, r *http.Request, id int64) bool {
	into, mergeID, ok, err := timeline.Redirect(r.Context(), s.store.Pool, id)
	if err != nil {
		s.fail(w, r, err)
		return true
	}
	if !ok {
		return false
	}
	old := "/api/v1/customers/" + strconv.FormatInt(id, 10)
	loc := "/api/v1/customers/" + strconv.FormatInt(into, 10) + strings.TrimPrefix(r.URL.Path, old)
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusPermanentRedirect, map[string]any{
		"customer_id": id, "merged_into": into, "merge_id": mergeID, "location": loc,
	})
	return true
}
