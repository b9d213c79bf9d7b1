package timeline

import (
	"context"
	"fmt"
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
//
// A new message, the common case, takes two round trips: its row with
// what threading needs to look up (which does not depend on the row), then
// its raw bytes, where it was found, and the statement that threads it and
// inserts its events with their thread (inserting and then updating them
// wrote each event row and its fourteen index entries twice). A message
// stored before takes three: its location and new events, what threading
// needs of it read back, then its threading.
func SaveUnlinked(ctx context.Context, db BatchDB, c *Captured, loc *Location, l *Relinks, raw *RawWriter) (SaveResult, error) {
	var r SaveResult
	tm := newThreadMessage(c)
	if err := saveRow(ctx, db, c, &r, &tm); err != nil {
		return r, err
	}
	var th threaded
	var err error
	if r.Inserted {
		th, err = saveNew(ctx, db, c, loc, &r, tm, raw)
	} else {
		th, err = saveAgain(ctx, db, c, loc, &r)
	}
	if err != nil || (!r.Inserted && r.NewEvents == 0) {
		return r, err
	}
	if !c.Quote.IsZero() {
		if err := setQuoteDetails(ctx, db, `message_id = $1 AND kind = 'quote'`, r.MessageID, c.Quote); err != nil {
			return r, err
		}
	}
	l.add(th)
	return r, nil
}

// saveRow inserts c's row, unless its dedup key is stored, with the
// lookups of newThreadSQL into tm in the same round trip. For a copy
// already stored they go unused (saveAgain reads the stored message's
// own): one cheap statement, to spare every new message a round trip.
func saveRow(ctx context.Context, db BatchDB, c *Captured, r *SaveResult, tm *threadMessage) error {
	var storedHash string
	b := &pgx.Batch{}
	b.Queue(insertMessageSQL, messageArgs(c, c.DedupKey)...)
	b.Queue(newThreadSQL, tm.keys, eventCustomers(c.Events))
	br := db.SendBatch(ctx, b)
	err := br.QueryRow().Scan(&r.MessageID, &r.Inserted, &storedHash)
	if err == nil {
		if err = br.QueryRow().Scan(&tm.customers, &tm.found, &tm.nFound); err != nil {
			err = fmt.Errorf("look up threads: %w", err)
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && reusedID(c, *r, storedHash) {
		// Another message reuses this Message-ID: keep it apart, never drop it.
		err = db.QueryRow(ctx, insertMessageSQL, messageArgs(c, c.DedupKey+"#"+c.ContentHash)...).Scan(&r.MessageID, &r.Inserted, &storedHash)
	}
	if err != nil {
		return fmt.Errorf("save message %s: %w", c.DedupKey, err)
	}
	tm.id = r.MessageID
	return nil
}

// saveNew stores what goes with a new message's row, and threads it.
func saveNew(ctx context.Context, db BatchDB, c *Captured, loc *Location, r *SaveResult, tm threadMessage, raw *RawWriter) (threaded, error) {
	tm.insert = c.Events
	st, err := threadStatement(ctx, db, tm)
	if err != nil {
		return st.out, fmt.Errorf("thread %s: %w", c.DedupKey, err)
	}
	b := &pgx.Batch{}
	if raw != nil {
		raw.Add(r.MessageID, c.Raw)
	} else {
		b.Queue(insertRawSQL, r.MessageID, c.Raw)
	}
	if loc != nil {
		b.Queue(insertLocationSQL, locationArgs(loc, r.MessageID)...)
	}
	b.Queue(st.sql, st.args...)
	br := db.SendBatch(ctx, b)
	err = func() error {
		defer br.Close()
		if raw == nil {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("save raw message %s: %w", c.DedupKey, err)
			}
		}
		if loc != nil {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("save location of %s: %w", c.DedupKey, err)
			}
		}
		if err := st.scan(br.QueryRow()); err != nil {
			return fmt.Errorf("thread %s: %w", c.DedupKey, err)
		}
		return br.Close()
	}()
	if err != nil {
		return st.out, err
	}
	th, err := st.settle(ctx, db)
	if err != nil {
		return th, fmt.Errorf("thread %s: %w", c.DedupKey, err)
	}
	r.NewEvents = len(th.events)
	return th, nil
}

// saveAgain records where a stored message was found again and the
// events a copy adds (a Sent copy's Bcc), and threads those.
func saveAgain(ctx context.Context, db BatchDB, c *Captured, loc *Location, r *SaveResult) (threaded, error) {
	b := &pgx.Batch{}
	if loc != nil {
		b.Queue(insertLocationSQL, locationArgs(loc, r.MessageID)...)
	}
	if len(c.Events) > 0 {
		b.Queue(insertEvents, append([]any{r.MessageID}, eventColumns(c.Events)...)...)
	}
	b.Queue(loadThreadSQL, r.MessageID, maxThreadRefs)
	br := db.SendBatch(ctx, b)
	tm, err := func() (threadMessage, error) {
		defer br.Close()
		if loc != nil {
			if _, err := br.Exec(); err != nil {
				return threadMessage{}, fmt.Errorf("save location of %s: %w", c.DedupKey, err)
			}
		}
		if len(c.Events) > 0 {
			if err := br.QueryRow().Scan(&r.NewEvents); err != nil {
				return threadMessage{}, fmt.Errorf("save events of %s: %w", c.DedupKey, err)
			}
		}
		tm, err := scanThreadMessage(br.QueryRow(), r.MessageID)
		if err != nil {
			return tm, err
		}
		return tm, br.Close()
	}()
	if err != nil || r.NewEvents == 0 {
		return threaded{}, err
	}
	th, err := assignThread(ctx, db, tm)
	if err != nil {
		return th, fmt.Errorf("thread %s: %w", c.DedupKey, err)
	}
	return th, nil
}

// CapturePlans makes the statements of the transaction's saves run on
// one plan each per connection (a generic plan), instead of planning every
// execution (the pool's force_custom_plan, see Open): planning was a third
// of a sync's PostgreSQL time, and PostgreSQL's own choice (plan_cache_mode
// auto) kept planning some statements anew every time. Generic plans were
// bad only when made while the tables were nearly empty (a first sync),
// when sequential scans look cheapest: with them ruled out, the plans are
// the index lookups they stay right for as the tables grow. Every
// statement of a save is such a lookup.
func CapturePlans(ctx context.Context, db DB) error {
	_, err := db.Exec(ctx, `SELECT set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true)`)
	if err != nil {
		return fmt.Errorf("set capture plans: %w", err)
	}
	return nil
}

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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
