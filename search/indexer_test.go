package search

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

func TestMeiliDownKeepsOutbox(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Keep Ltd")
	ev := []int64{
		e.event(fixture{Customer: c, Subject: "first valve order"}),
		e.event(fixture{Customer: c, Subject: "second valve order"}),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	down := e.index(closed, e.ix.Name())
	for range 2 {
		if n, err := down.DrainOnce(e.ctx); err == nil || n != 0 {
			t.Fatalf("DrainOnce with Meilisearch down = %d, %v; want an error", n, err)
		}
	}
	if got := e.backlog(); got != 2 {
		t.Fatalf("backlog after failed drains = %d, want 2", got)
	}
	if n := e.drain(e.ix); n != 2 {
		t.Fatalf("drained %d, want 2", n)
	}
	e.wantIDs(Query{Q: "valve"}, ev...)
}

func TestTaskFailureKeepsOutbox(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Fail Ltd")
	ev := e.event(fixture{Customer: c, Subject: "gearbox"})
	// An index with another primary key: Meilisearch accepts the addition
	// (202) and then fails the task.
	name := testenv.IndexName(t)
	ix := e.index(e.url, name)
	info, err := ix.meili.CreateIndexWithContext(e.ctx, &meilisearch.IndexConfig{Uid: name, PrimaryKey: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.wait(e.ctx, info.TaskUID); err != nil {
		t.Fatal(err)
	}
	if err := ix.Ensure(e.ctx); err == nil || !strings.Contains(err.Error(), "primary key") {
		t.Errorf("Ensure on a foreign index = %v, want a primary key error", err)
	}
	_, err = ix.DrainOnce(e.ctx)
	var te *TaskError
	if !errors.As(err, &te) || te.Status != "failed" {
		t.Fatalf("DrainOnce = %v, want a failed task", err)
	}
	t.Logf("task error: %v", err)
	if got := e.backlog(); got != 1 {
		t.Fatalf("backlog = %d, want 1", got)
	}
	e.drain(e.ix)
	e.wantIDs(Query{Q: "gearbox"}, ev)
}

func TestDeleteOp(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Del GmbH")
	keep := e.event(fixture{Customer: c, Subject: "flange drawing"})
	byOp := e.event(fixture{Customer: c, Subject: "flange quote"})
	byCascade := e.event(fixture{Customer: c, Subject: "flange sample"})
	sameBatch := e.event(fixture{Customer: c, Subject: "flange invoice"})
	e.exec(`INSERT INTO search_outbox (event_id, op) VALUES ($1, 'delete')`, sameBatch)
	e.drain(e.ix)
	e.wantIDs(Query{Q: "flange"}, keep, byOp, byCascade)

	// An explicit delete row.
	e.exec(`INSERT INTO search_outbox (event_id, op) VALUES ($1, 'delete')`, byOp)
	// An event gone from the database with only an upsert row behind it.
	e.exec(`DELETE FROM messages WHERE id = (SELECT message_id FROM events WHERE id = $1)`, byCascade)
	e.exec(`INSERT INTO search_outbox (event_id, op) VALUES ($1, 'upsert')`, byCascade)
	if n := e.drain(e.ix); n != 2 {
		t.Fatalf("drained %d, want 2", n)
	}
	e.wantIDs(Query{Q: "flange"}, keep)
}

func TestRebuild(t *testing.T) {
	e := newEnv(t)
	a, b := e.customer("Re A"), e.customer("Re B")
	ev := []int64{
		e.event(fixture{Customer: a, Subject: "bearing order"}),
		e.event(fixture{Customer: b, Subject: "bearing quote", Rep: "zoe@seller.example"}),
		e.event(fixture{Customer: b, Subject: "報價 bearing"}),
	}
	e.drain(e.ix)
	info, err := e.ix.meili.DeleteIndexWithContext(e.ctx, e.ix.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ix.wait(e.ctx, info.TaskUID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.ix.Search(e.ctx, Query{Q: "bearing"}); err == nil {
		t.Fatal("search on a deleted index succeeded")
	}
	if err := e.ix.Rebuild(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.backlog(); got != 3 {
		t.Fatalf("backlog after Rebuild = %d, want 3", got)
	}
	e.drain(e.ix)
	e.wantIDs(Query{Q: "bearing"}, ev...)
	e.wantIDs(Query{Q: "bearing", CustomerIDs: []int64{b}, Rep: "zoe@seller.example"}, ev[1]) // settings restored
	e.wantIDs(Query{Q: "报价"}, ev[2])                                                          // zh field restored
}

// TestRunRecovers runs the loop while Meilisearch is unreachable, checks
// that nothing is lost while it retries, then lets it through.
func TestRunRecovers(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Run Ltd")
	p := startProxy(t, strings.TrimPrefix(e.url, "http://"))
	p.setDown(true)

	failures := &countHandler{}
	ix := e.index("http://"+p.addr(), testenv.IndexName(t))
	ix.log = slog.New(failures)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- ix.Run(ctx) }()

	ev := []int64{
		e.event(fixture{Customer: c, Subject: "compressor order"}),
		e.event(fixture{Customer: c, Subject: "compressor quote"}),
	}
	waitFor(t, "three failed attempts", func() bool { return failures.warns.Load() >= 3 })
	if got := e.backlog(); got != 2 {
		t.Fatalf("backlog while down = %d, want 2", got)
	}

	p.setDown(false)
	waitFor(t, "the backlog to drain", func() bool { return e.backlog() == 0 })
	search := &env{t: t, ctx: e.ctx, pool: e.pool, ix: ix}
	search.wantIDs(Query{Q: "compressor"}, ev...)

	// New rows are picked up by the poll.
	ev = append(ev, e.event(fixture{Customer: c, Subject: "compressor invoice"}))
	waitFor(t, "the new row to drain", func() bool { return e.backlog() == 0 })
	search.wantIDs(Query{Q: "compressor"}, ev...)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if failures.errors.Load() != 0 {
		t.Errorf("%d error-level logs for a temporary outage", failures.errors.Load())
	}
}

// TestTwoDaemons runs two indexers on one database and index while events
// are upserted and then half of them deleted: the end state must match the
// database whichever daemon took which batch.
func TestTwoDaemons(t *testing.T) {
	e := newEnv(t)
	c := e.customer("Twin Ltd")
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		ix := e.index(e.url, e.ix.Name())
		ix.batchSize = 50
		wg.Go(func() {
			if err := ix.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	var keep []int64
	for i := range 400 {
		id := e.event(fixture{Customer: c, Subject: "twin part"})
		if i%2 == 0 {
			e.exec(`INSERT INTO search_outbox (event_id, op) VALUES ($1, 'delete')`, id)
		} else {
			keep = append(keep, id)
		}
	}
	waitFor(t, "the backlog to drain", func() bool { return e.backlog() == 0 })
	cancel()
	wg.Wait()
	stats, err := e.ix.index.GetStatsWithContext(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.NumberOfDocuments != int64(len(keep)) {
		t.Errorf("index has %d documents, want %d", stats.NumberOfDocuments, len(keep))
	}
	e.wantIDs(Query{Q: "twin", Limit: MaxLimit}, keep...)
}

// countHandler counts warning- and error-level records.
type countHandler struct{ warns, errors atomic.Int64 }

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countHandler) WithGroup(string) slog.Handler            { return h }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelError:
		h.errors.Add(1)
	case r.Level >= slog.LevelWarn:
		h.warns.Add(1)
	}
	return nil
}

// proxy is a TCP proxy to Meilisearch that can play dead: while down it
// drops every connection, as a crashed or restarting server would.
type proxy struct {
	l      net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); p.closeAll(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			wg.Go(func() { p.serve(c) })
		}
	})
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) setDown(down bool) {
	p.down.Store(down)
	if down {
		p.closeAll()
	}
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) serve(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); done <- struct{}{} }()
	go func() { io.Copy(c, u); done <- struct{}{} }()
	<-done
	c.Close()
	u.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}
