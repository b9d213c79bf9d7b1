package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// MaxMessageSize bounds what is read of one message.
const MaxMessageSize = 50 << 20

// Syncer syncs every configured rep's mailbox.
type Syncer struct {
	cfg   *config.Config
	store *timeline.Store
	pipe  *Pipeline
	log   *slog.Logger
}

// NewSyncer wires a syncer.
func NewSyncer(cfg *config.Config, store *timeline.Store, pipe *Pipeline, log *slog.Logger) *Syncer {
	return &Syncer{cfg: cfg, store: store, pipe: pipe, log: log}
}

func (s *Syncer) maxSize() int64 { return MaxMessageSize }

// MailboxError names the mailbox that failed and why.
type MailboxError struct {
	Rep string
	Err error
}

func (e *MailboxError) Error() string { return fmt.Sprintf("mailbox %s: %v", e.Rep, e.Err) }
func (e *MailboxError) Unwrap() error { return e.Err }

// SyncOnce makes one pass over every rep's folders, the reps in parallel.
// A failing mailbox does not stop the others; the error joins one
// MailboxError per failed mailbox.
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
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 8) // a bounded pool: one slow server holds one slot
	for _, rep := range s.cfg.Reps {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.SyncRep(ctx, rep); err != nil {
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

// SyncRep syncs one rep's INBOX and sent folder and records the outcome.
func (s *Syncer) SyncRep(ctx context.Context, rep config.Rep) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic during sync: %v", r)
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if rerr := timeline.RecordMailbox(context.WithoutCancel(ctx), s.store.Pool, rep.Email, msg); rerr != nil {
			s.log.Error("record mailbox status", "rep", rep.Email, "err", rerr)
		}
	}()
	start := time.Now()
	c, closeFn, err := connect(ctx, rep, s.cfg.Sync.Timeout)
	if err != nil {
		return err
	}
	defer closeFn()
	folders, err := findFolders(c)
	if err != nil {
		return err
	}
	fetched, events := 0, 0
	for _, f := range folders {
		r, err := s.syncFolder(ctx, c, rep.Email, f)
		fetched += r.Fetched
		events += r.NewEvents
		if err != nil {
			return err
		}
	}
	_ = c.Logout().Wait()
	s.log.Info("mailbox synced", "rep", rep.Email, "folders", len(folders), "fetched", fetched,
		"new_events", events, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run syncs each rep on its own loop until ctx ends: every interval with
// jitter, backing off exponentially on temporary errors and waiting on
// permanent ones (a refused login) until the process is restarted with a
// new config.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, rep := range s.cfg.Reps {
		wg.Go(func() { s.loop(ctx, rep) })
	}
	wg.Go(func() { s.maintainLoop(ctx) })
	wg.Wait()
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

func (s *Syncer) loop(ctx context.Context, rep config.Rep) {
	backoff := time.Duration(0)
	for {
		if err := s.pipe.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reload customer directory", "err", err)
		}
		err := s.SyncRep(ctx, rep)
		if ctx.Err() != nil {
			return
		}
		wait := s.cfg.Sync.Interval
		switch {
		case err == nil:
			backoff = 0
		case IsPermanent(err):
			s.log.Error("mailbox parked: fix its config and restart", "rep", rep.Email, "err", err)
			<-ctx.Done()
			return
		default:
			backoff = min(max(2*backoff, 5*time.Second), 30*time.Minute)
			wait = backoff
			s.log.Warn("mailbox sync failed; will retry", "rep", rep.Email, "err", err, "retry_in", wait)
		}
		jitter := time.Duration(rand.Int64N(int64(wait)/5 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait + jitter):
		}
	}
}
