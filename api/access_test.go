package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/timeline"
)

// accessCase is one request and the status each caller must get. Paths
// may name the fixture's customers: {Alpha} (amy's), {Bravo} (bob's only),
// {Charlie} (bob's, amy wrote to them), {Delta} (nobody's). {n} in a
// body is replaced by a number unique to the request.
type accessCase struct {
	path, body string
	admin      int // config token
	manager    int
	rep        int // amy
}

// accessCases holds, for every route, who may and who may not. A route
// registered without an entry here fails TestAccessEveryRoute: add one
// line per route (and one per customer it can reach: amy's, and another
// rep's, which must be 404 to a rep).
var accessCases = map[string][]accessCase{
	"GET /healthz":                        {{"/healthz", "", 200, 200, 200}},
	"GET /api/v1/openapi.json":            {{"/api/v1/openapi.json", "", 200, 200, 200}},
	"GET /api/v1/customers":               {{"/api/v1/customers", "", 200, 200, 200}},
	"GET /api/v1/customers/{id}":          {{"/api/v1/customers/{Alpha}", "", 200, 200, 200}, {"/api/v1/customers/{Charlie}", "", 200, 200, 200}, {"/api/v1/customers/{Bravo}", "", 200, 200, 404}, {"/api/v1/customers/{Delta}", "", 200, 200, 404}},
	"GET /api/v1/customers/{id}/timeline": {{"/api/v1/customers/{Alpha}/timeline", "", 200, 200, 200}, {"/api/v1/customers/{Bravo}/timeline", "", 200, 200, 404}},
	"GET /api/v1/search":                  {{"/api/v1/search?q=panel", "", 200, 200, 200}, {"/api/v1/search?q=panel&customer_id={Bravo}", "", 200, 200, 404}},
	"GET /api/v1/status":                  {{"/api/v1/status", "", 200, 200, 403}},
	"POST /api/v1/customers":              {{"/api/v1/customers", `{"name": "New Buyer {n}"}`, 201, 201, 403}},
	"PATCH /api/v1/customers/{id}":        {{"/api/v1/customers/{Alpha}", `{"phone": "+49 {n}"}`, 200, 200, 403}, {"/api/v1/customers/{Bravo}", `{"phone": "+44 {n}"}`, 200, 200, 403}},
	"GET /api/v1/reps/{email}/handover":   {{"/api/v1/reps/" + amy + "/handover", "", 200, 200, 403}, {"/api/v1/reps/" + bob + "/handover?format=md", "", 200, 200, 403}, {"/api/v1/reps/" + amy + "/handover?format=html&months=24", "", 200, 200, 403}},
	"POST /api/v1/reps/{email}/handover":  {{"/api/v1/reps/" + bob + "/handover", `{"to": "` + amy + `", "dry_run": true}`, 200, 200, 403}},
	// Added by accessExtras: {Echo} and {Foxtrot} (same phone: a duplicate
	// pair; Foxtrot is merged into Echo), {AlphaEvent}/{BravoEvent} (each
	// customer's first event) and {AlphaThread}/{BravoThread} (its thread).
	"GET /api/v1/customers/duplicates":   {{"/api/v1/customers/duplicates", "", 200, 200, 403}},
	"POST /api/v1/customers/{id}/merge":  {{"/api/v1/customers/{Echo}/merge", `{"from": {Foxtrot}}`, 200, 200, 403}, {"/api/v1/customers/{Echo}/merge", `{"from": 999999}`, 404, 404, 403}},
	"GET /api/v1/customers/{id}/merges":  {{"/api/v1/customers/{Echo}/merges", "", 200, 200, 403}, {"/api/v1/customers/{Alpha}/merges", "", 200, 200, 403}},
	"GET /api/v1/mailboxes":              {{"/api/v1/mailboxes", "", 200, 200, 403}},
	"POST /api/v1/mailboxes/{rep}/retry": {{"/api/v1/mailboxes/" + bob + "/retry", "", 202, 403, 403}, {"/api/v1/mailboxes/nobody@ourco.example/retry", "", 404, 403, 403}},
	"GET /api/v1/customers/{id}/threads": {{"/api/v1/customers/{Alpha}/threads", "", 200, 200, 200}, {"/api/v1/customers/{Charlie}/threads", "", 200, 200, 200}, {"/api/v1/customers/{Bravo}/threads", "", 200, 200, 404}},
	"GET /api/v1/threads/{id}":           {{"/api/v1/threads/{AlphaThread}", "", 200, 200, 200}, {"/api/v1/threads/{BravoThread}", "", 200, 200, 404}, {"/api/v1/threads/999999", "", 404, 404, 404}},
	"PATCH /api/v1/events/{id}":          {{"/api/v1/events/{AlphaEvent}", `{"kind": "inquiry"}`, 200, 200, 403}, {"/api/v1/events/{BravoEvent}", `{"kind": null}`, 200, 200, 403}, {"/api/v1/events/999999", `{"kind": "quote"}`, 404, 404, 403}},
	"GET /api/v1/followups":              {{"/api/v1/followups", "", 200, 200, 200}, {"/api/v1/followups?rep=" + bob, "", 200, 200, 403}},
	"GET /api/v1/inquiries/unanswered":   {{"/api/v1/inquiries/unanswered?since=2026-01-01", "", 200, 200, 200}, {"/api/v1/inquiries/unanswered?since=2026-01-01&rep=" + bob, "", 200, 200, 403}},
	"GET /api/v1/pool":                   {{"/api/v1/pool", "", 200, 200, 200}},
	"GET /api/v1/reports/funnel":         {{"/api/v1/reports/funnel?from=2026-01-01&to=2026-12-31", "", 200, 200, 403}},
	"GET /api/v1/reports/churn":          {{"/api/v1/reports/churn", "", 200, 200, 403}},
	"GET /api/v1/rules/feedback":         {{"/api/v1/rules/feedback", "", 200, 200, 403}},
}

