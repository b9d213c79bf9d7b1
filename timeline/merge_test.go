package timeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// db is one test's fresh database.
type db struct {
	t     testing.TB
	ctx   context.Context
	store *timeline.Store
}

func newDB(t *testing.T) *db { return newDBTB(t) }

func newDBTB(t testing.TB) *db {
	t.Helper()
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return &db{t: t, ctx: ctx, store: store}
}

func (d *db) customer(name string, domains []string, emails ...string) int64 {
	d.t.Helper()
	in := timeline.CustomerInput{Name: name, Domains: domains}
	for _, e := range emails {
		in.Contacts = append(in.Contacts, timeline.Contact{Email: e})
	}
	id, _, _, err := timeline.UpsertCustomer(d.ctx, d.store.Pool, in)
	if err != nil {
		d.t.Fatal(err)
	}
	return id
}

// message stores a message from `from` with one event per customer.
func (d *db) message(key, from string, customers ...int64) int64 {
	d.t.Helper()
	c := &timeline.Captured{
		DedupKey: "mid:" + key, ContentHash: key, MessageID: key, Subject: "about " + key,
		SentAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), From: []message.Address{{Email: from}},
		To: []message.Address{{Email: "amy@ourco.example"}}, Size: 10, Direction: "in", Raw: []byte("raw"),
	}
	for _, id := range customers {
		c.Events = append(c.Events, timeline.NewEvent{CustomerID: id, Kind: "email", Direction: "in",
			Rep: "amy@ourco.example", OccurredAt: c.SentAt})
	}
	if len(customers) == 0 {
		c.Noise = "unmatched"
	}
	r, err := timeline.SaveMessage(d.ctx, d.store.Pool, c, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return r.MessageID
}

