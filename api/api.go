// Package api serves mailtrail's HTTP API: customers, timelines and search,
// behind bearer tokens. Handlers hold their dependencies in one struct and
// use the standard library's method-pattern routing.
package api

import (
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

// Server is the API's handlers and what they need.
type Server struct {
	store  *timeline.Store
	index  *search.Index
	tokens map[[32]byte]string // sha256 of a config token -> its name
	log    *slog.Logger
	policy timeline.Policy // follow-up cadences, working time, pool (WithPolicy)
	reps   []string        // the configured reps' emails (WithReps)
	// freeMail reports whether a normalized domain is free-mail, which a
	// customer's domains may not be (WithFreeMail).
	freeMail func(domain string) bool
	routes   []string // "METHOD /pattern" of every route, as registered
}

// New builds the API; tokens maps each accepted bearer token to its name.
func New(store *timeline.Store, index *search.Index, tokens map[string]string, log *slog.Logger) *Server {
	s := &Server{store: store, index: index, tokens: map[[32]byte]string{}, log: log,
		freeMail: matcher.DefaultFreeMail().Contains}
	for t, name := range tokens {
		s.tokens[sha256.Sum256([]byte(t))] = name
	}
	return s
}

// WithFreeMail sets the free-mail list that customer domains are checked
// against: the one the matcher uses (the embedded list with the config's
// changes, ingest.Pipeline.FreeMail), so that the API refuses exactly the
// domains that would never match. Without it the API uses
// matcher.DefaultFreeMail().
func (s *Server) WithFreeMail(isFree func(domain string) bool) *Server {
	s.freeMail = isFree
	return s
}

// Handler returns the routed, authenticated handler. Every route is
// described in openapi.json and has an access case in access_test.go:
// tests fail for a route missing from either.
func (s *Server) Handler() http.Handler {
	mux := s.newRouter()
	mux.HandleFunc("GET /healthz", s.healthz)
	api := s.newRouter()
	api.HandleFunc("GET /api/v1/customers", s.listCustomers)
	api.HandleFunc("GET /api/v1/customers/{id}", s.getCustomer)
	api.HandleFunc("GET /api/v1/customers/{id}/timeline", s.timeline)
	api.HandleFunc("GET /api/v1/customers/duplicates", s.listDuplicates)
	api.HandleFunc("POST /api/v1/customers/{id}/merge", s.mergeCustomer)
	api.HandleFunc("GET /api/v1/customers/{id}/merges", s.listMerges)
	api.HandleFunc("GET /api/v1/search", s.search)
	api.HandleFunc("GET /api/v1/status", s.status)
	api.HandleFunc("GET /api/v1/mailboxes", s.listMailboxes)
	api.HandleFunc("POST /api/v1/mailboxes/{rep}/retry", s.retryMailbox)
	s.timelineRoutes(api)
	api.HandleFunc("POST /api/v1/customers", s.createCustomer)
	api.HandleFunc("PATCH /api/v1/customers/{id}", s.updateCustomer)
	api.HandleFunc("GET /api/v1/reps/{email}/handover", s.handoverReport)
	api.HandleFunc("POST /api/v1/reps/{email}/handover", s.handoverTransfer)
	api.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	api.HandleFunc("/api/", s.noRoute(api))
	mux.Handle("/api/", s.authenticate(api))
	mux.HandleFunc("/", s.noRoute(mux))
	return s.logRequests(mux)
}

// NewHTTPServer wraps the handler with timeouts.
func (s *Server) NewHTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           http.MaxBytesHandler(s.Handler(), 1<<20),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("http handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p)
				if !sw.wrote {
					writeError(sw, http.StatusInternalServerError, "internal", "internal error")
				}
			}
		}()
		next.ServeHTTP(sw, r)
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	w.status, w.wrote = code, true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Pool.Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "database unreachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
