package timeline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// importState follows one import across its rows.
type importState struct {
	touched map[int64]int // customer id -> first line that matched or created it
	changed []CustomerInput
	ids     []int64 // customers of changed rows, for the re-match
}

// rowOutcome is what a row did, applied to importState once its savepoint
// is released.
type rowOutcome struct {
	id      int64
	changed bool
	merges  []Merge
}

// ImportCustomers imports rows (from ReadCustomerFile) in one transaction,
// each row under its own savepoint so that a bad row is reported with its
// line and the others still import. For each row:
//
//   - The customer it updates is the one that lists one of its domains
//     (free-mail domains excepted), else one of its addresses, else has
//     its name (case-insensitive); customers created from mail are not
//     candidates. Other customers that also match are named in the row's
//     notes and end up as duplicate candidates.
//   - No match: a new customer. A match: the row's name and non-empty
//     fields replace the customer's, its domains and addresses are added
//     (an address learned from mail becomes a listed one). A blank cell
//     keeps what is there.
//   - Two rows of one file that match one customer (the same company
//     listed twice, "Sunrise Trading LLC" / "Sunrise Trading L.L.C." on
//     one domain) make one customer: the first row's name and fields win,
//     the later row adds its domains and addresses and fills blanks, so a
//     second import of the file changes nothing.
//   - A customer created from mail whose domain (or a subdomain of it) or
//     address is in the row is merged into the row's customer (an audit
//     row by merge), so its mail moves to the right timeline.
//
// Afterwards duplicate candidates are scanned again and, when anything
// changed, the stored messages the change concerns are queued for
// re-matching (see QueueRematch); the caller drains that queue. With
// DryRun the transaction is rolled back: the report is exact and nothing
// changes.
func (s *Store) ImportCustomers(ctx context.Context, rows []SheetRow, opt ImportOptions) (ImportReport, error) {
	rep := ImportReport{DryRun: opt.DryRun, Rows: []RowResult{}}
	if opt.Normalize == nil || opt.Domain == nil {
		return rep, errors.New("import customers: no address or domain normalizer")
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return rep, fmt.Errorf("import customers: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	st := &importState{touched: map[int64]int{}}
	for _, row := range rows {
		res := RowResult{Line: row.Line}
		if len(row.Fields) > 0 {
			res.Name = row.Fields[0]
		}
		err := row.Err
		var in CustomerInput
		if err == nil {
			in, res.Notes, err = parseCustomerRow(row.Fields, opt)
		}
		var out rowOutcome
		if err == nil {
			err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				out, err = importRow(ctx, sp, in, &res, st, opt)
				return err
			})
		}
		if err == nil {
			// Only now: a row rolled back to its savepoint leaves no trace.
			if _, ok := st.touched[out.id]; !ok {
				st.touched[out.id] = row.Line
			}
			if out.changed {
				st.changed = append(st.changed, in)
				st.ids = append(st.ids, out.id)
			}
			rep.TakenOver = append(rep.TakenOver, out.merges...)
		}
		if err != nil {
			res.Action, res.Error, res.Changes = RowRejected, err.Error(), nil
			rep.Errors = append(rep.Errors, fmt.Sprintf("line %d: %v", row.Line, err))
		}
		switch res.Action {
		case RowCreated:
			rep.Created++
		case RowUpdated:
			rep.Updated++
		case RowUnchanged:
			rep.Unchanged++
		}
		rep.Rows = append(rep.Rows, res)
	}
	if rep.Scan, err = ScanDuplicates(ctx, tx, opt.FreeMail); err != nil {
		return rep, err
	}
	var ids []int64
	for id := range st.touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if rep.Duplicates, err = DuplicatesOf(ctx, tx, ids); err != nil {
		return rep, err
	}
	if len(st.changed) > 0 {
		c := Concern{CustomerIDs: st.ids, AutoCreated: true, Noise: true, Reason: "import"}
		for _, in := range st.changed {
			for _, d := range in.Domains {
				if opt.FreeMail == nil || !opt.FreeMail(d) {
					c.Domains = append(c.Domains, d)
				}
			}
			for _, k := range in.Contacts {
				c.Emails = append(c.Emails, k.Email)
			}
		}
		if rep.Rematch, err = QueueRematch(ctx, tx, c); err != nil {
			return rep, err
		}
	}
	if opt.DryRun {
		return rep, nil // the deferred Rollback undoes it all
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("import customers: commit: %w", err)
	}
	return rep, nil
}

