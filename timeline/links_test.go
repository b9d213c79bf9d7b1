package timeline_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// An inquiry links to the first quote after it in its own thread, else to
// the next quote to the same customer; the first outbound event after it
// is its reply. Links follow mail that arrives out of order.
func TestInquiryQuoteLink(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	other := f.customer("Other", "B", amy)

	// Thread 1: inquiry day 0, "we will quote" day 0 12:00, quote day 3.
	// Meanwhile a quote in another thread on day 2.
	i1 := f.one(mail{msgid: "i1", subject: "RFQ panel", at: day(0), kind: timeline.KindInquiry, customers: []int64{buyer}})
	ack := f.one(mail{msgid: "ack1", inReplyTo: []string{"i1"}, subject: "Re: RFQ panel", at: day(0, 12), dir: "out", customers: []int64{buyer}})
	q2 := f.one(mail{msgid: "q2", subject: "Quotation bulbs", at: day(2), dir: "out", kind: timeline.KindQuote, customers: []int64{buyer}})
	// The quote to another customer never links to buyer's inquiry.
	f.one(mail{msgid: "qx", inReplyTo: []string{"i1"}, subject: "Re: RFQ panel", at: day(1), dir: "out", kind: timeline.KindQuote, customers: []int64{other}})
	i1 = f.event(i1.ID)
	if i1.QuoteEventID == nil || *i1.QuoteEventID != q2.ID {
		t.Fatalf("before the thread's own quote: quote link %v, want the next quote to the customer %d", i1.QuoteEventID, q2.ID)
	}
	if i1.ReplyEventID == nil || *i1.ReplyEventID != ack.ID || !i1.RepliedAt.Equal(day(0, 12)) {
		t.Fatalf("reply link %v at %v, want %d at %v", i1.ReplyEventID, i1.RepliedAt, ack.ID, day(0, 12))
	}
	q1 := f.one(mail{msgid: "q1", inReplyTo: []string{"ack1"}, refs: []string{"i1", "ack1"}, subject: "Re: RFQ panel",
		at: day(3), dir: "out", kind: timeline.KindQuote, customers: []int64{buyer}})
	i1 = f.event(i1.ID)
	if i1.QuoteEventID == nil || *i1.QuoteEventID != q1.ID || !i1.QuotedAt.Equal(day(3)) {
		t.Fatalf("quote link %v, want the same thread's quote %d although a quote came earlier", i1.QuoteEventID, q1.ID)
	}

	// An inquiry whose quote was stored first (another rep's mailbox
	// synced earlier) still links to it.
	q3 := f.one(mail{msgid: "q3", inReplyTo: []string{"i3"}, subject: "Re: RFQ tube", at: day(6), dir: "out", kind: timeline.KindQuote, customers: []int64{buyer}})
	i3 := f.one(mail{msgid: "i3", subject: "RFQ tube", at: day(5), kind: timeline.KindInquiry, customers: []int64{buyer}})
	if i3.QuoteEventID == nil || *i3.QuoteEventID != q3.ID || i3.ReplyEventID == nil || *i3.ReplyEventID != q3.ID {
		t.Fatalf("late inquiry: quote %v reply %v, want %d for both", i3.QuoteEventID, i3.ReplyEventID, q3.ID)
	}

	// An inquiry nobody answered has no links; quotes and emails never do.
	i4 := f.one(mail{msgid: "i4", subject: "RFQ strip", at: day(8), kind: timeline.KindInquiry, customers: []int64{buyer}})
	for _, e := range []timeline.Event{i4, f.event(q1.ID), f.event(ack.ID)} {
		if e.QuoteEventID != nil || e.ReplyEventID != nil {
			t.Errorf("event %d (%s) has links %v %v", e.ID, e.Kind, e.QuoteEventID, e.ReplyEventID)
		}
	}

	// Open inquiries per thread: only i4's thread has one.
	ts, err := timeline.CustomerThreads(f.ctx, f.s.Pool, buyer, timeline.ThreadCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, th := range ts {
		if th.OpenInquiry != nil {
			open++
			if th.OpenInquiry.EventID != i4.ID {
				t.Errorf("open inquiry %d, want %d", th.OpenInquiry.EventID, i4.ID)
			}
		}
	}
	if open != 1 {
		t.Errorf("%d threads with an open inquiry, want 1", open)
	}

	// A quote in another thread more than QuoteWindow later answers
	// something else.
	i5 := f.one(mail{msgid: "i5", subject: "RFQ lamp", at: day(20), kind: timeline.KindInquiry, customers: []int64{buyer}})
	f.one(mail{msgid: "q5", subject: "Quotation spots", at: day(20).Add(timeline.QuoteWindow + time.Hour), dir: "out", kind: timeline.KindQuote, customers: []int64{buyer}})
	if i5 = f.event(i5.ID); i5.QuoteEventID != nil || i5.ReplyEventID == nil {
		t.Fatalf("inquiry beyond the window: quote %v reply %v, want no quote and a reply", i5.QuoteEventID, i5.ReplyEventID)
	}
}

// The export carries the new fields.
func TestExportLinks(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	i := f.one(mail{msgid: "i", subject: "RFQ", at: day(0), kind: timeline.KindInquiry, customers: []int64{buyer}})
	q := f.one(mail{msgid: "q", inReplyTo: []string{"i"}, subject: "Re: RFQ", at: day(1), dir: "out", kind: timeline.KindQuote,
		customers: []int64{buyer}, quote: timeline.QuoteDetails{Ref: "QT-1", Currency: "USD", Amount: "1250.50"}})
	got := map[int64]timeline.ExportEvent{}
	err := timeline.ExportEvents(f.ctx, f.s.Pool, func(x timeline.ExportEvent) error { got[x.EventID] = x; return nil })
	if err != nil {
		t.Fatal(err)
	}
	xi, xq := got[i.ID], got[q.ID]
	if xi.ThreadID == nil || xq.ThreadID == nil || *xi.ThreadID != *xq.ThreadID {
		t.Fatalf("thread ids %v %v", xi.ThreadID, xq.ThreadID)
	}
	if xi.QuoteEventID == nil || *xi.QuoteEventID != q.ID || xi.RepliedAt == nil || !xi.RepliedAt.Equal(day(1)) {
		t.Fatalf("inquiry export %+v", xi)
	}
	if xq.QuoteRef == nil || *xq.QuoteRef != "QT-1" || *xq.Currency != "USD" || *xq.Amount != 1250.50 {
		t.Fatalf("quote export ref %v currency %v amount %v", xq.QuoteRef, xq.Currency, xq.Amount)
	}
	if xi.QuoteRef != nil || xi.KindManual != nil {
		t.Fatalf("inquiry has quote details or a correction: %+v", xi)
	}
}

// A price list Bcc'd to a buyer: its INBOX copy is stored first, without
// the Bcc line; the Sent copy then adds the Bcc'd buyer's event, which
// carries what the quote states like the first.
func TestCopyAddsQuoteDetails(t *testing.T) {
	f := newFx(t)
	to, bcc := f.customer("Acme", "B", amy), f.customer("Bolt", "B", amy)
	details := timeline.QuoteDetails{Ref: "PL-7", Currency: "EUR", Amount: "980.50"}
	price := mail{msgid: "pl7", subject: "Price list", at: day(1), dir: "out", kind: timeline.KindQuote,
		customers: []int64{to}, quote: details}
	f.save(price)
	price.customers = []int64{to, bcc}
	evs := f.save(price)
	got := map[int64]timeline.ExportEvent{}
	err := timeline.ExportEvents(f.ctx, f.s.Pool, func(x timeline.ExportEvent) error { got[x.EventID] = x; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for c, e := range evs {
		x := got[e.ID]
		if x.QuoteRef == nil || *x.QuoteRef != "PL-7" || x.Currency == nil || *x.Currency != "EUR" || x.Amount == nil || *x.Amount != 980.50 {
			t.Errorf("customer %d's quote event: ref %v currency %v amount %v", c, x.QuoteRef, x.Currency, x.Amount)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want one each for Acme and Bolt", len(evs))
	}
}

// Two records of one buyer, the inquiry on one and the rep's quote on the
// other: after the merge, the inquiry is quoted, and no pending link is
// left for the merged id.
func TestMergeRelinks(t *testing.T) {
	f := newFx(t)
	keep := f.customer("Acme", "B", amy)
	from := f.customer("Acme Trading", "B", amy)
	i := f.one(mail{msgid: "mi1", subject: "RFQ panel", at: day(0), kind: timeline.KindInquiry, customers: []int64{keep}})
	q := f.one(mail{msgid: "mq1", inReplyTo: []string{"mi1"}, subject: "Re: RFQ panel", at: day(1), dir: "out", kind: timeline.KindQuote, customers: []int64{from}})
	f.exec(`INSERT INTO pending_links (customer_id, min_at, max_at) VALUES ($1, $2, $2)`, from, day(1))
	if e := f.event(i.ID); e.QuoteEventID != nil {
		t.Fatalf("quoted before the merge: %v", e.QuoteEventID)
	}
	err := f.s.InTx(f.ctx, func(tx pgx.Tx) error {
		_, err := timeline.MergeCustomers(f.ctx, tx, keep, from, "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := f.event(i.ID); e.QuoteEventID == nil || *e.QuoteEventID != q.ID || e.ReplyEventID == nil {
		t.Errorf("after the merge: quote %v reply %v, want %d", e.QuoteEventID, e.ReplyEventID, q.ID)
	}
	var n int
	if err := f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM pending_links WHERE customer_id = $1`, from).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d pending links left for the merged customer", n)
	}
}
