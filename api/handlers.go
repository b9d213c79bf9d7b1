package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bp badParam
	var field interface{ FieldName() string }
	var conflict *timeline.FieldConflict
	switch {
	case errors.As(err, &bp):
		writeError(w, http.StatusBadRequest, "invalid_parameter", bp.Error())
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, "conflict", conflict.Error())
	case errors.As(err, &field):
		writeError(w, http.StatusBadRequest, "invalid_field", err.Error())
	case errors.Is(err, errBodyTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", err.Error())
	case errors.Is(err, errMediaType):
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", err.Error())
	case errors.Is(err, timeline.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	default:
		s.log.Error("api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := decodeIDCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := timeline.CustomersIn(r.Context(), s.store.Pool, principal(r).Scope(), r.URL.Query().Get("q"), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"customers": cs, "next_cursor": nil}
	if len(cs) == limit {
		resp["next_cursor"] = encodeIDCursor(cs[len(cs)-1].ID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerParam(w, r, "id")
	if !ok {
		return
	}
	c, err := timeline.GetCustomer(r.Context(), s.store.Pool, id)
	if errors.Is(err, timeline.ErrNotFound) && s.redirectMerged(w, r, id) {
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerParam(w, r, "id")
	if !ok {
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cur timeline.TimelineCursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		if cur.Before, cur.BeforeID, err = decodeCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	c, err := timeline.GetCustomer(r.Context(), s.store.Pool, id)
	if errors.Is(err, timeline.ErrNotFound) && s.redirectMerged(w, r, id) {
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	events, err := timeline.Timeline(r.Context(), s.store.Pool, id, cur, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"customer": c, "events": events, "next_cursor": nil}
	if len(events) == limit {
		last := events[len(events)-1]
		resp["next_cursor"] = encodeCursor(last.OccurredAt, last.ID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	query := search.Query{Q: q.Get("q"), Rep: q.Get("rep"), Kind: q.Get("kind"), Limit: limit}
	if query.Q == "" {
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
		if query.Offset, err = strconv.Atoi(v); err != nil || query.Offset < 0 || query.Offset > 10000 {
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
	if nothing, err := s.restrictSearch(r, &query); err != nil || nothing {
		if err != nil {
			s.fail(w, r, err)
		} else {
			writeJSON(w, http.StatusOK, searchAnswer(query, nil, 0, 0))
		}
		return
	}
	start := time.Now()
	hits, total, err := s.index.Search(r.Context(), query)
	if err != nil {
		s.log.Error("search", "err", err)
		writeError(w, http.StatusServiceUnavailable, "search_unavailable", "search is unavailable; timelines still work")
		return
	}
	writeJSON(w, http.StatusOK, searchAnswer(query, hits, total, time.Since(start)))
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	st, err := timeline.GetStatus(r.Context(), s.store.Pool)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
