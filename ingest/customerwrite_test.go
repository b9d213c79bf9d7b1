package ingest_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// A customer created or edited by a person (POST and PATCH
// /api/v1/customers call timeline.CreateCustomer and UpdateCustomer in one
// transaction, as here) moves the stored mail it concerns once the daemon
// drains the re-match queue: mail on no customer goes to the customer
// that now lists its address, a customer created from mail at a domain
// now listed is taken over, a removed address sends its mail back, and
// the duplicate scan is due after each write.
func TestRematchAfterCustomerWrite(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.AutoCreate = "corporate" })
	fromMail := p.save(amy, "INBOX", mail("Li Wei <li@acme.example>", amy, "RFQ", "rfq@acme.example", "Please quote 2,000 pcs LED panel."))
	gmail := p.save(amy, "INBOX", mail("Ken <ken.pacrim@gmail.com>", amy, "Samples", "samples@gmail.com", "The samples arrived."))
	yahoo := p.save(amy, "INBOX", mail("Jo <jo.brightline@yahoo.com>", amy, "Catalogue", "cat@yahoo.com", "Please send your catalogue."))
	if got, want := p.on(fromMail)+" "+p.on(gmail)+" "+p.on(yahoo), "Acme noise=unmatched noise=unmatched"; got != want {
		t.Fatalf("before: %s, want %s", got, want)
	}
	p.maintain()

	write := func(f func(tx pgx.Tx) error) {
		t.Helper()
		if err := p.store.InTx(p.ctx, f); err != nil {
			t.Fatal(err)
		}
		if dirty, err := timeline.DuplicatesDirty(p.ctx, p.store.Pool); err != nil || !dirty {
			t.Errorf("duplicate scan not due after the write (%v)", err)
		}
		// The write records what it concerns; the daemon finds the mail.
		if p.count(`SELECT count(*) FROM rematch_concerns`) == 0 {
			t.Errorf("nothing recorded for re-matching after the write")
		}
		p.maintain()
		if n := p.count(`SELECT count(*) FROM rematch_concerns`) + p.count(`SELECT count(*) FROM rematch_queue`); n != 0 {
			t.Errorf("%d concerns or queued messages left after the daemon's turn", n)
		}
	}
	var id int64
	write(func(tx pgx.Tx) (err error) {
		id, err = timeline.CreateCustomer(p.ctx, tx, timeline.CustomerInput{Name: "Acme Corp", Domains: []string{"other.example"},
			Contacts: []timeline.Contact{{Email: "jo.brightline@yahoo.com", Name: "Jo"}}}, "api", "test")
		return err
	})
	if got := p.on(yahoo); got != "Acme Corp" {
		t.Errorf("after POST: the listed address's mail on %s", got)
	}
	write(func(tx pgx.Tx) error {
		domains := []string{"other.example", "acme.example"}
		contacts := []timeline.Contact{{Email: "ken.pacrim@gmail.com", Name: "Ken"}}
		return timeline.UpdateCustomer(p.ctx, tx, id, timeline.CustomerPatch{Domains: &domains, Contacts: &contacts}, "api", "test")
	})
	for msg, want := range map[int64]string{fromMail: "Acme Corp", gmail: "Acme Corp", yahoo: "noise=unmatched"} {
		if got := p.on(msg); got != want {
			t.Errorf("after PATCH: message %d on %s, want %s", msg, got, want)
		}
	}
	if n := p.count(`SELECT count(*) FROM customer_merges WHERE kept_id = $1 AND merged_by = 'api:test'`, id); n != 1 {
		t.Errorf("%d audited take-overs of the customer created from mail, want 1", n)
	}
	write(func(tx pgx.Tx) error {
		contacts := []timeline.Contact{}
		return timeline.UpdateCustomer(p.ctx, tx, id, timeline.CustomerPatch{Contacts: &contacts}, "api", "test")
	})
	if got := p.on(gmail); got != "noise=unmatched" {
		t.Errorf("after removing the address: its mail on %s", got)
	}
}
