package timeline

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// matchKeys are what the matcher knows a customer by: its domains, and its
// contacts' addresses with their names (a display name imitating a
// contact's name is evidence of impersonation).
type matchKeys struct {
	domains  []string          // sorted
	contacts map[string]string // address -> name
}

func (k matchKeys) equal(o matchKeys) bool {
	return slices.Equal(k.domains, o.domains) && maps.Equal(k.contacts, o.contacts)
}

func readMatchKeys(ctx context.Context, db DB, id int64) (matchKeys, error) {
	k := matchKeys{contacts: map[string]string{}}
	err := db.QueryRow(ctx, `
		SELECT coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains WHERE customer_id = $1), '{}')`, id).
		Scan(&k.domains)
	if err != nil {
		return k, fmt.Errorf("read domains of customer %d: %w", id, err)
	}
	cs, err := contactsOf(ctx, db, id)
	for _, c := range cs {
		k.contacts[c.Email] = c.Name
	}
	return k, err
}

// afterCustomerWrite follows a person's write of customer id (its match
// keys were before) inside the write's transaction, so that nothing is
// left stale if the write commits: when the name (renamed) or the domains
// or contacts changed, the stored mail the change can move is queued for
// re-matching, as after an import: the customer's own mail, mail at the
// old and new domains and addresses, and the mail on customers created
// from mail or on no timeline (a look-alike of a new domain, a name that
// now imitates this customer, an inline forward of a new contact); and
// when those or dupesDue (a phone changed) change, the duplicate scan is
// marked due. Finding that mail is deferred (DeferRematch): the daemon
// does it, and the re-match, within seconds.
func afterCustomerWrite(ctx context.Context, tx pgx.Tx, id int64, before matchKeys, renamed, dupesDue bool, via string) error {
	after, err := readMatchKeys(ctx, tx, id)
	if err != nil {
		return err
	}
	if !renamed && after.equal(before) {
		if dupesDue {
			return MarkDuplicatesDirty(ctx, tx)
		}
		return nil
	}
	c := Concern{CustomerIDs: []int64{id}, AutoCreated: true, Noise: true, Reason: via}
	c.Domains = append(slices.Clone(before.domains), after.domains...)
	for _, k := range []matchKeys{before, after} {
		for e := range k.contacts {
			c.Emails = append(c.Emails, e)
		}
	}
	if err := DeferRematch(ctx, tx, c); err != nil {
		return err
	}
	return MarkDuplicatesDirty(ctx, tx)
}

// autoCustomersOf returns the customers created from mail, other than
// self, that hold one of domains (or a subdomain of one) or one of emails:
// those that a person's description of a customer (an import row, an API
// write) takes over.
func autoCustomersOf(ctx context.Context, db DB, self int64, domains, emails []string) ([]int64, error) {
	if len(domains) == 0 && len(emails) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `
		SELECT c.id FROM customers c
		WHERE c.auto_created AND c.id <> $1 AND (
			EXISTS (SELECT 1 FROM customer_domains d, unnest($2::text[]) r
				WHERE d.customer_id = c.id AND (d.domain = r OR right(d.domain, length(r) + 1) = '.' || r))
			OR EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id AND k.email = ANY($3)))
		ORDER BY c.id`, self, nonNil(domains), nonNil(emails))
	if err != nil {
		return nil, fmt.Errorf("find customers created from mail: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("find customers created from mail: %w", err)
	}
	return ids, nil
}

// takeOver merges the customers autos (from autoCustomersOf) into id.
func takeOver(ctx context.Context, tx pgx.Tx, id int64, autos []int64, by string) error {
	for _, a := range autos {
		if _, err := MergeCustomers(ctx, tx, id, a, by); err != nil {
			return fmt.Errorf("take over customer %d: %w", a, err)
		}
	}
	return nil
}

func derefList[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}
