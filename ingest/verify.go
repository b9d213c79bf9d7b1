package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/message"
	"github.com/mailtrail/mailtrail/timeline"
)

// Verifier is the completeness check: it compares, per rep and folder,
// the UIDs and Message-IDs on the IMAP server with what mailtrail stored,
// as fsck compares a file system with its own records. It only reads the
// server (EXAMINE, UID SEARCH, BODY.PEEK).
type Verifier struct {
	cfg   *config.Config
	store *timeline.Store
	log   *slog.Logger
}

// NewVerifier wires a verifier.
func NewVerifier(cfg *config.Config, store *timeline.Store, log *slog.Logger) *Verifier {
	return &Verifier{cfg: cfg, store: store, log: log}
}

// VerifyAll checks every configured rep's synced folders, a few mailboxes
// at a time, and stores the results. A rep that cannot be checked (server
// down, login refused) keeps its previous results; its error is joined
// into the returned one as a *MailboxError.
func (v *Verifier) VerifyAll(ctx context.Context) ([]timeline.VerifyResult, error) {
	var (
		mu   sync.Mutex
		all  []timeline.VerifyResult
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 4)
	for _, rep := range v.cfg.Reps {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rs, err := v.VerifyRep(ctx, rep)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, rs...)
			if err != nil {
				errs = append(errs, &MailboxError{Rep: rep.Email, Err: err})
			}
		})
	}
	wg.Wait()
	// Raw rows of batches that never committed (see timeline.RawWriter)
	// are garbage, not gaps: the full check removes them.
	if n, err := timeline.DeleteOrphanRaw(ctx, v.store.Pool); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		v.log.Info("removed raw messages of batches that never committed", "count", n)
	}
	slices.SortFunc(all, func(a, b timeline.VerifyResult) int {
		if a.Rep != b.Rep {
			return compareStrings(a.Rep, b.Rep)
		}
		return compareStrings(a.Folder, b.Folder)
	})
	return all, errors.Join(errs...)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// VerifyRep checks the folders of rep that mailtrail syncs (those with a
// cursor) and stores the results.
func (v *Verifier) VerifyRep(ctx context.Context, rep config.Rep) ([]timeline.VerifyResult, error) {
	folders, err := timeline.SyncedFolders(ctx, v.store.Pool, rep.Email)
	if err != nil || len(folders) == 0 {
		return nil, err
	}
	// The syncer's connect: same TLS, authentication (OAuth included) and
	// deadlines as the sync itself.
	sess, err := NewSyncer(v.cfg, v.store, nil, v.log).connect(ctx, rep)
	if err != nil {
		return nil, err
	}
	defer sess.close()
	c := sess.c
	var rs []timeline.VerifyResult
	for _, f := range folders {
		r, err := v.checkFolder(ctx, c, rep.Email, f)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	_ = c.Logout().Wait()
	if err := timeline.PutVerifyResults(ctx, v.store.Pool, rep.Email, rs); err != nil {
		return rs, err
	}
	return rs, nil
}

// checkFolder compares one folder. The server is read first and the store
// second: the cursor is committed with the messages it covers, so a sync
// running meanwhile can only make the store hold more, never show a gap
// that is not one.
func (v *Verifier) checkFolder(ctx context.Context, c *imapclient.Client, rep, folder string) (timeline.VerifyResult, error) {
	r := timeline.VerifyResult{Rep: rep, Folder: folder, CheckedAt: time.Now().UTC()}
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	var ie *imap.Error
	if errors.As(err, &ie) {
		// The folder is gone or renamed: what was stored stays, and the
		// operator sees why this folder was not checked.
		r.Error = fmt.Sprintf("cannot open %s on the server: %s", folder, ie.Text)
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("examine %s: %w", folder, err)
	}
	r.UIDValidity = sel.UIDValidity
	var (
		uids []imap.UID
		mids map[imap.UID]string
	)
	curs, err := timeline.Cursors(ctx, v.store.Pool, rep)
	if err != nil {
		return r, err
	}
	cur, hasCursor := curs[folder]
	if sel.NumMessages > 0 {
		crit := &imap.SearchCriteria{}
		if hasCursor && cur.BackfillSince != nil {
			// Older mail is left out on purpose (sync.since): not a gap.
			crit.Since = *cur.BackfillSince
		}
		found, err := c.UIDSearch(crit, nil).Wait()
		if err != nil {
			return r, fmt.Errorf("search %s: %w", folder, err)
		}
		uids = found.AllUIDs()
		if mids, err = messageIDs(c, folder); err != nil {
			return r, err
		}
	}
	sf, err := timeline.LoadStoredFolder(ctx, v.store, rep, folder, sel.UIDValidity)
	if err != nil {
		return r, err
	}
	if !hasCursor || cur.UIDValidity != sel.UIDValidity {
		// RFC 3501 2.3.1.1: the UIDs changed meaning; the next sync
		// re-reads the folder, so nothing in it is covered yet.
		cur = timeline.Cursor{}
	}
	onServer := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		uid := uint32(u)
		onServer[uid] = true
		if !cur.Covers(uid) {
			r.Pending++
			continue
		}
		mid, ok := sf.UIDs[uid]
		if !ok || mid != "" && mids[u] != "" && mid != mids[u] {
			r.Gaps++
			r.GapUIDs = append(r.GapUIDs, int64(uid))
		}
	}
	for uid := range sf.UIDs {
		if !onServer[uid] {
			r.Gone++
		}
	}
	r.ServerMessages = int64(len(uids))
	r.Stored = int64(len(sf.UIDs))
	return r, nil
}

