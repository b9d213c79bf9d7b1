package timeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

func TestSubjectKey(t *testing.T) {
	for _, c := range []struct {
		in, key string
		reply   bool
	}{
		{"RFQ LED panel 600x600", "rfq led panel 600x600", false},
		{"Re: RFQ LED panel 600x600", "rfq led panel 600x600", true},
		{"RE : RE: Fw: RFQ  LED\tpanel 600x600", "rfq led panel 600x600", true},
		{"Re[2]: RFQ LED panel", "rfq led panel", true},
		{"AW: WG: Anfrage LED-Panel", "anfrage led-panel", true},
		{"回复：询价：LED平板灯", "询价:led平板灯", true},
		{"回复: 答复: 转发: 询价 LED", "询价 led", true},
		{"回覆：詢價：LED平板燈", "詢價:led平板燈", true},
		{"Rif: Richiesta offerta", "richiesta offerta", true},
		{"Ответ: Запрос цены", "запрос цены", true},
		{"RES: ENC: Cotação", "cotação", true},
		{"[EXT] RE: Quotation QT-2025-0315", "quotation qt-2025-0315", true},
		{"ＲＥ：Ｑｕｏｔａｔｉｏｎ", "quotation", true},
		{"Regarding: price", "regarding: price", false},
		{"Re:", "", true},
		{"", "", false},
	} {
		key, reply := timeline.SubjectKey(c.in)
		if key != c.key || reply != c.reply {
			t.Errorf("SubjectKey(%q) = %q, %v; want %q, %v", c.in, key, reply, c.key, c.reply)
		}
	}
}

