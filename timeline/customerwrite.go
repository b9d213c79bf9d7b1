package timeline

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// FieldConflict is a write refused because a value belongs to another
// customer (a name, a domain, a contact address). Field names the input
// field, for the caller's error message.
type FieldConflict struct {
	Field      string
	Value      string
	CustomerID int64
	Customer   string
}

func (e *FieldConflict) Error() string {
	return fmt.Sprintf("%s: %s is already on customer %d (%s); edit or merge that customer instead",
		e.Field, e.Value, e.CustomerID, e.Customer)
}

// CustomerPatch changes some fields of a customer; nil fields stay as they
// are. An empty Grade or Owner clears it. Domains and Contacts, when set,
// replace the whole list. Domains and contact addresses must already be
// normalized (matcher.Normalize).
type CustomerPatch struct {
	Name     *string
	Grade    *string
	Owner    *string
	Phone    *string
	Country  *string
	Domains  *[]string
	Contacts *[]Contact
}

// CreateCustomer inserts a customer given by the API. Unlike
// UpsertCustomer (the CSV import), it never merges into an existing
// customer: a name, domain or address already in use is a *FieldConflict.
// Customers created from mail are the exception, as in an import: one that
// holds one of the domains (or a subdomain) or addresses is merged into
// the new customer (an audit row by "<via>:<actor>"), so its mail moves
// with it. The owner, when set, gets an owner_changes row (via, actor).
// The stored mail the new customer can concern is queued for re-matching
// and the duplicate scan marked due, in tx (see afterCustomerWrite).
func CreateCustomer(ctx context.Context, tx pgx.Tx, in CustomerInput, via, actor string) (int64, error) {
	emails := contactEmails(in.Contacts)
	autos, err := autoCustomersOf(ctx, tx, 0, in.Domains, *emails)
	if err != nil {
		return 0, err
	}
	if err := checkConflicts(ctx, tx, 0, autos, &in.Name, &in.Domains, emails); err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO customers (name, grade, owner, phone, country, edited_at, edited_by)
		VALUES ($1, $2, $3, $4, $5, now(), $6) RETURNING id`,
		in.Name, nullable(in.Grade), nullable(in.Owner), in.Phone, in.Country, editedBy(via, actor)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert customer %q: %w", in.Name, err)
	}
	if in.Owner != "" {
		if err := auditOwner(ctx, tx, id, "", in.Owner, via, actor); err != nil {
			return 0, err
		}
	}
	if err := setDomains(ctx, tx, id, in.Domains); err != nil {
		return 0, err
	}
	if err := setContacts(ctx, tx, id, in.Contacts); err != nil {
		return 0, err
	}
	if err := takeOver(ctx, tx, id, autos, editedBy(via, actor)); err != nil {
		return 0, err
	}
	return id, afterCustomerWrite(ctx, tx, id, matchKeys{}, true, true, via)
}

// UpdateCustomer applies p to customer id: ErrNotFound when it does not
// exist, *FieldConflict when a new name, domain or address belongs to
// another customer (customers created from mail are taken over instead,
// as by CreateCustomer). The customer is marked as edited by a person (see
// editedBy), even when p changes nothing: someone chose these values. An
// owner change is audited (via, actor); a name change queues the
// customer's events for re-indexing, since search documents carry the
// customer's name. A change of the name, domains or contacts queues the
// stored mail it can move for re-matching, and one of those or the phone
// marks the duplicate scan due (see afterCustomerWrite). Run it in a
// transaction.
func UpdateCustomer(ctx context.Context, tx pgx.Tx, id int64, p CustomerPatch, via, actor string) error {
	var oldName, oldOwner, oldPhone string
	err := tx.QueryRow(ctx, `SELECT name, coalesce(owner, ''), phone FROM customers WHERE id = $1 FOR UPDATE`, id).
		Scan(&oldName, &oldOwner, &oldPhone)
	if err != nil {
		return notFound(err)
	}
	var emails *[]string
	if p.Contacts != nil {
		emails = contactEmails(*p.Contacts)
	}
	autos, err := autoCustomersOf(ctx, tx, id, derefList(p.Domains), derefList(emails))
	if err != nil {
		return err
	}
	if err := checkConflicts(ctx, tx, id, autos, p.Name, p.Domains, emails); err != nil {
		return err
	}
	// Only the name, domains and contacts change how mail matches: a patch
	// of the other fields reads no match keys.
	keyed := p.Name != nil || p.Domains != nil || p.Contacts != nil
	var before matchKeys
	if keyed {
		if before, err = readMatchKeys(ctx, tx, id); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `
		UPDATE customers SET
			name = coalesce($2, name),
			grade = CASE WHEN $3::text IS NULL THEN grade ELSE nullif($3, '') END,
			phone = coalesce($4, phone),
			country = coalesce($5, country),
			updated_at = now(), edited_at = now(), edited_by = $6
		WHERE id = $1`, id, p.Name, p.Grade, p.Phone, p.Country, editedBy(via, actor))
	if err != nil {
		return fmt.Errorf("update customer %d: %w", id, err)
	}
	if p.Owner != nil && *p.Owner != oldOwner {
		if err := setOwner(ctx, tx, id, oldOwner, *p.Owner, via, actor); err != nil {
			return err
		}
	}
	renamed := p.Name != nil && *p.Name != oldName
	if renamed {
		if _, err := tx.Exec(ctx, `INSERT INTO search_outbox (event_id) SELECT id FROM events WHERE customer_id = $1`, id); err != nil {
			return fmt.Errorf("queue re-index of customer %d: %w", id, err)
		}
	}
	if p.Domains != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM customer_domains WHERE customer_id = $1 AND NOT domain = ANY($2)`, id, nonNil(*p.Domains)); err != nil {
			return fmt.Errorf("remove domains of customer %d: %w", id, err)
		}
		if err := setDomains(ctx, tx, id, *p.Domains); err != nil {
			return err
		}
	}
	if p.Contacts != nil {
		if _, err := tx.Exec(ctx, `DELETE FROM contacts WHERE customer_id = $1 AND NOT email = ANY($2)`, id, nonNil(*emails)); err != nil {
			return fmt.Errorf("remove contacts of customer %d: %w", id, err)
		}
		if err := setContacts(ctx, tx, id, *p.Contacts); err != nil {
			return err
		}
	}
	if err := takeOver(ctx, tx, id, autos, editedBy(via, actor)); err != nil {
		return err
	}
	rephoned := p.Phone != nil && *p.Phone != oldPhone
	if !keyed {
		if rephoned {
			return MarkDuplicatesDirty(ctx, tx)
		}
		return nil
	}
	return afterCustomerWrite(ctx, tx, id, before, renamed, renamed || rephoned, via)
}

