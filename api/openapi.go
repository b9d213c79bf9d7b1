package api

import (
	_ "embed"
	"net/http"
)

// openAPISpec is the OpenAPI 3 description of the API, checked in as
// api/openapi.json. openapi_test.go holds it to the registered routes and
// to real responses, so that it cannot drift.
//
//go:embed openapi.json
var openAPISpec []byte

// OpenAPI returns the OpenAPI 3 description.
func OpenAPI() []byte { return openAPISpec }

// openAPI: GET /api/v1/openapi.json (every role).
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPISpec)
}
