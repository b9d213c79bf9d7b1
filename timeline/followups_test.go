package timeline_test

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/timeline"
)

func TestWorkingTime(t *testing.T) {
	full := timeline.MondayToFriday()
	office := timeline.MondayToFriday()
	office.Start, office.End = 9*time.Hour, 18*time.Hour
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	shanghai := office
	shanghai.Loc = sh
	fri := day(4) // Friday 2025-03-07 00:00 UTC
	cases := []struct {
		name string
		w    timeline.WorkingTime
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"whole days: Friday 17:00 + 24h is Monday 17:00", full, fri.Add(17 * time.Hour), 24 * time.Hour, day(7, 17)},
		{"whole days: Saturday counts from Monday", full, day(5, 10), 24 * time.Hour, day(8)},
		{"office hours: Friday 17:00 + 2h is Monday 10:00", office, fri.Add(17 * time.Hour), 2 * time.Hour, day(7, 10)},
		{"office hours: before opening", office, day(1, 6), 3 * time.Hour, day(1, 12)},
		{"office hours: 24h is 2 days and 6 hours", office, day(0, 9), 24 * time.Hour, day(2, 15)},
		// 09:00-18:00 in Shanghai is 01:00-10:00 UTC.
		{"time zone", shanghai, day(0, 9), 2 * time.Hour, day(1, 2)},
	}
	for _, c := range cases {
		got := c.w.Add(c.from, c.d)
		if !got.Equal(c.want) {
			t.Errorf("%s: Add = %v, want %v", c.name, got.UTC(), c.want)
		}
		if b := c.w.Between(c.from, got); b != c.d {
			t.Errorf("%s: Between(from, Add) = %v, want %v", c.name, b, c.d)
		}
		// Sub is the other way: the latest start that has waited d by then.
		if s := c.w.Sub(got, c.d); c.w.Between(s, got) != c.d || s.Before(c.from) {
			t.Errorf("%s: Sub(Add) = %v, waited %v", c.name, s.UTC(), c.w.Between(s, got))
		}
	}
	if err := (timeline.WorkingTime{Loc: time.UTC, End: time.Hour}).Check(); err == nil {
		t.Error("a week with no working day passed Check")
	}
}

