package ingest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// idleMax bounds one IDLE: RFC 2177 asks clients to re-issue it at least
// every 29 minutes, before servers log them out.
const idleMax = 25 * time.Minute

// waitForMail waits until new mail may have arrived or sync.interval
// passed. Where the server has IDLE (RFC 2177) and INBOX is synced, it
// idles on INBOX, so that new mail is fetched within seconds; the other
// folders are polled when the interval ends. While idling or polling, the
// connection is quiet on purpose: its deadline is the wait plus
// sync.timeout, and DONE is sent before it runs out. An error means the
// session is no longer usable. idleOK false polls even where IDLE exists
// (it failed repeatedly on this server).
func (s *Syncer) waitForMail(ctx context.Context, sess *session, rep config.Rep, idleOK bool) error {
	timeout := s.cfg.Sync.Timeout
	wait := s.cfg.Sync.Interval
	wait += time.Duration(rand.Int64N(int64(wait)/10+1)) - wait/20 // ±5%: mailboxes do not poll in step
	if !idleOK || !s.cfg.Sync.IdleEnabled() || !sess.caps.Has(imap.CapIdle) || !inboxWanted(sess, rep) {
		sess.conn.setTimeout(wait + timeout)
		defer sess.conn.setTimeout(timeout)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		case <-sess.c.Closed():
		}
		return nil
	}
	if !sess.idled {
		drain(sess.changed)
		sel, err := sess.examine("INBOX")
		if err != nil {
			return err
		}
		sess.idled = true
		cursors, err := timeline.Cursors(ctx, s.store.Pool, rep.Email)
		if err != nil {
			return err
		}
		cur, ok := cursors["INBOX"]
		if !ok || sel.UIDValidity != cur.UIDValidity || uint32(sel.UIDNext) > cur.LastUID+1 {
			// Mail came between the pass and now: no IDLE, a pass.
			signal(sess.changed)
			return nil
		}
	}
	wait = min(wait, idleMax)
	sess.conn.setTimeout(wait + timeout)
	idle, err := sess.c.Idle()
	if err != nil {
		sess.conn.setTimeout(timeout)
		return fmt.Errorf("idle: %w", err)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-sess.changed:
		signal(sess.changed) // for the pass: INBOX has news
	case <-sess.c.Closed():
	}
	sess.conn.setTimeout(timeout)
	if err := idle.Close(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func inboxWanted(sess *session, rep config.Rep) bool {
	for _, f := range chooseFolders(sess.list, rep.Folders) {
		if strings.EqualFold(f.Name, "INBOX") {
			return true
		}
	}
	return false
}
