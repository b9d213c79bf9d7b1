package ingest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// FolderResult counts what syncing folders did.
type FolderResult struct {
	Fetched   int
	Bytes     int64
	NewEvents int
	// Where the time went: the busy time of each of the three stages of
	// run. They overlap, so together they exceed the sync's time; the
	// longest is the bound (the server, parsing's CPU, or the database).
	Fetching, Parsing, Storing time.Duration
}

func (r *FolderResult) add(o FolderResult) {
	r.Fetched += o.Fetched
	r.Bytes += o.Bytes
	r.NewEvents += o.NewEvents
	r.Fetching += o.Fetching
	r.Parsing += o.Parsing
	r.Storing += o.Storing
}

// stages returns the stages' busy times as log attributes.
func (r *FolderResult) stages() []any {
	return []any{"fetching", r.Fetching.Round(time.Millisecond), "parsing", r.Parsing.Round(time.Millisecond),
		"storing", r.Storing.Round(time.Millisecond)}
}

// Progress reports one batch stored, for progress displays.
type Progress struct {
	Rep, Folder string
	Backfill    bool  // newest-first backfill rather than new mail
	Messages    int   // stored in this batch
	Bytes       int64 // read in this batch
	Remaining   int   // messages still planned in this folder's current run
}

// syncNew brings a folder's new mail: EXAMINE, a UIDVALIDITY check, then
// every UID above the new-mail cursor, oldest first. On a first sync (or
// after a UIDVALIDITY change) it only sets the cursors: the backfill then
// fetches the folder newest first.
func (s *Syncer) syncNew(ctx context.Context, sess *session, rep config.Rep, f Folder, cur *timeline.Cursor, known bool) (FolderResult, error) {
	var res FolderResult
	sel, err := sess.examine(f.Name)
	if err != nil {
		return res, err
	}
	if known && cur.UIDValidity != sel.UIDValidity {
		// RFC 9051 2.3.1.1: the old UIDs mean nothing now. Read the folder
		// again; messages already stored are known by their dedup key.
		s.log.Warn("uidvalidity changed: reading the folder again", "rep", rep.Email, "folder", f.Name,
			"old", cur.UIDValidity, "new", sel.UIDValidity)
		known = false
	}
	if !known {
		top := uint32(0)
		if sel.UIDNext > 0 {
			top = uint32(sel.UIDNext) - 1
		} else if sel.NumMessages > 0 {
			// No UIDNEXT (RFC 3501 requires it, a few servers forget): the
			// highest UID is the top.
			found, err := sess.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
			if err != nil {
				return res, fmt.Errorf("search %s: %w", f.Name, err)
			}
			for _, u := range found.AllUIDs() {
				top = max(top, uint32(u))
			}
		}
		*cur = timeline.Cursor{Rep: rep.Email, Folder: f.Name, Role: f.Role, UIDValidity: sel.UIDValidity,
			LastUID: top, BackfillUID: top + 1, ServerMessages: int64(sel.NumMessages), ServerUIDNext: uint32(sel.UIDNext)}
		if sel.NumMessages == 0 {
			cur.BackfillDone = true
			cur.BackfillSince = s.since(rep)
		}
		return res, timeline.PutCursor(ctx, s.store.Pool, *cur)
	}
	cur.Role = f.Role
	cur.ServerMessages, cur.ServerUIDNext = int64(sel.NumMessages), uint32(sel.UIDNext)
	top := uint32(0)
	if sel.UIDNext != 0 {
		top = uint32(sel.UIDNext) - 1
		if top <= cur.LastUID {
			return res, timeline.NoteFolderStatus(ctx, s.store.Pool, rep.Email, f.Name, cur.ServerMessages, cur.ServerUIDNext)
		}
	}
	// One UID FETCH lists the new UIDs with their sizes. "n:*" always
	// includes the highest UID, even below n: keep only those above.
	var set imap.UIDSet
	set.AddRange(imap.UID(cur.LastUID+1), 0)
	sizes, err := fetchSizes(sess.c, set)
	if err != nil {
		return res, fmt.Errorf("fetch new in %s: %w", f.Name, err)
	}
	var uids []imap.UID
	for u := range sizes {
		if uint32(u) > cur.LastUID {
			uids = append(uids, u)
		}
	}
	if len(uids) > 0 {
		slices.Sort(uids)
		plan := fetchPlan{f: f, uids: uids, sizes: sizes}
		res, err = s.run(ctx, sess, rep.Email, f.Name, runSpec{
			long:   len(uids) > s.cfg.Sync.BatchSize,
			cursor: func(string) *timeline.Cursor { return cur },
			feed:   func(send func(fetchResult) bool) { s.fetchPlan(sess, &plan, send) },
		})
		if err != nil {
			return res, err
		}
	}
	// Every UID below UIDNEXT that exists was just listed: those not
	// fetched were expunged. Moving the cursor to the top keeps the cheap
	// check (UIDNEXT unchanged) true on the next poll.
	if top > cur.LastUID {
		cur.LastUID = top
		return res, timeline.PutCursor(ctx, s.store.Pool, *cur)
	}
	return res, nil
}

