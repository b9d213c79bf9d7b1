package timeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CustomerInput is a customer as given by an import or the API. Domains
// and Emails must already be normalized (matcher.Normalize).
type CustomerInput struct {
	Name     string
	Domains  []string
	Contacts []Contact
	Grade    string
	Owner    string
	Phone    string
	Country  string
}

// UpsertCustomer creates the customer, or updates the one with the same
// name (case-insensitive), adding domains and contacts it lacks. changed is
// false when nothing was different, so that a repeated import is a no-op.
func UpsertCustomer(ctx context.Context, db DB, in CustomerInput) (id int64, created, changed bool, err error) {
	err = db.QueryRow(ctx, `SELECT id FROM customers WHERE lower(name) = lower($1) AND NOT auto_created ORDER BY id LIMIT 1`, in.Name).Scan(&id)
	switch {
	case err == pgx.ErrNoRows:
		err = db.QueryRow(ctx, `
			INSERT INTO customers (name, grade, owner, phone, country, edited_at, edited_by)
			VALUES ($1, $2, $3, $4, $5, now(), 'import') RETURNING id`,
			in.Name, nullable(in.Grade), nullable(in.Owner), in.Phone, in.Country).Scan(&id)
		if err != nil {
			return 0, false, false, fmt.Errorf("insert customer %q: %w", in.Name, err)
		}
		created, changed = true, true
	case err != nil:
		return 0, false, false, fmt.Errorf("find customer %q: %w", in.Name, err)
	default:
		tag, err := db.Exec(ctx, `
			UPDATE customers SET grade = $2, owner = $3, phone = $4, country = $5, updated_at = now(),
				edited_at = now(), edited_by = 'import'
			WHERE id = $1 AND (grade, owner, phone, country) IS DISTINCT FROM ($2, $3, $4, $5)`,
			id, nullable(in.Grade), nullable(in.Owner), in.Phone, in.Country)
		if err != nil {
			return 0, false, false, fmt.Errorf("update customer %q: %w", in.Name, err)
		}
		changed = tag.RowsAffected() > 0
	}
	for _, d := range in.Domains {
		tag, err := db.Exec(ctx, `INSERT INTO customer_domains (customer_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, d)
		if err != nil {
			return 0, false, false, fmt.Errorf("add domain %s to %q: %w", d, in.Name, err)
		}
		changed = changed || tag.RowsAffected() > 0
	}
	for _, c := range in.Contacts {
		added, err := AddContact(ctx, db, id, c)
		if err != nil {
			return 0, false, false, err
		}
		changed = changed || added
	}
	return id, created, changed, nil
}

// AddContact adds a listed address to a customer; added is false when it
// was there. A customer id merged away is replaced by the one it was
// merged into.
func AddContact(ctx context.Context, db DB, customerID int64, c Contact) (added bool, err error) {
	return addContact(ctx, db, customerID, c, false)
}

// LearnContact records an address seen in mail at a customer's domain,
// with its display name (see contacts.learned): it is the customer's by
// domain, and the name helps people and the impersonation checks. It does
// nothing when the customer already has the address.
func LearnContact(ctx context.Context, db DB, customerID int64, c Contact) (added bool, err error) {
	return addContact(ctx, db, customerID, c, true)
}

func addContact(ctx context.Context, db DB, customerID int64, c Contact, learned bool) (bool, error) {
	tag, err := db.Exec(ctx, `
		INSERT INTO contacts (customer_id, email, name, learned)
		VALUES (`+liveCustomerSQL("$1")+`, $2, $3, $4)
		ON CONFLICT DO NOTHING`,
		customerID, c.Email, c.Name, learned)
	if err != nil {
		return false, fmt.Errorf("add contact %s to customer %d: %w", c.Email, customerID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// EnsureAutoCustomer returns the customer created from mail for key
// ("domain:<d>" or "email:<a>"), creating it with the given name and owner
// when it does not exist yet. Safe when several workers race on one key.
func EnsureAutoCustomer(ctx context.Context, db DB, key, name, owner string) (int64, error) {
	id, _, err := EnsureAuto(ctx, db, key, name, owner)
	return id, err
}

// EnsureAuto is EnsureAutoCustomer that also says whether this call
// created the customer. A key whose customer was merged into another one
// gives that other customer, so that mail matched with a directory from
// before the merge does not create the merged customer again.
func EnsureAuto(ctx context.Context, db DB, key, name, owner string) (id int64, created bool, err error) {
	if id, ok, err := AutoCustomer(ctx, db, key); err != nil || ok {
		return id, false, err
	}
	err = db.QueryRow(ctx, `
		INSERT INTO customers (name, owner, auto_created, auto_key) VALUES ($1, $2, true, $3)
		ON CONFLICT (auto_key) DO UPDATE SET auto_key = EXCLUDED.auto_key
		RETURNING id, (xmax = 0)`, name, nullable(owner), key).Scan(&id, &created)
	if err != nil {
		return 0, false, fmt.Errorf("create customer for %s: %w", key, err)
	}
	if !created {
		return id, false, nil
	}
	kind, value, _ := strings.Cut(key, ":")
	switch kind {
	case "domain":
		_, err = db.Exec(ctx, `INSERT INTO customer_domains (customer_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, value)
	case "email":
		_, err = AddContact(ctx, db, id, Contact{Email: value, Name: name})
	}
	if err != nil {
		return 0, false, fmt.Errorf("create customer for %s: %w", key, err)
	}
	return id, true, nil
}

// OwnAutoCustomers gives each of the customers ids that was created from
// mail the rep of its earliest event as owner: "the rep who first
// corresponded with them". Mail is not saved in date order (a first sync
// reads newest first, reps in parallel), so the rep who created the
// customer may not be that rep. A customer a person has edited (edited_at)
// or whose owner was ever set otherwise (owner_changes) is left alone.
func OwnAutoCustomers(ctx context.Context, db DB, ids []int64) error {
	_, err := db.Exec(ctx, `
		WITH auto AS MATERIALIZED (
			SELECT c.id FROM customers c WHERE c.id = ANY($1) AND c.auto_created AND c.edited_at IS NULL
			  AND NOT EXISTS (SELECT 1 FROM owner_changes o WHERE o.customer_id = c.id))
		UPDATE customers c SET owner = first.rep
		FROM auto, LATERAL (SELECT e.rep FROM events e WHERE e.customer_id = auto.id
		                    ORDER BY e.occurred_at, e.id LIMIT 1) first
		WHERE c.id = auto.id AND c.owner IS DISTINCT FROM first.rep`, ids)
	if err != nil {
		return fmt.Errorf("owners of customers from mail: %w", err)
	}
	return nil
}

// NameAutoCustomer renames a customer created from mail that is still
// named after its address (placeholder) to name, and queues its events for
// re-indexing. It does nothing when the customer was renamed since.
func NameAutoCustomer(ctx context.Context, db DB, id int64, placeholder, name string) error {
	tag, err := db.Exec(ctx, `UPDATE customers SET name = $3, updated_at = now() WHERE id = $1 AND auto_created AND name = $2`,
		id, placeholder, name)
	if err != nil {
		return fmt.Errorf("name customer %d: %w", id, err)
	}
	if tag.RowsAffected() > 0 {
		if _, err := db.Exec(ctx, `INSERT INTO search_outbox (event_id) SELECT id FROM events WHERE customer_id = $1`, id); err != nil {
			return fmt.Errorf("reindex events of customer %d: %w", id, err)
		}
	}
	return nil
}

// AutoCustomer finds the customer created from mail for key, following a
// merge; ok is false when there is none.
func AutoCustomer(ctx context.Context, db DB, key string) (id int64, ok bool, err error) {
	err = db.QueryRow(ctx, `
		SELECT id FROM customers WHERE auto_key = $1
		UNION ALL SELECT new_id FROM customer_redirects WHERE auto_key = $1
		LIMIT 1`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find customer for %s: %w", key, err)
	}
	return id, true, nil
}

// Customers lists customers by id after the cursor (0 = from the start).
// q, when set, filters on name, domain or contact address.
func Customers(ctx context.Context, db DB, q string, after int64, limit int) ([]Customer, error) {
	return CustomersIn(ctx, db, Scope{}, q, after, limit)
}

// CustomersIn is Customers limited to what scope may see.
func CustomersIn(ctx context.Context, db DB, scope Scope, q string, after int64, limit int) ([]Customer, error) {
	rows, err := db.Query(ctx, customerSelect+`
		WHERE c.id > $1 AND ($2 = '' OR c.name ILIKE '%' || $2 || '%'
			OR EXISTS (SELECT 1 FROM customer_domains d WHERE d.customer_id = c.id AND d.domain ILIKE '%' || $2 || '%')
			OR EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id AND k.email ILIKE '%' || $2 || '%'))
			AND `+VisibleSQL("c.id", 4)+`
		ORDER BY c.id LIMIT $3`, after, q, limit, scope.Rep)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	return pgx.CollectRows(rows, scanCustomer)
}

// GetCustomer returns one customer or ErrNotFound.
func GetCustomer(ctx context.Context, db DB, id int64) (Customer, error) {
	rows, err := db.Query(ctx, customerSelect+` WHERE c.id = $1`, id)
	if err != nil {
		return Customer{}, fmt.Errorf("get customer %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCustomer)
	return c, notFound(err)
}

const customerSelect = `
	SELECT c.id, c.name, coalesce(c.grade, ''), coalesce(c.owner, ''), c.phone, c.country,
		c.auto_created, c.created_at,
		coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains d WHERE d.customer_id = c.id), '{}'),
		coalesce((SELECT array_agg(email ORDER BY email) FROM contacts k WHERE k.customer_id = c.id), '{}')
	FROM customers c`

func scanCustomer(row pgx.CollectableRow) (Customer, error) {
	var c Customer
	err := row.Scan(&c.ID, &c.Name, &c.Grade, &c.Owner, &c.Phone, &c.Country, &c.AutoCreated, &c.CreatedAt, &c.Domains, &c.Emails)
	return c, err
}
