package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

const (
	// relistEvery is how often the folder list is read again when the
	// server has no LIST-STATUS (with it, every poll lists).
	relistEvery = 10 * time.Minute
	// backfillTurn is how many batches one folder's backfill gets before
	// the next folder's turn, so that every folder's recent mail comes first.
	backfillTurn = 10
	// inboxRecheck bounds how long an idling INBOX goes without a full
	// check, in case a server failed to report new mail.
	inboxRecheck = 10 * time.Minute
)

// passResult counts what one pass did.
type passResult struct {
	folders int
	FolderResult
}

// pass makes one round over a rep's folders on sess. First the cheap
// check: the folder list with every folder's STATUS (UIDNEXT, MESSAGES,
// UIDVALIDITY) in one round trip where the server has LIST-STATUS, else
// one pipelined round of STATUS; a folder whose UIDNEXT and UIDVALIDITY
// did not move costs nothing more. Then new mail in the folders that
// changed, then the backfill of first syncs, newest first, folder by
// folder in turns, for up to budget (0: until done). It reports whether
// backfill remains.
func (s *Syncer) pass(ctx context.Context, sess *session, rep config.Rep, budget time.Duration) (more bool, res passResult, err error) {
	start := time.Now()
	idling := sess.idled
	if sess.selected != "" && !idling {
		// RFC 9051 6.3.11: STATUS is not for the selected folder.
		if err := sess.unselect(); err != nil {
			return false, res, fmt.Errorf("unselect: %w", err)
		}
	}
	listStatus := sess.caps.Has(imap.CapListStatus)
	if sess.list == nil || listStatus || time.Since(sess.listAt) > relistEvery {
		list, err := sess.listFolders()
		if err != nil {
			return false, res, err
		}
		sess.list, sess.listAt = list, time.Now()
	}
	folders := chooseFolders(sess.list, rep.Folders)
	res.folders = len(folders)
	status := map[string]*imap.StatusData{}
	if listStatus {
		for _, l := range sess.list {
			if l.status != nil {
				status[l.name] = l.status
			}
		}
	} else if err := s.statusAll(sess, folders, status, idling); err != nil {
		return false, res, err
	}
	cursors, err := timeline.Cursors(ctx, s.store.Pool, rep.Email)
	if err != nil {
		return false, res, err
	}
	if err := s.followRenames(ctx, sess, rep, folders, status, cursors); err != nil {
		return false, res, err
	}

	// New mail.
	signalled := drain(sess.changed)
	var backfills []*backfill
	for _, f := range folders {
		cur, known := cursors[f.Name]
		st := status[f.Name]
		check := !known || st == nil || st.UIDNext == 0 || st.UIDValidity != cur.UIDValidity ||
			uint32(st.UIDNext) > cur.LastUID+1
		if idling && strings.EqualFold(f.Name, "INBOX") {
			// INBOX was idled on: the server reported new mail as it came.
			check = !known || check && st != nil || signalled || time.Since(sess.inboxCheckedAt) > inboxRecheck
		}
		if check {
			r, err := s.syncNew(ctx, sess, rep, f, &cur, known)
			res.add(r)
			if s.skipFolder(sess, rep, f, err) {
				continue
			}
			if err != nil {
				return false, res, err
			}
			if strings.EqualFold(f.Name, "INBOX") {
				sess.inboxCheckedAt = time.Now()
			}
			known = true
		} else if st != nil && st.NumMessages != nil {
			if err := s.noteStatus(ctx, sess, rep, f.Name, int64(*st.NumMessages), uint32(st.UIDNext)); err != nil {
				return false, res, err
			}
		}
		if known && s.needsBackfill(rep, &cur) {
			backfills = append(backfills, &backfill{f: f, from: cur})
		}
	}

	if len(backfills) == 0 {
		return false, res, nil
	}
	more, r, err := s.backfillAll(ctx, sess, rep, backfills, start, budget)
	res.add(r)
	return more, res, err
}