// since is how far back a first sync of rep goes, nil for no limit.
func (s *Syncer) since(rep config.Rep) *time.Time {
	if t, ok := s.cfg.SinceDate(rep); ok {
		return &t
	}
	return nil
}

// needsBackfill applies the configured since date to a cursor and reports
// whether its backfill has work. A since date further back than the one a
// finished (or running) backfill used restarts it from the top; UIDs
// already stored are skipped, so nothing is fetched twice.
func (s *Syncer) needsBackfill(rep config.Rep, cur *timeline.Cursor) bool {
	target := s.since(rep)
	earlier := cur.BackfillSince != nil && (target == nil || target.Before(*cur.BackfillSince))
	if earlier {
		cur.BackfillDone = false
		cur.BackfillUID = cur.LastUID + 1
	}
	if !cur.BackfillDone {
		cur.BackfillSince = target
	}
	return !cur.BackfillDone
}

// runSpec says what a run fetches and how it stores it.
type runSpec struct {
	down   bool                                 // a backfill: moves BackfillUID; else new mail: LastUID
	long   bool                                 // many batches: the raw messages go on a second connection
	cursor func(folder string) *timeline.Cursor // the cursor a folder's batches move
	feed   func(send func(fetchResult) bool)    // the producer: fetches, in storing order
	marked func(f Folder, m *stepMark) error    // a mark, once the batches before it are stored
}

