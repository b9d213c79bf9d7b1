package api

import (
	"context"
	"net/http"
)

// Roles, from most to least powerful. Tokens from the config file are
// admin tokens; tokens created with `mailtrail tokens create` carry a role.
const (
	RoleAdmin   = "admin"   // everything, config-level actions
	RoleManager = "manager" // all customers, reports, handover
	RoleRep     = "rep"     // customers the rep owns or corresponded with
)

// Principal is who is calling.
type Principal struct {
	Name string
	Role string
	Rep  string // the rep's email, for RoleRep
}

// SeesAll reports whether the caller may see every customer.
func (p Principal) SeesAll() bool { return p.Role == RoleAdmin || p.Role == RoleManager }

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
	writeError(w, http.StatusForbidden, "forbidden", "this needs the "+roles[0]+" role")
	return false
}