// Unanswered: no outbound event to the customer after the inquiry, and
// 24 working hours (Monday to Friday) gone by.
func TestUnansweredInquiries(t *testing.T) {
	f := newFx(t)
	acme := f.customer("Acme", "A", amy)
	beta := f.customer("Beta", "B", bob)
	p := timeline.DefaultPolicy()
	fri10 := day(4, 10)
	waiting := f.one(mail{msgid: "w", subject: "RFQ 1", at: fri10, kind: timeline.KindInquiry, customers: []int64{acme}})
	// A reply to Beta on Monday 08:00 answers both of Beta's inquiries.
	f.one(mail{msgid: "a", subject: "RFQ 2", at: fri10, kind: timeline.KindInquiry, customers: []int64{beta}, rep: bob})
	f.one(mail{msgid: "b", subject: "RFQ 3", at: day(3, 9), kind: timeline.KindInquiry, customers: []int64{beta}, rep: bob})
	f.one(mail{msgid: "a-re", inReplyTo: []string{"a"}, subject: "Re: RFQ 2", at: day(7, 8), dir: "out", customers: []int64{beta}, rep: bob})
	list := func(now time.Time, rep string) []timeline.UnansweredInquiry {
		t.Helper()
		l, _, err := timeline.UnansweredInquiries(f.ctx, f.s.Pool, p, now, day(-30), rep, timeline.Scope{}, timeline.UnansweredCursor{}, timeline.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	// Monday 09:00: Friday 10:00 has waited 14h + 9h = 23 working hours.
	if l := list(day(7, 9), ""); len(l) != 0 {
		t.Fatalf("Monday 09:00: %d unanswered, want 0: %+v", len(l), l)
	}
	// Monday 11:00: 25 working hours.
	l := list(day(7, 11), "")
	if len(l) != 1 || l[0].EventID != waiting.ID {
		t.Fatalf("Monday 11:00: %+v, want only %d", l, waiting.ID)
	}
	if !l[0].DueAt.Equal(day(7, 10)) || l[0].WaitingHours != 25 || l[0].Rep != amy || l[0].CustomerName != "Acme" {
		t.Fatalf("unanswered %+v", l[0])
	}
	if l := list(day(7, 11), bob); len(l) != 0 {
		t.Fatalf("bob's list: %+v, want empty", l)
	}
	_, counts, err := timeline.UnansweredInquiries(f.ctx, f.s.Pool, p, day(8, 12), day(-30), "", timeline.Scope{}, timeline.UnansweredCursor{}, timeline.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0] != (timeline.RepCount{Rep: amy, Count: 1}) {
		t.Fatalf("per rep %+v", counts)
	}
}

func TestFollowups(t *testing.T) {
	f := newFx(t)
	now := day(20, 12)
	a := f.customer("A overdue 1 day", "A", amy)
	b := f.customer("B overdue 3 days", "B", amy)
	c := f.customer("C not due", "C", amy)
	never := f.customer("D never written to", "D", amy)
	bobs := f.customer("B of bob", "B", bob)
	f.customer("no grade", "", amy)
	f.one(mail{msgid: "a1", subject: "hi", at: now.Add(-48 * time.Hour), dir: "out", customers: []int64{a}})
	f.one(mail{msgid: "a0", subject: "RFQ", at: now.Add(-50 * time.Hour), kind: timeline.KindInquiry, customers: []int64{a}})
	f.one(mail{msgid: "b1", subject: "hi", at: now.Add(-10 * 24 * time.Hour), dir: "out", customers: []int64{b}})
	// A buyer's mail is no touch: only outbound mail counts.
	f.one(mail{msgid: "b2", subject: "hello?", at: now.Add(-time.Hour), customers: []int64{b}})
	f.one(mail{msgid: "c1", subject: "hi", at: now.Add(-3 * 24 * time.Hour), dir: "out", customers: []int64{c}})
	f.one(mail{msgid: "x1", subject: "hi", at: now.Add(-20 * 24 * time.Hour), dir: "out", customers: []int64{bobs}, rep: bob})
	f.exec(`UPDATE customers SET created_at = $1`, now.Add(-40*24*time.Hour))

	got, err := timeline.Followups(f.ctx, f.s.Pool, timeline.DefaultPolicy(), now, amy, timeline.Scope{}, timeline.FollowupCursor{}, timeline.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Most overdue first: never written to (40 - 30 = 10 days), B (3 days), A (1 day).
	var ids []int64
	for _, x := range got {
		ids = append(ids, x.CustomerID)
	}
	if want := []int64{never, b, a}; !equal(ids, want) {
		t.Fatalf("follow-ups %v, want %v: %+v", ids, want, got)
	}
	if got[0].LastTouch != nil || got[0].OverdueHours != 240 {
		t.Errorf("never written to: %+v", got[0])
	}
	if got[1].OverdueHours != 72 || got[1].LastTouch == nil || got[1].LastTouch.DaysSince != 10 || got[1].CadenceHours != 168 {
		t.Errorf("B: %+v", got[1])
	}
	if got[2].OpenInquiry == nil || got[2].OpenInquiry.Subject != "RFQ" || got[1].OpenInquiry != nil {
		t.Errorf("open inquiries: A %+v, B %+v", got[2].OpenInquiry, got[1].OpenInquiry)
	}
	// A stricter cadence for C puts it on the list; bob's list has bob's customer.
	p := timeline.DefaultPolicy()
	p.Cadence["C"] = 48 * time.Hour
	got, err = timeline.Followups(f.ctx, f.s.Pool, p, now, "", timeline.Scope{}, timeline.FollowupCursor{}, timeline.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("all reps with C every 48h: %d follow-ups, want 5", len(got))
	}
	got, err = timeline.Followups(f.ctx, f.s.Pool, p, now, bob, timeline.Scope{}, timeline.FollowupCursor{}, timeline.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].CustomerID != bobs || got[0].OverdueHours != 13*24 {
		t.Fatalf("bob: %+v", got)
	}
}

func TestPublicPool(t *testing.T) {
	f := newFx(t)
	now := day(60)
	orphan := f.customer("Orphan", "C", "")
	idle := f.customer("Idle", "C", amy)
	busy := f.customer("Busy", "C", amy)
	others := f.customer("Written to by bob only", "C", amy)
	f.one(mail{msgid: "i1", subject: "x", at: now.Add(-40 * 24 * time.Hour), dir: "out", customers: []int64{idle}})
	f.one(mail{msgid: "b1", subject: "x", at: now.Add(-5 * 24 * time.Hour), dir: "out", customers: []int64{busy}})
	f.one(mail{msgid: "o1", subject: "x", at: now.Add(-2 * 24 * time.Hour), dir: "out", customers: []int64{others}, rep: bob})
	f.one(mail{msgid: "o0", subject: "x", at: now.Add(-31 * 24 * time.Hour), dir: "out", customers: []int64{orphan}, rep: bob})
	f.exec(`UPDATE customers SET created_at = $1`, now.Add(-100*24*time.Hour))

	pool := func(p timeline.Policy) map[int64]timeline.PoolEntry {
		t.Helper()
		l, err := timeline.PublicPool(f.ctx, f.s.Pool, p, now, timeline.Scope{}, 0, timeline.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]timeline.PoolEntry{}
		for _, e := range l {
			m[e.CustomerID] = e
		}
		return m
	}
	p := timeline.DefaultPolicy()
	if got := pool(p); len(got) != 1 || got[orphan].Reason != timeline.PoolNoOwner || got[orphan].IdleDays != 31 {
		t.Fatalf("release off: %+v, want only the orphan", got)
	}
	p.PoolReleaseAfter = 30 * 24 * time.Hour
	got := pool(p)
	if len(got) != 3 || got[idle].Reason != timeline.PoolOwnerInactive || got[idle].IdleDays != 40 ||
		got[others].Reason != timeline.PoolOwnerInactive || got[others].LastTouch != nil || got[others].IdleDays != 100 {
		t.Fatalf("release after 30 days: %+v", got)
	}
	if _, ok := got[busy]; ok {
		t.Fatal("a customer its owner wrote to 5 days ago is in the pool")
	}
}

// A rep sees the customers they own or corresponded with.
func TestRepCanSee(t *testing.T) {
	f := newFx(t)
	owned := f.customer("Owned by amy", "A", amy)
	written := f.customer("Bob's, written to by amy", "A", bob)
	hidden := f.customer("Bob's only", "A", bob)
	f.one(mail{msgid: "w", subject: "x", at: day(0), customers: []int64{written}, rep: amy})
	for id, want := range map[int64]bool{owned: true, written: true, hidden: false, 9999: false} {
		ok, err := timeline.RepCanSee(f.ctx, f.s.Pool, timeline.Scope{Rep: amy}, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("RepCanSee(amy, %d) = %v, want %v", id, ok, want)
		}
	}
	got, err := timeline.Followups(f.ctx, f.s.Pool, timeline.DefaultPolicy(), time.Now().Add(30*24*time.Hour), "", timeline.Scope{Rep: amy}, timeline.FollowupCursor{}, timeline.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("amy's view of follow-ups: %d customers, want 2", len(got))
	}
	for _, x := range got {
		if x.CustomerID == hidden {
			t.Fatal("amy sees bob's customer")
		}
	}
}
