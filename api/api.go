// Package api serves mailtrail's HTTP API: customers, timelines and search,
// behind bearer tokens. Handlers hold their dependencies in one struct and
// use the standard library's method-pattern routing.
package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/search"
	"github.com/mailtrail/mailtrail/timeline"
)

// Server is the API's handlers and what they need.
type Server struct {
	store  *timeline.Store
	index  *search.Index
	tokens map[[32]byte]string // sha256 of a token -> its name
	log    *slog.Logger
	policy timeline.Policy // follow-up cadences, working time, pool (WithPolicy)
}

// New builds the API; tokens maps each accepted bearer token to its name.
func New(store *timeline.Store, index *search.Index, tokens map[string]string, log *slog.Logger) *Server {
	s := &Server{store: store, index: index, tokens: map[[32]byte]string{}, log: log}
	for t, name := range tokens {
		s.tokens[sha256.Sum256([]byte(t))] = name
	}
	return s
}

// Handler returns the routed, authenticated handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	api := http.NewServeMux()
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
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	mux.Handle("/api/", s.authenticate(api))
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

// authenticate accepts "Authorization: Bearer <token>" for a known token.
// Tokens are compared as hashes in constant time and never logged.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailtrail"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing bearer token")
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		var who Principal
		for h, name := range s.tokens {
			if subtle.ConstantTimeCompare(h[:], sum[:]) == 1 {
				who = Principal{Name: name, Role: RoleAdmin}
			}
		}
		if who.Role == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailtrail", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown bearer token")
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), who)))
	})
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(sw, r)
		s.log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Pool.Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "database unreachable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