// OwnerChange is one row of the ownership audit trail.
type OwnerChange struct {
	CustomerID int64  `json:"customer_id"`
	OldOwner   string `json:"old_owner"`
	NewOwner   string `json:"new_owner"`
	Via        string `json:"via"` // handover, api, cli, merge
	Actor      string `json:"actor"`
	// MergedFrom is the customer the change was recorded on, when a merge
	// moved it to CustomerID (0: recorded on CustomerID).
	MergedFrom int64 `json:"merged_from,omitempty"`
}

// SetOwner makes owner ("" for none) the owner of customer id if it is
// currently expectOwner, audits the change and marks the customer as
// edited by a person (editedBy(via, actor)). changed is false when the
// owner was no longer expectOwner (someone else moved it) or already
// owner. Run it in a transaction with the caller's other moves.
func SetOwner(ctx context.Context, db DB, id int64, expectOwner, owner, via, actor string) (changed bool, err error) {
	var cur string
	err = db.QueryRow(ctx, `SELECT coalesce(owner, '') FROM customers WHERE id = $1 FOR UPDATE`, id).Scan(&cur)
	if err != nil {
		return false, notFound(err)
	}
	if cur != expectOwner || cur == owner {
		return false, nil
	}
	return true, setOwner(ctx, db, id, cur, owner, via, actor)
}

