package search

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is one test's database, Meilisearch index and Index.
type env struct {
	t    testing.TB
	ctx  context.Context
	pool *pgxpool.Pool
	ix   *Index
	url  string // Meilisearch
	key  string
}

// newEnv gives the test a migrated empty database and an ensured index of
// its own on the shared servers.
func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	dbURL := testenv.MigratedPostgres(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	url, key := testenv.Meili(t)
	e := &env{t: t, ctx: ctx, pool: pool, url: url, key: key}
	e.ix = e.index(url, testenv.IndexName(t))
	if err := e.ix.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// index returns an Index on this test's database for the Meilisearch at
// url, with delays shortened for tests.
func (e *env) index(url, name string) *Index {
	e.t.Helper()
	ix, err := New(e.pool, url, e.key, name, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	ix.poll = 20 * time.Millisecond
	ix.backoffMin, ix.backoffMax = 20*time.Millisecond, 200*time.Millisecond
	ix.taskTimeout = 30 * time.Second
	return ix
}

func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.pool.Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) customer(name string) int64 {
	e.t.Helper()
	var id int64
	if err := e.pool.QueryRow(e.ctx, `INSERT INTO customers (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// fixture is one message on one customer's timeline.
type fixture struct {
	Customer    int64
	Rep         string
	Kind        string // default email
	Direction   string // default in
	Subject     string
	Body        string
	From        []addr
	To          []addr
	Attachments []string
	At          time.Time // default now
}

// event inserts the message, its event and the outbox row, in one
// statement as the ingest pipeline does in one transaction, and returns
// the event id.
func (e *env) event(f fixture) int64 {
	e.t.Helper()
	f.Kind = cmp.Or(f.Kind, "email")
	f.Direction = cmp.Or(f.Direction, "in")
	f.Rep = cmp.Or(f.Rep, "rep@example.com")
	if f.At.IsZero() {
		f.At = time.Now()
	}
	if f.From == nil {
		f.From = []addr{{Name: "Buyer", Email: "buyer@customer.example"}}
	}
	atts := make([]map[string]any, len(f.Attachments))
	for i, a := range f.Attachments {
		atts[i] = map[string]any{"filename": a, "content_type": "application/pdf", "size": 1000}
	}
	from, _ := json.Marshal(f.From)
	to, _ := json.Marshal(cmpOrSlice(f.To, []addr{{Email: f.Rep}}))
	attsJSON, _ := json.Marshal(atts)
	var id int64
	err := e.pool.QueryRow(e.ctx, `
		WITH m AS (
			INSERT INTO messages (dedup_key, message_id, subject, sent_at, from_addrs, to_addrs, body, attachments, size, direction)
			VALUES ('mid:' || gen_random_uuid(), gen_random_uuid()::text || '@test', $1, $2, $3, $4, $5, $6, length($5), $7)
			RETURNING id),
		e AS (
			INSERT INTO events (message_id, customer_id, kind, direction, rep, occurred_at)
			SELECT id, $8, $9, $7, $10, $2 FROM m
			RETURNING id),
		o AS (INSERT INTO search_outbox (event_id) SELECT id FROM e)
		SELECT id FROM e`,
		f.Subject, f.At, from, to, f.Body, attsJSON, f.Direction, f.Customer, f.Kind, f.Rep).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func cmpOrSlice(s, def []addr) []addr {
	if len(s) == 0 {
		return def
	}
	return s
}

// drain runs DrainOnce until the outbox is empty and returns the rows
// consumed.
func (e *env) drain(ix *Index) int {
	e.t.Helper()
	n, err := ix.Drain(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) backlog() int64 {
	e.t.Helper()
	n, err := e.ix.Backlog(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// search returns the event ids found, sorted.
func (e *env) search(q Query) []int64 {
	e.t.Helper()
	hits, _, err := e.ix.Search(e.ctx, q)
	if err != nil {
		e.t.Fatalf("search %+v: %v", q, err)
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.EventID
	}
	slices.Sort(ids)
	return ids
}

// wantIDs fails the test unless q finds exactly want.
func (e *env) wantIDs(q Query, want ...int64) {
	e.t.Helper()
	slices.Sort(want)
	if got := e.search(q); !slices.Equal(got, want) {
		e.t.Errorf("search %+v = %v, want %v", q, got, want)
	}
}

// waitFor polls cond every 10 ms until it holds or 20 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
