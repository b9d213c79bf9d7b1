package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/message"
)

// Captured is a message as the ingest pipeline hands it over: parsed,
// matched and classified, with its raw bytes.
type Captured struct {
	DedupKey    string // see messages.dedup_key
	ContentHash string // see messages.content_hash
	MessageID   string // "" when absent
	Subject     string
	SentAt      time.Time
	From        []message.Address
	To          []message.Address
	Cc          []message.Address
	Bcc         []message.Address
	InReplyTo   []string
	References  []string
	Body        string
	Attachments []message.Attachment
	Size        int
	Direction   string // "in", "out" or "" when unknown
	Malformed   bool
	Problems    []string
	Noise       string // why on no timeline; "" when Events is not empty
	NoiseRule   string
	Raw         []byte
	Events      []NewEvent
	Quote       QuoteDetails // what a quote states; written on its quote events
}

// NewEvent is an event to record for a captured message.
type NewEvent struct {
	CustomerID int64
	Kind       string
	Direction  string
	Rep        string
	OccurredAt time.Time
	Rule       string
	Confidence float64
}

// Location is where a message was found.
type Location struct {
	Rep         string
	Folder      string
	UIDValidity uint32
	UID         uint32
}

// SaveResult says what SaveMessage changed.
type SaveResult struct {
	MessageID int64
	Inserted  bool // the message was new
	NewEvents int
}

// SaveMessage stores a captured message once per dedup key, records where
// it was found, and adds its events with their search outbox rows. It is
// idempotent: saving the same message again (another folder, a second sync,
// a replay after a crash) adds no message and no event. A later copy that
// knows more (a Sent copy with its Bcc line) fills in what the first lacked
// and may add events for the customers it reveals.
func SaveMessage(ctx context.Context, db BatchDB, c *Captured, loc *Location) (SaveResult, error) {
	var l Relinks
	r, err := SaveUnlinked(ctx, db, c, loc, &l, nil)
	if err != nil {
		return r, err
	}
	if err := l.Flush(ctx, db); err != nil {
		return r, fmt.Errorf("link %s: %w", c.DedupKey, err)
	}
	return r, nil
}

// SaveUnlinked is SaveMessage without the update of inquiry links, which
// it notes in l: the caller flushes l before committing, once per batch.
// With raw not nil, the raw bytes of a new message go to raw instead of
// db, and the caller commits raw before db.
func SaveUnlinked(ctx context.Context, db BatchDB, c *Captured, loc *Location, l *Relinks, raw *RawWriter) (SaveResult, error) {
	rs, err := SaveMany(ctx, db, []*Captured{c}, []*Location{loc}, l, raw)
	if err != nil {
		return SaveResult{}, err
	}
	return rs[0], nil
}

// saveChunk is how many messages SaveMany sends to the server at once: a
// round trip each made waiting on the network and the scheduler most of
// a sync's time on few cores, and a chunk rather than the whole batch
// lets a RawWriter start on the first messages' raw bytes meanwhile. The
// chunk's messages are a few statements (captureGroups): the more
// messages in one, the less each costs the server.
const saveChunk = 64