// messageIDs fetches the Message-ID of every message in the selected
// folder: UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]),
// decoded by the parser the pipeline uses, so both sides agree.
func messageIDs(c *imapclient.Client, folder string) (map[imap.UID]string, error) {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	var all imap.UIDSet
	all.AddRange(1, 0)
	cmd := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	mids := map[imap.UID]string{}
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var uid imap.UID
		var hdr []byte
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				b, err := io.ReadAll(io.LimitReader(it.Literal, 64<<10))
				if err != nil {
					cmd.Close()
					return nil, fmt.Errorf("fetch Message-IDs of %s: %w", folder, err)
				}
				hdr = b
			}
		}
		if uid != 0 && len(hdr) > 0 {
			mids[uid] = message.Parse(hdr).MessageID
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetch Message-IDs of %s: %w", folder, err)
	}
	return mids, nil
}

// Run checks every rep each interval until ctx ends. The time of the last
// check is kept in PostgreSQL, so a restarted daemon does not check again
// before its turn, nor wait a whole interval when a check is overdue. A
// gap is logged as a warning; the count is in `status` and verify_results.
func (v *Verifier) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	var attempted time.Time
	for {
		last, err := timeline.LastVerify(ctx, v.store.Pool)
		if err != nil && ctx.Err() == nil {
			v.log.Warn("verify: read last check", "err", err)
		}
		last = maxTime(last, attempted)
		wait := time.Until(last.Add(every))
		if last.IsZero() {
			wait = min(every, time.Minute) // let the first sync start
		}
		wait = max(wait, 0)
		wait += time.Duration(rand.Int64N(int64(wait)/10 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		attempted = time.Now()
		rs, err := v.VerifyAll(ctx)
		if ctx.Err() != nil {
			return
		}
		gaps := int64(0)
		for _, r := range rs {
			gaps += r.Gaps
			if r.Gaps > 0 {
				v.log.Warn("verify: messages on the server are missing in mailtrail", "rep", r.Rep,
					"folder", r.Folder, "gaps", r.Gaps, "uids", r.GapUIDs[:min(len(r.GapUIDs), 10)])
			}
		}
		if err != nil {
			v.log.Warn("verify: some mailboxes could not be checked", "err", err)
		}
		v.log.Info("verify done", "folders", len(rs), "gaps", gaps, "took", time.Since(attempted).Round(time.Millisecond))
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