func (d *db) count(sql string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.store.Pool.QueryRow(d.ctx, sql, args...).Scan(&n); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (d *db) ids(sql string, args ...any) []int64 {
	d.t.Helper()
	rows, err := d.store.Pool.Query(d.ctx, sql, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		d.t.Fatal(err)
	}
	return ids
}

func (d *db) setOwner(id int64, expect, owner, via, actor string) {
	d.t.Helper()
	if ok, err := timeline.SetOwner(d.ctx, d.store.Pool, id, expect, owner, via, actor); err != nil || !ok {
		d.t.Fatalf("SetOwner(%d, %s -> %s) = %v, %v", id, expect, owner, ok, err)
	}
}

func (d *db) merge(keep, from int64, by string) (timeline.Merge, error) {
	var m timeline.Merge
	err := d.store.InTx(d.ctx, func(tx pgx.Tx) error {
		var err error
		m, err = timeline.MergeCustomers(d.ctx, tx, keep, from, by)
		return err
	})
	return m, err
}

func TestMergeCustomers(t *testing.T) {
	d := newDB(t)
	keep := d.customer("Sunrise Trading LLC", []string{"sunrise-trading.ae"}, "rashid@sunrise-trading.ae")
	from := d.customer("Sunrise Trading L.L.C.", []string{"sunrise-trading.ae", "sunrise.ae"}, "accounts@sunrise-trading.ae", "rashid@sunrise-trading.ae")
	if _, err := d.store.Pool.Exec(d.ctx, `UPDATE customers SET phone = '+971 4 352 8811', grade = 'C' WHERE id = $1`, from); err != nil {
		t.Fatal(err)
	}
	m1 := d.message("m1", "rashid@sunrise-trading.ae", keep)
	m2 := d.message("m2", "accounts@sunrise-trading.ae", from)
	m3 := d.message("m3", "rashid@sunrise-trading.ae", keep, from) // both: collapses
	moved := d.ids(`SELECT id FROM events WHERE message_id = $1`, m2)
	collapsed := d.ids(`SELECT id FROM events WHERE message_id = $1 AND customer_id = $2`, m3, from)
	survivor := d.ids(`SELECT id FROM events WHERE message_id = $1 AND customer_id = $2`, m3, keep)
	d.store.Pool.Exec(d.ctx, `DELETE FROM search_outbox`)
	// The merged customer's owner history: a handover, then the API. The
	// kept customer has no owner: the merge gives it the merged one's.
	d.setOwner(from, "", "amy@ourco.example", "cli", "handover-user")
	d.setOwner(from, "amy@ourco.example", "bob@ourco.example", "api", "manager-token")
	history := d.ids(`SELECT id FROM owner_changes WHERE customer_id = $1 ORDER BY id`, from)

	m, err := d.merge(keep, from, "cli:tester")
	if err != nil {
		t.Fatal(err)
	}
	if m.Already || m.KeptID != keep || m.MergedID != from || m.MergedBy != "cli:tester" {
		t.Errorf("merge = %+v", m)
	}
	if !slices.Equal(m.Moved.EventsMoved, moved) {
		t.Errorf("events moved = %v, want %v", m.Moved.EventsMoved, moved)
	}
	wantCollapsed := []timeline.CollapsedEvent{{EventID: collapsed[0], MessageID: m3, Into: survivor[0]}}
	if !slices.Equal(m.Moved.EventsCollapsed, wantCollapsed) {
		t.Errorf("events collapsed = %+v, want %+v", m.Moved.EventsCollapsed, wantCollapsed)
	}
	if !slices.Equal(m.Moved.DomainsMoved, []string{"sunrise.ae"}) || !slices.Equal(m.Moved.DomainsAlready, []string{"sunrise-trading.ae"}) {
		t.Errorf("domains moved %v, already %v", m.Moved.DomainsMoved, m.Moved.DomainsAlready)
	}
	if len(m.Moved.ContactsMoved) != 1 || m.Moved.ContactsMoved[0].Email != "accounts@sunrise-trading.ae" ||
		!slices.Equal(m.Moved.ContactsAlready, []string{"rashid@sunrise-trading.ae"}) {
		t.Errorf("contacts moved %v, already %v", m.Moved.ContactsMoved, m.Moved.ContactsAlready)
	}
	if m.Moved.FieldsFilled["phone"] != "+971 4 352 8811" || m.Moved.FieldsFilled["grade"] != "C" ||
		m.Moved.FieldsFilled["owner"] != "bob@ourco.example" {
		t.Errorf("fields filled = %v", m.Moved.FieldsFilled)
	}
	if !slices.Equal(m.Moved.OwnerChangesMoved, history) {
		t.Errorf("owner changes moved = %v, want %v", m.Moved.OwnerChangesMoved, history)
	}
	// No owner change is lost: the merged customer's are the kept one's
	// now, naming where they were made, and the owner the merge gave the
	// kept customer has its own row.
	changes, err := timeline.OwnerChanges(d.ctx, d.store.Pool, keep)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []timeline.OwnerChange{
		{CustomerID: keep, NewOwner: "amy@ourco.example", Via: "cli", Actor: "handover-user", MergedFrom: from},
		{CustomerID: keep, OldOwner: "amy@ourco.example", NewOwner: "bob@ourco.example", Via: "api", Actor: "manager-token", MergedFrom: from},
		{CustomerID: keep, NewOwner: "bob@ourco.example", Via: "merge", Actor: "cli:tester"},
	}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("owner changes of the kept customer:\n got %+v\nwant %+v", changes, wantChanges)
	}
	if n := d.count(`SELECT count(*) FROM owner_changes`); n != 3 {
		t.Errorf("%d owner changes in all, want 3 (2 moved, 1 by the merge)", n)
	}
	if n := d.count(`SELECT count(*) FROM customers WHERE id = $1 AND edited_by = 'cli:tester' AND edited_at IS NOT NULL`, keep); n != 1 {
		t.Errorf("the kept customer is not marked as edited by the merge")
	}

	// The store agrees with the audit.
	if got := d.count(`SELECT count(*) FROM events WHERE customer_id = $1`, keep); got != 3 {
		t.Errorf("kept customer has %d events, want 3 (m1, m2 moved, m3 collapsed into one)", got)
	}
	if got := d.count(`SELECT count(*) FROM customers WHERE id = $1`, from); got != 0 {
		t.Errorf("merged customer still exists")
	}
	if got := d.count(`SELECT count(*) FROM events WHERE message_id = $1`, m3); got != 1 {
		t.Errorf("message m3 has %d events, want 1", got)
	}
	c, err := timeline.GetCustomer(d.ctx, d.store.Pool, keep)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "+971 4 352 8811" || c.Grade != "C" || !slices.Equal(c.Domains, []string{"sunrise-trading.ae", "sunrise.ae"}) ||
		!slices.Equal(c.Emails, []string{"accounts@sunrise-trading.ae", "rashid@sunrise-trading.ae"}) {
		t.Errorf("kept customer after merge = %+v", c)
	}
	// Outbox: an upsert per moved event, a delete per collapsed one.
	type row struct {
		EventID int64
		Op      string
	}
	rows, _ := d.store.Pool.Query(d.ctx, `SELECT event_id, op FROM search_outbox ORDER BY id`)
	outbox, _ := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	wantOutbox := []row{{collapsed[0], "delete"}, {moved[0], "upsert"}}
	if !slices.Equal(outbox, wantOutbox) {
		t.Errorf("outbox = %v, want %v", outbox, wantOutbox)
	}
	// The audit row as stored lists exactly what moved.
	var audit struct {
		Moved  timeline.Moved          `json:"moved"`
		Merged timeline.MergedCustomer `json:"merged"`
	}
	var movedJSON, mergedJSON []byte
	if err := d.store.Pool.QueryRow(d.ctx, `SELECT moved, merged_customer FROM customer_merges WHERE merged_id = $1`, from).Scan(&movedJSON, &mergedJSON); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(movedJSON, &audit.Moved)
	json.Unmarshal(mergedJSON, &audit.Merged)
	if !slices.Equal(audit.Moved.EventsMoved, moved) || len(audit.Moved.EventsCollapsed) != 1 ||
		!slices.Equal(audit.Moved.OwnerChangesMoved, history) ||
		audit.Merged.Name != "Sunrise Trading L.L.C." || len(audit.Merged.Contacts) != 2 || len(audit.Merged.Domains) != 2 {
		t.Errorf("stored audit: moved %s merged %s", movedJSON, mergedJSON)
	}
	// The messages of the kept customer are queued for re-matching.
	if got := d.ids(`SELECT message_id FROM rematch_queue ORDER BY message_id`); !slices.Equal(got, []int64{m1, m2, m3}) {
		t.Errorf("rematch queue = %v, want %v", got, []int64{m1, m2, m3})
	}

	// The old id redirects.
	into, mergeID, ok, err := timeline.Redirect(d.ctx, d.store.Pool, from)
	if err != nil || !ok || into != keep || mergeID != m.ID {
		t.Errorf("Redirect(%d) = %d, %d, %v, %v", from, into, mergeID, ok, err)
	}
	if _, _, ok, _ := timeline.Redirect(d.ctx, d.store.Pool, keep); ok {
		t.Errorf("the kept customer redirects")
	}

	// Merging twice is harmless: the same audit, nothing written.
	outboxBefore, mergesBefore := d.count(`SELECT count(*) FROM search_outbox`), d.count(`SELECT count(*) FROM customer_merges`)
	again, err := d.merge(keep, from, "api:someone-else")
	if err != nil || !again.Already || again.ID != m.ID || again.MergedBy != "cli:tester" || !slices.Equal(again.Moved.EventsMoved, moved) {
		t.Errorf("second merge = %+v, %v", again, err)
	}
	if d.count(`SELECT count(*) FROM search_outbox`) != outboxBefore || d.count(`SELECT count(*) FROM customer_merges`) != mergesBefore {
		t.Errorf("second merge wrote something")
	}

	// A chain: keep is merged into a third customer; the first redirect
	// follows, and merging the first id into keep now conflicts.
	third := d.customer("Sunrise Holding", []string{"sunrise-holding.ae"})
	m2nd, err := d.merge(third, keep, "cli:tester")
	if err != nil || !slices.Equal(m2nd.Moved.Redirects, []int64{from}) {
		t.Fatalf("chain merge = %+v, %v", m2nd.Moved, err)
	}
	if into, _, _, _ := timeline.Redirect(d.ctx, d.store.Pool, from); into != third {
		t.Errorf("redirect of %d = %d after the chain, want %d", from, into, third)
	}
	// The history follows the chain; each row still names the customer it
	// was made on.
	changes, _ = timeline.OwnerChanges(d.ctx, d.store.Pool, third)
	var origins []int64
	for _, c := range changes {
		origins = append(origins, c.MergedFrom)
	}
	if !slices.Equal(origins, []int64{from, from, keep, 0}) || changes[3].Via != "merge" {
		t.Errorf("owner changes of the third customer after the chain: %+v", changes)
	}
	var me *timeline.MergedError
	if _, err := d.merge(keep, from, "x"); !errors.As(err, &me) || me.ID != keep || me.Into != third {
		t.Errorf("merge into a merged customer: %v", err)
	}
	if _, err := d.merge(third, from, "x"); err != nil {
		t.Errorf("merge of an id already (transitively) merged into it: %v", err)
	}
	if _, err := d.merge(third, third, "x"); !errors.Is(err, timeline.ErrMergeSelf) {
		t.Errorf("merge into itself: %v", err)
	}
	if _, err := d.merge(third, 999999, "x"); !errors.Is(err, timeline.ErrNotFound) {
		t.Errorf("merge of an unknown id: %v", err)
	}
}

