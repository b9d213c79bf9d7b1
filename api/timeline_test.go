package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// amy and bob are declared in fixture_test.go.

// apiRig is a server on a fresh database, with two customers: Acme (amy's)
// and Beta (bob's), each with an inquiry and a reply.
type apiRig struct {
	t       *testing.T
	s       *Server
	h       http.Handler
	acme    int64
	beta    int64
	acmeInq int64
	betaInq int64
	betaOut int64
}

func newAPIRig(t *testing.T) *apiRig {
	t.Helper()
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	r := &apiRig{t: t, s: New(store, nil, map[string]string{"secret-token": "ops"}, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	mux := r.s.newRouter()
	r.s.timelineRoutes(mux)
	// The test principal comes from a header, as DB tokens with roles will.
	r.h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		role, rep, _ := strings.Cut(req.Header.Get("X-Test-Principal"), ":")
		mux.ServeHTTP(w, req.WithContext(withPrincipal(req.Context(), Principal{Name: "test-" + role, Role: role, Rep: rep})))
	})
	r.acme = r.customer(ctx, "Acme", amy)
	r.beta = r.customer(ctx, "Beta", bob)
	at := time.Now().Add(-7 * 24 * time.Hour) // five working days whatever today is
	r.acmeInq = r.save(ctx, "acme-1", "", "RFQ panels", "Please quote 500 panels.", at, "in", amy, timeline.KindInquiry, r.acme)
	r.betaInq = r.save(ctx, "beta-1", "", "RFQ tubes", "Please quote tubes.", at, "in", bob, timeline.KindInquiry, r.beta)
	r.betaOut = r.save(ctx, "beta-2", "beta-1", "Re: RFQ tubes", "Quotation No. QT-77\nTotal: USD 1,000.00", at.Add(time.Hour), "out", bob, timeline.KindEmail, r.beta)
	return r
}

