package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// backfill is the state of one folder's backfill during a pass.
type backfill struct {
	f     Folder
	from  timeline.Cursor // the folder's cursor as the backfill began: what the producer goes by
	cands []imap.UID      // UIDs still to fetch, descending; nil until searched
	sizes map[imap.UID]int64
}

// backfillAll fetches the backfills of a pass newest first, the folders in
// turns of backfillTurn batches so that every folder's recent mail comes
// first. The turns are one pipeline: the next turn is fetched and parsed
// while the last batches of the one before are stored (with a pipeline per
// turn, drained and filled again, the store waited for batches 6.7 s of a
// 64 s sync of 20,000 messages; 5.2-5.4 s now). It stops between turns
// once budget (0: none) has passed since start, or when new mail was
// signalled, and reports whether backfill remains.
func (s *Syncer) backfillAll(ctx context.Context, sess *session, rep config.Rep, backfills []*backfill,
	start time.Time, budget time.Duration) (more bool, res FolderResult, err error) {
	curs := make(map[string]*timeline.Cursor, len(backfills)) // what the stored batches moved them to
	for _, b := range backfills {
		cur := b.from
		curs[b.f.Name] = &cur
	}
	// feed runs in the producer's goroutine; run returns only after it
	// ended (the channels it closes order its write of more before).
	feed := func(send func(fetchResult) bool) {
		active := backfills
		for turn := 0; len(active) > 0; {
			var left []*backfill
			for _, b := range active {
				if turn > 0 && drain(sess.changed) {
					// New mail in a folder being backfilled: a pass for
					// it now, the backfill after.
					signal(sess.changed)
					more = true
					return
				}
				if budget != 0 && time.Since(start) >= budget {
					more = true
					return
				}
				turn++
				done, ok := s.backfillTurn(ctx, sess, rep, b, send)
				if !ok {
					return // the run ends in an error
				}
				if !done {
					left = append(left, b)
				}
			}
			active = left
		}
	}
	marked := func(f Folder, m *stepMark) error {
		if _, err := timeline.FlushPendingLinks(ctx, s.store); err != nil {
			return err
		}
		if !m.done {
			return nil
		}
		cur := curs[f.Name]
		cur.BackfillDone = true
		cur.BeforeSince = m.beforeSince
		return timeline.PutCursor(ctx, s.store.Pool, *cur)
	}
	res, err = s.run(ctx, sess, rep.Email, "backfill", runSpec{down: true, cursor: func(name string) *timeline.Cursor { return curs[name] },
		feed: feed, marked: marked})
	if err != nil {
		// The links deferred by the batches stored before the error (each
		// turn's mark applied those before it).
		if _, ferr := timeline.FlushPendingLinks(ctx, s.store); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return more, res, err
}

// backfillTurn runs in the producer: it fetches up to backfillTurn batches
// of b's folder, newest first, then sends a mark, the end of the turn or,
// when nothing is left, of the folder's backfill. It reports whether the
// folder's backfill is over for this pass, and ok false when the producer
// must stop (an error was sent, a batch was stuck, or the consumer left).
func (s *Syncer) backfillTurn(ctx context.Context, sess *session, rep config.Rep, b *backfill, send func(fetchResult) bool) (done, ok bool) {
	fail := func(err error) (bool, bool) {
		send(fetchResult{err: err})
		return false, false
	}
	if sess.selected != b.f.Name {
		sel, err := sess.examine(b.f.Name)
		if s.skipFolder(sess, rep, b.f, err) {
			return true, true
		}
		if err != nil {
			return fail(err)
		}
		if sel.UIDValidity != b.from.UIDValidity {
			// Changed since the new-mail check: the next pass starts over.
			return true, true
		}
	}
	if b.cands == nil {
		cands, err := s.backfillCandidates(ctx, sess, rep, b)
		if err != nil {
			return fail(err)
		}
		b.cands = cands
	}
	if len(b.cands) > 0 {
		plan := fetchPlan{f: b.f, uids: b.cands, sizes: b.sizes, maxBatches: backfillTurn}
		pos, ok := s.fetchPlan(sess, &plan, send)
		b.cands, b.sizes = b.cands[pos:], plan.sizes
		if !ok {
			return false, false
		}
		if len(b.cands) > 0 {
			return false, send(fetchResult{f: b.f, mark: &stepMark{}})
		}
	}
	mark := &stepMark{done: true}
	if b.from.BackfillSince != nil {
		// Messages before the since date are left out on purpose: they are
		// not backlog.
		found, err := sess.c.UIDSearch(&imap.SearchCriteria{Before: *b.from.BackfillSince}, nil).Wait()
		if err != nil {
			return fail(fmt.Errorf("search %s: %w", b.f.Name, err))
		}
		mark.beforeSince = int64(len(found.AllUIDs()))
	}
	return true, send(fetchResult{f: b.f, mark: mark})
}

// backfillCandidates lists the UIDs of b's backfill, newest first: those
// below the backfill cursor (and since the since date) that are not
// stored yet.
func (s *Syncer) backfillCandidates(ctx context.Context, sess *session, rep config.Rep, b *backfill) ([]imap.UID, error) {
	cur := b.from
	if cur.BackfillUID <= 1 {
		return []imap.UID{}, nil
	}
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: 1, Stop: imap.UID(cur.BackfillUID - 1)}}}}
	if cur.BackfillSince != nil {
		crit.Since = *cur.BackfillSince
	}
	found, err := sess.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", b.f.Name, err)
	}
	stored, err := timeline.StoredUIDs(ctx, s.store.Pool, rep.Email, b.f.Name, cur.UIDValidity, cur.BackfillUID)
	if err != nil {
		return nil, err
	}
	cands := []imap.UID{}
	for _, u := range found.AllUIDs() {
		// "1:n" can answer the highest UID even above n.
		if uint32(u) < cur.BackfillUID && uint32(u) <= cur.LastUID && !stored[uint32(u)] {
			cands = append(cands, u)
		}
	}
	slices.SortFunc(cands, func(a, b imap.UID) int { return int(b) - int(a) })
	return cands, nil
}