// References and In-Reply-To group a conversation whatever the order its
// messages arrive in: a reply stored before its parent, a parent stored
// last.
func TestThreadsByReferences(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	// Stored in the order c, a, b: c refers to a and b, b replies to a.
	c := f.one(mail{msgid: "c@x", inReplyTo: []string{"b@x"}, refs: []string{"a@x", "b@x"}, subject: "Re: Re: LED panel",
		at: day(2), customers: []int64{buyer}})
	a := f.one(mail{msgid: "a@x", subject: "LED panel", at: day(0), customers: []int64{buyer}})
	b := f.one(mail{msgid: "b@x", inReplyTo: []string{"a@x"}, refs: []string{"a@x"}, subject: "Re: LED panel",
		at: day(1), dir: "out", customers: []int64{buyer}})
	other := f.one(mail{msgid: "z@x", subject: "Catalogue", at: day(1), customers: []int64{buyer}})
	if f.thread(a) != f.thread(c) || f.thread(b) != f.thread(c) {
		t.Fatalf("threads a=%d b=%d c=%d, want one", f.thread(a), f.thread(b), f.thread(c))
	}
	if f.thread(other) == f.thread(a) {
		t.Fatal("an unrelated message joined the thread")
	}
	th, err := timeline.GetThread(f.ctx, f.s.Pool, f.thread(a), timeline.Scope{}, time.Time{}, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range th.Events {
		got = append(got, e.ID)
	}
	if want := []int64{a.ID, b.ID, c.ID}; !equal(got, want) {
		t.Fatalf("thread events %v, want %v in time order", got, want)
	}
	ts, err := timeline.CustomerThreads(f.ctx, f.s.Pool, buyer, timeline.ThreadCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 {
		t.Fatalf("%d threads, want 2: %+v", len(ts), ts)
	}
	// Newest activity first: the conversation (day 2), then the catalogue (day 1).
	top := ts[0]
	if top.ThreadID != f.thread(a) || top.Messages != 3 || top.Subject != "Re: Re: LED panel" || top.LastDirection != "in" ||
		!top.LastAt.Equal(day(2)) || !top.FirstAt.Equal(day(0)) {
		t.Fatalf("thread summary %+v", top)
	}
}

// A message that refers to two threads shows they are one: they merge,
// and the id of the younger still resolves.
func TestThreadsMerge(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	x := f.one(mail{msgid: "x@x", subject: "Panel price", at: day(0), customers: []int64{buyer}})
	y := f.one(mail{msgid: "y@x", inReplyTo: []string{"lost@x"}, subject: "Re: panel price (2)", at: day(1), customers: []int64{buyer}})
	tx, ty := f.thread(x), f.thread(y)
	if tx == ty {
		t.Fatal("x and y should start apart")
	}
	// z replies to lost@x, whose own reference is x: both threads are one.
	z := f.one(mail{msgid: "lost@x", refs: []string{"x@x"}, subject: "Re: Panel price", at: day(0, 12), dir: "out", customers: []int64{buyer}})
	if f.thread(x) != f.thread(y) || f.thread(z) != f.thread(x) {
		t.Fatalf("after the bridge: x=%d y=%d z=%d, want one thread", f.thread(x), f.thread(y), f.thread(z))
	}
	live := f.thread(x)
	for _, old := range []int64{tx, ty} {
		th, err := timeline.GetThread(f.ctx, f.s.Pool, old, timeline.Scope{}, time.Time{}, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		if th.ThreadID != live || len(th.Events) != 3 {
			t.Fatalf("thread %d resolves to %d with %d events, want %d with 3", old, th.ThreadID, len(th.Events), live)
		}
	}
}

// TestThreadsInOneChunk: messages saved together (SaveMany sends their
// statements at once) thread as when saved one by one, each seeing those
// before it: a reply before its parent, a parent after its reply, a
// message bridging two threads, a reply found by subject alone, and an
// inquiry linked to the quote saved with it.
func TestThreadsInOneChunk(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	evs := f.saveAll(
		mail{msgid: "c@x", inReplyTo: []string{"b@x"}, refs: []string{"a@x", "b@x"}, subject: "Re: Re: LED panel",
			at: day(2), customers: []int64{buyer}},
		mail{msgid: "a@x", subject: "LED panel", at: day(0), kind: timeline.KindInquiry, customers: []int64{buyer}},
		mail{msgid: "y@x", inReplyTo: []string{"lost@x"}, subject: "Re: tube price", at: day(1), customers: []int64{buyer}},
		mail{msgid: "lost@x", refs: []string{"a@x"}, subject: "Re: LED panel", at: day(0, 12), dir: "out",
			kind: timeline.KindQuote, customers: []int64{buyer}},
		mail{msgid: "s@x", subject: "Re: tube price", at: day(3), customers: []int64{buyer}},
		mail{msgid: "z@x", subject: "Catalogue", at: day(1), customers: []int64{buyer}},
	)
	c, a, y, bridge, s, other := evs[0], evs[1], evs[2], evs[3], evs[4], evs[5]
	live := f.thread(a)
	for name, e := range map[string]timeline.Event{"reply saved first": c, "bridged thread": y, "bridge": bridge, "by subject": s} {
		if f.thread(e) != live {
			t.Errorf("%s: thread %d, want %d", name, f.thread(e), live)
		}
	}
	if f.thread(other) == live {
		t.Error("an unrelated message joined the thread")
	}
	var messages int
	f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM messages WHERE thread_id = $1`, live).Scan(&messages)
	if messages != 5 {
		t.Errorf("%d messages on the live thread, want 5", messages)
	}
	if inq := f.event(a.ID); inq.QuoteEventID == nil || *inq.QuoteEventID != bridge.ID {
		t.Errorf("inquiry quoted by %v, want the quote %d saved with it", inq.QuoteEventID, bridge.ID)
	}
}

// Clients that drop References (many Chinese clients): the subject without
// "回复：" and a customer in common, within the window, make the thread.
func TestThreadsBySubjectFallback(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Shenzhen Buyer", "A", amy)
	other := f.customer("Other Buyer", "A", amy)
	// The reply is stored before the inquiry it answers.
	reply := f.one(mail{msgid: "r1@qq", subject: "回复：询价：LED平板灯 600x600", at: day(1), dir: "out", customers: []int64{buyer}})
	inq := f.one(mail{msgid: "i1@qq", subject: "询价：LED平板灯 600x600", at: day(0), kind: timeline.KindInquiry, customers: []int64{buyer}})
	again := f.one(mail{msgid: "r2@qq", subject: "Re：询价：LED平板灯  600X600", at: day(3), customers: []int64{buyer}})
	if f.thread(reply) != f.thread(inq) || f.thread(again) != f.thread(inq) {
		t.Fatalf("reply=%d inquiry=%d again=%d, want one thread", f.thread(reply), f.thread(inq), f.thread(again))
	}
	cases := []struct {
		name string
		m    mail
	}{
		{"another customer", mail{msgid: "o1@qq", subject: "回复：询价：LED平板灯 600x600", at: day(1), customers: []int64{other}}},
		{"beyond the window", mail{msgid: "late@qq", subject: "回复：询价：LED平板灯 600x600", at: day(0).Add(timeline.ThreadWindow + 10*24*time.Hour), customers: []int64{buyer}}},
		{"a fresh message with the same subject", mail{msgid: "i2@qq", subject: "询价：LED平板灯 600x600", at: day(5), customers: []int64{buyer}}},
		{"no subject", mail{msgid: "e1@qq", subject: "回复：", at: day(1), customers: []int64{buyer}}},
	}
	for _, c := range cases {
		if e := f.one(c.m); f.thread(e) == f.thread(inq) {
			t.Errorf("%s: joined the thread", c.name)
		}
	}
}

// TestThreadsBySubjectNearest: of several threads a reply could join by
// subject, the nearest in time wins, whichever side of it that is.
func TestThreadsBySubjectNearest(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Lagos Lights", "A", amy)
	m := func(id, subject string, d int) timeline.Event {
		return f.one(mail{msgid: id, subject: subject, at: day(d), customers: []int64{buyer}})
	}
	early := m("a@x", "RFQ: LED tube", 10)
	late := m("b@x", "RFQ: LED tube", 20) // not a reply: a thread of its own
	if f.thread(early) == f.thread(late) {
		t.Fatal("two fresh inquiries share a thread")
	}
	if r := m("r1@x", "Re: RFQ: LED tube", 19); f.thread(r) != f.thread(early) {
		t.Errorf("reply at day 19 joined thread %d, want the earlier inquiry's %d (the later one is no reply)", f.thread(r), f.thread(early))
	}
	if r := m("r2@x", "Re: RFQ: LED tube", 22); f.thread(r) != f.thread(late) {
		t.Errorf("reply at day 22 joined thread %d, want the nearest inquiry's %d", f.thread(r), f.thread(late))
	}
	// A message stored after the replies that came later: it joins the
	// nearest of them.
	if q := m("q@x", "RFQ: LED tube", 21); f.thread(q) != f.thread(late) {
		t.Errorf("inquiry at day 21 joined thread %d, want that of the reply a day later (%d)", f.thread(q), f.thread(late))
	}
	// Candidates on both sides: a reply to both buyers at day 26 has the
	// buyer's thread 4 days back and the other buyer's a day ahead.
	other := f.customer("Abuja Lamps", "B", amy)
	ahead := f.one(mail{msgid: "o@x", subject: "Re: RFQ: LED tube", at: day(27), customers: []int64{other}})
	both := f.save(mail{msgid: "both@x", subject: "Re: RFQ: LED tube", at: day(26), customers: []int64{buyer, other}})
	if got := f.thread(both[buyer]); got != f.thread(ahead) {
		t.Errorf("reply at day 26 joined thread %d, want the nearer one a day ahead (%d), not %d four days back", got, f.thread(ahead), f.thread(late))
	}
}

func TestGetThreadMissing(t *testing.T) {
	f := newFx(t)
	if _, err := timeline.GetThread(f.ctx, f.s.Pool, 999, timeline.Scope{}, time.Time{}, 0, 10); !errors.Is(err, timeline.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestThreadsConcurrentSaves: a reply saved while its parent's transaction
// is still open cannot see the parent's thread, and opens one of its own;
// once the parent commits, the reply's transaction finds that the
// parent's id went to another thread (settle) and merges the two.
func TestThreadsConcurrentSaves(t *testing.T) {
	f := newFx(t)
	buyer := f.customer("Acme", "B", amy)
	parentTx, err := f.s.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer parentTx.Rollback(f.ctx)
	parent, err := timeline.SaveMessage(f.ctx, parentTx, f.captured(mail{msgid: "p@x", subject: "Price list", at: day(0),
		customers: []int64{buyer}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	reply := f.captured(mail{msgid: "r@x", inReplyTo: []string{"p@x"}, subject: "Re: Price list", at: day(1), dir: "out",
		customers: []int64{buyer}})
	saved := make(chan error, 1)
	var replyID int64
	go func() {
		saved <- f.s.InTx(f.ctx, func(tx pgx.Tx) error {
			r, err := timeline.SaveMessage(f.ctx, tx, reply, nil)
			replyID = r.MessageID
			return err
		})
	}()
	// The reply's transaction waits on the parent's uncommitted id.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var waiting int
		f.s.Pool.QueryRow(f.ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply's save never waited on the parent's transaction")
		}
	}
	if err := parentTx.Commit(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	var a, b int64
	q := `SELECT coalesce(t.merged_into, t.id) FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.id = $1`
	if err := f.s.Pool.QueryRow(f.ctx, q, parent.MessageID).Scan(&a); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Pool.QueryRow(f.ctx, q, replyID).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("parent in thread %d, reply in %d: want one", a, b)
	}
}
