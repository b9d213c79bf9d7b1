package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// MaxMessageSize is the default of sync.max_message_size.
const MaxMessageSize = 50 << 20

// Syncer syncs every configured rep's mailbox: a bounded pool of workers
// (sync.workers) shares the passes, so that many mailboxes are served by
// a few at a time and one slow or failing mailbox holds at most one.
type Syncer struct {
	cfg   *config.Config
	store *timeline.Store
	pipe  *Pipeline
	log   *slog.Logger

	// HTTPClient refreshes OAuth tokens.
	HTTPClient *http.Client
	// OnProgress, when set, is called after every batch stored, from the
	// mailbox's goroutine.
	OnProgress func(Progress)
	// RetryPoll is how often a parked or backing-off mailbox looks for an
	// operator's retry or a changed config (default 15s).
	RetryPoll time.Duration

	workers     chan struct{}
	tokensMu    sync.Mutex
	tokens      map[string]*tokenSource
	warnedPlain sync.Map
	roundTrips  atomic.Int64
	owner       string // in the mailbox leases this syncer holds
}

// NewSyncer wires a syncer.
func NewSyncer(cfg *config.Config, store *timeline.Store, pipe *Pipeline, log *slog.Logger) *Syncer {
	return &Syncer{
		cfg: cfg, store: store, pipe: pipe, log: log, owner: newOwner(),
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		RetryPoll:  15 * time.Second,
		workers:    make(chan struct{}, max(1, cfg.Sync.Workers)),
		tokens:     map[string]*tokenSource{},
	}
}

// RoundTrips returns how many times, since the syncer was made, a client
// sent commands and then waited for the server's answer. Pipelined
// commands answered together count once.
func (s *Syncer) RoundTrips() int64 { return s.roundTrips.Load() }

// MailboxError names the mailbox that failed and why.
type MailboxError struct {
	Rep string
	Err error
}

func (e *MailboxError) Error() string { return fmt.Sprintf("mailbox %s: %v", e.Rep, e.Err) }
func (e *MailboxError) Unwrap() error { return e.Err }

// acquire takes a worker slot; release gives it back.
func (s *Syncer) acquire(ctx context.Context) error {
	select {
	case s.workers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Syncer) release() { <-s.workers }

// ensureMailboxes records every configured rep's mailbox, so that status
// lists those that never synced.
func (s *Syncer) ensureMailboxes(ctx context.Context) error {
	for _, rep := range s.cfg.Reps {
		if err := timeline.EnsureMailbox(ctx, s.store.Pool, rep.Email, rep.IMAP.Host, rep.IMAP.Username); err != nil {
			return err
		}
	}
	return nil
}

// SyncOnce syncs every rep's mailbox to the end (new mail and the whole
// backfill), sync.workers at a time. A failing mailbox does not stop the
// others; the error joins one MailboxError per failed mailbox. A parked
// mailbox fails at once unless its config changed.
//
// Before the pass, a changed matching config queues the stored mail for
// re-matching; after it, Maintain re-matches what is queued and scans for
// duplicate customers when customers changed.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	if err := s.pipe.Reload(ctx); err != nil {
		return err
	}
	if _, err := s.pipe.CheckConfig(ctx); err != nil {
		return err
	}
	if err := s.ensureMailboxes(ctx); err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, rep := range s.cfg.Reps {
		wg.Go(func() {
			err := s.acquire(ctx)
			if err == nil {
				err = s.SyncRep(ctx, rep)
				s.release()
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, &MailboxError{Rep: rep.Email, Err: err})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if _, err := s.pipe.Maintain(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SyncRep syncs one rep's folders to the end on a fresh connection and
// records the outcome. It does not take a worker slot.
func (s *Syncer) SyncRep(ctx context.Context, rep config.Rep) (err error) {
	if parked, err := s.checkParked(ctx, rep); parked {
		return err
	}
	start := time.Now()
	var total passResult
	err = s.safely(func() error {
		sess, err := s.connect(ctx, rep)
		if err != nil {
			return err
		}
		defer sess.logout()
		for {
			more, r, err := s.pass(ctx, sess, rep, 0)
			total.folders = r.folders
			total.add(r.FolderResult)
			if err != nil || !more {
				return sess.failure(err)
			}
		}
	})
	err = classifySession(err)
	if ctx.Err() != nil && err != nil {
		return err
	}
	failures := 0
	if err != nil {
		st, _ := timeline.GetMailboxState(ctx, s.store.Pool, rep.Email)
		failures = st.Failures + 1
	}
	s.record(ctx, rep, err, failures, time.Time{})
	if err == nil {
		s.log.Info("mailbox synced", append([]any{"rep", rep.Email, "folders", total.folders, "fetched", total.Fetched,
			"bytes", total.Bytes, "new_events", total.NewEvents, "took", time.Since(start).Round(time.Millisecond)}, total.stages()...)...)
	}
	return err
}

// safely runs fn, turning a panic into an error: one bad message or
// server must not take the daemon down.
func (s *Syncer) safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic during sync", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic during sync: %v", r)
		}
	}()
	return fn()
}