// accessExtras adds what the newer routes need to answer with content: a
// duplicate pair to list and merge, two mailboxes (one parked), and the
// ids of events and threads, as {Name} placeholders in f.ids.
func (f *fixture) accessExtras() {
	f.t.Helper()
	for _, c := range []struct{ name, domain string }{{"Echo Trading", "echo.example"}, {"Foxtrot Trading", "foxtrot.example"}} {
		id, _, _, err := timeline.UpsertCustomer(f.ctx, f.store.Pool, timeline.CustomerInput{
			Name: c.name, Phone: "+1 555 0100", Domains: []string{c.domain}})
		if err != nil {
			f.t.Fatal(err)
		}
		f.ids[strings.Fields(c.name)[0]] = id
	}
	if _, err := timeline.ScanDuplicates(f.ctx, f.store.Pool, func(string) bool { return false }); err != nil {
		f.t.Fatal(err)
	}
	for _, rep := range []string{amy, bob} {
		if err := timeline.EnsureMailbox(f.ctx, f.store.Pool, rep, "imap.ourco.example", rep); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := timeline.RecordSyncOK(f.ctx, f.store.Pool, amy); err != nil {
		f.t.Fatal(err)
	}
	if err := timeline.RecordSyncError(f.ctx, f.store.Pool, bob, "login refused", "check the password", 3, time.Now().Add(time.Hour), true, "h"); err != nil {
		f.t.Fatal(err)
	}
	for _, name := range []string{"Alpha", "Bravo"} {
		var event int64
		var thread *int64
		if err := f.store.Pool.QueryRow(f.ctx, `SELECT id, thread_id FROM events WHERE customer_id = $1 ORDER BY occurred_at, id LIMIT 1`,
			f.ids[name]).Scan(&event, &thread); err != nil || thread == nil {
			f.t.Fatalf("first event of %s: %v (thread %v)", name, err, thread)
		}
		f.ids[name+"Event"], f.ids[name+"Thread"] = event, *thread
	}
}

// TestAccessEveryRoute checks every route against its access cases, as
// each role and without a token, and validates every JSON answer against
// the OpenAPI description of that route and status.
func TestAccessEveryRoute(t *testing.T) {
	f := newFixture(t, true)
	f.accessExtras()
	doc := openAPIDoc(t)
	routes := f.srv.Routes()
	for _, r := range routes {
		if len(accessCases[r]) == 0 {
			t.Errorf("route %s has no access case in accessCases", r)
		}
	}
	for r := range accessCases {
		if !slices.Contains(routes, r) {
			t.Errorf("accessCases has %s, which is not a route", r)
		}
	}
	n := 0
	for route, cases := range accessCases {
		method, _, _ := strings.Cut(route, " ")
		for _, c := range cases {
			checkRequest(t, doc, route, f.expand(c.path), f.expand(strings.ReplaceAll(c.body, "{n}", "0")))
			for _, who := range []struct {
				name string
				want int
			}{{"admin", c.admin}, {"manager", c.manager}, {"amy", c.rep}, {"", 401}} {
				if who.name == "" && route == "GET /healthz" {
					who.want = 200
				}
				n++
				body := f.expand(strings.ReplaceAll(c.body, "{n}", fmt.Sprint(n)))
				got := f.do(who.name, method, c.path, body)
				if got.status != who.want {
					t.Errorf("%s %s as %q: %d, want %d: %s", method, c.path, who.name, got.status, who.want, got.body)
					continue
				}
				checkShape(t, doc, route, c.path, got, fmt.Sprintf("%s %s as %q", method, c.path, who.name))
			}
		}
	}
}

// checkShape validates a JSON answer against the description, and an
// answer asked for in another format (?format=md or html) by its media
// type, headers and opening.
func checkShape(t *testing.T, doc map[string]any, route, path string, got response, what string) {
	t.Helper()
	ct := got.header.Get("Content-Type")
	format := ""
	if _, query, ok := strings.Cut(path, "?"); ok {
		v, _ := url.ParseQuery(query)
		format = v.Get("format")
	}
	if got.status == 200 && (format == "md" || format == "html") {
		checkDocument(t, format, got, what)
		return
	}
	if !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: answered as %q, not JSON", what, ct)
		return
	}
	schema := responseSchema(t, doc, route, got.status)
	if schema == nil {
		return
	}
	var v any
	if err := json.Unmarshal(got.body, &v); err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	for _, e := range validate(doc, schema, v, "$") {
		t.Errorf("%s: answer does not match api/openapi.json: %s", what, e)
	}
}

