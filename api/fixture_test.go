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

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

const (
	amy = "amy@ourco.example"
	bob = "bob@ourco.example"
)

// fixture is one test's API over a real database and search index:
//
//	alpha:   owned by amy, amy's mail
//	bravo:   owned by bob, bob's mail only        (amy may not see it)
//	charlie: owned by bob, amy wrote to them once (amy may see it)
//	delta:   no owner, no mail                    (amy may not see it)
//
// and a token per role: admin (config), manager, rep amy, rep bob, and
// rep carol, who has no customer.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  *timeline.Store
	index  *search.Index
	srv    *Server
	http   *httptest.Server
	ids    map[string]int64  // customer name -> id
	tokens map[string]string // "admin", "manager", "amy", "bob" -> token
}

func newFixture(t *testing.T, withSearch bool) *fixture {
	t.Helper()
	ctx := t.Context()
	dbURL := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	f := &fixture{t: t, ctx: ctx, store: store, ids: map[string]int64{}, tokens: map[string]string{"admin": "config-admin-token-0123456789"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	meiliURL, meiliKey := "http://127.0.0.1:1", ""
	if withSearch {
		meiliURL, meiliKey = testenv.Meili(t)
	}
	if f.index, err = search.New(store.Pool, meiliURL, meiliKey, testenv.IndexName(t), log); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, owner, domain string }{
		{"Alpha GmbH", amy, "alpha.example"},
		{"Bravo Ltd", bob, "bravo.example"},
		{"Charlie SA", bob, "charlie.example"},
		{"Delta Inc", "", "delta.example"},
	} {
		id, _, _, err := timeline.UpsertCustomer(ctx, store.Pool, timeline.CustomerInput{
			Name: c.name, Owner: c.owner, Grade: "B", Domains: []string{c.domain}})
		if err != nil {
			t.Fatal(err)
		}
		f.ids[strings.Fields(c.name)[0]] = id
	}
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.mail("Alpha", amy, "in", "inquiry", "buyer@alpha.example", "RFQ LED panel", day)
	f.mail("Alpha", amy, "out", "quote", "buyer@alpha.example", "Quotation LED panel", day.Add(24*time.Hour))
	f.mail("Bravo", bob, "in", "inquiry", "boss@bravo.example", "RFQ LED panel for Bravo", day)
	f.mail("Charlie", amy, "out", "email", "ops@charlie.example", "Samples of the LED panel", day)
	f.mail("Charlie", bob, "in", "email", "ops@charlie.example", "Re: Samples of the LED panel", day.Add(48*time.Hour))
	if withSearch {
		if err := f.index.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.index.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range map[string]Principal{"manager": {Role: RoleManager}, "amy": {Role: RoleRep, Rep: amy}, "bob": {Role: RoleRep, Rep: bob},
		"carol": {Role: RoleRep, Rep: "carol@ourco.example"}} {
		tok, hash := NewToken()
		if _, err := timeline.CreateToken(ctx, store.Pool, name, p.Role, p.Rep, hash[:]); err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = tok
	}
	f.srv = New(store, f.index, map[string]string{f.tokens["admin"]: "config-admin"}, log)
	f.http = httptest.NewServer(f.srv.NewHTTPServer("").Handler)
	t.Cleanup(f.http.Close)
	return f
}

// mail stores one message with its event, as the ingest pipeline would.
func (f *fixture) mail(customer, rep, dir, kind, buyer, subject string, at time.Time) {
	f.t.Helper()
	from, to := []message.Address{{Email: buyer}}, []message.Address{{Email: rep}}
	if dir == "out" {
		from, to = to, from
	}
	key := fmt.Sprintf("mid:%s-%s-%d@test", customer, kind, at.Unix())
	_, err := timeline.SaveMessage(f.ctx, f.store.Pool, &timeline.Captured{
		DedupKey: key, ContentHash: key, MessageID: key, Subject: subject, SentAt: at,
		From: from, To: to, Body: subject + ": LED panel 600x600, 2000 pcs.", Size: 100, Direction: dir,
		Raw:    []byte("x"),
		Events: []timeline.NewEvent{{CustomerID: f.ids[customer], Kind: kind, Direction: dir, Rep: rep, OccurredAt: at}},
	}, &timeline.Location{Rep: rep, Folder: "INBOX", UIDValidity: 1, UID: uint32(at.Unix() % 100000)})
	if err != nil {
		f.t.Fatal(err)
	}
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("not JSON (%d): %v\n%s", r.status, err, r.body)
	}
	return v
}

// errorCode returns error.code of a JSON error body, or "".
func (r response) errorCode() string {
	var v struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &v)
	return v.Error.Code
}

func (r response) errorMessage() string {
	var v struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &v)
	return v.Error.Message
}

// expand replaces {Alpha}, {Bravo}, ... in s by the customer ids they
// name, and the other {Name} placeholders of f.ids by theirs.
func (f *fixture) expand(s string) string {
	for name, id := range f.ids {
		s = strings.ReplaceAll(s, "{"+name+"}", fmt.Sprint(id))
	}
	return s
}

// do sends a request as who ("" for no token); path may use {Alpha},
// {Bravo}, ... for customer ids.
func (f *fixture) do(who, method, path, body string, header ...string) response {
	f.t.Helper()
	path = f.expand(path)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(f.ctx, method, f.http.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}
