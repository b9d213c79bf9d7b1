package handover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	amy = "amy@ourco.example"
	bob = "bob@ourco.example"
)

// world is a small book of business with a known answer, as of now:
//
//	Acme   A  amy  inquiry+quote+reply (reply Cc'd to bob), then an open inquiry;
//	               a quote after now must not close it
//	Dyna   A  amy  no mail at all
//	Bolt   B  amy  four quotes, no reply; only amy        (sole contact)
//	               (USD 750 and 11250, EUR 980.50, one without figures)
//	Cobalt C  bob  amy's inquiry, quoted by bob            (not owned, closed)
//	Fjord  -  amy  a customer's mail also in bob's mailbox (waiting on us)
//	Harbor -  -    amy's correspondent, nobody's customer  (sole contact)
//	Gale   -  amy  an old unquoted inquiry, before the period (sole contact)
//	Echo   -  bob  amy wrote once, two years ago           (not in the report)
type world struct {
	t     *testing.T
	ctx   context.Context
	store *timeline.Store
	ids   map[string]int64
	n     int
}

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	url := testenv.MigratedPostgres(t)
	store, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	w := &world{t: t, ctx: ctx, store: store, ids: map[string]int64{}}
	for _, c := range []struct{ name, grade, owner string }{
		{"Acme", "A", amy}, {"Dyna", "A", amy}, {"Bolt", "B", amy}, {"Cobalt", "C", bob},
		{"Fjord", "", amy}, {"Harbor", "", ""}, {"Gale", "", amy}, {"Echo", "", bob},
	} {
		w.customer(c.name, c.grade, c.owner)
	}
	// On file since New Year: Dyna, graded A and never written to, is due
	// a day later.
	if _, err := store.Pool.Exec(ctx, `UPDATE customers SET created_at = $1`, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	w.mail("Acme", amy, "in", "inquiry", "RFQ high bay", day(6, 1))
	w.quote("Acme", "Quotation high bay", day(6, 2), timeline.QuoteDetails{Ref: "QT-2026-0602", Currency: "USD", Amount: "5000.00"}) // answered
	w.mail("Acme", amy, "in", "email", "Re: Quotation high bay", day(6, 3), bob)
	w.mail("Acme", amy, "in", "inquiry", "RFQ panel", day(6, 20))
	w.mail("Acme", amy, "out", "quote", "Quotation panel", day(7, 5)) // after now
	w.quote("Bolt", "Quotation LED tubes", day(6, 20), timeline.QuoteDetails{Ref: "PI-88", Currency: "EUR", Amount: "980.50"})
	w.quote("Bolt", "Samples offer", day(6, 21), timeline.QuoteDetails{})
	w.quote("Bolt", "Quotation drivers", day(6, 22), timeline.QuoteDetails{Ref: "QT-2026-0622", Currency: "USD", Amount: "750.00"})
	w.quote("Bolt", "Price list 2026", day(6, 25), timeline.QuoteDetails{Ref: "QT-2026-0625", Currency: "USD", Amount: "11250.00"})
	w.mail("Acme", amy, "in", "email", "Re: visit", day(6, 27)) // another customer's answer does not answer Bolt's quote
	w.mail("Cobalt", amy, "in", "inquiry", "RFQ downlights", day(5, 1))
	w.mail("Cobalt", bob, "out", "quote", "Quotation downlights", day(5, 3))
	w.mail("Fjord", amy, "in", "email", "Order <script>alert(1)</script> & more", day(6, 28), bob)
	w.mail("Harbor", amy, "in", "email", "Hello from Harbor", day(6, 10))
	w.mail("Gale", amy, "in", "inquiry", "RFQ strip lights", time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC))
	w.mail("Echo", amy, "out", "email", "Catalogue", time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC))
	return w
}

// customer creates a customer with the domain name.example.
func (w *world) customer(name, grade, owner string) {
	w.t.Helper()
	id, _, _, err := timeline.UpsertCustomer(w.ctx, w.store.Pool, timeline.CustomerInput{
		Name: name, Grade: grade, Owner: owner, Domains: []string{strings.ToLower(name) + ".example"}})
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids[name] = id
}