// A customer created from mail and merged away is not created again by
// late mail matched with a directory from before the merge, and an event
// saved for its old id lands on the kept customer.
func TestMergedAutoCustomerStaysMerged(t *testing.T) {
	d := newDB(t)
	auto, created, err := timeline.EnsureAuto(d.ctx, d.store.Pool, "domain:acme.example", "Acme", "amy@ourco.example")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	listed := d.customer("Acme Corp", []string{"acme.example"})
	if _, err := d.merge(listed, auto, "test"); err != nil {
		t.Fatal(err)
	}
	id, created, err := timeline.EnsureAuto(d.ctx, d.store.Pool, "domain:acme.example", "Acme", "amy@ourco.example")
	if err != nil || created || id != listed {
		t.Errorf("EnsureAuto after the merge = %d, %v, %v; want %d, not created", id, created, err, listed)
	}
	mid := d.message("late", "bob@acme.example", auto) // stale directory: the old id
	if got := d.ids(`SELECT customer_id FROM events WHERE message_id = $1`, mid); !slices.Equal(got, []int64{listed}) {
		t.Errorf("event saved for the merged id went to %v, want %d", got, listed)
	}
	if _, err := timeline.LearnContact(d.ctx, d.store.Pool, auto, timeline.Contact{Email: "bob@acme.example", Name: "Bob"}); err != nil {
		t.Errorf("learning a contact for the merged id: %v", err)
	}
	if d.count(`SELECT count(*) FROM contacts WHERE customer_id = $1 AND email = 'bob@acme.example' AND learned`, listed) != 1 {
		t.Errorf("contact learned for the merged id is not on the kept customer")
	}
}

