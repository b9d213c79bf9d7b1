package api

import (
	"errors"
	"net/http"
	"strconv"

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
	var after int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		if after, err = strconv.ParseInt(c, 10, 64); err != nil {
			s.fail(w, r, badParam{"cursor", "is not a cursor this API returned"})
			return
		}
	}
	cs, err := timeline.CustomersIn(r.Context(), s.store.Pool, principal(r).Scope(), r.URL.Query().Get("q"), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"customers": cs, "next_cursor": nil}
	if len(cs) == limit {
		resp["next_cursor"] = strconv.FormatInt(cs[len(cs)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id, ok := s.customerParam(w, r, "id")
	if !ok {
		return
	}
	c, err := timeline.GetCustomer(r.Context(), s.store.Pool, id)
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