// skipFolder reports whether err is a folder the server would not open,
// to be skipped this pass while the others go on (logged once a session).
func (s *Syncer) skipFolder(sess *session, rep config.Rep, f Folder, err error) bool {
	var fe *folderError
	if !errors.As(err, &fe) {
		return false
	}
	if !sess.refused[f.Name] {
		sess.refused[f.Name] = true
		s.log.Warn("the server would not open a folder: skipped", "rep", rep.Email, "folder", f.Name, "err", err)
	}
	return true
}

// statusAll sends STATUS for every folder at once and waits for the
// answers: one round trip however many folders. The folder being idled on
// is left out (its news come by IDLE). A folder that vanished since the
// LIST is left out too, and the list is read again next pass.
func (s *Syncer) statusAll(sess *session, folders []Folder, out map[string]*imap.StatusData, idling bool) error {
	cmds := make(map[string]*imapclient.StatusCommand, len(folders))
	// The commands go out in one write when no folder name could need a
	// literal (whose "+" the client would wait for).
	corked := sess.conn != nil && !slices.ContainsFunc(folders, func(f Folder) bool { return !plainName(f.Name) })
	if corked {
		sess.conn.cork()
	}
	for _, f := range folders {
		if idling && strings.EqualFold(f.Name, sess.selected) {
			continue
		}
		cmds[f.Name] = sess.c.Status(f.Name, statusItems)
	}
	if corked {
		if err := sess.conn.uncork(); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	var firstErr error
	for name, cmd := range cmds {
		st, err := cmd.Wait()
		var ie *imap.Error
		switch {
		case errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo:
			sess.list = nil
		case err != nil && firstErr == nil:
			firstErr = fmt.Errorf("status %s: %w", name, err)
		case err == nil:
			out[name] = st
		}
	}
	return firstErr
}

// noteStatus records a folder's STATUS when it changed since last written.
func (s *Syncer) noteStatus(ctx context.Context, sess *session, rep config.Rep, folder string, messages int64, uidnext uint32) error {
	st := folderStatus{messages, uidnext}
	if sess.status[folder] == st {
		return nil
	}
	if err := timeline.NoteFolderStatus(ctx, s.store.Pool, rep.Email, folder, messages, uidnext); err != nil {
		return err
	}
	sess.status[folder] = st
	return nil
}

// followRenames moves the cursors of a folder renamed on the server: a
// listed folder with no cursor whose UIDVALIDITY is that of exactly one
// stored folder no longer listed is that folder under a new name (RFC 9051
// 6.3.6 keeps UIDVALIDITY across RENAME).
func (s *Syncer) followRenames(ctx context.Context, sess *session, rep config.Rep, folders []Folder, status map[string]*imap.StatusData, cursors map[string]timeline.Cursor) error {
	listedNames := map[string]bool{}
	for _, l := range sess.list {
		listedNames[l.name] = true
	}
	for _, f := range folders {
		st := status[f.Name]
		if _, ok := cursors[f.Name]; ok || st == nil || st.UIDValidity == 0 {
			continue
		}
		var from []string
		for name, c := range cursors {
			if !listedNames[name] && c.UIDValidity == st.UIDValidity {
				from = append(from, name)
			}
		}
		if len(from) != 1 {
			continue
		}
		old := cursors[from[0]]
		err := s.store.InTxRetry(ctx, func(tx pgx.Tx) error {
			return timeline.RenameFolder(ctx, tx, rep.Email, old.Folder, f.Name, old.UIDValidity)
		})
		if err != nil {
			return err
		}
		s.log.Info("folder renamed on the server: following it", "rep", rep.Email, "from", old.Folder, "to", f.Name)
		delete(cursors, old.Folder)
		old.Folder = f.Name
		cursors[f.Name] = old
	}
	return nil
}

// drain empties a signal channel and reports whether it held a signal.
func drain(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// plainName tells a mailbox name that goes on the wire as an atom or a
// quoted string: printable ASCII (modified UTF-7 makes any name so), no
// line break.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return false
		}
	}
	return true
}
