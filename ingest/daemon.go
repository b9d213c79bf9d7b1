package ingest

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// Run keeps every rep's mailbox in sync until ctx ends. Each mailbox has
// its own loop and keeps its connection between passes: it waits for new
// mail with IDLE on INBOX where the server has it and polls every
// sync.interval otherwise; a pass takes one of the sync.workers slots
// only while it works. A temporary failure backs off exponentially with
// jitter (sync.retry_min doubling up to sync.retry_max, reset by a
// success); a permanent one parks the mailbox until its config changes or
// an operator asks for a retry. Cancelling ctx lets each pass commit the
// batch in hand.
func (s *Syncer) Run(ctx context.Context) {
	if err := s.pipe.Reload(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("load customer directory", "err", err)
	}
	if err := s.ensureMailboxes(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("record mailboxes", "err", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.reloadLoop(ctx) })
	wg.Go(func() { s.maintainLoop(ctx) })
	for _, rep := range s.cfg.Reps {
		wg.Go(func() { s.loop(ctx, rep) })
	}
	wg.Wait()
}

// reloadLoop rebuilds the matcher every interval, so that customers added
// meanwhile are matched by the next passes.
func (s *Syncer) reloadLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.Sync.Interval):
		}
		if err := s.pipe.Reload(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reload customer directory", "err", err)
		}
	}
}

// loop is one mailbox's life in the daemon, while it holds the mailbox's
// lease (see lease.go).
func (s *Syncer) loop(ctx context.Context, rep config.Rep) {
	var sess *session
	defer func() {
		sess.logout()
		s.releaseLease(rep)
	}()
	failures, idleFailures := 0, 0
	otherHolder := ""
	for ctx.Err() == nil {
		ok, holder, err := s.holdLease(ctx, rep)
		if !ok {
			if err != nil && ctx.Err() == nil {
				s.log.Error("mailbox lease", "rep", rep.Email, "err", err)
			} else if holder != otherHolder {
				s.log.Info("mailbox synced by another daemon", "rep", rep.Email, "daemon", holder)
			}
			otherHolder = holder
			sess.logout()
			sess = nil
			s.sleepUnlessRetry(ctx, rep, min(s.cfg.Sync.Interval, s.leaseTTL()/3))
			continue
		}
		if otherHolder != "" {
			s.log.Info("mailbox taken over from another daemon", "rep", rep.Email, "daemon", otherHolder)
			otherHolder = ""
		}
		if parked, _ := s.checkParked(ctx, rep); parked {
			sess.logout()
			sess = nil
			s.sleepUnlessRetry(ctx, rep, s.RetryPoll)
			continue
		}
		more, err := s.loopPass(ctx, rep, &sess)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			s.record(ctx, rep, nil, 0, time.Time{})
			failures = 0
			if more {
				continue
			}
			err := s.waitForMail(ctx, sess, rep, idleFailures < 3)
			if err == nil || ctx.Err() != nil {
				if idleFailures < 3 {
					idleFailures = 0 // an IDLE went well; after three failures it stays off
				}
				continue
			}
			// The connection broke while waiting (a server dropping idle
			// clients, a NAT timeout): poll again after the interval on a
			// new one; after three failures in a row, poll without IDLE.
			idleFailures++
			s.log.Debug("waiting for mail failed: polling after the interval", "rep", rep.Email, "err", err,
				"idle_failures", idleFailures)
			sess.logout()
			sess = nil
			s.sleepUnlessRetry(ctx, rep, s.cfg.Sync.Interval)
			continue
		}
		sess.logout()
		sess = nil
		if IsPermanent(err) {
			s.record(ctx, rep, err, failures+1, time.Time{})
			s.log.Error("mailbox parked: fix its config or run `mailtrail mailboxes retry`", "rep", rep.Email,
				"err", err, "advice", Advice(rep, err))
			continue
		}
		failures++
		wait := s.backoff(failures)
		s.record(ctx, rep, err, failures, time.Now().Add(wait))
		s.log.Warn("mailbox sync failed; will retry", "rep", rep.Email, "err", err, "retry_in", wait.Round(time.Second),
			"failures", failures)
		s.sleepUnlessRetry(ctx, rep, wait)
	}
}

// loopPass runs one pass on the mailbox's connection, opening it if
// needed, inside a worker slot. A connection kept from an earlier pass may
// have died quietly (a server's autologout, a NAT timeout): its failure is
// retried once at once on a new connection.
func (s *Syncer) loopPass(ctx context.Context, rep config.Rep, sess **session) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	var more bool
	var res passResult
	err := s.safely(func() error {
		for attempt := 0; ; attempt++ {
			fresh := false
			if *sess == nil || !(*sess).alive() {
				(*sess).logout()
				c, err := s.connect(ctx, rep)
				if err != nil {
					*sess = nil
					return err
				}
				*sess, fresh = c, true
			}
			var err error
			more, res, err = s.pass(ctx, *sess, rep, s.cfg.Sync.Interval)
			err = (*sess).failure(err)
			if err == nil || fresh || attempt > 0 || IsPermanent(err) || ctx.Err() != nil {
				return err
			}
			s.log.Debug("pass failed on a kept connection: reconnecting", "rep", rep.Email, "err", err)
			(*sess).logout()
			*sess = nil
		}
	})
	if res.Fetched > 0 {
		s.log.Info("mailbox synced", append([]any{"rep", rep.Email, "fetched", res.Fetched, "bytes", res.Bytes,
			"new_events", res.NewEvents, "backfill_left", more}, res.stages()...)...)
	}
	return more, classifySession(err)
}

// backoff is the wait after the n-th temporary failure in a row:
// sync.retry_min doubled n-1 times, at most sync.retry_max, with equal
// jitter (half fixed, half random) so that mailboxes failing together
// (a server down) do not come back together.
func (s *Syncer) backoff(n int) time.Duration {
	lo, hi := s.cfg.Sync.RetryMin, s.cfg.Sync.RetryMax
	d := hi
	if n-1 < 32 {
		if x := lo << (n - 1); x > 0 && x < hi {
			d = x
		}
	}
	return d/2 + rand.N(d/2+1)
}

// sleepUnlessRetry waits d, or less when an operator asks for a retry
// (mailtrail mailboxes retry) or ctx ends.
func (s *Syncer) sleepUnlessRetry(ctx context.Context, rep config.Rep, d time.Duration) {
	since := time.Now()
	deadline := since.Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(left, s.RetryPoll)):
		}
		st, err := timeline.GetMailboxState(ctx, s.store.Pool, rep.Email)
		if err == nil && st.RetryRequestedAt != nil && st.RetryRequestedAt.After(since) {
			s.log.Info("retry asked for by an operator", "rep", rep.Email)
			return
		}
		if err == nil && st.Parked() && configHash(rep) != st.ConfigHash {
			return
		}
	}
}
