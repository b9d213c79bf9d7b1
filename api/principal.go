package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/mailtrail/mailtrail/timeline"
)

// Roles, from most to least powerful. Tokens from the config file are
// admin tokens; tokens created with `mailtrail tokens create` carry a role.
const (
	RoleAdmin   = "admin"   // everything, config-level actions
	RoleManager = "manager" // all customers, reports, handover
	RoleRep     = "rep"     // customers the rep owns or corresponded with
)

// Access rules for a new endpoint, one line each:
//
//   - per customer ({id} in the path): `id, ok := s.customerParam(w, r, "id")`
//     answers 404 to a rep for a customer not theirs;
//   - a list over customers or events: add `AND ` + timeline.VisibleSQL("c.id", n)
//     to the query and pass principal(r).Scope().Rep as $n ("" sees all);
//   - Meilisearch: s.restrictSearch(r, &query) (customer ids, as integers);
//   - managers only (reports, writes): `if !require(w, r, managers...) { return }`;
//
// then add the route to accessCases (access_test.go) and to openapi.json:
// TestAccessEveryRoute and TestOpenAPIMatchesRoutes fail until both know it.

// Principal is who is calling.
type Principal struct {
	Name string
	Role string
	Rep  string // the rep's email, for RoleRep
}

// SeesAll reports whether the caller may see every customer.
func (p Principal) SeesAll() bool { return p.Role == RoleAdmin || p.Role == RoleManager }

// Scope is what the caller may see: everything for admins and managers,
// the rep's own customers for a rep (see timeline.VisibleSQL). A rep
// principal without a rep address sees nothing (an impossible address).
func (p Principal) Scope() timeline.Scope {
	if p.SeesAll() {
		return timeline.Scope{}
	}
	rep := strings.ToLower(strings.TrimSpace(p.Rep))
	if rep == "" {
		return timeline.Scope{Rep: "(no rep)"}
	}
	return timeline.Scope{Rep: rep}
}

// ValidRole reports whether role is one of the three roles.
func ValidRole(role string) bool {
	return role == RoleAdmin || role == RoleManager || role == RoleRep
}

// customerParam parses the path value name as a customer id and checks
// that the caller may see that customer. On failure it has answered (400,
// or 404 for a customer the caller may not see, exactly as for one that
// does not exist) and ok is false. Handlers of per-customer routes start
// with it:
//
//	id, ok := s.customerParam(w, r, "id")
//	if !ok {
//		return
//	}
func (s *Server) customerParam(w http.ResponseWriter, r *http.Request, name string) (id int64, ok bool) {
	id, err := idParam(r, name)
	if err == nil {
		err = timeline.CheckVisible(r.Context(), s.store.Pool, principal(r).Scope(), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return 0, false
	}
	return id, true
}

// managers is the role list of routes for admins and managers only:
// `if !require(w, r, managers...) { return }`.
var managers = []string{RoleAdmin, RoleManager}

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principal returns the authenticated caller; the auth middleware has run
// for every /api/ route, so it is always set there.
func principal(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

// require answers 403 unless the caller has one of roles.
func require(w http.ResponseWriter, r *http.Request, roles ...string) bool {
	p := principal(r)
	for _, role := range roles {
		if p.Role == role {
			return true
		}
	}
	writeError(w, http.StatusForbidden, "forbidden", "this needs the role "+strings.Join(roles, " or ")+"; the token's role is "+p.Role)
	return false
}
