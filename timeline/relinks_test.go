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
