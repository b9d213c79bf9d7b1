package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/quote"
	"github.com/mailtrail/mailtrail/timeline"
)

// timelineRoutes registers threads, corrections, follow-ups, the pool and
// the reports. Access: admins and managers see every customer; a rep sees
// the customers they own or corresponded with (from the same
// principal(r).Scope() as every other route); corrections, the reports
// and the rules feedback are for admins and managers.
func (s *Server) timelineRoutes(mux *router) {
	mux.HandleFunc("GET /api/v1/customers/{id}/threads", s.customerThreads)
	mux.HandleFunc("GET /api/v1/threads/{id}", s.thread)
	mux.HandleFunc("PATCH /api/v1/events/{id}", s.patchEvent)
	mux.HandleFunc("GET /api/v1/followups", s.followups)
	mux.HandleFunc("GET /api/v1/inquiries/unanswered", s.unanswered)
	mux.HandleFunc("GET /api/v1/pool", s.pool)
	mux.HandleFunc("GET /api/v1/reports/funnel", s.funnel)
	mux.HandleFunc("GET /api/v1/reports/churn", s.churn)
	mux.HandleFunc("GET /api/v1/rules/feedback", s.rulesFeedback)
}

// WithPolicy sets the follow-up policy (cadences, working time, pool);
// without it the API uses timeline.DefaultPolicy.
func (s *Server) WithPolicy(p timeline.Policy) *Server {
	s.policy = p
	return s
}

func (s *Server) pol() timeline.Policy {
	if s.policy.Cadence == nil {
		return timeline.DefaultPolicy()
	}
	return s.policy
}

// repQuery reads ?rep= for the caller's scope (principal(r).Scope(), as
// every handler derives it, so that threads, follow-ups and the pool show
// exactly the customers that customers, timelines and search show). A rep
// may only ask about themselves, and gets themselves when they leave it
// out.
func repQuery(w http.ResponseWriter, r *http.Request, v timeline.Scope) (string, bool) {
	rep := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("rep")))
	if v.All() {
		return rep, true
	}
	if rep != "" && rep != v.Rep {
		writeError(w, http.StatusForbidden, "forbidden", "a rep sees only their own figures")
		return "", false
	}
	return v.Rep, true
}

