package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/matcher"
	"github.com/mailtrail/mailtrail/timeline"
)

// pipe is a pipeline over a fresh database, fed directly (no IMAP): the
// matching and re-matching rules do not depend on how mail arrives.
type pipe struct {
	t     *testing.T
	ctx   context.Context
	cfg   *config.Config
	store *timeline.Store
	p     *ingest.Pipeline
	uid   uint32
}

func newPipe(t *testing.T, edit func(*config.Config)) *pipe {
	t.Helper()
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	cfg := &config.Config{
		Database:    config.Database{URL: url},
		Meilisearch: config.Meilisearch{URL: "http://127.0.0.1:1"},
		Company:     config.Company{Name: "Our Co", Domains: []string{"ourco.example"}},
		Reps: []config.Rep{
			{Email: amy, IMAP: config.IMAP{Host: "127.0.0.1", Password: "x"}},
			{Email: bob, IMAP: config.IMAP{Host: "127.0.0.1", Password: "x"}},
		},
	}
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	return &pipe{t: t, ctx: ctx, cfg: cfg, store: store,
		p: ingest.NewPipeline(cfg, store, classify.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

// save stores raw as found in mailbox/folder, the matcher reloaded first
// as a sync pass does.
func (p *pipe) save(mailbox, folder, raw string) int64 {
	p.t.Helper()
	if err := p.p.Reload(p.ctx); err != nil {
		p.t.Fatal(err)
	}
	p.uid++
	pr := p.p.Prepare([]byte(strings.ReplaceAll(raw, "\n", "\r\n")), mailbox, folder)
	var id int64
	err := p.store.InTx(p.ctx, func(tx pgx.Tx) error {
		rs, err := p.p.SaveBatch(p.ctx, tx, []*ingest.Prepared{pr}, []*timeline.Location{{Rep: mailbox, Folder: folder, UIDValidity: 1, UID: p.uid}}, nil)
		if len(rs) == 1 {
			id = rs[0].MessageID
		}
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// on returns the names of the customers a message's events are on, and
// its noise.
func (p *pipe) on(msg int64) string {
	p.t.Helper()
	var names []string
	var noise string
	err := p.store.Pool.QueryRow(p.ctx, `
		SELECT coalesce(array_agg(c.name ORDER BY c.name) FILTER (WHERE c.id IS NOT NULL), '{}'), coalesce(m.noise, '')
		FROM messages m LEFT JOIN events e ON e.message_id = m.id LEFT JOIN customers c ON c.id = e.customer_id
		WHERE m.id = $1 GROUP BY m.noise`, msg).Scan(&names, &noise)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(names) == 0 {
		return "noise=" + noise
	}
	return strings.Join(names, "+")
}

func (p *pipe) count(sql string, args ...any) int {
	p.t.Helper()
	var n int
	if err := p.store.Pool.QueryRow(p.ctx, sql, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (p *pipe) importCSV(csv string) timeline.ImportReport {
	p.t.Helper()
	rows, err := timeline.ReadCustomerFile(strings.NewReader(csv))
	if err != nil {
		p.t.Fatal(err)
	}
	rep, err := p.store.ImportCustomers(p.ctx, rows, timeline.ImportOptions{Normalize: matcher.Normalize, Domain: matcher.CustomerDomain, FreeMail: p.p.FreeMail})
	if err != nil || len(rep.Errors) > 0 {
		p.t.Fatalf("import: %v %v", err, rep.Errors)
	}
	return rep
}

func (p *pipe) maintain() ingest.Maintained {
	p.t.Helper()
	m, err := p.p.Maintain(p.ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

// Mail synced before the customer list was imported ends on the right
// timelines once it is: customers created from mail are taken over, and
// every message is matched again, forwards and Bcc'd recipients included.
func TestRematchAfterLateImport(t *testing.T) {
	p := newPipe(t, nil)
	inquiry := p.save(amy, "INBOX", mail("Li Wei <li@sales.acme.example>", amy, "RFQ LED panel", "rfq@acme.example",
		"Dear Amy, please quote 2,000 pcs LED panel 600x600."))
	// The price list: the INBOX copy (Amy Cc'd herself) has no Bcc line; the
	// Sent copy, saved later, reveals the Bcc'd buyer.
	priceList := mail("Amy <"+amy+">", "li@sales.acme.example", "Price list 2026", "pl@ourco.example",
		"Dear customer, please find our price list: LED panel USD 9.17/pc FOB Ningbo.", "Cc: "+amy)
	p.save(amy, "INBOX", priceList)
	pl := p.save(amy, "Sent", strings.Replace(priceList, "Cc: "+amy, "Cc: "+amy+"\nBcc: ken@pacrim.example", 1))
	forward := p.save(amy, "INBOX", mail("Bob <"+bob+">", amy, "Fwd: RFQ high bay", "fwd@ourco.example",
		"Amy, please handle.\n\n---------- Forwarded message ---------\nFrom: Jim Cole <jim@au.pacrim.example>\n"+
			"Date: Mon, 2 Mar 2026\nSubject: RFQ high bay\nTo: "+bob+"\n\nPlease quote 300 pcs LED high bay 150W.\n"))
	direct := p.save(amy, "INBOX", mail("Jim Cole <jim@au.pacrim.example>", amy, "Samples", "samples@au.pacrim.example",
		"Hi Amy, the samples arrived, thanks."))
	spam := p.save(amy, "INBOX", mail("Brightline Electrical Accounts <accounts@brightlime.example>", amy, "Invoice overdue",
		"spam@brightlime.example", "Please pay the attached invoice to our new bank account."))

	// Before the list: customers from mail, named after the domain.
	for msg, want := range map[int64]string{inquiry: "Acme", pl: "Acme+Pacrim", forward: "Pacrim", direct: "Pacrim", spam: "Brightlime"} {
		if got := p.on(msg); got != want {
			t.Errorf("before import: message %d on %s, want %s", msg, got, want)
		}
	}
	var owner string
	p.store.Pool.QueryRow(p.ctx, `SELECT owner FROM customers WHERE auto_key = 'domain:acme.example'`).Scan(&owner)
	if owner != amy {
		t.Errorf("owner of a customer from mail = %q, want the rep who first corresponded, %s", owner, amy)
	}
	if p.count(`SELECT count(*) FROM contacts WHERE email = 'jim@au.pacrim.example' AND name = 'Jim Cole' AND learned`) != 1 {
		t.Errorf("a new address at a known customer's domain was not recorded with its display name")
	}

	p.store.Pool.Exec(p.ctx, `DELETE FROM search_outbox`)
	rep := p.importCSV(`name,domains,emails,grade,owner,phone,country
Acme Corp,acme.example,,A,` + bob + `,,Germany
Pacific Rim Lighting Corp,pacrim.example,,B,,,Canada
Pacific Rim Lighting (Australia) Pty Ltd,au.pacrim.example,,C,,,Australia
Brightline Electrical Ltd,brightline.example,,A,,,UK
`)
	if len(rep.TakenOver) != 2 {
		t.Errorf("took over %d customers from mail, want 2 (Acme, Pacrim)", len(rep.TakenOver))
	}
	m := p.maintain()
	for msg, want := range map[int64]string{
		inquiry: "Acme Corp",
		pl:      "Acme Corp+Pacific Rim Lighting Corp",
		forward: "Pacific Rim Lighting (Australia) Pty Ltd", // the most specific domain, through the forward
		direct:  "Pacific Rim Lighting (Australia) Pty Ltd", // a learned contact does not pin it to the parent
		spam:    "noise=suspicious",                         // a look-alike once the real customer is known
	} {
		if got := p.on(msg); got != want {
			t.Errorf("after import: message %d on %s, want %s", msg, got, want)
		}
	}
	if m.Rematch.Added != 2 || m.Rematch.Removed != 3 || m.Rematch.Messages != 5 || m.Rematch.CustomersDropped != 1 {
		t.Errorf("maintenance = %+v (rematch %+v)", m, m.Rematch)
	}
	// The customer made from the phisher's mail is gone with its mail; it
	// would otherwise be offered as a duplicate of the real one.
	if n := p.count(`SELECT count(*) FROM customers WHERE auto_key = 'domain:brightlime.example'`); n != 0 {
		t.Errorf("the look-alike's customer from mail is still there")
	}
	if n := p.count(`SELECT count(*) FROM customer_removals WHERE customer->>'auto_key' = 'domain:brightlime.example'`); n != 1 {
		t.Errorf("the removed customer left %d records in customer_removals, want 1", n)
	}
	// Every change reached the search outbox: a delete per removed event,
	// an upsert per added or moved one.
	if got := p.count(`SELECT count(*) FROM search_outbox WHERE op = 'delete'`); got != 3 {
		t.Errorf("outbox deletes = %d, want 3", got)
	}
	if got := p.count(`SELECT count(*) FROM search_outbox WHERE op = 'upsert'`); got < 2 {
		t.Errorf("outbox upserts = %d, want the 2 added events at least", got)
	}

	// Matching again changes nothing, and nothing was duplicated.
	st, err := p.p.Rematch(p.ctx)
	if err != nil || st.Added+st.Removed+st.NoiseChanged != 0 || st.Messages != 5 {
		t.Errorf("second rematch = %+v, %v", st, err)
	}
	if got := p.count(`SELECT count(*) FROM (SELECT message_id, customer_id FROM events GROUP BY 1, 2 HAVING count(*) > 1) d`); got != 0 {
		t.Errorf("%d duplicated events", got)
	}
}

// With matching.require_reply, a new buyer's mail waits until a rep has
// written to them, then goes on the timeline of the customer the reply
// created, owned by the replying rep.
func TestRequireReply(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.RequireReply = true })
	p.importCSV("name,domains,emails,grade,owner,phone,country\nAcme Corp,acme.example,,A,,,\n")
	known := p.save(amy, "INBOX", mail("li@acme.example", amy, "Hello", "known@acme.example", "Hi Amy"))
	cold := p.save(amy, "INBOX", mail("Sam <sam@shopfitsydney.com.au>", amy, "RFQ", "cold@shopfitsydney.com.au",
		"Please quote 500 pcs LED downlight."))
	juan := p.save(amy, "INBOX", mail("Juan Pérez <juanp@gmail.com>", amy, "Cotización", "juan@gmail.com",
		"Por favor envíe su lista de precios."))
	if got := p.on(known); got != "Acme Corp" {
		t.Errorf("mail from a known customer: %s", got)
	}
	for _, msg := range []int64{cold, juan} {
		if got := p.on(msg); got != "noise=pending_reply" {
			t.Errorf("cold mail %d: %s, want pending_reply", msg, got)
		}
	}
	if n := p.count(`SELECT count(*) FROM customers WHERE auto_created`); n != 0 {
		t.Fatalf("%d customers created before any reply", n)
	}

	reply := p.save(bob, "Sent", mail("Bob <"+bob+">", "sam@shopfitsydney.com.au", "Re: RFQ", "reply@ourco.example",
		"Dear Sam, thanks, we will quote tomorrow.", "In-Reply-To: <cold@shopfitsydney.com.au>"))
	if got := p.on(reply); got != "Shopfitsydney" {
		t.Errorf("reply on %s, want a new customer Shopfitsydney", got)
	}
	var owner string
	var auto bool
	p.store.Pool.QueryRow(p.ctx, `SELECT owner, auto_created FROM customers WHERE name = 'Shopfitsydney'`).Scan(&owner, &auto)
	if owner != bob || !auto {
		t.Errorf("Shopfitsydney: owner %q auto_created %v, want %s, true", owner, auto, bob)
	}
	p.maintain()
	if got := p.on(cold); got != "Shopfitsydney" {
		t.Errorf("after the reply, the cold mail is on %s", got)
	}
	if got := p.on(juan); got != "noise=pending_reply" {
		t.Errorf("a buyer nobody answered: %s", got)
	}
	p.save(amy, "Sent", mail("Amy <"+amy+">", "juanp@gmail.com", "Re: Cotización", "re-juan@ourco.example", "Hola Juan, le enviaremos la lista."))
	p.maintain()
	if got := p.on(juan); got != "Juan Pérez" {
		t.Errorf("free-mail buyer after the reply: %s, want a customer named after the display name", got)
	}
	if n := p.count(`SELECT count(*) FROM pending_replies`); n != 0 {
		t.Errorf("%d pending rows left", n)
	}
}

// The auto-creation policy: all, corporate (domains only), off.
func TestAutoCreatePolicy(t *testing.T) {
	for _, tc := range []struct{ policy, corporate, freeMail string }{
		{"all", "Newco", "Pat Lee"},
		{"corporate", "Newco", "noise=unmatched"},
		{"off", "noise=unmatched", "noise=unmatched"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			p := newPipe(t, func(c *config.Config) { c.Matching.AutoCreate = tc.policy })
			corp := p.save(amy, "INBOX", mail("buyer@newco.example", amy, "Hello", "a@newco.example", "Hi Amy"))
			free := p.save(amy, "INBOX", mail("Pat Lee <pat.lee@gmail.com>", amy, "Hello", "b@gmail.com", "Hi Amy"))
			if got := p.on(corp); got != tc.corporate {
				t.Errorf("corporate sender: %s, want %s", got, tc.corporate)
			}
			if got := p.on(free); got != tc.freeMail {
				t.Errorf("free-mail sender: %s, want %s", got, tc.freeMail)
			}
			// An import later puts the unmatched mail on its customer.
			p.importCSV("name,domains,emails,grade,owner,phone,country\nNewco GmbH,newco.example,pat.lee@gmail.com,,,,\n")
			p.maintain()
			for _, msg := range []int64{corp, free} {
				if got := p.on(msg); got != "Newco GmbH" {
					t.Errorf("after import: %s", got)
				}
			}
		})
	}
}

// A change of the matching config (here a new supplier, and a domain
// added to the free-mail list) matches the stored mail again on the next
// pass; an unchanged config queues nothing.
func TestConfigChangeRematches(t *testing.T) {
	p := newPipe(t, nil)
	if n, err := p.p.CheckConfig(p.ctx); err != nil || n != 0 {
		t.Fatalf("first check on an empty store: %d, %v", n, err)
	}
	factory := p.save(amy, "INBOX", mail("sales@factory.example", amy, "Our quotation", "q@factory.example", "USD 1.20/pc"))
	webmail := p.save(amy, "INBOX", mail("Kim <kim@webmail.example>", amy, "Hello", "h@webmail.example", "Hi Amy"))
	if got := p.on(factory) + " " + p.on(webmail); got != "Factory Webmail" {
		t.Fatalf("before: %s", got)
	}
	if n, _ := p.p.CheckConfig(p.ctx); n != 0 {
		t.Errorf("unchanged config queued %d messages", n)
	}

	p.cfg.Suppliers = []config.Supplier{{Name: "Factory", Domains: []string{"factory.example"}}}
	p.cfg.Matching.FreeMailAdd = []string{"webmail.example"}
	p.p = ingest.NewPipeline(p.cfg, p.store, classify.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := p.p.CheckConfig(p.ctx); err != nil || n != 2 {
		t.Fatalf("changed config queued %d, %v; want both messages", n, err)
	}
	p.maintain()
	if got := p.on(factory); got != "noise=supplier" {
		t.Errorf("mail from a new supplier: %s", got)
	}
	if got := p.on(webmail); got != "Kim" {
		t.Errorf("mail from a new free-mail domain: %s, want a customer for the address named Kim", got)
	}
	if n := p.count(`SELECT count(*) FROM customers WHERE name IN ('Factory', 'Webmail')`); n != 0 {
		t.Errorf("%d customers made from mail that is now supplier or free-mail mail are left", n)
	}
}

// matching.freemail_file replaces the embedded list, and a change of it
// (another file, or the same file edited, at the next start) matches the
// stored mail again, as freemail_add does.
func TestFreeMailFileChangeRematches(t *testing.T) {
	p := newPipe(t, nil)
	p.p.CheckConfig(p.ctx)
	webmail := p.save(amy, "INBOX", mail("Kim <kim@webmail.example>", amy, "Hello", "h@webmail.example", "Hi Amy"))
	gmail := p.save(amy, "INBOX", mail("Li <li.lighting@gmail.com>", amy, "RFQ", "rfq@gmail.com", "Please quote."))
	if got := p.on(webmail) + " " + p.on(gmail); got != "Webmail Li" {
		t.Fatalf("before: %s", got)
	}
	file := t.TempDir() + "/freemail.txt"
	restart := func(list string) int {
		t.Helper()
		if err := os.WriteFile(file, []byte(list), 0o600); err != nil {
			t.Fatal(err)
		}
		p.cfg.Matching.FreeMailFile = file
		if err := p.cfg.Finish(); err != nil {
			t.Fatal(err)
		}
		p.p = ingest.NewPipeline(p.cfg, p.store, classify.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		n, err := p.p.CheckConfig(p.ctx)
		if err != nil {
			t.Fatal(err)
		}
		p.maintain()
		return n
	}
	if n := restart("# ours\nwebmail.example\n"); n != 2 {
		t.Errorf("a free-mail file queued %d messages, want both", n)
	}
	if got := p.on(webmail); got != "Kim" {
		t.Errorf("mail from a domain of the file: %s, want a customer for the address named Kim", got)
	}
	if p.p.FreeMail("gmail.com") {
		t.Errorf("gmail.com is free-mail although the file replaces the embedded list")
	}
	if n := restart("# ours\nwebmail.example\ngmail.com\n"); n != 2 {
		t.Errorf("the edited file queued %d messages, want both", n)
	}
	if n := restart("# ours\nwebmail.example\ngmail.com\n"); n != 0 {
		t.Errorf("an unchanged file queued %d messages", n)
	}
}

// A new buyer's mail and the rep's reply in one batch (a first sync that
// reads INBOX and Sent together, an import): the mail waits, and the reply
// that creates the customer releases it, as when they come in two passes.
func TestRequireReplyInOneBatch(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.RequireReply = true })
	if err := p.p.Reload(p.ctx); err != nil {
		t.Fatal(err)
	}
	cold := mail("Sam <sam@shopfitsydney.com.au>", amy, "RFQ", "cold@shopfitsydney.com.au", "Please quote 500 pcs LED downlight.")
	reply := mail("Amy <"+amy+">", "sam@shopfitsydney.com.au", "Re: RFQ", "reply@ourco.example",
		"Dear Sam, thanks, we will quote tomorrow.", "In-Reply-To: <cold@shopfitsydney.com.au>")
	var prs []*ingest.Prepared
	var locs []*timeline.Location
	for i, m := range []struct{ raw, folder string }{{cold, "INBOX"}, {reply, "Sent"}} {
		prs = append(prs, p.p.Prepare([]byte(strings.ReplaceAll(m.raw, "\n", "\r\n")), amy, m.folder))
		locs = append(locs, &timeline.Location{Rep: amy, Folder: m.folder, UIDValidity: 1, UID: uint32(i + 1)})
	}
	var rs []timeline.SaveResult
	err := p.store.InTx(p.ctx, func(tx pgx.Tx) error {
		var err error
		rs, err = p.p.SaveBatch(p.ctx, tx, prs, locs, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p.maintain()
	if got := p.on(rs[0].MessageID); got != "Shopfitsydney" {
		t.Errorf("the cold mail saved with its reply is on %q, want the customer the reply created", got)
	}
	if n := p.count(`SELECT count(*) FROM pending_replies`); n != 0 {
		t.Errorf("%d pending rows left", n)
	}
}

// A customer created from mail is owned by the rep who wrote to it first,
// whatever order the mail is saved in (a first sync reads newest first,
// reps in parallel); once a person sets the owner, mail no longer moves it.
func TestAutoCustomerOwnerIsFirstRep(t *testing.T) {
	p := newPipe(t, nil)
	dated := func(raw, date string) string {
		return strings.Replace(raw, "Date: Mon, 2 Mar 2026 10:00:00 +0800", "Date: "+date, 1)
	}
	owner := func() string {
		t.Helper()
		var o string
		if err := p.store.Pool.QueryRow(p.ctx, `SELECT coalesce(owner, '') FROM customers WHERE auto_key = 'domain:newco.example'`).Scan(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	p.save(bob, "INBOX", dated(mail("buyer@newco.example", bob, "Order", "late@newco.example", "Hi Bob"), "Thu, 5 Mar 2026 10:00:00 +0800"))
	if o := owner(); o != bob {
		t.Fatalf("owner after bob's mail: %q", o)
	}
	p.save(amy, "INBOX", dated(mail("buyer@newco.example", amy, "Hello", "early@newco.example", "Hi Amy"), "Sun, 1 Mar 2026 10:00:00 +0800"))
	if o := owner(); o != amy {
		t.Errorf("owner after amy's earlier mail was saved: %q, want amy, who wrote first", o)
	}

	var id int64
	p.store.Pool.QueryRow(p.ctx, `SELECT id FROM customers WHERE auto_key = 'domain:newco.example'`).Scan(&id)
	if _, err := timeline.SetOwner(p.ctx, p.store.Pool, id, amy, bob, "api", "manager"); err != nil {
		t.Fatal(err)
	}
	p.save(amy, "INBOX", dated(mail("buyer@newco.example", amy, "Hello again", "earliest@newco.example", "Hi Amy"), "Sat, 28 Feb 2026 10:00:00 +0800"))
	if o := owner(); o != bob {
		t.Errorf("owner set by a manager, then mail saved: %q, want bob", o)
	}
}

// Re-matching creates customers from mail too (here when auto-creation is
// turned on): their owner is also the rep who wrote first, though the mail
// is matched again in the order it was stored.
func TestRematchAutoCustomerOwnerIsFirstRep(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.AutoCreate = "off" })
	dated := func(raw, date string) string {
		return strings.Replace(raw, "Date: Mon, 2 Mar 2026 10:00:00 +0800", "Date: "+date, 1)
	}
	late := p.save(bob, "INBOX", dated(mail("buyer@newco.example", bob, "Order", "late@newco.example", "Hi Bob"), "Thu, 5 Mar 2026 10:00:00 +0800"))
	p.save(amy, "INBOX", dated(mail("buyer@newco.example", amy, "Hello", "early@newco.example", "Hi Amy"), "Sun, 1 Mar 2026 10:00:00 +0800"))
	if got := p.on(late); got != "noise=unmatched" {
		t.Fatalf("with auto-creation off: %s", got)
	}
	p.cfg.Matching.AutoCreate = "corporate"
	p.p = ingest.NewPipeline(p.cfg, p.store, classify.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n, err := p.p.CheckConfig(p.ctx); err != nil || n != 2 {
		t.Fatalf("config change queued %d, %v", n, err)
	}
	p.maintain()
	var owner string
	if err := p.store.Pool.QueryRow(p.ctx, `SELECT coalesce(owner, '') FROM customers WHERE auto_key = 'domain:newco.example'`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner != amy {
		t.Errorf("owner of the customer re-matching created: %q, want amy, who wrote first", owner)
	}
}

// A customer domain stored as a web site (www.acme.example, before writes
// dropped the www.) still matches the company's mail at acme.example.
func TestStoredWWWDomainMatches(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.AutoCreate = "off" })
	var id int64
	if err := p.store.Pool.QueryRow(p.ctx, `INSERT INTO customers (name) VALUES ('Newco GmbH') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.Pool.Exec(p.ctx, `INSERT INTO customer_domains (customer_id, domain) VALUES ($1, 'www.newco.example')`, id); err != nil {
		t.Fatal(err)
	}
	msg := p.save(amy, "INBOX", mail("buyer@newco.example", amy, "Hello", "www-1@newco.example", "Hi Amy"))
	if got := p.on(msg); got != "Newco GmbH" {
		t.Errorf("mail at newco.example: %s, want on Newco GmbH (domain stored as www.newco.example)", got)
	}
}

// A quote matched again onto a customer (the list imported after the mail)
// carries what it states, as it would have had it matched at first.
func TestRematchedQuoteKeepsItsFigures(t *testing.T) {
	p := newPipe(t, func(c *config.Config) { c.Matching.AutoCreate = "off" })
	msg := p.save(amy, "Sent", mail(amy, "buyer@newco.example", "Quotation QT-2026-0107 LED panel", "qt-107@ourco.example",
		"Dear buyer,\nplease find our quotation QT-2026-0107 for LED panel 600x600 40W, 500 pcs.\nTotal amount: USD 6,250.00 FOB Ningbo.\nAmy"))
	if got := p.on(msg); got != "noise=unmatched" {
		t.Fatalf("before the import: %s", got)
	}
	p.importCSV("name,domains,emails,grade,owner,phone,country\nNewco GmbH,newco.example,,B,,,\n")
	p.maintain()
	var kind, ref, currency, amount string
	err := p.store.Pool.QueryRow(p.ctx, `SELECT kind, coalesce(quote_ref, ''), coalesce(currency, ''), coalesce(amount::text, '')
		FROM events WHERE message_id = $1`, msg).Scan(&kind, &ref, &currency, &amount)
	if err != nil {
		t.Fatal(err)
	}
	if kind != "quote" || ref != "QT-2026-0107" || currency != "USD" || amount != "6250.00" {
		t.Errorf("re-matched quote event: kind %q ref %q currency %q amount %q; want quote QT-2026-0107 USD 6250.00", kind, ref, currency, amount)
	}
}
