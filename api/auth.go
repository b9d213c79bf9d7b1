package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/mailtrail/mailtrail/timeline"
)

// TokenPrefix starts every token `mailtrail tokens create` makes, so that
// a leaked one is recognisable (secret scanners, logs).
const TokenPrefix = "mt_"

// maxTokenLen bounds what is hashed from an Authorization header.
const maxTokenLen = 512

// NewToken returns a fresh token (32 random bytes) and the hash to store.
// Tokens have 256 bits of entropy, so a plain SHA-256 protects them: no
// password stretching is needed.
func NewToken() (token string, hash [32]byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is what the store keeps of a token.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// authenticate accepts "Authorization: Bearer <token>" for a config token
// (role admin) or a token from `mailtrail tokens create` (its role), and
// puts the caller's Principal in the request context. Tokens are compared
// as hashes, config tokens in constant time, and never logged.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailtrail"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "missing bearer token")
			return
		}
		who, err := s.principalFor(r, tok)
		if errors.Is(err, timeline.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mailtrail", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "unknown bearer token")
			return
		}
		if err != nil {
			s.log.Error("api: check token", "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable", "cannot check the token now")
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), who)))
	})
}

// principalFor resolves a token: config tokens first (no database
// round trip), then stored tokens. timeline.ErrNotFound when unknown.
func (s *Server) principalFor(r *http.Request, tok string) (Principal, error) {
	if len(tok) > maxTokenLen {
		return Principal{}, timeline.ErrNotFound
	}
	sum := HashToken(tok)
	var who Principal
	for h, name := range s.tokens {
		if subtle.ConstantTimeCompare(h[:], sum[:]) == 1 {
			who = Principal{Name: name, Role: RoleAdmin}
		}
	}
	if who.Role != "" {
		return who, nil
	}
	t, err := timeline.TokenByHash(r.Context(), s.store.Pool, sum[:])
	if err != nil {
		return Principal{}, err
	}
	return Principal{Name: t.Name, Role: t.Role, Rep: t.Rep}, nil
}
