package timeline_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// Re-matching removes a customer created from mail once its mail is gone,
// with its record kept in customer_removals, but never one that a person
// has edited, handed over or given an owner history.
func TestDropEmptyAutoCustomers(t *testing.T) {
	d := newDB(t)
	const amy = "amy@ourco.example"
	auto := func(domain string) (id, msg int64) {
		t.Helper()
		id, _, err := timeline.EnsureAuto(d.ctx, d.store.Pool, "domain:"+domain, domain, amy)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := timeline.LearnContact(d.ctx, d.store.Pool, id, timeline.Contact{Email: "li@" + domain, Name: "Li Wei"}); err != nil {
			t.Fatal(err)
		}
		return id, d.message(domain, "li@"+domain, id)
	}
	untouched, m1 := auto("untouched.example")
	graded, m2 := auto("graded.example")
	handed, m3 := auto("handed.example")
	legacy, m4 := auto("legacy.example")

	grade := "B"
	if err := d.store.InTx(d.ctx, func(tx pgx.Tx) error {
		return timeline.UpdateCustomer(d.ctx, tx, graded, timeline.CustomerPatch{Grade: &grade}, "api", "manager-token")
	}); err != nil {
		t.Fatal(err)
	}
	d.setOwner(handed, amy, "bob@ourco.example", "cli", "boss")
	// An owner change recorded before customers had edited_at.
	if _, err := d.store.Pool.Exec(d.ctx, `INSERT INTO owner_changes (customer_id, old_owner, new_owner, via) VALUES ($1, $2, 'bob@ourco.example', 'api')`, legacy, amy); err != nil {
		t.Fatal(err)
	}

	// Re-matching takes every message off its customer.
	var dropped []int64
	err := d.store.InTx(d.ctx, func(tx pgx.Tx) error {
		stored, err := timeline.LoadStored(d.ctx, tx, []int64{m1, m2, m3, m4})
		if err != nil {
			return err
		}
		var lost []int64
		for i := range stored {
			r, err := timeline.ApplyRematch(d.ctx, tx, &stored[i], nil, timeline.QuoteDetails{}, "unmatched", "", "in")
			if err != nil {
				return err
			}
			lost = append(lost, r.Lost...)
		}
		dropped, err = timeline.DropEmptyAutoCustomers(d.ctx, tx, lost)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, []int64{untouched}) {
		t.Errorf("dropped %v, want only the untouched customer %d", dropped, untouched)
	}
	for _, id := range []int64{graded, handed, legacy} {
		if _, err := timeline.GetCustomer(d.ctx, d.store.Pool, id); err != nil {
			t.Errorf("touched customer %d: %v", id, err)
		}
	}
	if n := d.count(`SELECT count(*) FROM owner_changes WHERE customer_id = ANY($1)`, []int64{handed, legacy}); n != 2 {
		t.Errorf("%d owner changes left on the kept customers, want 2", n)
	}

	// The removed customer's record.
	if _, err := timeline.GetCustomer(d.ctx, d.store.Pool, untouched); err == nil {
		t.Errorf("untouched customer %d still exists", untouched)
	}
	rs, err := timeline.CustomerRemovals(d.ctx, d.store.Pool, untouched)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("removals of %d = %+v, want one", untouched, rs)
	}
	r := rs[0]
	c := r.Customer
	if r.CustomerID != untouched || r.Reason != timeline.RemovedByRematch || r.RemovedAt.IsZero() ||
		c.Name != "untouched.example" || c.Owner != amy || !c.AutoCreated || c.AutoKey != "domain:untouched.example" ||
		!slices.Equal(c.Domains, []string{"untouched.example"}) ||
		!slices.Equal(c.Contacts, []timeline.MovedContact{{Email: "li@untouched.example", Name: "Li Wei", Learned: true}}) {
		t.Errorf("removal = %+v", r)
	}
	if n := d.count(`SELECT count(*) FROM customer_removals`); n != 1 {
		t.Errorf("%d removals, want 1", n)
	}
}
