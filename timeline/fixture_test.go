package timeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// fx is one test's database with helpers to write fixtures whose right
// answers are known.
type fx struct {
	t   *testing.T
	ctx context.Context
	s   *timeline.Store
	n   int
}

func newFx(t *testing.T) *fx {
	t.Helper()
	t.Parallel() // each test has a database of its own
	return openFx(t)
}

// openFx is newFx for a second database of a test.
func openFx(t *testing.T) *fx {
	t.Helper()
	ctx := context.Background()
	url := testenv.MigratedPostgres(t)
	s, err := timeline.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &fx{t: t, ctx: ctx, s: s}
}

// customer creates a customer with a domain of its own.
func (f *fx) customer(name, grade, owner string) int64 {
	f.t.Helper()
	id, _, _, err := timeline.UpsertCustomer(f.ctx, f.s.Pool, timeline.CustomerInput{
		Name: name, Grade: grade, Owner: owner, Domains: []string{fmt.Sprintf("c%d.example", len(name)*1000+f.next())},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) next() int { f.n++; return f.n }

// mail is a fixture message on the timelines of customers.
type mail struct {
	msgid     string // "" = none
	inReplyTo []string
	refs      []string
	subject   string
	at        time.Time
	dir       string // "in" or "out" (default "in")
	rep       string // default amy@ourco.example
	kind      string // default email
	rule      string
	customers []int64
	quote     timeline.QuoteDetails
}

const amy, bob = "amy@ourco.example", "bob@ourco.example"

// save stores m in one transaction and returns its events by customer.
func (f *fx) save(m mail) map[int64]timeline.Event {
	f.t.Helper()
	c := f.captured(m)
	var r timeline.SaveResult
	err := f.s.InTxRetry(f.ctx, func(tx pgx.Tx) error {
		var err error
		r, err = timeline.SaveMessage(f.ctx, tx, c, nil)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.eventsOf(r.MessageID)
}

// saveAll saves ms in one call of SaveMany (their statements sent
// together) and returns the event of each, which must have one.
func (f *fx) saveAll(ms ...mail) []timeline.Event {
	f.t.Helper()
	var cs []*timeline.Captured
	for _, m := range ms {
		cs = append(cs, f.captured(m))
	}
	var rs []timeline.SaveResult
	err := f.s.InTxRetry(f.ctx, func(tx pgx.Tx) error {
		var l timeline.Relinks
		var err error
		if rs, err = timeline.SaveMany(f.ctx, tx, cs, make([]*timeline.Location, len(cs)), &l, nil); err != nil {
			return err
		}
		return l.Flush(f.ctx, tx)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []timeline.Event
	for _, r := range rs {
		evs := f.eventsOf(r.MessageID)
		if len(evs) != 1 {
			f.t.Fatalf("message %d has %d events, want 1", r.MessageID, len(evs))
		}
		for _, e := range evs {
			out = append(out, e)
		}
	}
	return out
}

// captured is m as the ingest pipeline hands it over.
func (f *fx) captured(m mail) *timeline.Captured {
	if m.dir == "" {
		m.dir = "in"
	}
	if m.rep == "" {
		m.rep = amy
	}
	if m.kind == "" {
		m.kind = timeline.KindEmail
	}
	if m.rule == "" {
		m.rule = m.kind + ".test"
	}
	n := f.next()
	c := &timeline.Captured{
		DedupKey: fmt.Sprintf("test:%d", n), ContentHash: fmt.Sprintf("h%d", n), MessageID: m.msgid,
		Subject: m.subject, SentAt: m.at, InReplyTo: m.inReplyTo, References: m.refs,
		From: []message.Address{{Email: "x@example.com"}}, Body: m.subject, Size: 100, Direction: m.dir,
		Raw: []byte("Subject: " + m.subject + "\r\n\r\nbody\r\n"), Quote: m.quote,
	}
	for _, id := range m.customers {
		c.Events = append(c.Events, timeline.NewEvent{CustomerID: id, Kind: m.kind, Direction: m.dir, Rep: m.rep,
			OccurredAt: m.at, Rule: m.rule, Confidence: 0.9})
	}
	return c
}

func (f *fx) eventsOf(messageID int64) map[int64]timeline.Event {
	f.t.Helper()
	rows, err := f.s.Pool.Query(f.ctx, `SELECT id FROM events WHERE message_id = $1`, messageID)
	if err != nil {
		f.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[int64]timeline.Event{}
	for _, id := range ids {
		e := f.event(id)
		out[e.CustomerID] = e
	}
	return out
}

func (f *fx) event(id int64) timeline.Event {
	f.t.Helper()
	e, err := timeline.GetEvent(f.ctx, f.s.Pool, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// one saves m for a single customer and returns its event.
func (f *fx) one(m mail) timeline.Event {
	f.t.Helper()
	evs := f.save(m)
	if len(evs) != 1 {
		f.t.Fatalf("saved %d events, want 1", len(evs))
	}
	for _, e := range evs {
		return e
	}
	panic("unreachable")
}

// thread is the current thread of an event (threads may merge later).
func (f *fx) thread(e timeline.Event) int64 {
	f.t.Helper()
	e = f.event(e.ID)
	if e.ThreadID == nil {
		f.t.Fatalf("event %d has no thread", e.ID)
	}
	return *e.ThreadID
}

func (f *fx) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.s.Pool.Exec(f.ctx, sql, args...); err != nil {
		f.t.Fatal(err)
	}
}

// day is a fixed calendar in UTC: day(0) is Monday 2025-03-03 00:00.
func day(d int, hour ...int) time.Time {
	t := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
	if len(hour) > 0 {
		t = t.Add(time.Duration(hour[0]) * time.Hour)
	}
	return t
}