// SaveMany is SaveUnlinked for cs in order, locs[i] being where cs[i] was
// found (nil for none). New messages are saved a group at a time, one
// statement each (captureSQL, captureGroups), and saveChunk of them take
// one round trip. What that statement leaves to do, rare during a sync,
// follows each chunk in order: a stored message's copy, a Message-ID
// reused by another message, threads to merge when a message's ids lead
// to several, or a concurrent transaction's claim on one of its ids.
func SaveMany(ctx context.Context, db BatchDB, cs []*Captured, locs []*Location, l *Relinks, raw *RawWriter) ([]SaveResult, error) {
	rs := make([]SaveResult, 0, len(cs))
	if err := replanAsTablesGrow(ctx, db, len(cs)); err != nil {
		return rs, err
	}
	for start := 0; start < len(cs); start += saveChunk {
		end := min(len(cs), start+saveChunk)
		sts, err := captureChunk(ctx, db, cs[start:end], locs[start:end], raw == nil)
		if err != nil {
			return rs, err
		}
		for i, st := range sts {
			c := cs[start+i]
			r, err := st.finish(ctx, db, c, locs[start+i], l, raw)
			if err != nil {
				return rs, err
			}
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// replanAsTablesGrow drops the connection's cached plans each time the
// messages saved through it have doubled (from 256 on), so that the saves'
// generic plans (CapturePlans) are made again for tables of their new
// size. A plan made on a first sync's nearly empty tables takes every
// table for a row or two and may read a whole index where it should look
// up a key: such a plan of the inquiry links read every inquiry of every
// customer for each batch, and PostgreSQL plans again only after an
// ANALYZE, which autovacuum seldom runs within a sync. db is a
// transaction, whose connection is counted; on a pool, nothing is.
func replanAsTablesGrow(ctx context.Context, db BatchDB, n int) error {
	c, ok := db.(interface{ Conn() *pgx.Conn })
	if !ok || c.Conn() == nil {
		return nil
	}
	data := c.Conn().PgConn().CustomData()
	saved, _ := data["mailtrail.saved"].(int)
	next, _ := data["mailtrail.replanAt"].(int)
	if next == 0 {
		next = 256
	}
	saved += n
	data["mailtrail.saved"] = saved
	if saved < next {
		return nil
	}
	data["mailtrail.replanAt"] = 2 * saved
	if _, err := db.Exec(ctx, "DISCARD PLANS"); err != nil {
		return fmt.Errorf("drop cached plans: %w", err)
	}
	return nil
}

// captured is captureSQL's row for a message: for a new one, its
// threading (the message, its thread and events, what settle needs).
type captured struct {
	threading
	isNew      bool
	storedHash string
	subjectKey string // SubjectKey's, of the message's subject
	isReply    bool
}

// newCaptured is what captureSQL needs to know of c before it runs.
func newCaptured(c *Captured) captured {
	st := captured{threading: threading{m: newThreadMessage(c)}}
	st.keys = st.m.keys
	st.subjectKey, st.isReply = SubjectKey(c.Subject)
	return st
}

// prefixedRow is a row whose first columns go to dest, the rest to the
// caller of Scan.
type prefixedRow struct {
	pgx.Row
	dest []any
}

func (r prefixedRow) Scan(dest ...any) error { return r.Row.Scan(append(r.dest, dest...)...) }

// captureChunk saves cs in one round trip: a captureSQL statement for
// each of captureGroups, with CapturePlans whatever the caller did:
// planning captureSQL anew took 3 ms (BenchmarkSaveMessage).
func captureChunk(ctx context.Context, db BatchDB, cs []*Captured, locs []*Location, withRaw bool) ([]captured, error) {
	out := make([]captured, len(cs))
	for i, c := range cs {
		out[i] = newCaptured(c)
	}
	groups := captureGroups(cs, out)
	b := &pgx.Batch{}
	b.Queue(capturePlansSQL)
	for _, g := range groups {
		rows := make([]captureRow, len(g))
		bodies := make([]string, len(g))
		var raws [][]byte
		if withRaw {
			raws = make([][]byte, len(g))
		}
		for k, i := range g {
			rows[k] = newCaptureRow(k, cs[i], &out[i], locs[i])
			bodies[k] = cs[i].Body
			if withRaw {
				raws[k] = nonNil(cs[i].Raw) // an empty one is no NULL
			}
		}
		js, err := json.Marshal(rows)
		if err != nil {
			return nil, fmt.Errorf("save messages: %w", err)
		}
		b.Queue(captureSQL, string(js), raws, ThreadWindow, QuoteWindow, bodies)
	}
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("set capture plans: %w", err)
	}
	for _, g := range groups {
		if err := scanGroup(br, cs, out, g); err != nil {
			return nil, err
		}
	}
	return out, br.Close()
}

// scanGroup reads captureSQL's rows for the messages g of cs into out:
// one row each, in order.
func scanGroup(br pgx.BatchResults, cs []*Captured, out []captured, g []int) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("save %s: %w", groupName(cs, g), err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		if n == len(g) {
			return fmt.Errorf("save %s: more rows than messages", groupName(cs, g))
		}
		o := &out[g[n]]
		var pos int
		row := prefixedRow{rows, []any{&pos, &o.m.id, &o.isNew, &o.storedHash, &o.m.found, &o.m.nFound}}
		if err := o.scan(row); err != nil {
			return fmt.Errorf("save message %s: %w", cs[g[n]].DedupKey, err)
		}
		if pos != n {
			return fmt.Errorf("save message %s: row %d came as %d", cs[g[n]].DedupKey, pos, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("save %s: %w", groupName(cs, g), err)
	}
	if n != len(g) {
		return fmt.Errorf("save %s: %d rows for %d messages", groupName(cs, g), n, len(g))
	}
	return nil
}

// groupName names the messages g of cs in an error: the statement fails
// for all of them, whichever one caused it.
func groupName(cs []*Captured, g []int) string {
	if len(g) == 1 {
		return "message " + cs[g[0]].DedupKey
	}
	var keys []string
	for _, i := range g[:min(3, len(g))] {
		keys = append(keys, cs[i].DedupKey)
	}
	if len(g) > 3 {
		keys = append(keys, fmt.Sprintf("%d more", len(g)-3))
	}
	return fmt.Sprintf("%d messages (%s)", len(g), strings.Join(keys, ", "))
}

// captureGroups splits cs into groups for captureSQL, run in turn: a
// message that shares an id, its dedup key or its subject key with
// earlier ones goes in a group after theirs, so that it sees them stored,
// as it would saved alone; the others share the first groups. out holds
// their threading and subject keys. Each group lists its messages in the order of cs.
func captureGroups(cs []*Captured, out []captured) [][]int {
	var groups [][]int
	last := map[string]int{} // key -> the last group with a message having it
	for i, c := range cs {
		keys := []string{"d:" + c.DedupKey}
		if out[i].subjectKey != "" {
			keys = append(keys, "s:"+out[i].subjectKey)
		}
		for _, k := range out[i].m.keys {
			keys = append(keys, "k:"+k)
		}
		g := 0
		for _, k := range keys {
			if at, ok := last[k]; ok {
				g = max(g, at+1)
			}
		}
		if g == len(groups) {
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
		for _, k := range keys {
			last[k] = max(last[k], g)
		}
	}
	return groups
}

// finish does what captureSQL left to do for c, and notes its links in l.
func (st *captured) finish(ctx context.Context, db BatchDB, c *Captured, loc *Location, l *Relinks, raw *RawWriter) (SaveResult, error) {
	r := SaveResult{MessageID: st.m.id, Inserted: st.isNew}
	if !st.isNew {
		if reusedID(c, r, st.storedHash) {
			// Another message reuses this Message-ID: keep it apart, never drop it.
			apart := *c
			apart.DedupKey = c.DedupKey + "#" + c.ContentHash
			return SaveUnlinked(ctx, db, &apart, loc, l, raw)
		}
		return saveCopy(ctx, db, c, l, r)
	}
	if raw != nil {
		raw.Add(st.m.id, c.Raw)
	}
	if found := st.m.found; len(found) > 1 {
		// Its ids lead to several threads: one conversation, in the oldest.
		moved, err := mergeThreads(ctx, db, found[0], found[1:])
		if err != nil {
			return r, fmt.Errorf("thread %s: %w", c.DedupKey, err)
		}
		st.out.moved = moved
	}
	th, err := st.settle(ctx, db)
	if err != nil {
		return r, fmt.Errorf("thread %s: %w", c.DedupKey, err)
	}
	r.NewEvents = len(th.events)
	l.add(th)
	return r, nil
}

// saveCopy records the events that a copy of a stored message adds (a
// Sent copy's Bcc), with what a quote states, and threads them. Its
// location is stored already (captureSQL).
func saveCopy(ctx context.Context, db BatchDB, c *Captured, l *Relinks, r SaveResult) (SaveResult, error) {
	if len(c.Events) == 0 {
		return r, nil
	}
	b := &pgx.Batch{}
	b.Queue(insertEvents, append([]any{r.MessageID}, eventColumns(c.Events)...)...)
	b.Queue(loadThreadSQL, r.MessageID, maxThreadRefs)
	br := db.SendBatch(ctx, b)
	tm, err := func() (threadMessage, error) {
		defer br.Close()
		if err := br.QueryRow().Scan(&r.NewEvents); err != nil {
			return threadMessage{}, fmt.Errorf("save events of %s: %w", c.DedupKey, err)
		}
		tm, err := scanThreadMessage(br.QueryRow(), r.MessageID)
		if err != nil {
			return tm, err
		}
		return tm, br.Close()
	}()
	if err != nil || r.NewEvents == 0 {
		return r, err
	}
	th, err := assignThread(ctx, db, tm)
	if err != nil {
		return r, fmt.Errorf("thread %s: %w", c.DedupKey, err)
	}
	if !c.Quote.IsZero() {
		if err := setQuoteDetails(ctx, db, `message_id = $1 AND kind = 'quote'`, r.MessageID, c.Quote); err != nil {
			return r, err
		}
	}
	l.add(th)
	return r, nil
}

// CapturePlans makes the statements of the transaction's saves run on
// one plan each per connection (a generic plan), instead of planning every
// execution (the pool's force_custom_plan, see Open): planning was a third
// of a sync's PostgreSQL time, and PostgreSQL's own choice (plan_cache_mode
// auto) kept planning some statements anew every time. Generic plans were
// bad only when made while the tables were nearly empty (a first sync),
// when scanning a whole table or index looks cheapest: with sequential
// scans, merge joins and hash joins ruled out, the plans are the index
// lookups they stay right for as the tables grow. Every statement of a
// save is such a lookup. (A merge join of the inquiry links' update with
// the whole events primary key, planned at 2,000 events, was the one
// statement of a sync that grew with the mailbox.) The choice among
// indexes made on small tables can still be wrong (a whole index read for
// a key, see relinkSQL): replanAsTablesGrow has the plans made again as
// the tables grow. JIT is off too: a generic plan counts a hundred rows
// for each function scan (jsonb_to_recordset), its cost crosses
// jit_above_cost, and compiling took 230 ms a statement.
func CapturePlans(ctx context.Context, db DB) error {
	_, err := db.Exec(ctx, capturePlansSQL)
	if err != nil {
		return fmt.Errorf("set capture plans: %w", err)
	}
	return nil
}

const capturePlansSQL = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true),
		set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('jit', 'off', true)`

// FolderState is the sync cursor of one folder.
type FolderState struct {
	Rep         string
	Folder      string
	UIDValidity uint32
	LastUID     uint32
}

// GetFolder returns the stored cursor, or ok=false when the folder was never synced.
func GetFolder(ctx context.Context, db DB, rep, folder string) (st FolderState, ok bool, err error) {
	var v, u int64
	err = db.QueryRow(ctx, `SELECT uidvalidity, last_uid FROM folders WHERE rep = $1 AND folder = $2`, rep, folder).Scan(&v, &u)
	if err != nil {
		if notFound(err) == ErrNotFound {
			return FolderState{Rep: rep, Folder: folder}, false, nil
		}
		return st, false, fmt.Errorf("read folder state %s/%s: %w", rep, folder, err)
	}
	return FolderState{rep, folder, uint32(v), uint32(u)}, true, nil
}

// PutFolder records the cursor; call it in the transaction that stored the
// messages up to LastUID so that a crash never skips or repeats them.
func PutFolder(ctx context.Context, db DB, st FolderState) error {
	_, err := db.Exec(ctx, `
		INSERT INTO folders (rep, folder, uidvalidity, last_uid, last_sync_at)
		VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (rep, folder) DO UPDATE SET uidvalidity = EXCLUDED.uidvalidity,
			last_uid = EXCLUDED.last_uid, last_sync_at = now()`,
		st.Rep, st.Folder, int64(st.UIDValidity), int64(st.LastUID))
	if err != nil {
		return fmt.Errorf("save folder state %s/%s: %w", st.Rep, st.Folder, err)
	}
	return nil
}

// RecordMailbox stores the outcome of a mailbox's last sync ("" = success).
func RecordMailbox(ctx context.Context, db DB, rep, syncErr string) error {
	var err error
	if syncErr == "" {
		_, err = db.Exec(ctx, `INSERT INTO mailboxes (rep, last_ok_at) VALUES ($1, now())
			ON CONFLICT (rep) DO UPDATE SET last_ok_at = now(), last_error = NULL`, rep)
	} else {
		_, err = db.Exec(ctx, `INSERT INTO mailboxes (rep, last_error, last_error_at) VALUES ($1, $2, now())
			ON CONFLICT (rep) DO UPDATE SET last_error = $2, last_error_at = now()`, rep, syncErr)
	}
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// nonNil is s, or an empty slice for nil: sent as an empty array (or
// JSON []), not as NULL.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