// checkDocument checks a handover report asked for as Markdown or HTML:
// its media type, the HTML's Content-Security-Policy, and how it opens.
func checkDocument(t *testing.T, format string, got response, what string) {
	t.Helper()
	ct, body := got.header.Get("Content-Type"), string(got.body)
	switch format {
	case "md":
		if ct != "text/markdown; charset=utf-8" || !strings.HasPrefix(body, "# Handover: ") {
			t.Errorf("%s: %q, starting %.40q; want text/markdown starting with the report's heading", what, ct, body)
		}
	case "html":
		if ct != "text/html; charset=utf-8" || !strings.HasPrefix(body, "<!DOCTYPE html>") {
			t.Errorf("%s: %q, starting %.40q; want text/html starting with <!DOCTYPE html>", what, ct, body)
		}
		if csp := got.header.Get("Content-Security-Policy"); csp != "default-src 'none'; style-src 'unsafe-inline'" {
			t.Errorf("%s: Content-Security-Policy %q", what, csp)
		}
	}
}

// TestRepSeesOnlyOwnCustomers: lists, search and 404s leak nothing of
// another rep's customers.
func TestRepSeesOnlyOwnCustomers(t *testing.T) {
	f := newFixture(t, true)
	names := func(who, path string) []string {
		var v struct {
			Customers []struct{ Name string } `json:"customers"`
			Hits      []struct {
				CustomerName string `json:"customer_name"`
			} `json:"hits"`
		}
		r := f.do(who, "GET", path, "")
		if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
			t.Fatalf("%s as %s: %d %s", path, who, r.status, r.body)
		}
		var out []string
		for _, c := range v.Customers {
			out = append(out, c.Name)
		}
		for _, h := range v.Hits {
			if !slices.Contains(out, h.CustomerName) {
				out = append(out, h.CustomerName)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		who, path string
		want      []string
	}{
		{"amy", "/api/v1/customers", []string{"Alpha GmbH", "Charlie SA"}},
		{"bob", "/api/v1/customers", []string{"Bravo Ltd", "Charlie SA"}},
		{"manager", "/api/v1/customers", []string{"Alpha GmbH", "Bravo Ltd", "Charlie SA", "Delta Inc"}},
		{"amy", "/api/v1/customers?q=bravo", nil},
		{"amy", "/api/v1/search?q=panel", []string{"Alpha GmbH", "Charlie SA"}},
		{"bob", "/api/v1/search?q=panel", []string{"Bravo Ltd", "Charlie SA"}},
		{"admin", "/api/v1/search?q=panel", []string{"Alpha GmbH", "Bravo Ltd", "Charlie SA"}},
		{"amy", "/api/v1/search?q=panel&rep=" + bob, []string{"Charlie SA"}}, // bob's mail to a customer amy shares
		{"carol", "/api/v1/search?q=panel", nil},
		{"carol", "/api/v1/customers", nil},
	} {
		if got := names(tc.who, tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("%s as %s: %v, want %v", tc.path, tc.who, got, tc.want)
		}
	}
	// Another rep's customer answers exactly like a customer that does not exist.
	other := f.do("amy", "GET", "/api/v1/customers/{Bravo}/timeline", "")
	missing := f.do("amy", "GET", "/api/v1/customers/999999/timeline", "")
	if other.status != 404 || string(other.body) != string(missing.body) {
		t.Errorf("bob's customer to amy: %d %s; missing customer: %d %s", other.status, other.body, missing.status, missing.body)
	}
	// Amy sees the whole timeline of a customer she shares, bob's mail included.
	var tl struct {
		Events []struct{ Rep string } `json:"events"`
	}
	json.Unmarshal(f.do("amy", "GET", "/api/v1/customers/{Charlie}/timeline", "").body, &tl)
	if len(tl.Events) != 2 {
		t.Errorf("amy's view of Charlie's timeline: %+v", tl.Events)
	}
}

// TestTokens: stored tokens authenticate with their role until revoked,
// and their use is recorded.
func TestTokens(t *testing.T) {
	f := newFixture(t, false)
	if r := f.do("manager", "GET", "/api/v1/status", ""); r.status != 200 {
		t.Fatalf("manager token: %d %s", r.status, r.body)
	}
	var used bool
	if err := f.store.Pool.QueryRow(f.ctx, `SELECT last_used_at IS NOT NULL FROM api_tokens WHERE name = 'manager'`).Scan(&used); err != nil || !used {
		t.Errorf("last_used_at not set after use: %v", err)
	}
	// Lower-case "bearer" is the same scheme (RFC 6750 uses RFC 7235's case-insensitive schemes).
	if r := f.do("", "GET", "/api/v1/customers", "", "Authorization", "bearer "+f.tokens["amy"]); r.status != 200 {
		t.Errorf("lower-case bearer: %d", r.status)
	}
	if r := f.do("", "GET", "/api/v1/customers", "", "Authorization", "Basic "+f.tokens["amy"]); r.status != 401 || r.errorCode() != "unauthorized" {
		t.Errorf("basic auth: %d %s", r.status, r.body)
	}
	if r := f.do("", "GET", "/api/v1/customers", "", "Authorization", "Bearer "+strings.Repeat("x", 5000)); r.status != 401 {
		t.Errorf("huge token: %d", r.status)
	}
	if _, err := f.store.Pool.Exec(f.ctx, `DELETE FROM api_tokens WHERE name = 'manager'`); err != nil {
		t.Fatal(err)
	}
	if r := f.do("manager", "GET", "/api/v1/status", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("revoked token: %d %v", r.status, r.header)
	}
}