func (r *apiRig) customer(ctx context.Context, name, owner string) int64 {
	id, _, _, err := timeline.UpsertCustomer(ctx, r.s.store.Pool, timeline.CustomerInput{Name: name, Owner: owner, Grade: "A",
		Domains: []string{strings.ToLower(name) + ".example"}})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

func (r *apiRig) save(ctx context.Context, msgid, parent, subject, body string, at time.Time, dir, rep, kind string, customer int64) int64 {
	raw := fmt.Sprintf("Message-ID: <%s>\r\nSubject: %s\r\nFrom: x@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", msgid, subject, body)
	c := &timeline.Captured{DedupKey: "mid:" + msgid, ContentHash: msgid, MessageID: msgid, Subject: subject, SentAt: at,
		From: []message.Address{{Email: "x@example.com"}}, Body: body, Size: len(raw), Direction: dir, Raw: []byte(raw),
		Events: []timeline.NewEvent{{CustomerID: customer, Kind: kind, Direction: dir, Rep: rep, OccurredAt: at, Rule: kind + ".test", Confidence: 0.9}}}
	if parent != "" {
		c.InReplyTo = []string{parent}
	}
	var id int64
	err := r.s.store.InTx(ctx, func(tx pgx.Tx) error {
		res, err := timeline.SaveMessage(ctx, tx, c, nil)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM events WHERE message_id = $1`, res.MessageID).Scan(&id)
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// do calls the API as who ("admin:", "manager:", "rep:amy@...") and
// decodes the JSON answer into out (when not nil).
func (r *apiRig) do(who, method, path, body string, out any) int {
	r.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-Test-Principal", who)
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			r.t.Fatalf("%s %s: %v: %s", method, path, err, w.Body)
		}
	}
	return w.Code
}

type apiError struct {
	Error struct{ Code, Message string } `json:"error"`
}

func TestTimelineAPIAccess(t *testing.T) {
	r := newAPIRig(t)
	asAmy := "rep:" + amy
	cases := []struct {
		who, path string
		want      int
	}{
		{"admin:", fmt.Sprintf("/api/v1/customers/%d/threads", r.beta), 200},
		{asAmy, fmt.Sprintf("/api/v1/customers/%d/threads", r.acme), 200},
		{asAmy, fmt.Sprintf("/api/v1/customers/%d/threads", r.beta), 404}, // bob's customer: as if missing
		{"admin:", "/api/v1/customers/9999/threads", 404},
		{"rep:", fmt.Sprintf("/api/v1/customers/%d/threads", r.acme), 404}, // a rep token without a rep sees nothing
		{asAmy, "/api/v1/followups", 200},
		{asAmy, "/api/v1/followups?rep=" + bob, 403},
		{"manager:", "/api/v1/followups?rep=" + bob, 200},
		{asAmy, "/api/v1/reports/funnel", 403},
		{"manager:", "/api/v1/reports/funnel", 200},
		{"manager:", "/api/v1/reports/churn", 200},
		{asAmy, "/api/v1/rules/feedback", 403},
		{"admin:", "/api/v1/rules/feedback", 200},
		{"manager:", "/api/v1/reports/funnel?from=yesterday", 400},
		{"manager:", "/api/v1/reports/funnel?from=2026-01-02&to=2026-01-01", 400},
		{"manager:", "/api/v1/reports/churn?ratio=2", 400},
		{"manager:", "/api/v1/reports/churn?days=0", 400},
		{asAmy, "/api/v1/inquiries/unanswered?since=soon", 400},
		{asAmy, "/api/v1/pool?offset=-1", 400},
	}
	for _, c := range cases {
		var e apiError
		if got := r.do(c.who, "GET", c.path, "", &e); got != c.want {
			t.Errorf("%s GET %s = %d, want %d (%s)", c.who, c.path, got, c.want, e.Error.Message)
		}
		if c.want == 400 && !strings.Contains(e.Error.Message, strings.Split(strings.Split(c.path, "?")[1], "=")[0]) {
			t.Errorf("GET %s: error %q does not name the parameter", c.path, e.Error.Message)
		}
	}

	// A rep's lists hold only their customers.
	var un struct {
		Inquiries []timeline.UnansweredInquiry `json:"inquiries"`
	}
	r.do(asAmy, "GET", "/api/v1/inquiries/unanswered", "", &un)
	if len(un.Inquiries) != 1 || un.Inquiries[0].EventID != r.acmeInq {
		t.Fatalf("amy's unanswered inquiries %+v, want only %d", un.Inquiries, r.acmeInq)
	}
	r.do("manager:", "GET", "/api/v1/inquiries/unanswered", "", &un)
	if len(un.Inquiries) != 1 {
		t.Fatalf("manager's unanswered inquiries %+v, want Acme's (Beta's was answered)", un.Inquiries)
	}
	var th struct {
		ThreadID int64            `json:"thread_id"`
		Events   []timeline.Event `json:"events"`
	}
	ev, err := timeline.GetEvent(context.Background(), r.s.store.Pool, r.betaInq)
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/threads/%d", *ev.ThreadID)
	if code := r.do(asAmy, "GET", path, "", nil); code != 404 {
		t.Fatalf("amy GET bob's thread = %d, want 404", code)
	}
	if code := r.do("manager:", "GET", path, "", &th); code != 200 || len(th.Events) != 2 || th.Events[0].ID != r.betaInq {
		t.Fatalf("manager GET thread = %d %+v", code, th)
	}
}

func TestPatchEvent(t *testing.T) {
	r := newAPIRig(t)
	path := fmt.Sprintf("/api/v1/events/%d", r.betaOut)
	for _, c := range []struct{ who, body, code string }{
		{"manager:", `{"kind": "offer"}`, "invalid_body"},
		{"manager:", `{"kind": "quote", "note": "x"}`, "invalid_body"},
		{"manager:", `{}`, "invalid_body"},
		{"manager:", `kind=quote`, "invalid_body"},
		{"rep:" + amy, `{"kind": "quote"}`, "forbidden"},
		{"rep:" + bob, `{"kind": "quote"}`, "forbidden"}, // a rep reads, even their own customer's mail
		{"manager:", `{"kind": "quote"}`, "not_found"},
	} {
		var e apiError
		p := path
		if c.code == "not_found" {
			p = "/api/v1/events/999999"
		}
		r.do(c.who, "PATCH", p, c.body, &e)
		if e.Error.Code != c.code {
			t.Errorf("%s PATCH %s: %+v, want %s", c.who, c.body, e, c.code)
		}
	}
	var ev timeline.Event
	if code := r.do("manager:", "PATCH", path, `{"kind": "quote"}`, &ev); code != 200 {
		t.Fatalf("manager PATCH = %d", code)
	}
	if ev.Kind != "quote" || ev.Correction == nil || ev.Correction.By != "test-manager" || ev.QuoteRef == nil || *ev.QuoteRef != "QT-77" ||
		ev.Amount == nil || *ev.Amount != 1000 || *ev.Currency != "USD" {
		t.Fatalf("after PATCH: %+v %+v", ev, ev.EventLinks)
	}
	inq, err := timeline.GetEvent(context.Background(), r.s.store.Pool, r.betaInq)
	if err != nil {
		t.Fatal(err)
	}
	if inq.QuoteEventID == nil || *inq.QuoteEventID != r.betaOut {
		t.Fatalf("the inquiry was not linked to the corrected quote: %+v", inq.EventLinks)
	}
	var back timeline.Event
	if code := r.do("manager:", "PATCH", path, `{"kind": null}`, &back); code != 200 || back.Kind != "email" || back.Correction != nil || back.QuoteRef != nil {
		t.Fatalf("after removing the correction: %d %+v", code, back)
	}
}

// The routes are behind the token check.
func TestTimelineRoutesAuthenticated(t *testing.T) {
	r := newAPIRig(t)
	h := r.s.Handler()
	for token, want := range map[string]int{"": 401, "wrong": 401, "secret-token": 200} {
		req := httptest.NewRequest("GET", "/api/v1/pool", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("token %q: %d, want %d", token, w.Code, want)
		}
	}
}
