package ingest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/config"
)

// Poller makes passes over every rep's mailbox on connections it keeps
// from one pass to the next, as the daemon's loops do: after the first
// pass, a mailbox with no new mail costs one round trip (LIST-STATUS, or
// one pipelined STATUS per folder). It is for benchmarks, tests and tools
// that want one poll cycle at a time; the daemon is Run.
type Poller struct {
	s        *Syncer
	mu       sync.Mutex
	sessions map[string]*session
}

// NewPoller returns a poller with no connection yet.
func (s *Syncer) NewPoller() *Poller {
	return &Poller{s: s, sessions: map[string]*session{}}
}

// PollOnce makes one pass over every rep (sync.workers at a time),
// connecting where no connection is kept, and records each outcome. It
// does not finish a long backfill: the next call goes on with it.
func (p *Poller) PollOnce(ctx context.Context) error {
	if err := p.s.pipe.Reload(ctx); err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, rep := range p.s.cfg.Reps {
		wg.Go(func() {
			if err := p.pollRep(ctx, rep); err != nil {
				mu.Lock()
				errs = append(errs, &MailboxError{Rep: rep.Email, Err: err})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Poller) pollRep(ctx context.Context, rep config.Rep) error {
	if parked, err := p.s.checkParked(ctx, rep); parked {
		return err
	}
	p.mu.Lock()
	sess := p.sessions[rep.Email]
	p.mu.Unlock()
	_, err := p.s.loopPass(ctx, rep, &sess)
	p.mu.Lock()
	p.sessions[rep.Email] = sess
	p.mu.Unlock()
	if ctx.Err() != nil {
		return err
	}
	failures := 0
	if err != nil {
		sess.logout()
		p.mu.Lock()
		delete(p.sessions, rep.Email)
		p.mu.Unlock()
		failures = 1
	}
	p.s.record(ctx, rep, err, failures, time.Time{})
	return err
}

// Close logs out of every kept connection.
func (p *Poller) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, sess := range p.sessions {
		sess.logout()
		delete(p.sessions, k)
	}
}
