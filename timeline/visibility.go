package timeline

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Who may see a customer. Admins and managers see every customer. A rep
// sees the customers they own (customers.owner) and those they
// corresponded with (an event with events.rep = them), and nothing else:
// to a rep, any other customer does not exist.
//
// Queries take the rep's address as one text parameter, "" meaning "no
// restriction", so the same statement serves every role.

// VisibleSQL returns a boolean SQL expression, true when the customer
// whose id is the SQL expression idExpr (e.g. "c.id") may be seen by the
// rep in parameter $n (text; "" sees all). Adopt it in a query with one
// line: `AND ` + timeline.VisibleSQL("c.id", 3), passing scope.Rep as $3.
// idExpr must be a column reference written in code, never caller text.
func VisibleSQL(idExpr string, n int) string {
	return fmt.Sprintf(`($%[2]d::text = ''
		OR EXISTS (SELECT 1 FROM customers vis_c WHERE vis_c.id = %[1]s AND vis_c.owner = $%[2]d::text)
		OR EXISTS (SELECT 1 FROM events vis_e WHERE vis_e.rep = $%[2]d::text AND vis_e.customer_id = %[1]s))`, idExpr, n)
}

// Scope is what a caller may see. The zero Scope sees everything; a
// Scope with Rep set sees only that rep's customers (see VisibleSQL).
type Scope struct {
	Rep string // lower-case address of the rep, "" for admins and managers
}

// All reports whether the scope is unrestricted.
func (s Scope) All() bool { return s.Rep == "" }

// RepCanSee reports whether the scope may see the customer. It is true
// for an unrestricted scope even when the customer does not exist (the
// caller's own lookup then answers "not found").
func RepCanSee(ctx context.Context, db DB, scope Scope, customerID int64) (bool, error) {
	if scope.All() {
		return true, nil
	}
	var ok bool
	err := db.QueryRow(ctx, `SELECT `+VisibleSQL("$1::bigint", 2), customerID, scope.Rep).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check access of %s to customer %d: %w", scope.Rep, customerID, err)
	}
	return ok, nil
}

// CheckVisible returns ErrNotFound when the scope may not see the
// customer, so that a rep asking for another rep's customer gets the same
// answer as for a customer that does not exist.
func CheckVisible(ctx context.Context, db DB, scope Scope, customerID int64) error {
	ok, err := RepCanSee(ctx, db, scope, customerID)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return err
}

// VisibleCustomerIDs returns the ids of the customers a rep may see, in
// order, for filters that live outside PostgreSQL (Meilisearch). It must
// not be called for an unrestricted scope.
func VisibleCustomerIDs(ctx context.Context, db DB, scope Scope) ([]int64, error) {
	if scope.All() {
		return nil, fmt.Errorf("visible customers: the scope is unrestricted")
	}
	rows, err := db.Query(ctx, `
		SELECT id FROM customers WHERE owner = $1
		UNION
		SELECT DISTINCT customer_id FROM events WHERE rep = $1
		ORDER BY 1`, scope.Rep)
	if err != nil {
		return nil, fmt.Errorf("visible customers of %s: %w", scope.Rep, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