// mail saves one message of customer's contact with rep, found in rep's
// mailbox and in the mailboxes of alsoIn.
func (w *world) mail(customer, rep, dir, kind, subject string, at time.Time, alsoIn ...string) {
	w.t.Helper()
	w.save(customer, rep, dir, kind, subject, at, timeline.QuoteDetails{}, alsoIn...)
}

// quote saves a quote of amy's to customer stating q.
func (w *world) quote(customer, subject string, at time.Time, q timeline.QuoteDetails) {
	w.t.Helper()
	w.save(customer, amy, "out", "quote", subject, at, q)
}

func (w *world) save(customer, rep, dir, kind, subject string, at time.Time, q timeline.QuoteDetails, alsoIn ...string) {
	w.t.Helper()
	w.n++
	buyer := message.Address{Name: "Buyer of " + customer, Email: "buyer@" + strings.ToLower(customer) + ".example"}
	from, to := []message.Address{buyer}, []message.Address{{Email: rep}}
	if dir == "out" {
		from, to = to, from
	}
	key := fmt.Sprintf("mid:%d@test", w.n)
	c := &timeline.Captured{DedupKey: key, ContentHash: key, MessageID: key, Subject: subject, SentAt: at,
		From: from, To: to, Body: subject, Size: 10, Direction: dir, Raw: []byte("x"), Quote: q,
		Events: []timeline.NewEvent{{CustomerID: w.ids[customer], Kind: kind, Direction: dir, Rep: rep, OccurredAt: at}}}
	for i, mailbox := range append([]string{rep}, alsoIn...) {
		if _, err := timeline.SaveMessage(w.ctx, w.store.Pool, c, &timeline.Location{Rep: mailbox, Folder: "INBOX", UIDValidity: 1, UID: uint32(w.n*10 + i)}); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) report() *Report {
	w.t.Helper()
	r, err := Build(w.ctx, w.store.Pool, Options{Rep: amy, Now: now})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func names(cs []Customer, keep func(Customer) bool) []string {
	var out []string
	for _, c := range cs {
		if keep(c) {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestReport(t *testing.T) {
	w := newWorld(t)
	r := w.report()
	all := func(Customer) bool { return true }
	if got, want := names(r.Customers, all), []string{"Acme", "Dyna", "Bolt", "Cobalt", "Fjord", "Harbor", "Gale"}; !slices.Equal(got, want) {
		t.Errorf("customers in order %v, want %v", got, want)
	}
	by := map[string]Customer{}
	for _, c := range r.Customers {
		by[c.Name] = c
	}
	subjects := func(items []Item) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Customer+": "+it.Subject)
		}
		return out
	}
	if got := subjects(r.Summary.OpenBusiness); !slices.Equal(got, []string{"Acme: RFQ panel",
		"Bolt: Quotation LED tubes", "Bolt: Samples offer", "Bolt: Quotation drivers", "Bolt: Price list 2026"}) {
		t.Errorf("open business %v", got)
	}
	// Quote numbers and totals: per currency, of the unanswered quotes
	// whose figures are known (not Samples offer, not Acme's answered one).
	var figures []string
	for _, q := range by["Bolt"].UnansweredQuotes {
		figures = append(figures, q.QuoteRef+" "+q.Currency+" "+q.Amount)
	}
	if want := []string{"PI-88 EUR 980.50", "  ", "QT-2026-0622 USD 750.00", "QT-2026-0625 USD 11250.00"}; !slices.Equal(figures, want) {
		t.Errorf("Bolt's quotes %q, want %q", figures, want)
	}
	if got, want := r.Summary.QuotedTotals, []Total{{"EUR", 980.5, 1}, {"USD", 12000, 2}}; !slices.Equal(got, want) {
		t.Errorf("quoted totals %+v, want %+v", got, want)
	}
	if got := names(r.Customers, func(c Customer) bool { return c.SoleContact }); !slices.Equal(got, []string{"Bolt", "Harbor", "Gale"}) {
		t.Errorf("sole contact %v", got)
	}
	// Follow-ups by the rule of timeline.Followups: graded customers only
	// (not Gale), from the last outbound mail as of now (not Acme's quote
	// of July), else from the customer's creation (Dyna).
	if got := names(r.Customers, func(c Customer) bool { return c.FollowUp != nil }); !slices.Equal(got, []string{"Acme", "Dyna", "Cobalt"}) {
		t.Errorf("follow-up overdue %v", got)
	}
	if f := by["Acme"].FollowUp; f == nil || f.CadenceDays != 1 || f.OverdueDays != 27 || f.LastContact == nil || !f.LastContact.Equal(day(6, 2)) {
		t.Errorf("Acme follow-up %+v (last outbound 06-02, daily cadence, as of 06-30)", f)
	}
	if f := by["Dyna"].FollowUp; f == nil || f.LastContact != nil || !f.DueAt.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Dyna follow-up %+v (never written to, on file since 01-01)", f)
	}
	// GET /api/v1/followups agrees, but for Acme: the live list counts the
	// July quote, the report as of 06-30 does not.
	list, err := timeline.Followups(w.ctx, w.store.Pool, timeline.DefaultPolicy(), now, "", timeline.Scope{}, timeline.FollowupCursor{}, timeline.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]time.Time{}
	for _, f := range list {
		live[f.Name] = f.DueAt
	}
	for _, c := range r.Customers {
		d, listed := live[c.Name]
		if c.Name == "Acme" {
			listed = !listed
		} else if listed && !c.FollowUp.DueAt.Equal(d) {
			t.Errorf("%s due %v in the report, %v in GET /followups", c.Name, c.FollowUp.DueAt, d)
		}
		if listed != (c.FollowUp != nil) {
			t.Errorf("%s: in GET /followups %v, overdue in the report %+v", c.Name, listed, c.FollowUp)
		}
	}
	// The cadence is the caller's (the config's followup.cadence): Bolt,
	// last written to on 06-25, is overdue if B means daily.
	fast := timeline.DefaultPolicy().Cadence
	fast["B"] = 24 * time.Hour
	r3, err := Build(w.ctx, w.store.Pool, Options{Rep: amy, Now: now, Cadence: fast})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(r3.Customers, func(c Customer) bool { return c.FollowUp != nil }); !slices.Equal(got, []string{"Acme", "Dyna", "Bolt", "Cobalt"}) {
		t.Errorf("with B daily, follow-up overdue %v", got)
	}
	if got := names(r.Customers, func(c Customer) bool { return c.OwnedByRep }); !slices.Equal(got, []string{"Acme", "Dyna", "Bolt", "Fjord", "Gale"}) {
		t.Errorf("owned %v", got)
	}
	s := r.Summary
	if s.Customers != 7 || s.Owned != 5 || s.OpenInquiries != 1 || s.UnansweredQuotes != 4 || s.AtRisk != 3 || s.OverdueFollowUps != 3 {
		t.Errorf("summary %+v", s)
	}
	acme := by["Acme"]
	if acme.LastInbound == nil || !acme.LastInbound.Equal(day(6, 27)) || !acme.LastOutbound.Equal(day(6, 2)) {
		t.Errorf("Acme last inbound %v outbound %v", acme.LastInbound, acme.LastOutbound)
	}
	if len(acme.KeyContacts) != 1 || acme.KeyContacts[0].Email != "buyer@acme.example" || acme.KeyContacts[0].Messages != 5 ||
		acme.KeyContacts[0].Name != "Buyer of Acme" {
		t.Errorf("Acme contacts %+v", acme.KeyContacts)
	}
	var threads []string
	for _, th := range acme.ActiveThreads {
		threads = append(threads, fmt.Sprintf("%s/%d/%v", th.Subject, th.Messages, th.WaitingOnUs))
	}
	if want := []string{"visit/1/true", "RFQ panel/1/true", "Quotation high bay/2/true", "RFQ high bay/1/false"}; !slices.Equal(threads, want) {
		t.Errorf("Acme threads %v, want %v", threads, want)
	}
	if by["Cobalt"].OwnedByRep || !slices.Equal(by["Cobalt"].OtherReps, []string{bob}) || len(by["Cobalt"].OpenInquiries) != 0 {
		t.Errorf("Cobalt %+v", by["Cobalt"])
	}
	for name, want := range map[string]string{
		"Acme":   `Quote the open inquiry "RFQ panel" from buyer@acme.example`,
		"Bolt":   `Chase the quote "Price list 2026" sent to buyer@bolt.example on 2026-06-25 (no reply for 5 days); introduce the new owner to buyer@bolt.example`,
		"Cobalt": "Follow up: last contact 2026-05-03",
		"Dyna":   "No mail captured",
		"Fjord":  `Reply to buyer@fjord.example about "Order <script>alert(1)</script> & more"`,
		"Gale":   "Nothing pending; no grade, so no follow-up is ever due: grade them; introduce the new owner to buyer@gale.example: nobody else here has corresponded with them.",
	} {
		if !strings.Contains(by[name].NextAction, want) {
			t.Errorf("%s next action %q, want it to contain %q", name, by[name].NextAction, want)
		}
	}
	// The period: a year before the two-year-old mail to Echo, Echo is in.
	r2, err := Build(w.ctx, w.store.Pool, Options{Rep: amy, Now: now, Months: 36})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names(r2.Customers, all), "Echo") || r2.Summary.OpenInquiries != 2 {
		t.Errorf("36 months: %v, %d open inquiries (Gale's old one too)", names(r2.Customers, all), r2.Summary.OpenInquiries)
	}
	// Bad options name the field.
	for _, o := range []Options{{Rep: "not an address"}, {Rep: amy, Months: 121}, {Rep: "Amy@OurCo.Example"}} {
		var ie *InputError
		if _, err := Build(w.ctx, w.store.Pool, o); !errors.As(err, &ie) {
			t.Errorf("%+v: %v, want an InputError", o, err)
		}
	}
}