// record stores the outcome of a pass: success, a temporary failure with
// the next attempt, or a permanent one that parks the mailbox.
func (s *Syncer) record(ctx context.Context, rep config.Rep, err error, failures int, next time.Time) {
	ctx = context.WithoutCancel(ctx)
	var rerr error
	if err == nil {
		rerr = timeline.RecordSyncOK(ctx, s.store.Pool, rep.Email)
	} else {
		park := IsPermanent(err)
		hash := ""
		if park {
			hash = configHash(rep)

		}
		rerr = timeline.RecordSyncError(ctx, s.store.Pool, rep.Email, err.Error(), Advice(rep, err), failures, next, park, hash)
	}
	if rerr != nil {
		s.log.Error("record mailbox state", "rep", rep.Email, "err", rerr)
	}
}

// maintainOnce is Maintain with a panic turned into an error, so that
// one bad message does not stop maintenance for good.
func (s *Syncer) maintainOnce(ctx context.Context) (m Maintained, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic during maintenance: %v", r)
		}
	}()
	return s.pipe.Maintain(ctx)
}

// maintainInterval is how often the daemon looks for re-matching and
// duplicate scans owed (an API merge queues them).
const maintainInterval = 10 * time.Second

// maintainLoop checks the matching config once, then runs Maintain every
// maintainInterval (or the sync interval, when shorter) until ctx ends.
func (s *Syncer) maintainLoop(ctx context.Context) {
	if n, err := s.pipe.CheckConfig(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("check matching config", "err", err)
	} else if n > 0 {
		s.log.Info("matching config changed: stored mail queued to be matched again", "messages", n)
	}
	s.pipe.ScanSoon()
	every := min(maintainInterval, s.cfg.Sync.Interval)
	for {
		m, err := s.maintainOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("maintenance", "err", err)
		case m.Rematch.Messages > 0 || m.Duplicates != nil:
			args := []any{"messages", m.Rematch.Messages, "events_added", m.Rematch.Added, "events_removed", m.Rematch.Removed}
			if m.Duplicates != nil {
				args = append(args, "duplicate_pairs", m.Duplicates.Pairs)
			}
			s.log.Info("customer records maintained", args...)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every + time.Duration(rand.Int64N(int64(every)/5+1))):
		}
	}
}

// KindParked is the kind of the error a parked mailbox fails with.
const KindParked = "parked"

// checkParked reports whether a rep's mailbox is parked, with the error to
// report. A parked mailbox whose config (secret included) changed since it
// was parked is unparked here.
func (s *Syncer) checkParked(ctx context.Context, rep config.Rep) (bool, error) {
	st, err := timeline.GetMailboxState(ctx, s.store.Pool, rep.Email)
	if err != nil || !st.Parked() {
		return false, nil
	}
	if configHash(rep) != st.ConfigHash {
		if err := timeline.Unpark(ctx, s.store.Pool, rep.Email); err != nil {
			s.log.Error("unpark mailbox", "rep", rep.Email, "err", err)
			return false, nil
		}
		s.log.Info("mailbox config changed since it was parked: trying again", "rep", rep.Email)
		return false, nil
	}
	return true, &PermanentError{fmt.Errorf("parked since %s: %s (fix the config, or run `mailtrail mailboxes retry %s`)",
		st.ParkedAt.Format(time.RFC3339), st.ParkedReason, rep.Email), KindParked}
}
