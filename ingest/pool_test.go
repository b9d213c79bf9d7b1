package ingest_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/timeline"
)

const badPassword = "Wr0ng-S3cret-of-Bob-42"

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
}

type mailboxRow struct {
	parkedAt, lastOKAt, nextAt *time.Time
	lastError, advice          string
	failures                   int
}

func (r *rig) mailbox(rep string) mailboxRow {
	r.t.Helper()
	var m mailboxRow
	var lastError, advice *string
	err := r.store.Pool.QueryRow(r.ctx, `SELECT parked_at, last_ok_at, next_attempt_at, last_error, last_error_advice, failures
		FROM mailboxes WHERE rep = $1`, rep).Scan(&m.parkedAt, &m.lastOKAt, &m.nextAt, &lastError, &advice, &m.failures)
	if err != nil {
		r.t.Fatalf("mailbox %s: %v", rep, err)
	}
	if lastError != nil {
		m.lastError = *lastError
	}
	if advice != nil {
		m.advice = *advice
	}
	return m
}

// In the daemon, a mailbox with a wrong password is parked, one whose
// server never answers backs off and retries, and neither stalls the
// working mailbox, whose new mail still arrives by IDLE (the poll
// interval is an hour). The parked mailbox is retried when an operator
// asks, and syncs once its password file is fixed.
func TestDaemonIsolatesFailures(t *testing.T) {
	const carol = "carol@ourco.example"
	pwFile := filepath.Join(t.TempDir(), "bob-password")
	if err := os.WriteFile(pwFile, []byte(badPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port := silentServer(t)
	ms := newMemServer(t)
	ms.add(t, "INBOX", mail(buyer, bob, "For Bob", "bob-1@acme-buyer.de", "Hello Bob"))
	r := newRigWith(t, func(c *config.Config) {
		// Bob's mailbox is on the in-memory server: Dovecot delays every
		// login from an address after a failed one (its auth penalty).
		c.Reps[1] = ms.rep(t, bob, "")
		c.Reps[1].IMAP.PasswordFile = pwFile
		c.Reps = append(c.Reps, config.Rep{Email: carol, IMAP: config.IMAP{Host: host, Port: port, TLS: "none", Password: "x"}})
		c.Sync.Workers = 2
		c.Sync.Interval = time.Hour
		c.Sync.Timeout = time.Second
		c.Sync.RetryMin, c.Sync.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	})
	r.appendMail(amy, "INBOX", mail(buyer, amy, "First", "first-1@acme-buyer.de", "Hello Amy"))
	ctx, cancel := context.WithCancel(r.ctx)
	stopped := make(chan struct{})
	go func() { r.syncer.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	stored := func(id string) func() bool {
		return func() bool { return r.count(`SELECT count(*) FROM messages WHERE message_id = $1`, id) == 1 }
	}
	waitFor(t, "amy's first message", 30*time.Second, stored("first-1@acme-buyer.de"))
	waitFor(t, "bob parked", 30*time.Second, func() bool { return r.mailbox(bob).parkedAt != nil })
	waitFor(t, "carol retried", 30*time.Second, func() bool { return r.mailbox(carol).failures >= 3 })

	// New mail reaches the working mailbox by IDLE while the others fail.
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Second", "second-1@acme-buyer.de", "Hello again"))
	waitFor(t, "amy's new mail by IDLE", 30*time.Second, stored("second-1@acme-buyer.de"))

	b := r.mailbox(bob)
	if !strings.Contains(b.lastError, "login refused") || !strings.Contains(b.advice, "IMAP login refused") {
		t.Errorf("bob: error %q advice %q, want the refused login in words", b.lastError, b.advice)
	}
	c := r.mailbox(carol)
	if c.parkedAt != nil || c.nextAt == nil || !strings.Contains(c.advice, "stopped answering") {
		t.Errorf("carol: parked %v next %v advice %q: want a timeout, retried later", c.parkedAt, c.nextAt, c.advice)
	}
	// Amy idled far longer than the 1s command deadline without losing
	// her connection: the deadline is extended while idling.
	if m := r.mailbox(amy); m.lastOKAt == nil || m.failures != 0 || m.lastError != "" {
		t.Errorf("amy: last ok %v failures %d error %q", m.lastOKAt, m.failures, m.lastError)
	}
	if strings.Contains(r.logs.String(), "rep="+amy+" err=") {
		t.Errorf("amy's connection failed while idling:\n%s", r.logs.String())
	}

	// An operator's retry makes the parked mailbox try again (and fail
	// again: the password is still wrong).
	before := *b.parkedAt
	if err := timeline.RetryMailbox(r.ctx, r.store.Pool, bob); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob retried and parked again", 30*time.Second, func() bool {
		p := r.mailbox(bob).parkedAt
		return p != nil && p.After(before)
	})
	// Fixing the password (the file the config points to) unparks it.
	if err := os.WriteFile(pwFile, []byte(ms.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob synced after the fix", 30*time.Second, func() bool {
		m := r.mailbox(bob)
		return m.lastOKAt != nil && m.lastError == "" && m.parkedAt == nil
	})
	if !stored("bob-1@acme-buyer.de")() {
		t.Errorf("bob's mail not stored after the fix")
	}
	if strings.Contains(r.logs.String(), badPassword) {
		t.Errorf("the wrong password appears in the log")
	}
}

// SyncOnce leaves a parked mailbox alone (no connection) until an
// operator asks for a retry or its config changes.
func TestParkedUntilRetryOrConfigChange(t *testing.T) {
	ms := newMemServer(t)
	ms.add(t, "INBOX", mail(buyer, bob, "For Bob", "bob-1@acme-buyer.de", "Hello Bob"))
	r := newRigWith(t, func(c *config.Config) {
		c.Reps = []config.Rep{ms.rep(t, bob, badPassword)}
	})

	err := r.syncer.SyncOnce(r.ctx)
	if !ingest.IsPermanent(err) || ingest.ErrorKind(err) != ingest.KindLogin {
		t.Fatalf("first sync: %v (kind %q), want a refused login", err, ingest.ErrorKind(err))
	}
	if strings.Contains(err.Error(), badPassword) {
		t.Errorf("the error shows the password: %v", err)
	}
	n := ms.connections()
	err = r.syncer.SyncOnce(r.ctx)
	if ingest.ErrorKind(err) != ingest.KindParked || !strings.Contains(err.Error(), "mailboxes retry") {
		t.Fatalf("second sync: %v, want parked with the way out", err)
	}
	if ms.connections() != n {
		t.Errorf("a parked mailbox was connected to")
	}

	if err := timeline.RetryMailbox(r.ctx, r.store.Pool, bob); err != nil {
		t.Fatal(err)
	}
	if err := r.syncer.SyncOnce(r.ctx); ingest.ErrorKind(err) != ingest.KindLogin {
		t.Fatalf("after retry: %v, want another login attempt", err)
	}
	if ms.connections() != n+1 {
		t.Errorf("connections %d, want %d: the retry should have tried once", ms.connections(), n+1)
	}

	r.cfg.Reps[0].IMAP.Password = ms.password
	if err := r.syncer.SyncOnce(r.ctx); err != nil {
		t.Fatalf("after the config changed: %v", err)
	}
	if got := r.count(`SELECT count(*) FROM messages`); got != 1 {
		t.Errorf("messages = %d, want 1", got)
	}
	if m := r.mailbox(bob); m.parkedAt != nil || m.failures != 0 {
		t.Errorf("after success: parked %v failures %d", m.parkedAt, m.failures)
	}
}