func setOwner(ctx context.Context, db DB, id int64, old, owner, via, actor string) error {
	if _, err := db.Exec(ctx, `UPDATE customers SET owner = $2, updated_at = now(), edited_at = now(), edited_by = $3 WHERE id = $1`,
		id, nullable(owner), editedBy(via, actor)); err != nil {
		return fmt.Errorf("set owner of customer %d: %w", id, err)
	}
	return auditOwner(ctx, db, id, old, owner, via, actor)
}

// editedBy is customers.edited_by for a person's write: "api:<token>",
// "cli:<user>". A customer created from mail with it set is never removed
// by re-matching (DropEmptyAutoCustomers).
func editedBy(via, actor string) string {
	return via + ":" + actor
}

func auditOwner(ctx context.Context, db DB, id int64, old, owner, via, actor string) error {
	_, err := db.Exec(ctx, `
		INSERT INTO owner_changes (customer_id, old_owner, new_owner, via, actor) VALUES ($1, $2, $3, $4, $5)`,
		id, nullable(old), nullable(owner), via, actor)
	if err != nil {
		return fmt.Errorf("audit owner of customer %d: %w", id, err)
	}
	return nil
}

// OwnerChanges returns the audit trail of a customer, oldest first,
// including the changes of the customers merged into it.
func OwnerChanges(ctx context.Context, db DB, customerID int64) ([]OwnerChange, error) {
	rows, err := db.Query(ctx, `
		SELECT customer_id, coalesce(old_owner, ''), coalesce(new_owner, ''), via, actor, coalesce(merged_from, 0)
		FROM owner_changes WHERE customer_id = $1 ORDER BY changed_at, id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("owner changes of customer %d: %w", customerID, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[OwnerChange])
}

// checkConflicts refuses a name, domain or address that another customer
// than self (0: none) and those in except already has. nil arguments are
// not checked.
func checkConflicts(ctx context.Context, db DB, self int64, except []int64, name *string, domains, emails *[]string) error {
	conflict := func(field, value, sql string) error {
		var f FieldConflict
		err := db.QueryRow(ctx, sql, value, self, nonNil(except)).Scan(&f.CustomerID, &f.Customer)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("check %s %s: %w", field, value, err)
		}
		f.Field, f.Value = field, value
		return &f
	}
	if name != nil {
		if err := conflict("name", *name, `
			SELECT id, name FROM customers WHERE lower(name) = lower($1) AND id <> $2 AND NOT id = ANY($3) ORDER BY id LIMIT 1`); err != nil {
			return err
		}
	}
	if domains != nil {
		for _, d := range *domains {
			if err := conflict("domains", d, `
				SELECT c.id, c.name FROM customer_domains d JOIN customers c ON c.id = d.customer_id
				WHERE d.domain = $1 AND c.id <> $2 AND NOT c.id = ANY($3) ORDER BY c.id LIMIT 1`); err != nil {
				return err
			}
		}
	}
	if emails != nil {
		for _, e := range *emails {
			if err := conflict("contacts", e, `
				SELECT c.id, c.name FROM contacts k JOIN customers c ON c.id = k.customer_id
				WHERE k.email = $1 AND c.id <> $2 AND NOT c.id = ANY($3) ORDER BY c.id LIMIT 1`); err != nil {
				return err
			}
		}
	}
	return nil
}

func setDomains(ctx context.Context, db DB, id int64, domains []string) error {
	for _, d := range domains {
		if _, err := db.Exec(ctx, `INSERT INTO customer_domains (customer_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, d); err != nil {
			return fmt.Errorf("add domain %s to customer %d: %w", d, id, err)
		}
	}
	return nil
}

// setContacts adds the contacts, updating the name of those already there.
func setContacts(ctx context.Context, db DB, id int64, cs []Contact) error {
	for _, c := range cs {
		if _, err := db.Exec(ctx, `
			INSERT INTO contacts (customer_id, email, name) VALUES ($1, $2, $3)
			ON CONFLICT (customer_id, email) DO UPDATE SET name = EXCLUDED.name`, id, c.Email, c.Name); err != nil {
			return fmt.Errorf("add contact %s to customer %d: %w", c.Email, id, err)
		}
	}
	return nil
}

func contactEmails(cs []Contact) *[]string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if !slices.Contains(out, c.Email) {
			out = append(out, c.Email)
		}
	}
	return &out
}