// canSee writes 404 when the caller may not see customer id, as if it did
// not exist, so that a rep cannot probe other reps' customers (the same
// check as customerParam).
func (s *Server) canSee(w http.ResponseWriter, r *http.Request, customerID int64) bool {
	if err := timeline.CheckVisible(r.Context(), s.store.Pool, principal(r).Scope(), customerID); err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

func (s *Server) customerThreads(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cur timeline.ThreadCursor
	if c := r.URL.Query().Get("cursor"); c != "" {
		if cur.Before, cur.BeforeID, err = decodeCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !s.canSee(w, r, id) {
		return
	}
	if _, err := timeline.GetCustomer(r.Context(), s.store.Pool, id); err != nil {
		s.fail(w, r, err)
		return
	}
	threads, err := timeline.CustomerThreads(r.Context(), s.store.Pool, id, cur, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"customer_id": id, "threads": threads, "next_cursor": nil}
	if len(threads) == limit {
		last := threads[len(threads)-1]
		resp["next_cursor"] = encodeCursor(last.LastAt, last.ThreadID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) thread(w http.ResponseWriter, r *http.Request) {
	v := principal(r).Scope()
	id, err := idParam(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := limitOr(r, maxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var after time.Time
	var afterID int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		if after, afterID, err = decodeCursor(c); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	t, err := timeline.GetThread(r.Context(), s.store.Pool, id, v, after, afterID, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"thread_id": t.ThreadID, "customer_ids": t.CustomerIDs, "events": t.Events, "next_cursor": nil}
	if len(t.Events) == limit {
		last := t.Events[len(t.Events)-1]
		resp["next_cursor"] = encodeCursor(last.OccurredAt, last.ID)
	}
	writeJSON(w, http.StatusOK, resp)
}

// patchEvent corrects an event's kind: {"kind": "quote"}; {"kind": null}
// removes the correction. A correction is an edit, so admins and managers
// only: a rep reads their customers and nothing else (README, roles).
func (s *Server) patchEvent(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, managers...) {
		return
	}
	id, err := idParam(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Kind json.RawMessage `json:"kind"` // nil when absent, "null" for null
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "body must be a JSON object such as {\"kind\": \"quote\"}: "+jsonProblem(err))
		return
	}
	if body.Kind == nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "kind: required (inquiry, quote, email, or null to remove the correction)")
		return
	}
	var kind string
	if !bytes.Equal(body.Kind, []byte("null")) {
		if err := json.Unmarshal(body.Kind, &kind); err != nil || !validKind(kind) {
			writeError(w, http.StatusBadRequest, "invalid_body", "kind: must be inquiry, quote, email, or null to remove the correction")
			return
		}
	}
	ev, err := timeline.GetEvent(r.Context(), s.store.Pool, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.canSee(w, r, ev.CustomerID) {
		return
	}
	by := principal(r).Name
	err = s.store.InTx(r.Context(), func(tx pgx.Tx) error {
		if _, err := timeline.CorrectKind(r.Context(), tx, id, kind, by); err != nil {
			return err
		}
		if kind != timeline.KindQuote || ev.QuoteRef != nil || ev.Amount != nil {
			return nil
		}
		// Made a quote by hand: read what it states, as capture would have.
		raw, err := timeline.EventRaw(r.Context(), tx, id)
		if err != nil {
			return err
		}
		d := quote.FromMessage(message.Parse(raw))
		return timeline.SetQuoteDetails(r.Context(), tx, id, timeline.QuoteDetails{Ref: d.Ref, Currency: d.Currency, Amount: d.Amount})
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev, err = timeline.GetEvent(r.Context(), s.store.Pool, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func validKind(k string) bool {
	return k == timeline.KindInquiry || k == timeline.KindQuote || k == timeline.KindEmail
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: wrong type", te.Field)
	}
	return err.Error()
}

func (s *Server) followups(w http.ResponseWriter, r *http.Request) {
	v := principal(r).Scope()
	rep, ok := repQuery(w, r, v)
	if !ok {
		return
	}
	pg, c, err := pageParams(r)
	var cur timeline.FollowupCursor
	if err == nil && c != "" {
		cur.Due, cur.CustomerID, err = decodeCursor(c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	list, err := timeline.Followups(r.Context(), s.store.Pool, s.pol(), now, rep, v, cur, pg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"at": now.UTC(), "rep": rep, "followups": list, "next_cursor": nil}
	if len(list) == pg.Limit {
		last := list[len(list)-1]
		resp["next_cursor"] = encodeCursor(last.DueAt, last.CustomerID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) unanswered(w http.ResponseWriter, r *http.Request) {
	v := principal(r).Scope()
	rep, ok := repQuery(w, r, v)
	if !ok {
		return
	}
	pg, c, err := pageParams(r)
	var cur timeline.UnansweredCursor
	if err == nil && c != "" {
		cur.OccurredAt, cur.EventID, err = decodeCursor(c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.pol()
	now := time.Now()
	since := now.AddDate(0, 0, -90)
	if x := r.URL.Query().Get("since"); x != "" {
		if since, err = timeParam("since", x, p.Work.Loc); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	list, counts, err := timeline.UnansweredInquiries(r.Context(), s.store.Pool, p, now, since, rep, v, cur, pg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{
		"at": now.UTC(), "since": since.UTC(), "rep": rep, "unanswered_after_working_hours": p.UnansweredAfter.Hours(),
		"per_rep": counts, "inquiries": list, "next_cursor": nil,
	}
	if len(list) == pg.Limit {
		last := list[len(list)-1]
		resp["next_cursor"] = encodeCursor(last.OccurredAt, last.EventID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) pool(w http.ResponseWriter, r *http.Request) {
	v := principal(r).Scope()
	pg, c, err := pageParams(r)
	var after int64
	if err == nil {
		after, err = decodeIDCursor(c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.pol()
	now := time.Now()
	list, err := timeline.PublicPool(r.Context(), s.store.Pool, p, now, v, after, pg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{
		"at": now.UTC(), "release_after_days": p.PoolReleaseAfter.Hours() / 24, "customers": list, "next_cursor": nil,
	}
	if len(list) == pg.Limit {
		resp["next_cursor"] = encodeIDCursor(list[len(list)-1].CustomerID)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) funnel(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	q := r.URL.Query()
	p := s.pol()
	to, from := time.Now(), time.Time{}
	var err error
	if x := q.Get("to"); x != "" {
		if to, err = timeParam("to", x, p.Work.Loc); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	from = to.AddDate(-1, 0, 0)
	if x := q.Get("from"); x != "" {
		if from, err = timeParam("from", x, p.Work.Loc); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !from.Before(to) {
		s.fail(w, r, badParam{"from", "must be before to"})
		return
	}
	f, err := timeline.InquiryFunnel(r.Context(), s.store.Pool, from, to, strings.ToLower(q.Get("rep")), p.Work.Loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

// churn answers the churn report, paged by cursor. The cursor carries the
// first page's time ("at"), so that every page ranks the customers by the
// same windows: the shortfalls move as time passes.
func (s *Server) churn(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cp timeline.ChurnParams
	if cp.Window, err = daysParam(q.Get("days"), "days", 1, 366); err == nil {
		cp.Baseline, err = daysParam(q.Get("baseline_days"), "baseline_days", 30, 1096)
	}
	if err == nil {
		cp.MaxRatio, err = floatParam(q.Get("ratio"), "ratio", 0, 1)
	}
	if err == nil {
		cp.MinExpected, err = floatParam(q.Get("min_expected"), "min_expected", 0, 1e6)
	}
	now := time.Now()
	var cur timeline.ChurnCursor
	if c := q.Get("cursor"); err == nil && c != "" {
		now, cur, err = decodeChurnCursor(c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := timeline.Churn(r.Context(), s.store.Pool, now, cp, timeline.Scope{}, cur, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := map[string]any{"at": now.UTC(), "customers": rows, "next_cursor": nil}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		resp["next_cursor"] = encodeChurnCursor(now, timeline.ChurnCursor{Shortfall: last.Shortfall, CustomerID: last.CustomerID})
	}
	writeJSON(w, http.StatusOK, resp)
}

// rulesFeedback answers the rules people corrected, most disagreed with
// first, paged by cursor. The list is summed in Go (one row per corrected
// rule, a few dozen), so it is paged there, by the keyset of its order:
// (disagree, rule).
func (s *Server) rulesFeedback(w http.ResponseWriter, r *http.Request) {
	if !require(w, r, RoleAdmin, RoleManager) {
		return
	}
	limit, err := limitOr(r, maxLimit)
	var after *timeline.RuleFeedback
	if c := r.URL.Query().Get("cursor"); err == nil && c != "" {
		after, err = decodeRuleCursor(c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fb, err := timeline.RulesFeedback(r.Context(), s.store.Pool)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if after != nil {
		start := slices.IndexFunc(fb, func(f timeline.RuleFeedback) bool {
			return f.Disagree < after.Disagree || f.Disagree == after.Disagree && f.Rule > after.Rule
		})
		if start < 0 {
			start = len(fb)
		}
		fb = fb[start:]
	}
	fb = fb[:min(limit, len(fb))]
	resp := map[string]any{"rules": fb, "next_cursor": nil}
	if len(fb) == limit {
		resp["next_cursor"] = encodeRuleCursor(fb[len(fb)-1])
	}
	writeJSON(w, http.StatusOK, resp)
}

// timeParam reads a date (YYYY-MM-DD, midnight in loc) or an RFC 3339 time.
func timeParam(name, v string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, badParam{name, "must be a date YYYY-MM-DD or an RFC 3339 time"}
}

func daysParam(v, name string, lo, hi int) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam{name, fmt.Sprintf("must be a whole number of days from %d to %d", lo, hi)}
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func floatParam(v, name string, lo, hi float64) (float64, error) {
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= lo || f > hi {
		return 0, badParam{name, fmt.Sprintf("must be a number above %g, at most %g", lo, hi)}
	}
	return f, nil
}