// importRow applies one parsed row inside its savepoint: the customer it
// creates or updates, then the customers from mail it takes over. A
// customer the row changed is marked as edited by the import line.
func importRow(ctx context.Context, tx pgx.Tx, in CustomerInput, res *RowResult, st *importState, opt ImportOptions) (rowOutcome, error) {
	var domains, emails []string
	for _, d := range in.Domains {
		if opt.FreeMail == nil || !opt.FreeMail(d) {
			domains = append(domains, d)
		}
	}
	for _, c := range in.Contacts {
		emails = append(emails, c.Email)
	}
	out := rowOutcome{}
	// by names the row in the audit trail: edits, owner changes, merges.
	by := fmt.Sprintf("import line %d", res.Line)
	if opt.Source != "" {
		by = fmt.Sprintf("import %s line %d", opt.Source, res.Line)
	}
	change := func(format string, args ...any) {
		res.Changes = append(res.Changes, fmt.Sprintf(format, args...))
		out.changed = true
	}
	id, err := upsertRow(ctx, tx, in, domains, emails, res, st, change, by)
	if err != nil {
		return out, err
	}
	out.id, res.CustomerID = id, id
	if res.Action == RowCreated {
		out.changed = true
	}

	// Customers created from mail for this company are taken over.
	autos, err := autoCustomersOf(ctx, tx, id, domains, emails)
	if err != nil {
		return out, err
	}
	for _, a := range autos {
		m, err := MergeCustomers(ctx, tx, id, a, by)
		if err != nil {
			return out, fmt.Errorf("take over customer %d: %w", a, err)
		}
		change("took over customer %d %q (created from mail): %d events moved, %d collapsed",
			a, m.Merged.Name, len(m.Moved.EventsMoved), len(m.Moved.EventsCollapsed))
		out.merges = append(out.merges, m)
	}
	if out.changed {
		if _, err := tx.Exec(ctx, `UPDATE customers SET edited_at = now(), edited_by = $2 WHERE id = $1`, id, by); err != nil {
			return out, fmt.Errorf("mark customer %d as edited: %w", id, err)
		}
	}
	switch {
	case res.Action == RowCreated:
	case out.changed:
		res.Action = RowUpdated
	default:
		res.Action = RowUnchanged
	}
	return out, nil
}

