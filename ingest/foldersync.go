package ingest

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/timeline"
)

// FolderResult counts what one folder sync did.
type FolderResult struct {
	Folder    string
	Fetched   int
	NewEvents int
}

// Progress reports one batch stored, for progress displays.
type Progress struct {
	Rep, Folder string
	Backfill    bool  // newest-first backfill rather than new mail
	Messages    int   // stored in this batch
	Bytes       int64 // read in this batch
	Remaining   int   // messages still planned in this folder's current run
}

// syncFolder fetches the UIDs above the stored cursor in batches. Each
// batch is committed with the cursor in one transaction, so a crash repeats
// at most the batch in hand, and the repeat adds nothing (unique keys).
func (s *Syncer) syncFolder(ctx context.Context, c *imapclient.Client, rep string, f Folder) (FolderResult, error) {
	res := FolderResult{Folder: f.Name}
	sel, err := c.Select(f.Name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return res, fmt.Errorf("examine %s: %w", f.Name, err)
	}
	st, known, err := timeline.GetFolder(ctx, s.store.Pool, rep, f.Name)
	if err != nil {
		return res, err
	}
	if known && st.UIDValidity != sel.UIDValidity {
		// RFC 3501 2.3.1.1: the old UIDs mean nothing now. Re-read the
		// folder; messages already stored are recognised by their dedup key.
		s.log.Warn("uidvalidity changed: re-reading folder", "rep", rep, "folder", f.Name,
			"old", st.UIDValidity, "new", sel.UIDValidity)
		st.LastUID = 0
	}
	st.UIDValidity = sel.UIDValidity
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && uint32(sel.UIDNext) <= st.LastUID+1) {
		return res, timeline.PutFolder(ctx, s.store.Pool, st)
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(st.LastUID+1), 0)
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("search %s: %w", f.Name, err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		// "n:*" always matches the highest UID, even below n.
		if uint32(u) > st.LastUID {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for len(uids) > 0 {
		n := min(len(uids), s.cfg.Sync.BatchSize)
		batch := uids[:n]
		uids = uids[n:]
		got, err := s.fetchBatch(c, f.Name, batch)
		if err != nil {
			return res, err
		}
		// Advance only to just below the first UID that did not come back,
		// so that a short answer is retried, never skipped.
		last := uint32(batch[len(batch)-1])
		for _, u := range batch {
			if _, ok := got[u]; !ok {
				last = uint32(u) - 1
				break
			}
		}
		prepared := s.pipe.PrepareAll(got, rep, f.Role)
		newEvents := 0
		err = s.store.InTxRetry(ctx, func(tx pgx.Tx) error {
			newEvents = 0
			var prs []*Prepared
			var locs []*timeline.Location
			for _, u := range batch {
				if pr, ok := prepared[u]; ok && uint32(u) <= last {
					prs = append(prs, pr)
					locs = append(locs, &timeline.Location{Rep: rep, Folder: f.Name, UIDValidity: st.UIDValidity, UID: uint32(u)})
				}
			}
			rs, err := s.pipe.SaveBatch(ctx, tx, prs, locs)
			if err != nil {
				return fmt.Errorf("%s uids %d-%d: %w", f.Name, batch[0], last, err)
			}
			for _, r := range rs {
				newEvents += r.NewEvents
			}
			if last <= st.LastUID {
				return nil
			}
			return timeline.PutFolder(ctx, tx, timeline.FolderState{Rep: rep, Folder: f.Name, UIDValidity: st.UIDValidity, LastUID: last})
		})
		if err != nil {
			return res, err
		}
		if last > st.LastUID {
			st.LastUID = last
		}
		res.Fetched += len(got)
		res.NewEvents += newEvents
		if s.OnProgress != nil {
			var n int64
			for _, raw := range got {
				n += int64(len(raw))
			}
			s.OnProgress(Progress{Rep: rep, Folder: f.Name, Messages: len(got), Bytes: n, Remaining: len(uids)})
		}
		if last < uint32(batch[len(batch)-1]) {
			return res, fmt.Errorf("fetch %s: server returned %d of %d messages; will retry", f.Name, len(got), len(batch))
		}
	}
	return res, nil
}

// fetchBatch fetches whole messages by UID. Each body is read to the end
// before the next message: go-imap discards it on Next().
func (s *Syncer) fetchBatch(c *imapclient.Client, folder string, uids []imap.UID) (map[imap.UID][]byte, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	got := make(map[imap.UID][]byte, len(uids))
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var body []byte
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				b, err := io.ReadAll(io.LimitReader(it.Literal, s.maxSize()))
				if err != nil {
					cmd.Close()
					return nil, fmt.Errorf("fetch %s: read body: %w", folder, err)
				}
				body = b
			}
		}
		if uid != 0 && body != nil {
			got[uid] = body
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", folder, err)
	}
	return got, nil
}
