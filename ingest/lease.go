package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// Several daemons can share one database: each mailbox is synced by the
// daemon that holds its lease (timeline.TakeLease), renewed at every turn
// of the mailbox's loop, so the mailboxes split between the daemons by
// who comes first, and a daemon that stops (or dies) hands its mailboxes
// over when it releases them (or when their leases run out). `sync --once`
// takes no lease: it is safe beside a daemon (every save is idempotent),
// at worst fetching a message twice.

// newOwner names this daemon in the leases it holds: host, process and a
// random part (two syncers in one process are two owners).
func newOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%08x", host, os.Getpid(), rand.Uint32())
}

// leaseTTL is how long a lease runs unrenewed: one turn of a mailbox's
// loop (a pass of at most sync.interval, a wait of at most sync.interval,
// deadlines) fits in it with room to spare.
func (s *Syncer) leaseTTL() time.Duration {
	return 3*s.cfg.Sync.Interval + 2*s.cfg.Sync.Timeout + time.Minute
}

// holdLease takes or renews the lease of rep's mailbox; ok is false while
// another daemon holds it.
func (s *Syncer) holdLease(ctx context.Context, rep config.Rep) (ok bool, holder string, err error) {
	return timeline.TakeLease(ctx, s.store.Pool, rep.Email, s.owner, s.leaseTTL(), deadOnThisHost)
}

func (s *Syncer) releaseLease(rep config.Rep) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := timeline.ReleaseLease(ctx, s.store.Pool, rep.Email, s.owner); err != nil {
		s.log.Warn("release mailbox lease", "rep", rep.Email, "err", err)
	}
}

// deadOnThisHost tells a lease left by a process of this host that no
// longer runs (a daemon killed and restarted): it is taken over at once
// instead of after its expiry.
func deadOnThisHost(holder string) bool {
	host, _ := os.Hostname()
	parts := strings.Split(holder, ":")
	if len(parts) != 3 || parts[0] != host {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
