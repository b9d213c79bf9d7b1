package timeline_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// Two reps' batches that save mail of two customers in opposite orders,
// interleaved, both commit at the first attempt: links are computed at the
// end of each batch, customers locked in id order. (Locking each customer
// as its message was saved deadlocked here, and again on every retry.)
func TestBatchesInOppositeOrdersDoNotDeadlock(t *testing.T) {
	f := newFx(t)
	a, b := f.customer("Acme", "B", amy), f.customer("Bolt", "B", bob)
	captured := func(rep string, n int, kind, dir string, cust int64) *timeline.Captured {
		key := fmt.Sprintf("dl:%s:%d", rep, n)
		return &timeline.Captured{
			DedupKey: key, ContentHash: key, Subject: "RFQ " + key, SentAt: day(n), Direction: dir,
			From: []message.Address{{Email: "x@example.com"}}, Size: 10, Raw: []byte("Subject: x\r\n\r\nx\r\n"),
			Events: []timeline.NewEvent{{CustomerID: cust, Kind: kind, Direction: dir, Rep: rep, OccurredAt: day(n), Rule: "t", Confidence: 1}},
		}
	}
	firstSaved := make(chan struct{}, 2)
	bothFirst := make(chan struct{})
	errs := make(chan error, 2)
	batch := func(rep string, order []int64) {
		signaled := false
		defer func() { // a failed first save must not leave the test waiting
			if !signaled {
				firstSaved <- struct{}{}
			}
		}()
		tx, err := f.s.Pool.Begin(f.ctx)
		if err != nil {
			errs <- err
			return
		}
		defer tx.Rollback(f.ctx)
		var l timeline.Relinks
		for i, cust := range order {
			if i == 1 {
				firstSaved <- struct{}{}
				signaled = true
				<-bothFirst
			}
			kind, dir := timeline.KindInquiry, "in"
			if rep == bob {
				kind, dir = timeline.KindQuote, "out"
			}
			if _, err := timeline.SaveUnlinked(f.ctx, tx, captured(rep, i+1, kind, dir, cust), nil, &l, nil); err != nil {
				errs <- err
				return
			}
		}
		if err := l.Flush(f.ctx, tx); err != nil {
			errs <- err
			return
		}
		errs <- tx.Commit(f.ctx)
	}
	go batch(amy, []int64{a, b})
	go batch(bob, []int64{b, a})
	<-firstSaved
	<-firstSaved
	close(bothFirst)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a batch failed: %v", err)
		}
	}
	// Whichever committed second linked across both batches: Acme's day-1
	// inquiry to Acme's day-2 quote; Bolt's day-2 inquiry came after
	// Bolt's day-1 quote, so it stays open.
	rows, err := f.s.Pool.Query(f.ctx, `SELECT customer_id FROM events WHERE kind = 'inquiry' AND quote_event_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	linked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != 1 || linked[0] != a {
		t.Errorf("inquiries linked to a quote are of customers %v, want [%d] (Acme)", linked, a)
	}
}

// TestDeferredLinks: a backfill's batches (mail older than what is stored)
// with Relinks.Defer, then FlushPendingLinks, leave every inquiry with the
// links that linking each batch in full gives. Before the flush, the
// links of inquiries stored before wait in pending_links; new inquiries
// are linked at once.
func TestDeferredLinks(t *testing.T) {
	type msg struct {
		key, kind, dir, ref string
		cust, day           int
	}
	// Two customers' mail over 60 days, saved newest first in batches of
	// five, inbound and outbound in turns as a backfill of INBOX and Sent
	// goes, the Sent folder lagging behind.
	var in, out []msg
	for d := 59; d >= 0; d-- {
		cust := d % 2
		switch {
		case d%3 == 0:
			out = append(out, msg{key: fmt.Sprintf("q%d", d), kind: timeline.KindQuote, dir: "out", cust: cust, day: d,
				ref: fmt.Sprintf("i%d", d-1)})
		case d%5 == 0:
			out = append(out, msg{key: fmt.Sprintf("o%d", d), kind: timeline.KindEmail, dir: "out", cust: cust, day: d})
		default:
			in = append(in, msg{key: fmt.Sprintf("i%d", d), kind: timeline.KindInquiry, dir: "in", cust: cust, day: d})
		}
	}
	var batches [][]msg
	for i, j := 0, 0; i < len(in) || j < len(out); i, j = i+5, j+3 {
		batches = append(batches, in[min(i, len(in)):min(i+5, len(in))], out[min(j, len(out)):min(j+3, len(out))])
	}
	t.Parallel()
	links := func(deferred bool) map[string]string {
		f := openFx(t)
		custs := []int64{f.customer("Acme", "B", amy), f.customer("Bolt", "B", amy)}
		for bi, b := range batches {
			var cs []*timeline.Captured
			for _, m := range b {
				c := f.captured(mail{msgid: m.key + "@x", subject: "LED " + m.key, at: day(m.day), dir: m.dir, kind: m.kind,
					customers: []int64{custs[m.cust]}})
				if m.ref != "" {
					c.InReplyTo = []string{m.ref + "@x"}
				}
				cs = append(cs, c)
			}
			err := f.s.InTxRetry(f.ctx, func(tx pgx.Tx) error {
				l := timeline.Relinks{Defer: deferred}
				if _, err := timeline.SaveMany(f.ctx, tx, cs, make([]*timeline.Location, len(cs)), &l, nil); err != nil {
					return err
				}
				return l.Flush(f.ctx, tx)
			})
			if err != nil {
				t.Fatal(err)
			}
			if deferred && bi == 3 {
				var pending int
				f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM pending_links`).Scan(&pending)
				if pending == 0 {
					t.Error("no links pending after four deferred batches")
				}
			}
		}
		if deferred {
			n, err := timeline.FlushPendingLinks(f.ctx, f.s)
			if err != nil || n != 2 {
				t.Fatalf("FlushPendingLinks = %d, %v; want 2 customers", n, err)
			}
		}
		rows, err := f.s.Pool.Query(f.ctx, `
			SELECT m.message_id, coalesce(qm.message_id, '-') || ' ' || coalesce(rm.message_id, '-')
			FROM events e JOIN messages m ON m.id = e.message_id
			LEFT JOIN events q ON q.id = e.quote_event_id LEFT JOIN messages qm ON qm.id = q.message_id
			LEFT JOIN events r ON r.id = e.reply_event_id LEFT JOIN messages rm ON rm.id = r.message_id
			WHERE e.kind = 'inquiry'`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			got[k] = v
		}
		return got
	}
	want, got := links(false), links(true)
	if len(want) != len(in) {
		t.Fatalf("%d inquiries, want %d", len(want), len(in))
	}
	linked := 0
	for k, w := range want {
		if got[k] != w {
			t.Errorf("inquiry %s: links %q deferred, %q at once", k, got[k], w)
		}
		if w != "- -" {
			linked++
		}
	}
	if linked < len(in)/2 {
		t.Errorf("only %d of %d inquiries linked: the fixture tests little", linked, len(in))
	}
}
