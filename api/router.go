package api

import (
	"net/http"
	"slices"
	"strings"
)

// router is a ServeMux that remembers the method patterns registered on
// it, so that tests can hold every route to an OpenAPI entry and an access
// case, and so that a known path with the wrong method answers 405.
type router struct {
	*http.ServeMux
	s *Server
}

func (s *Server) newRouter() *router { return &router{ServeMux: http.NewServeMux(), s: s} }

// HandleFunc registers h like http.ServeMux.HandleFunc, recording a
// pattern that names a method.
func (rt *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if method, _, ok := strings.Cut(pattern, " "); ok && method != "" && !slices.Contains(rt.s.routes, pattern) {
		rt.s.routes = append(rt.s.routes, pattern)
	}
	rt.ServeMux.HandleFunc(pattern, h)
}

// routeMethods are the methods the API uses.
var routeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noRoute answers requests that no method pattern of rt took: 405 with an
// Allow header when the path exists for other methods, else 404, both as
// JSON errors.
func (s *Server) noRoute(rt *router) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range routeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := rt.Handler(probe); strings.Contains(pattern, " ") {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 && !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+strings.Join(allowed, ", "))
			return
		}
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	}
}

// Routes returns every registered route as "METHOD /pattern".
func (s *Server) Routes() []string {
	if s.routes == nil {
		s.Handler()
	}
	return slices.Clone(s.routes)
}
