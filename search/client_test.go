package search

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestClientNoGzipNoRetry checks the two client settings FIELD-NOTES calls
// essential, on the wire: no gzip asked for (the 40 ms stall), and a 503
// on a POST not retried by the library (its retry re-sends an empty body).
func TestClientNoGzipNoRetry(t *testing.T) {
	var requests atomic.Int64
	var encoding atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		encoding.Store(r.Header.Get("Accept-Encoding"))
		if r.Header.Get("Authorization") != "Bearer k" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	// A pool connects lazily: this one is never used.
	pool, err := pgxpool.New(t.Context(), "postgres://127.0.0.1:1/unused")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ix, err := New(pool, srv.URL, "k", "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ix.Search(t.Context(), Query{Q: "x"}); err == nil {
		t.Fatal("search against a 503 succeeded")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests for one search: the library retried", n)
	}
	if enc := encoding.Load(); enc != "" {
		t.Errorf("Accept-Encoding = %q, want none", enc)
	}
}