// run fetches what spec.feed produces and stores it batch by batch, in
// three stages that overlap: the producer reads batch n+2 from the server
// while batch n+1 is parsed (on every core) and batch n is committed with
// its folder's cursor. The stages hand batches over unbuffered, so at most
// three are in memory. The cursor never passes a UID the server lists but
// would not return.
func (s *Syncer) run(ctx context.Context, sess *session, rep, what string, spec runSpec) (FolderResult, error) {
	var res FolderResult
	fetched := make(chan fetchResult)
	ready := make(chan preparedBatch)
	stop := make(chan struct{})
	go s.produce(what, fetched, stop, spec.feed)
	go s.prepareStage(fetched, ready, stop, rep)
	defer func() {
		close(stop)
		for range ready { // let the producer finish the command in hand
		}
	}()
	// The raw messages of each batch of a long run (a backfill, a big
	// catch-up) are written on a second connection while the batch saves
	// the rest (timeline.RawWriter); a few new messages are not worth a
	// connection.
	var rc *timeline.RawConn
	if spec.long || spec.down {
		var err error
		if rc, err = s.store.RawConn(ctx); err != nil {
			return res, err
		}
		defer rc.Close()
	}
	stale := map[string]bool{} // folder -> it holds locations under an older UIDVALIDITY
	for r := range ready {
		if r.err != nil {
			return res, r.err
		}
		if r.mark != nil {
			if err := spec.marked(r.f, r.mark); err != nil {
				return res, err
			}
			continue
		}
		b, f := r.batch, r.f
		cur := spec.cursor(f.Name)
		next := *cur
		for _, u := range b.order {
			if b.msgs[u] == nil && !b.gone[u] {
				break
			}
			if spec.down {
				next.BackfillUID = min(next.BackfillUID, uint32(u))
			} else {
				next.LastUID = max(next.LastUID, uint32(u))
			}
		}
		newEvents := 0
		began := time.Now()
		var prs []*Prepared
		var locs []*timeline.Location
		var uids []int64
		for _, u := range b.order {
			if pr := r.prepared[u]; pr != nil {
				prs = append(prs, pr)
				locs = append(locs, &timeline.Location{Rep: rep, Folder: f.Name, UIDValidity: cur.UIDValidity, UID: uint32(u)})
				uids = append(uids, int64(u))
			}
		}
		// After a UIDVALIDITY change, the folder read again: each batch
		// drops the stale locations of the messages it found again.
		dropStale, checked := stale[f.Name]
		if !checked {
			var err error
			if dropStale, err = timeline.HasStaleLocations(ctx, s.store.Pool, rep, f.Name, cur.UIDValidity); err != nil {
				return res, err
			}
			stale[f.Name] = dropStale
		}
		// store saves the batch and moves the cursor in one transaction;
		// each, one message at a time (saveEach): the way out of a batch
		// that PostgreSQL refuses whatever the try.
		store := func(tx pgx.Tx, each bool) (err error) {
			newEvents = 0
			var rs []timeline.SaveResult
			how := ""
			if each {
				rs, err = s.pipe.saveEach(ctx, tx, prs, locs)
				how = " one by one"
			} else {
				raw := rc.Start(ctx)
				defer func() {
					if err != nil {
						raw.Abort()
					} else if err = raw.Commit(); err != nil {
						err = fmt.Errorf("%s: %w", f.Name, err)
					}
				}()
				save := s.pipe.SaveBatch
				if spec.down {
					save = s.pipe.SaveOlder
				}
				rs, err = save(ctx, tx, prs, locs, raw)
			}
			if err != nil {
				return fmt.Errorf("%s: save batch of %d%s: %w", f.Name, len(prs), how, err)
			}
			for _, sr := range rs {
				newEvents += sr.NewEvents
			}
			if dropStale {
				if _, err := timeline.DropStaleLocations(ctx, tx, rep, f.Name, cur.UIDValidity, uids); err != nil {
					return err
				}
			}
			return timeline.PutCursor(ctx, tx, next)
		}
		if err := storeOrEach(ctx, s.store, s.log, store, "rep", rep, "folder", f.Name); err != nil {
			return res, err
		}
		*cur = next
		res.Storing += time.Since(began)
		res.Fetching += b.took
		res.Parsing += r.parsing
		res.Fetched += len(b.msgs)
		res.Bytes += b.bytes
		res.NewEvents += newEvents
		if s.OnProgress != nil {
			s.OnProgress(Progress{Rep: rep, Folder: f.Name, Backfill: spec.down, Messages: len(b.msgs),
				Bytes: b.bytes, Remaining: r.remaining})
		}
		if b.stuck != 0 {
			return res, &TemporaryError{fmt.Errorf("fetch %s: the server lists UID %d but did not return it; will retry",
				f.Name, b.stuck), KindServer}
		}
		if len(b.gone) > 0 {
			s.log.Debug("messages expunged while fetching", "rep", rep, "folder", f.Name, "count", len(b.gone))
		}
	}
	return res, nil
}

// preparedBatch is a fetched batch with its messages prepared.
type preparedBatch struct {
	fetchResult
	prepared map[imap.UID]*Prepared
	parsing  time.Duration
}

// prepareStage prepares each fetched batch and hands it on, marks and
// errors as they come. After stop it keeps draining in, so that the
// producer can finish its command.
func (s *Syncer) prepareStage(in <-chan fetchResult, out chan<- preparedBatch, stop <-chan struct{}, rep string) {
	defer close(out)
	for r := range in {
		pb := preparedBatch{fetchResult: r}
		if r.err == nil && r.batch != nil {
			began := time.Now()
			pb.prepared = s.prepareAll(r.batch, rep, r.f.Role)
			pb.parsing = time.Since(began)
		}
		select {
		case out <- pb:
		case <-stop:
		}
	}
}

// prepareAll parses, matches and classifies a batch on every core but
// one: the commit of the batch before (and the PostgreSQL backend serving
// it, often on the same host) is the sync's critical path, and waited for
// a core when parsing took them all (2,000 messages on 2 cores: 14.7-17.5 s
// -> 13.3-15.3 s).
func (s *Syncer) prepareAll(b *fetchedBatch, rep, role string) map[imap.UID]*Prepared {
	out := make(map[imap.UID]*Prepared, len(b.msgs))
	var mu sync.Mutex
	work := make(chan *fetchedMsg)
	var wg sync.WaitGroup
	for range min(max(1, runtime.GOMAXPROCS(0)-1), max(1, len(b.msgs))) {
		wg.Go(func() {
			for m := range work {
				pr := s.prepareOne(m, rep, role)
				mu.Lock()
				out[m.uid] = pr
				mu.Unlock()
			}
		})
	}
	for _, m := range b.msgs {
		work <- m
	}
	close(work)
	wg.Wait()
	return out
}