// upsertRow finds the customer a row is about (see ImportCustomers) and
// creates or updates it, reporting each change through change; an owner
// it sets is audited as by.
func upsertRow(ctx context.Context, tx pgx.Tx, in CustomerInput, domains, emails []string, res *RowResult, st *importState,
	change func(format string, args ...any), by string) (int64, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.id, c.name, 'domain ' || d.domain, 0 FROM customer_domains d JOIN customers c ON c.id = d.customer_id
		WHERE NOT c.auto_created AND d.domain = ANY($1)
		UNION ALL
		SELECT c.id, c.name, 'email ' || k.email, 1 FROM contacts k JOIN customers c ON c.id = k.customer_id
		WHERE NOT c.auto_created AND k.email = ANY($2)
		UNION ALL
		SELECT c.id, c.name, 'name', 2 FROM customers c WHERE NOT c.auto_created AND lower(c.name) = lower($3)
		ORDER BY 4, 1, 3`, domains, emails, in.Name)
	if err != nil {
		return 0, fmt.Errorf("find customer: %w", err)
	}
	type match struct {
		ID         int64
		Name, By   string
		Precedence int32
	}
	matches, err := pgx.CollectRows(rows, pgx.RowToStructByPos[match])
	if err != nil {
		return 0, fmt.Errorf("find customer: %w", err)
	}
	// A customer an earlier row of this file already claimed comes first:
	// the same company listed twice stays one customer.
	slices.SortStableFunc(matches, func(a, b match) int {
		_, ta := st.touched[a.ID]
		_, tb := st.touched[b.ID]
		switch {
		case ta && !tb:
			return -1
		case tb && !ta:
			return 1
		}
		return 0
	})

	var id int64
	if len(matches) == 0 {
		err := tx.QueryRow(ctx, `
			INSERT INTO customers (name, grade, owner, phone, country) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			in.Name, nullable(in.Grade), nullable(in.Owner), in.Phone, in.Country).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("insert customer %q: %w", in.Name, err)
		}
		res.Action = RowCreated
		if in.Owner != "" {
			if err := auditOwner(ctx, tx, id, "", in.Owner, "import", by); err != nil {
				return 0, err
			}
		}
	} else {
		t := matches[0]
		id, res.MatchedBy = t.ID, t.By
		seen := map[int64]bool{id: true}
		for _, o := range matches[1:] {
			if !seen[o.ID] {
				seen[o.ID] = true
				res.Notes = append(res.Notes, fmt.Sprintf("also matches customer %d %q by %s", o.ID, o.Name, o.By))
			}
		}
		if err := updateRow(ctx, tx, id, in, res, st, change, by); err != nil {
			return 0, err
		}
	}

	for _, d := range in.Domains {
		tag, err := tx.Exec(ctx, `INSERT INTO customer_domains (customer_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, d)
		if err != nil {
			return 0, fmt.Errorf("add domain %s: %w", d, err)
		}
		if tag.RowsAffected() > 0 && res.Action != RowCreated {
			change("domain added: %s", d)
		}
	}
	for _, c := range in.Contacts {
		var inserted bool
		err := tx.QueryRow(ctx, `
			INSERT INTO contacts (customer_id, email, name, learned) VALUES ($1, $2, $3, false)
			ON CONFLICT (customer_id, email) DO UPDATE SET learned = false WHERE contacts.learned
			RETURNING (xmax = 0)`, id, c.Email, c.Name).Scan(&inserted)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // listed already
		case err != nil:
			return 0, fmt.Errorf("add contact %s: %w", c.Email, err)
		case res.Action == RowCreated:
		case inserted:
			change("contact added: %s", c.Email)
		default:
			change("contact listed: %s (was learned from mail)", c.Email)
		}
	}
	return id, nil
}

// updateRow updates the matched customer id from the row: the first row
// about a customer sets its name and non-empty fields; a later row of the
// same file only fills blanks.
func updateRow(ctx context.Context, tx pgx.Tx, id int64, in CustomerInput, res *RowResult, st *importState,
	change func(format string, args ...any), by string) error {
	type record struct{ Name, Grade, Owner, Phone, Country string }
	var cur record
	if err := tx.QueryRow(ctx, `
		SELECT name, coalesce(grade, ''), coalesce(owner, ''), phone, country FROM customers WHERE id = $1 FOR UPDATE`, id).
		Scan(&cur.Name, &cur.Grade, &cur.Owner, &cur.Phone, &cur.Country); err != nil {
		return fmt.Errorf("read customer %d: %w", id, err)
	}
	next := cur
	fields := []struct{ cur, row *string }{
		{&next.Grade, &in.Grade}, {&next.Owner, &in.Owner}, {&next.Phone, &in.Phone}, {&next.Country, &in.Country},
	}
	if first, again := st.touched[id]; again {
		res.MatchedBy += fmt.Sprintf(" (the customer of line %d)", first)
		res.Notes = append(res.Notes, fmt.Sprintf("same customer as line %d: that line's name and fields are kept", first))
		for _, f := range fields {
			if *f.cur == "" {
				*f.cur = *f.row
			}
		}
	} else {
		next.Name = in.Name
		for _, f := range fields {
			if *f.row != "" {
				*f.cur = *f.row
			}
		}
	}
	if next == cur {
		return nil
	}
	for _, f := range []struct{ field, old, new string }{
		{"name", cur.Name, next.Name}, {"grade", cur.Grade, next.Grade}, {"owner", cur.Owner, next.Owner},
		{"phone", cur.Phone, next.Phone}, {"country", cur.Country, next.Country},
	} {
		if f.old != f.new {
			change("%s: %q -> %q", f.field, f.old, f.new)
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE customers SET name = $2, grade = $3, owner = $4, phone = $5, country = $6, updated_at = now()
		WHERE id = $1`, id, next.Name, nullable(next.Grade), nullable(next.Owner), next.Phone, next.Country); err != nil {
		return fmt.Errorf("update customer %d: %w", id, err)
	}
	if next.Owner != cur.Owner {
		if err := auditOwner(ctx, tx, id, cur.Owner, next.Owner, "import", by); err != nil {
			return err
		}
	}
	if next.Name != cur.Name {
		// The search documents carry the customer's name.
		if _, err := tx.Exec(ctx, `INSERT INTO search_outbox (event_id) SELECT id FROM events WHERE customer_id = $1`, id); err != nil {
			return fmt.Errorf("reindex events of customer %d: %w", id, err)
		}
	}
	return nil
}
