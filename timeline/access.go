package timeline

import (
	"context"
	"fmt"
)

// Viewer is whose eyes a query serves: "" (AllCustomers) for an admin or a
// manager, who see every customer, else a rep's email: a rep sees the
// customers they own or have corresponded with (an event attributed to
// them). The API maps its principal to a Viewer.
type Viewer string

// AllCustomers is the Viewer of admins and managers.
const AllCustomers Viewer = ""

// visibleSQL is the SQL condition "customer col is visible to the viewer
// in parameter param", e.g. visibleSQL("c.id", "$3"). The viewer is always
// passed as a parameter, never spliced into the SQL.
func visibleSQL(col, param string) string {
	return fmt.Sprintf(`(%[2]s::text = ''
		OR EXISTS (SELECT 1 FROM customers vc WHERE vc.id = %[1]s AND vc.owner = %[2]s::text)
		OR EXISTS (SELECT 1 FROM events ve WHERE ve.rep = %[2]s::text AND ve.customer_id = %[1]s))`, col, param)
}

// ViewerCanSee reports whether rep owns customerID or has corresponded with
// it. An empty rep is an admin's or a manager's view and sees everything.
// A customer that does not exist is not visible (no error), so that a rep
// cannot tell a hidden customer from a missing one.
func ViewerCanSee(ctx context.Context, db DB, rep string, customerID int64) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers c WHERE c.id = $1 AND `+visibleSQL("c.id", "$2")+`)`,
		customerID, rep).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("access of %s to customer %d: %w", rep, customerID, err)
	}
	return ok, nil
}