func TestScanDuplicates(t *testing.T) {
	d := newDB(t)
	a := d.customer("Sunrise Trading LLC", []string{"sunrise-trading.ae"}, "rashid@sunrise-trading.ae")
	b := d.customer("Sunrise Trading L. L. C.", []string{"sunrise-trading.ae"}, "accounts@sunrise-trading.ae") // spaced initials
	c := d.customer("Hoffmann Lichttechnik GmbH", []string{"hoffmann-licht.de"}, "einkauf@hoffmann-licht.de")
	e := d.customer("Lichttechnik Hoffmann", []string{"hoffmann.example"}, "einkauf@hoffmann-licht.de") // shared contact
	f := d.customer("Lagos Brightpower", []string{"outlook.com"})
	g := d.customer("Other Outlook User Ltd", []string{"outlook.com"}) // free-mail domain: not evidence
	h := d.customer("深圳市光明照明有限公司", nil)
	i := d.customer("深圳市光明照明", nil)
	j := d.customer("Phone One", nil)
	k := d.customer("Phone Two", nil)
	d.store.Pool.Exec(d.ctx, `UPDATE customers SET phone = '+49 89 2180 4471' WHERE id = $1`, j)
	d.store.Pool.Exec(d.ctx, `UPDATE customers SET phone = '089 2180-4471' WHERE id = $1`, k) // national form
	_ = g

	free := matcher.DefaultFreeMail().Contains
	res, err := timeline.ScanDuplicates(d.ctx, d.store.Pool, free)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 4 || res.Added != 4 || res.Removed != 0 {
		t.Errorf("scan = %+v, want 4 pairs added", res)
	}
	pairs, err := timeline.Duplicates(d.ctx, d.store.Pool, timeline.DuplicatesCursor{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]int64]string{}
	for _, p := range pairs {
		got[[2]int64{p.A.ID, p.B.ID}] = fmt.Sprintf("%.2f %v", p.Score, p.Reasons)
	}
	want := map[[2]int64]string{
		{a, b}: "0.96 [{same_domain sunrise-trading.ae} {same_name sunrisetrading}]",
		{c, e}: "0.90 [{shared_contact einkauf@hoffmann-licht.de}]",
		{h, i}: "0.60 [{same_name 深圳市光明照明}]",
		{j, k}: "0.50 [{same_phone 498921804471}]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pairs:\n got %v\nwant %v", got, want)
	}
	if pairs[0].A.ID != a || pairs[len(pairs)-1].A.ID != j {
		t.Errorf("pairs not by score: %v", pairs)
	}
	_ = f

	// Paging with a cursor gives the rest.
	first, _ := timeline.Duplicates(d.ctx, d.store.Pool, timeline.DuplicatesCursor{}, 2)
	last := first[1]
	rest, _ := timeline.Duplicates(d.ctx, d.store.Pool, timeline.DuplicatesCursor{Score: last.Score, A: last.A.ID, B: last.B.ID}, 50)
	if len(first) != 2 || len(rest) != 2 || rest[0].A.ID != h {
		t.Errorf("pages: %v then %v", first, rest)
	}

	// A scan over unchanged customers changes nothing; a merge removes the
	// pair it resolves.
	before := d.count(`SELECT count(*) FROM duplicate_candidates`)
	if res, err := timeline.ScanDuplicates(d.ctx, d.store.Pool, free); err != nil || res.Added+res.Changed+res.Removed != 0 || res.Pairs != before {
		t.Errorf("second scan = %+v, %v", res, err)
	}
	if _, err := d.merge(a, b, "test"); err != nil {
		t.Fatal(err)
	}
	if d.count(`SELECT count(*) FROM duplicate_candidates WHERE customer_a = $1`, a) != 0 {
		t.Errorf("the merged pair is still a candidate")
	}
	if dirty, _ := timeline.DuplicatesDirty(d.ctx, d.store.Pool); !dirty {
		t.Errorf("a merge does not call for a scan")
	}
	d.store.Pool.Exec(d.ctx, `UPDATE customers SET name = 'Hoffmann Licht' WHERE id = $1`, e)
	d.store.Pool.Exec(d.ctx, `DELETE FROM contacts WHERE customer_id = $1`, e)
	res, err = timeline.ScanDuplicates(d.ctx, d.store.Pool, free)
	if err != nil || res.Removed != 1 || res.Pairs != 2 {
		t.Errorf("scan after changes = %+v, %v; want the Hoffmann pair removed", res, err)
	}
	if dirty, _ := timeline.DuplicatesDirty(d.ctx, d.store.Pool); dirty {
		t.Errorf("still dirty after a scan")
	}
}

// A merge deletes the merged customer, and with it every row that
// references it ON DELETE CASCADE. Each such table must be one the merge
// moves (and lists in its audit row) or one that holds nothing but derived
// data; a new one fails here until MergeCustomers deals with it.
func TestMergeLeavesNothingToCascade(t *testing.T) {
	d := newDB(t)
	handled := map[string]string{
		"customer_domains":     "moved: Moved.DomainsMoved, DomainsAlready",
		"contacts":             "moved: Moved.ContactsMoved, ContactsAlready",
		"owner_changes":        "moved: Moved.OwnerChangesMoved, merged_from",
		"duplicate_candidates": "derived: the next duplicate scan rebuilds the pairs",
	}
	rows, err := d.store.Pool.Query(d.ctx, `
		SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
		WHERE contype = 'f' AND confrelid = 'customers'::regclass AND confdeltype = 'c'
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if _, ok := handled[table]; !ok {
			t.Errorf("%s references customers ON DELETE CASCADE: a merge would delete the merged customer's rows; move them in MergeCustomers and list them here", table)
		}
	}
	if len(tables) != len(handled) {
		t.Errorf("cascading tables = %v, want those of %v", tables, handled)
	}
}
