package timeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrMergeSelf is returned when a customer is to be merged into itself.
var ErrMergeSelf = errors.New("a customer cannot be merged into itself")

// MergedError says that a customer no longer exists because it was merged
// into another one; Into is where it lives on.
type MergedError struct {
	ID, Into int64
}

func (e *MergedError) Error() string {
	return fmt.Sprintf("customer %d was merged into customer %d", e.ID, e.Into)
}

// Merge is one audit row: who merged which customer into which, when, and
// exactly what moved.
type Merge struct {
	ID       int64          `json:"merge_id"`
	KeptID   int64          `json:"kept_id"`
	MergedID int64          `json:"merged_id"`
	MergedBy string         `json:"merged_by"`
	MergedAt time.Time      `json:"merged_at"`
	Merged   MergedCustomer `json:"merged_customer"`
	Moved    Moved          `json:"moved"`
	Already  bool           `json:"already_merged"` // this call found the merge done before
}

// MergedCustomer is the merged record as it was before the merge (or, in
// a CustomerRemoval, the removed one).
type MergedCustomer struct {
	Name        string         `json:"name"`
	Grade       string         `json:"grade"`
	Owner       string         `json:"owner"`
	Phone       string         `json:"phone"`
	Country     string         `json:"country"`
	AutoCreated bool           `json:"auto_created"`
	AutoKey     string         `json:"auto_key,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
	Domains     []string       `json:"domains"`
	Contacts    []MovedContact `json:"contacts"`
}

// Moved lists what a merge moved, by id or value, so that nothing is lost
// and a person can see (and by hand undo) every change.
type Moved struct {
	// EventsMoved now belong to the kept customer (same event ids).
	EventsMoved []int64 `json:"events_moved"`
	// EventsCollapsed were on a message that the kept customer had an event
	// for too; the merged customer's event was deleted in favour of Into.
	EventsCollapsed []CollapsedEvent `json:"events_collapsed"`
	DomainsMoved    []string         `json:"domains_moved"`
	DomainsAlready  []string         `json:"domains_already_on_kept"`
	ContactsMoved   []MovedContact   `json:"contacts_moved"`
	ContactsAlready []string         `json:"contacts_already_on_kept"`
	// FieldsFilled are the kept customer's empty fields that took the
	// merged customer's value (grade, owner, phone, country).
	FieldsFilled map[string]string `json:"fields_filled"`
	// Redirects are older merged ids that pointed at the merged customer
	// and now point at the kept one.
	Redirects []int64 `json:"redirects_moved"`
	// OwnerChangesMoved are the merged customer's owner_changes rows, now
	// the kept customer's (their merged_from names where they were first
	// recorded). Empty in merges made before they moved (schema 14): those
	// rows were deleted with the merged customer.
	OwnerChangesMoved []int64 `json:"owner_changes_moved"`
}

// CollapsedEvent is an event deleted by a merge and the event that stands
// for it on the kept customer.
type CollapsedEvent struct {
	EventID   int64 `json:"event_id"`
	MessageID int64 `json:"message_id"`
	Into      int64 `json:"into_event_id"`
}

// MovedContact is a contact as it moved.
type MovedContact struct {
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	Learned bool   `json:"learned,omitempty"`
}

// MergeCustomers merges customer from into customer keep inside tx: the
// events, domains, contacts and owner history (owner_changes) of from
// move to keep (an event of both on one message collapses into keep's),
// keep's empty fields take from's values (an owner so taken gets an
// owner_changes row, via "merge" by by), keep is marked as edited by by,
// from is deleted and its id redirects to keep from then on, the
// moved events get search outbox rows (upsert for moved, delete for
// collapsed), their messages are queued for re-matching, and one audit
// row records it all. by names who merged ("api:<token>", "cli:<user>",
// "import line 4").
//
// Merging again is harmless: when from was already merged into keep it
// returns that merge with Already set and changes nothing. It fails with
// ErrMergeSelf for keep == from, a *MergedError when from or keep was
// merged into some other customer, and ErrNotFound for an id that never
// existed.
func MergeCustomers(ctx context.Context, tx pgx.Tx, keep, from int64, by string) (Merge, error) {
	if keep == from {
		return Merge{}, ErrMergeSelf
	}
	// Lock both rows in id order, so that two merges never deadlock.
	rows, err := tx.Query(ctx, `SELECT id FROM customers WHERE id = ANY($1) ORDER BY id FOR UPDATE`, []int64{keep, from})
	if err != nil {
		return Merge{}, fmt.Errorf("lock customers %d, %d: %w", keep, from, err)
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Merge{}, fmt.Errorf("lock customers %d, %d: %w", keep, from, err)
	}
	has := func(id int64) bool { return len(live) > 0 && (live[0] == id || len(live) > 1 && live[1] == id) }
	if !has(keep) {
		return Merge{}, gone(ctx, tx, keep)
	}
	if !has(from) {
		into, mergeID, ok, err := redirect(ctx, tx, from)
		switch {
		case err != nil:
			return Merge{}, err
		case !ok:
			return Merge{}, ErrNotFound
		case into != keep:
			return Merge{}, &MergedError{ID: from, Into: into}
		}
		m, err := GetMerge(ctx, tx, mergeID)
		m.Already = true
		return m, err
	}

	var m Merge
	m.KeptID, m.MergedID, m.MergedBy = keep, from, by
	if m.Merged, err = customerRecord(ctx, tx, from); err != nil {
		return Merge{}, err
	}
	mc := &m.Merged

	mv := &m.Moved
	mv.FieldsFilled = map[string]string{}
	// Events: first those that would break UNIQUE (message_id, customer_id).
	rows, err = tx.Query(ctx, `
		DELETE FROM events f USING events k
		WHERE f.customer_id = $2 AND k.customer_id = $1 AND k.message_id = f.message_id
		RETURNING f.id, f.message_id, k.id`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("collapse events of %d into %d: %w", from, keep, err)
	}
	if mv.EventsCollapsed, err = pgx.CollectRows(rows, pgx.RowToStructByPos[CollapsedEvent]); err != nil {
		return Merge{}, fmt.Errorf("collapse events of %d into %d: %w", from, keep, err)
	}
	rows, err = tx.Query(ctx, `UPDATE events SET customer_id = $1 WHERE customer_id = $2 RETURNING id`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("move events of %d to %d: %w", from, keep, err)
	}
	if mv.EventsMoved, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return Merge{}, fmt.Errorf("move events of %d to %d: %w", from, keep, err)
	}
	var gone []int64
	for _, c := range mv.EventsCollapsed {
		gone = append(gone, c.EventID)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO search_outbox (event_id, op)
		SELECT id, 'delete' FROM unnest($1::bigint[]) id
		UNION ALL SELECT id, 'upsert' FROM unnest($2::bigint[]) id`, gone, mv.EventsMoved); err != nil {
		return Merge{}, fmt.Errorf("outbox for merge of %d into %d: %w", from, keep, err)
	}

	// Domains and contacts.
	rows, err = tx.Query(ctx, `
		INSERT INTO customer_domains (customer_id, domain)
		SELECT $1, domain FROM customer_domains WHERE customer_id = $2
		ON CONFLICT DO NOTHING RETURNING domain`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("move domains of %d to %d: %w", from, keep, err)
	}
	if mv.DomainsMoved, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return Merge{}, fmt.Errorf("move domains of %d to %d: %w", from, keep, err)
	}
	mv.DomainsAlready = minus(mc.Domains, mv.DomainsMoved)
	rows, err = tx.Query(ctx, `
		INSERT INTO contacts (customer_id, email, name, learned)
		SELECT $1, email, name, learned FROM contacts WHERE customer_id = $2
		ON CONFLICT DO NOTHING RETURNING email, name, learned`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("move contacts of %d to %d: %w", from, keep, err)
	}
	if mv.ContactsMoved, err = pgx.CollectRows(rows, pgx.RowToStructByPos[MovedContact]); err != nil {
		return Merge{}, fmt.Errorf("move contacts of %d to %d: %w", from, keep, err)
	}
	var movedEmails, allEmails []string
	for _, c := range mv.ContactsMoved {
		movedEmails = append(movedEmails, c.Email)
	}
	for _, c := range mc.Contacts {
		allEmails = append(allEmails, c.Email)
	}
	mv.ContactsAlready = minus(allEmails, movedEmails)
	// A contact on both stays the kept customer's; it becomes listed when
	// either side listed it, and takes the merged side's name if it had none.
	if _, err := tx.Exec(ctx, `
		UPDATE contacts k SET learned = k.learned AND f.learned,
			name = CASE WHEN k.name = '' THEN f.name ELSE k.name END
		FROM contacts f
		WHERE k.customer_id = $1 AND f.customer_id = $2 AND f.email = k.email`, keep, from); err != nil {
		return Merge{}, fmt.Errorf("merge contacts of %d into %d: %w", from, keep, err)
	}

	// The merged customer's owner history would go with it (ON DELETE
	// CASCADE): it moves to the kept customer, each row naming the customer
	// it was first recorded on.
	rows, err = tx.Query(ctx, `
		UPDATE owner_changes SET customer_id = $1, merged_from = coalesce(merged_from, $2)
		WHERE customer_id = $2 RETURNING id`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("move owner changes of %d to %d: %w", from, keep, err)
	}
	if mv.OwnerChangesMoved, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return Merge{}, fmt.Errorf("move owner changes of %d to %d: %w", from, keep, err)
	}
	slices.Sort(mv.OwnerChangesMoved)

	// Fields the kept customer lacks.
	var kg, ko, kp, kc string
	if err := tx.QueryRow(ctx, `SELECT coalesce(grade, ''), coalesce(owner, ''), phone, country FROM customers WHERE id = $1`, keep).
		Scan(&kg, &ko, &kp, &kc); err != nil {
		return Merge{}, fmt.Errorf("read customer %d: %w", keep, err)
	}
	for _, f := range []struct{ name, kept, merged string }{
		{"grade", kg, mc.Grade}, {"owner", ko, mc.Owner}, {"phone", kp, mc.Phone}, {"country", kc, mc.Country},
	} {
		if f.kept == "" && f.merged != "" {
			mv.FieldsFilled[f.name] = f.merged
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE customers SET grade = coalesce(grade, nullif($2, '')), owner = coalesce(owner, nullif($3, '')),
			phone = CASE WHEN phone = '' THEN $4 ELSE phone END,
			country = CASE WHEN country = '' THEN $5 ELSE country END, updated_at = now(),
			edited_at = now(), edited_by = $6
		WHERE id = $1`, keep, mc.Grade, mc.Owner, mc.Phone, mc.Country, by); err != nil {
		return Merge{}, fmt.Errorf("update customer %d: %w", keep, err)
	}
	if owner, ok := mv.FieldsFilled["owner"]; ok {
		if err := auditOwner(ctx, tx, keep, "", owner, "merge", by); err != nil {
			return Merge{}, err
		}
	}

	// The audit row, then the redirect that points at it.
	mergedJSON, _ := json.Marshal(m.Merged)
	movedJSON, _ := json.Marshal(nonNilLists(m.Moved))
	if err := tx.QueryRow(ctx, `
		INSERT INTO customer_merges (kept_id, merged_id, merged_by, merged_customer, moved)
		VALUES ($1, $2, $3, $4, $5) RETURNING id, merged_at`, keep, from, by, mergedJSON, movedJSON).Scan(&m.ID, &m.MergedAt); err != nil {
		return Merge{}, fmt.Errorf("record merge of %d into %d: %w", from, keep, err)
	}
	rows, err = tx.Query(ctx, `UPDATE customer_redirects SET new_id = $1 WHERE new_id = $2 RETURNING old_id`, keep, from)
	if err != nil {
		return Merge{}, fmt.Errorf("move redirects of %d: %w", from, err)
	}
	if mv.Redirects, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return Merge{}, fmt.Errorf("move redirects of %d: %w", from, err)
	}
	if len(mv.Redirects) > 0 {
		movedJSON, _ = json.Marshal(nonNilLists(m.Moved))
		if _, err := tx.Exec(ctx, `UPDATE customer_merges SET moved = $2 WHERE id = $1`, m.ID, movedJSON); err != nil {
			return Merge{}, fmt.Errorf("record merge of %d into %d: %w", from, keep, err)
		}
	}
	// The moved events take part in the kept customer's links (a buyer's
	// inquiry on one record, the rep's quote on the other): all of them are
	// recomputed, which also does whatever pending_links held for either.
	if _, err := tx.Exec(ctx, `DELETE FROM pending_links WHERE customer_id = ANY($1)`, []int64{keep, from}); err != nil {
		return Merge{}, fmt.Errorf("pending links of %d, %d: %w", keep, from, err)
	}
	if err := RelinkCustomer(ctx, tx, keep); err != nil {
		return Merge{}, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM customers WHERE id = $1`, from); err != nil {
		return Merge{}, fmt.Errorf("delete merged customer %d: %w", from, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO customer_redirects (old_id, new_id, auto_key, merge_id) VALUES ($1, $2, $3, $4)`,
		from, keep, nullable(mc.AutoKey), m.ID); err != nil {
		return Merge{}, fmt.Errorf("redirect customer %d: %w", from, err)
	}
	// The kept customer's messages are matched again (a moved domain can
	// change which customer is the most specific for some of them), and
	// the duplicate candidates are due for a scan.
	if _, err := tx.Exec(ctx, `
		INSERT INTO rematch_queue (message_id, reason)
		SELECT DISTINCT message_id, 'merge' FROM events WHERE customer_id = $1
		ON CONFLICT DO NOTHING`, keep); err != nil {
		return Merge{}, fmt.Errorf("queue messages of %d for matching: %w", keep, err)
	}
	if err := MarkDuplicatesDirty(ctx, tx); err != nil {
		return Merge{}, err
	}
	m.Moved = nonNilLists(m.Moved)
	return m, nil
}

// GetMerge returns one audit row.
func GetMerge(ctx context.Context, db DB, id int64) (Merge, error) {
	rows, err := db.Query(ctx, mergeSelect+` WHERE id = $1`, id)
	if err != nil {
		return Merge{}, fmt.Errorf("read merge %d: %w", id, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMerge)
	return m, notFound(err)
}

// Merges lists the merges into a customer, oldest first (by merge id),
// at most limit of them after merge id `after` (0 for the first page).
func Merges(ctx context.Context, db DB, keptID, after int64, limit int) ([]Merge, error) {
	rows, err := db.Query(ctx, mergeSelect+` WHERE kept_id = $1 AND id > $2 ORDER BY id LIMIT $3`, keptID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list merges into %d: %w", keptID, err)
	}
	return pgx.CollectRows(rows, scanMerge)
}

const mergeSelect = `SELECT id, kept_id, merged_id, merged_by, merged_at, merged_customer, moved FROM customer_merges`

func scanMerge(row pgx.CollectableRow) (Merge, error) {
	var m Merge
	err := row.Scan(&m.ID, &m.KeptID, &m.MergedID, &m.MergedBy, &m.MergedAt, &m.Merged, &m.Moved)
	m.Moved = nonNilLists(m.Moved) // an older row lacks the lists added since
	return m, err
}

// Redirect returns the live customer a merged id now answers as, and the
// merge that made it so; ok is false when id was never merged.
func Redirect(ctx context.Context, db DB, id int64) (into, mergeID int64, ok bool, err error) {
	return redirect(ctx, db, id)
}

func redirect(ctx context.Context, db DB, id int64) (into, mergeID int64, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT new_id, merge_id FROM customer_redirects WHERE old_id = $1`, id).Scan(&into, &mergeID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("redirect of customer %d: %w", id, err)
	}
	return into, mergeID, true, nil
}

// gone explains why a customer is missing: merged, or never there.
func gone(ctx context.Context, db DB, id int64) error {
	into, _, ok, err := redirect(ctx, db, id)
	switch {
	case err != nil:
		return err
	case ok:
		return &MergedError{ID: id, Into: into}
	}
	return ErrNotFound
}

// customerRecord reads customer id as a merge or a removal records it.
func customerRecord(ctx context.Context, db DB, id int64) (MergedCustomer, error) {
	var c MergedCustomer
	var autoKey *string
	err := db.QueryRow(ctx, `
		SELECT name, coalesce(grade, ''), coalesce(owner, ''), phone, country, auto_created, auto_key, created_at,
			coalesce((SELECT array_agg(domain ORDER BY domain) FROM customer_domains WHERE customer_id = $1), '{}')
		FROM customers WHERE id = $1`, id).Scan(
		&c.Name, &c.Grade, &c.Owner, &c.Phone, &c.Country, &c.AutoCreated, &autoKey, &c.CreatedAt, &c.Domains)
	if err != nil {
		return c, fmt.Errorf("read customer %d: %w", id, err)
	}
	if autoKey != nil {
		c.AutoKey = *autoKey
	}
	if c.Contacts, err = contactsOf(ctx, db, id); err != nil {
		return c, err
	}
	return c, nil
}

func contactsOf(ctx context.Context, db DB, id int64) ([]MovedContact, error) {
	rows, err := db.Query(ctx, `SELECT email, name, learned FROM contacts WHERE customer_id = $1 ORDER BY email`, id)
	if err != nil {
		return nil, fmt.Errorf("contacts of %d: %w", id, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[MovedContact])
}

// minus returns the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

// nonNilLists turns nil lists into empty ones, so that the audit JSON lists
// every key ("events_moved": []) whatever moved.
func nonNilLists(m Moved) Moved {
	if m.EventsMoved == nil {
		m.EventsMoved = []int64{}
	}
	if m.EventsCollapsed == nil {
		m.EventsCollapsed = []CollapsedEvent{}
	}
	if m.DomainsMoved == nil {
		m.DomainsMoved = []string{}
	}
	if m.DomainsAlready == nil {
		m.DomainsAlready = []string{}
	}
	if m.ContactsMoved == nil {
		m.ContactsMoved = []MovedContact{}
	}
	if m.ContactsAlready == nil {
		m.ContactsAlready = []string{}
	}
	if m.FieldsFilled == nil {
		m.FieldsFilled = map[string]string{}
	}
	if m.Redirects == nil {
		m.Redirects = []int64{}
	}
	if m.OwnerChangesMoved == nil {
		m.OwnerChangesMoved = []int64{}
	}
	return m
}