func TestRender(t *testing.T) {
	w := newWorld(t)
	r := w.report()
	var md, page, js bytes.Buffer
	for f, buf := range map[string]*bytes.Buffer{FormatMarkdown: &md, FormatHTML: &page, FormatJSON: &js} {
		if err := Render(buf, r, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"# Handover: amy@ourco.example", "**7 customers** (5 owned)", "**1 open inquiry**",
		"## Open business", "- Inquiry · **Acme** · RFQ panel", "### 1. Acme · grade A", "Order \\<script\\>alert(1)\\</script\\> & more",
		"**Next:** Quote the open inquiry",
		// quote numbers and totals, where known
		"**4 unanswered quotes** (EUR 980.50) (USD 12000.00)",
		"- Quote · **Bolt** · Price list 2026 · 2026-06-25 (5 days) · QT-2026-0625, USD 11250.00\n",
		"- Quote · **Bolt** · Samples offer · 2026-06-21 (9 days)\n",
		"- Unanswered quote: Quotation LED tubes to buyer@bolt.example, 2026-06-20 (PI-88, EUR 980.50)\n",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "\n\n\n") {
		t.Errorf("markdown has runs of blank lines:\n%s", md.String())
	}
	h := page.String()
	for _, want := range []string{"<!DOCTYPE html>", "@media print", "Handover report: amy@ourco.example", html.EscapeString("Order <script>alert(1)</script> & more"), `<section class="customer" id="c`,
		"<b>4</b><span>unanswered quotes<br>EUR 980.50<br>USD 12000.00</span>",
		`<td>Price list 2026 <span class="muted">(QT-2026-0625, USD 11250.00)</span></td>`,
		`<td>Samples offer</td>`,
		`<li>Quotation drivers (QT-2026-0622, USD 750.00) <span class="muted">`} {
		if !strings.Contains(h, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("html has %q: it must be self-contained and script-free", bad)
		}
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary.OpenInquiries != 1 ||
		!slices.Equal(back.Summary.QuotedTotals, []Total{{"EUR", 980.5, 1}, {"USD", 12000, 2}}) ||
		back.Summary.OpenBusiness[4].QuoteRef != "QT-2026-0625" || back.Summary.OpenBusiness[4].Amount != "11250.00" ||
		!strings.Contains(js.String(), `"amount": "11250.00"`) {
		t.Errorf("json: %s", js.String())
	}
	var ie *InputError
	if err := Render(&bytes.Buffer{}, r, "pdf"); !errors.As(err, &ie) || ie.Field != "format" {
		t.Errorf("pdf: %v", err)
	}
}

func TestTransfer(t *testing.T) {
	w := newWorld(t)
	// Unowned customers amy corresponded with, beside Harbor (only amy):
	// Inlet, bob answered too; Jetty, amy's mail also sits in bob's
	// mailbox. Kiln is unowned and bob's alone: none of amy's business.
	w.customer("Inlet", "", "")
	w.customer("Jetty", "", "")
	w.customer("Kiln", "", "")
	w.mail("Inlet", amy, "in", "inquiry", "RFQ cable", day(6, 11))
	w.mail("Inlet", bob, "out", "quote", "Quotation cable", day(6, 12))
	w.mail("Jetty", amy, "in", "email", "Hello from Jetty", day(6, 13), bob)
	w.mail("Kiln", bob, "in", "email", "Hello from Kiln", day(6, 14))
	owners := func() map[string]string {
		out := map[string]string{}
		rows, _ := w.store.Pool.Query(w.ctx, `SELECT name, coalesce(owner, '') FROM customers`)
		defer rows.Close()
		for rows.Next() {
			var n, o string
			rows.Scan(&n, &o)
			out[n] = o
		}
		return out
	}
	audits := func() int {
		var n int
		w.store.Pool.QueryRow(w.ctx, `SELECT count(*) FROM owner_changes`).Scan(&n)
		return n
	}
	before := owners()
	moved := func(res *TransferResult) []string {
		var out []string
		for _, m := range res.Moves {
			out = append(out, m.Customer+">"+m.To)
		}
		return out
	}
	unowned := func(res *TransferResult) []string {
		var out []string
		for _, u := range res.LeftUnowned {
			out = append(out, u.Name+":"+strings.Join(u.OtherReps, ","))
		}
		return out
	}
	refs := func(rs []CustomerRef) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	// The unowned customers To takes are the report's unowned sole
	// contacts: one rule.
	var sole []string
	for _, c := range w.report().Customers {
		if c.SoleContact && c.Owner == "" {
			sole = append(sole, c.Name)
		}
	}
	if !slices.Equal(sole, []string{"Harbor"}) {
		t.Fatalf("the report's unowned sole contacts %v, want [Harbor]", sole)
	}
	// A dry run plans and changes nothing.
	res, err := Transfer(w.ctx, w.store, TransferRequest{From: amy, To: "Carol@OurCo.Example", DryRun: true, Via: "cli", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := moved(res); !slices.Equal(got, []string{"Acme>carol@ourco.example", "Dyna>carol@ourco.example", "Bolt>carol@ourco.example",
		"Fjord>carol@ourco.example", "Harbor>carol@ourco.example", "Gale>carol@ourco.example"}) || !res.DryRun {
		t.Errorf("dry run moves %v", got)
	}
	if got := unowned(res); !slices.Equal(got, []string{"Inlet:" + bob, "Jetty:" + bob}) || len(res.Kept) != 0 {
		t.Errorf("dry run left unowned %v, kept %v", got, res.Kept)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "carol@ourco.example has no captured mail") {
		t.Errorf("warnings %v", res.Warnings)
	}
	if fmt.Sprint(owners()) != fmt.Sprint(before) || audits() != 0 {
		t.Fatalf("dry run changed owners: %v", owners())
	}
	// Without To, amy's customers nobody names stay hers, and her unowned
	// sole contact is listed, not moved.
	res, err = Transfer(w.ctx, w.store, TransferRequest{From: amy, DryRun: true, Mapping: map[int64]string{w.ids["Bolt"]: bob}})
	if err != nil {
		t.Fatal(err)
	}
	if got, kept, left := moved(res), refs(res.Kept), unowned(res); !slices.Equal(got, []string{"Bolt>" + bob}) ||
		!slices.Equal(kept, []string{"Acme", "Dyna", "Fjord", "Gale"}) || !slices.Equal(left, []string{"Harbor:", "Inlet:" + bob, "Jetty:" + bob}) {
		t.Errorf("mapping alone: moves %v, kept %v, left unowned %v", got, kept, left)
	}
	// Errors name the field.
	for _, tc := range []struct {
		req   TransferRequest
		field string
	}{
		{TransferRequest{From: amy}, "to"},
		{TransferRequest{From: amy, To: amy}, "to"},
		{TransferRequest{From: "x", To: bob}, "rep"},
		{TransferRequest{From: amy, Mapping: map[int64]string{w.ids["Cobalt"]: "dave@ourco.example"}}, fmt.Sprintf("mapping.%d", w.ids["Cobalt"])},
		{TransferRequest{From: amy, Mapping: map[int64]string{w.ids["Kiln"]: bob}}, fmt.Sprintf("mapping.%d", w.ids["Kiln"])},
		{TransferRequest{From: amy, Mapping: map[int64]string{999: bob}}, "mapping.999"},
		{TransferRequest{From: amy, Mapping: map[int64]string{w.ids["Acme"]: "nobody"}}, fmt.Sprintf("mapping.%d", w.ids["Acme"])},
	} {
		var ie *InputError
		if _, err := Transfer(w.ctx, w.store, tc.req); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, want an error on %s", tc.req, err, tc.field)
		}
	}
	// Apply: the mapping wins for the customers it names; an unowned
	// correspondent others wrote to may be mapped too; To takes the unowned
	// sole contact.
	apply := TransferRequest{From: amy, To: bob, Via: "api", Actor: "manager-token",
		Mapping: map[int64]string{w.ids["Bolt"]: "dave@ourco.example", w.ids["Inlet"]: "dave@ourco.example"}}
	res, err = Transfer(w.ctx, w.store, apply)
	if err != nil {
		t.Fatal(err)
	}
	after := owners()
	for name, want := range map[string]string{"Acme": bob, "Dyna": bob, "Fjord": bob, "Gale": bob, "Bolt": "dave@ourco.example",
		"Harbor": bob, "Inlet": "dave@ourco.example", "Jetty": "", "Kiln": "", "Cobalt": bob, "Echo": bob} {
		if after[name] != want {
			t.Errorf("%s owned by %q, want %q", name, after[name], want)
		}
	}
	if audits() != 7 || len(res.Moves) != 7 || !slices.Equal(unowned(res), []string{"Jetty:" + bob}) {
		t.Errorf("%d audit rows, %d moves, left unowned %v; want 7, 7, [Jetty]", audits(), len(res.Moves), unowned(res))
	}
	changes, _ := timeline.OwnerChanges(w.ctx, w.store.Pool, w.ids["Bolt"])
	if len(changes) != 1 || changes[0] != (timeline.OwnerChange{CustomerID: w.ids["Bolt"], OldOwner: amy, NewOwner: "dave@ourco.example", Via: "api", Actor: "manager-token"}) {
		t.Errorf("Bolt's audit %+v", changes)
	}
	changes, _ = timeline.OwnerChanges(w.ctx, w.store.Pool, w.ids["Harbor"])
	if len(changes) != 1 || changes[0] != (timeline.OwnerChange{CustomerID: w.ids["Harbor"], OldOwner: "", NewOwner: bob, Via: "api", Actor: "manager-token"}) {
		t.Errorf("Harbor's audit %+v", changes)
	}
	// Again, the same request: nothing left to move, and the customers
	// the mapping moved are no error now that dave owns them.
	res, err = Transfer(w.ctx, w.store, apply)
	if err != nil || len(res.Moves) != 0 || audits() != 7 {
		t.Errorf("second transfer: %v %+v", err, res)
	}
	// Amy's mail is untouched: the report of the period still lists her
	// correspondents, now owned by others.
	r := w.report()
	if r.Summary.Owned != 0 || r.Summary.Customers != 7 { // Dyna and Gale: no mail of amy's in the period
		t.Errorf("after transfer: %+v", r.Summary)
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping([]string{"12=b@x.example", " 7 = c@x.example"})
	if err != nil || m[12] != "b@x.example" || m[7] != "c@x.example" {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"12", "x=b@x.example", "0=b@x.example", "12abc=b@x.example"} {
		if _, err := ParseMapping([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
