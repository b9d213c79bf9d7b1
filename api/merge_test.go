package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

type apiEnv struct {
	t     *testing.T
	ctx   context.Context
	store *timeline.Store
	srv   *Server
	h     http.Handler // the real handler: admin token "secret"
	roles http.Handler // the merge routes, with the caller's role from X-Role
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	s := New(store, nil, map[string]string{"secret": "ops"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/customers/duplicates", s.listDuplicates)
	mux.HandleFunc("POST /api/v1/customers/{id}/merge", s.mergeCustomer)
	mux.HandleFunc("GET /api/v1/customers/{id}/merges", s.listMerges)
	roles := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), Principal{Name: "tester", Role: r.Header.Get("X-Role")})))
	})
	return &apiEnv{t: t, ctx: ctx, store: store, srv: s, h: s.Handler(), roles: roles}
}

func (e *apiEnv) do(h http.Handler, method, path, body string, hdr ...string) (*httptest.ResponseRecorder, map[string]any) {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer secret")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var v map[string]any
	json.Unmarshal(w.Body.Bytes(), &v)
	return w, v
}

func (e *apiEnv) customer(name, domain string) int64 {
	e.t.Helper()
	id, _, _, err := timeline.UpsertCustomer(e.ctx, e.store.Pool, timeline.CustomerInput{Name: name, Domains: []string{domain}})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *apiEnv) event(key string, customer int64) {
	e.t.Helper()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_, err := timeline.SaveMessage(e.ctx, e.store.Pool, &timeline.Captured{
		DedupKey: "mid:" + key, ContentHash: key, MessageID: key, Subject: key, SentAt: at,
		From: []message.Address{{Email: "x@y.example"}}, Size: 1, Direction: "in", Raw: []byte("x"),
		Events: []timeline.NewEvent{{CustomerID: customer, Kind: "email", Direction: "in", Rep: "amy@ourco.example", OccurredAt: at}},
	}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestMergeAPI(t *testing.T) {
	e := newAPIEnv(t)
	keep := e.customer("Sunrise Trading LLC", "sunrise-trading.ae")
	other := e.customer("Sunrise Trading L.L.C.", "sunrise-trading.ae")
	e.event("a", keep)
	e.event("b", other)
	if _, err := timeline.ScanDuplicates(e.ctx, e.store.Pool, nil); err != nil {
		t.Fatal(err)
	}
	k, o := strconv.FormatInt(keep, 10), strconv.FormatInt(other, 10)

	// Duplicates: the pair with its score and reasons; not for reps.
	w, v := e.do(e.h, "GET", "/api/v1/customers/duplicates", "")
	if w.Code != 200 {
		t.Fatalf("duplicates: %d %s", w.Code, w.Body)
	}
	dups := v["duplicates"].([]any)
	first := dups[0].(map[string]any)
	if len(dups) != 1 || first["score"].(float64) < 0.95 || len(first["reasons"].([]any)) != 2 ||
		first["a"].(map[string]any)["id"].(float64) != float64(keep) {
		t.Errorf("duplicates = %s", w.Body)
	}
	if w, _ := e.do(e.roles, "GET", "/api/v1/customers/duplicates", "", "X-Role", RoleRep); w.Code != 403 {
		t.Errorf("duplicates as a rep: %d", w.Code)
	}
	if w, _ := e.do(e.h, "GET", "/api/v1/customers/duplicates?cursor=junk", ""); w.Code != 400 {
		t.Errorf("bad cursor: %d", w.Code)
	}

	// Merge: reps may not; bad bodies are named.
	if w, _ := e.do(e.roles, "POST", "/api/v1/customers/"+k+"/merge", `{"from": `+o+`}`, "X-Role", RoleRep); w.Code != 403 {
		t.Errorf("merge as a rep: %d", w.Code)
	}
	for body, want := range map[string]string{
		`{"from": "x"}`:       "invalid_body",
		`{"form": 3}`:         "invalid_body",
		`{}`:                  "invalid_body",
		`{"from": ` + k + `}`: "invalid_body", // itself
	} {
		w, v := e.do(e.h, "POST", "/api/v1/customers/"+k+"/merge", body)
		if w.Code != 400 || v["error"].(map[string]any)["code"] != want {
			t.Errorf("merge body %s: %d %s", body, w.Code, w.Body)
		}
	}
	if w, _ := e.do(e.h, "POST", "/api/v1/customers/"+k+"/merge", `{"from": 99999}`); w.Code != 404 {
		t.Errorf("merge of an unknown customer: %d", w.Code)
	}
	w, v = e.do(e.roles, "POST", "/api/v1/customers/"+k+"/merge", `{"from": `+o+`}`, "X-Role", RoleManager)
	if w.Code != 200 || v["already_merged"] != false || v["merged_by"] != "api:tester" ||
		len(v["moved"].(map[string]any)["events_moved"].([]any)) != 1 {
		t.Fatalf("merge: %d %s", w.Code, w.Body)
	}
	mergeID := v["merge_id"]
	w, v = e.do(e.h, "POST", "/api/v1/customers/"+k+"/merge", `{"from": `+o+`}`)
	if w.Code != 200 || v["already_merged"] != true || v["merge_id"] != mergeID {
		t.Errorf("second merge: %d %s", w.Code, w.Body)
	}
	if w, v := e.do(e.h, "POST", "/api/v1/customers/"+o+"/merge", `{"from": `+k+`}`); w.Code != 409 || v["merged_into"] != float64(keep) {
		t.Errorf("merge into a merged customer: %d %s", w.Code, w.Body)
	}

	// The old id redirects, timeline and query included.
	w, v = e.do(e.h, "GET", "/api/v1/customers/"+o, "")
	if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != "/api/v1/customers/"+k || v["merged_into"] != float64(keep) {
		t.Errorf("GET merged customer: %d %v %s", w.Code, w.Header(), w.Body)
	}
	w, _ = e.do(e.h, "GET", "/api/v1/customers/"+o+"/timeline?limit=5", "")
	if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != "/api/v1/customers/"+k+"/timeline?limit=5" {
		t.Errorf("GET merged timeline: %d %v", w.Code, w.Header())
	}
	w, v = e.do(e.h, "GET", "/api/v1/customers/"+k+"/timeline", "")
	if w.Code != 200 || len(v["events"].([]any)) != 2 {
		t.Errorf("kept timeline: %d %s", w.Code, w.Body)
	}
	if w, _ := e.do(e.h, "GET", "/api/v1/customers/99999", ""); w.Code != 404 {
		t.Errorf("unknown customer: %d", w.Code)
	}
	// The audit rows of the kept customer; the pair is gone.
	w, v = e.do(e.h, "GET", "/api/v1/customers/"+k+"/merges", "")
	if w.Code != 200 || len(v["merges"].([]any)) != 1 {
		t.Errorf("merges: %d %s", w.Code, w.Body)
	}
	if _, v := e.do(e.h, "GET", "/api/v1/customers/duplicates", ""); len(v["duplicates"].([]any)) != 0 {
		t.Errorf("duplicates after the merge: %v", v)
	}
}

// A merge re-indexes the moved events: once the indexer has drained the
// outbox, a search on the kept customer finds the merged one's mail, and
// a search on the old id finds nothing.
func TestMergeReindexesSearch(t *testing.T) {
	f := newFixture(t, true)
	hits := func(customer int64) int {
		t.Helper()
		r := f.do("manager", "GET", fmt.Sprintf("/api/v1/search?q=%s&customer_id=%d", url.QueryEscape("Samples LED panel"), customer), "")
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		h, _ := r.json(t)["hits"].([]any)
		return len(h)
	}
	keep, from := f.ids["Alpha"], f.ids["Charlie"]
	if hits(keep) != 0 || hits(from) != 2 {
		t.Fatalf("before the merge: %d hits on Alpha, %d on Charlie; want 0 and 2", hits(keep), hits(from))
	}
	if r := f.do("manager", "POST", fmt.Sprintf("/api/v1/customers/%d/merge", keep), fmt.Sprintf(`{"from": %d}`, from)); r.status != 200 {
		t.Fatalf("merge: %d %s", r.status, r.body)
	}
	if _, err := f.index.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := hits(keep); got != 2 {
		t.Errorf("after the merge, Alpha's search finds %d of Charlie's 2 messages", got)
	}
	r := f.do("manager", "GET", fmt.Sprintf("/api/v1/search?q=%s", url.QueryEscape("Samples LED panel")), "")
	for _, h := range r.json(t)["hits"].([]any) {
		if id := int64(h.(map[string]any)["customer_id"].(float64)); id == from {
			t.Errorf("a hit still names the merged customer %d: %v", from, h)
		}
	}
}
