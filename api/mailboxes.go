package api

import (
	"errors"
	"net/http"

	"github.com/mailtrail/mailtrail/timeline"
)

// WithReps sets the configured reps: a mailbox of a rep no longer in the
// config shows as disconnected.
func (s *Server) WithReps(reps []string) *Server {
	s.reps = reps
	return s
}

// listMailboxes answers GET /api/v1/mailboxes: every rep's mailbox with
// its folders, last successful sync, messages stored, backlog, the last
// error with advice in plain words, and whether it is parked. Errors and
// advice never hold a secret: the sync engine writes them without. Paged
// by rep.
func (s *Server) listMailboxes(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	limit, err := limitOr(r, maxLimit)
	var after string
	if err == nil {
		after, err = decodeRepCursor(r.URL.Query().Get("cursor"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := timeline.MailboxReportsAfter(r.Context(), s.store.Pool, s.reps, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ms == nil {
		ms = []timeline.MailboxReport{}
	}
	resp := map[string]any{"mailboxes": ms, "next_cursor": nil}
	if len(ms) == limit {
		resp["next_cursor"] = encodeRepCursor(ms[len(ms)-1].Rep)
	}
	writeJSON(w, http.StatusOK, resp)
}

// retryMailbox answers POST /api/v1/mailboxes/{rep}/retry: a parked or
// backing-off mailbox is tried again within seconds.
func (s *Server) retryMailbox(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin) {
		return
	}
	rep := r.PathValue("rep")
	err := timeline.RetryMailbox(r.Context(), s.store.Pool, rep)
	if errors.Is(err, timeline.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no mailbox for rep "+rep)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"rep": rep, "retry": "requested"})
}
