package timeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Token is an API token as stored: its name, role and use, never its
// value (only a hash of it is kept).
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Rep        string     `json:"rep,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// ErrTokenNameTaken is returned by CreateToken when the name is in use.
var ErrTokenNameTaken = errors.New("a token with this name exists")

// CreateToken stores a token by the hash of its value. rep is "" unless
// role is "rep".
func CreateToken(ctx context.Context, db DB, name, role, rep string, hash []byte) (Token, error) {
	t := Token{Name: name, Role: role, Rep: rep}
	err := db.QueryRow(ctx, `
		INSERT INTO api_tokens (name, role, rep, token_hash) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, name, role, nullable(rep), hash).Scan(&t.ID, &t.CreatedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "api_tokens_name_key" {
		return t, fmt.Errorf("token %q: %w", name, ErrTokenNameTaken)
	}
	if err != nil {
		return t, fmt.Errorf("create token %q: %w", name, err)
	}
	return t, nil
}

const tokenSelect = `SELECT id, name, role, coalesce(rep, ''), created_at, last_used_at FROM api_tokens`

func scanToken(row pgx.CollectableRow) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Rep, &t.CreatedAt, &t.LastUsedAt)
	return t, err
}

// Tokens lists every token by name.
func Tokens(ctx context.Context, db DB) ([]Token, error) {
	rows, err := db.Query(ctx, tokenSelect+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, scanToken)
}

// RevokeToken deletes the token named nameOrID (a name, or its numeric
// id when no token has that name) and returns it; ErrNotFound when none
// matches. A revoked token is refused from the next request on.
func RevokeToken(ctx context.Context, db DB, nameOrID string) (Token, error) {
	id, _ := strconv.ParseInt(nameOrID, 10, 64)
	rows, err := db.Query(ctx, `
		DELETE FROM api_tokens WHERE id = (
			SELECT id FROM api_tokens WHERE name = $1 OR id = $2
			ORDER BY (name = $1) DESC LIMIT 1)
		RETURNING id, name, role, coalesce(rep, ''), created_at, last_used_at`, nameOrID, id)
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %q: %w", nameOrID, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanToken)
	return t, notFound(err)
}

// RevokeRepTokens deletes every token of rep (a rep who left), whatever
// its name, and returns them.
func RevokeRepTokens(ctx context.Context, db DB, rep string) ([]Token, error) {
	rows, err := db.Query(ctx, `
		DELETE FROM api_tokens WHERE lower(rep) = lower($1)
		RETURNING id, name, role, coalesce(rep, ''), created_at, last_used_at`, rep)
	if err != nil {
		return nil, fmt.Errorf("revoke tokens of %s: %w", rep, err)
	}
	ts, err := pgx.CollectRows(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("revoke tokens of %s: %w", rep, err)
	}
	slices.SortFunc(ts, func(a, b Token) int { return cmp.Compare(a.ID, b.ID) })
	return ts, nil
}

// TokenByHash returns the token whose value hashes to hash, or
// ErrNotFound, and records its use. The write happens at most once a
// minute per token, in the same statement as the read, so that checking a
// token costs one round trip and rarely a write.
func TokenByHash(ctx context.Context, db DB, hash []byte) (Token, error) {
	rows, err := db.Query(ctx, `
		WITH t AS (SELECT * FROM api_tokens WHERE token_hash = $1),
		used AS (
			UPDATE api_tokens a SET last_used_at = now() FROM t
			WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'))
		SELECT id, name, role, coalesce(rep, ''), created_at, last_used_at FROM t`, hash)
	if err != nil {
		return Token{}, fmt.Errorf("look up token: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanToken)
	return t, notFound(err)
}
