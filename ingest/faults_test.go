package ingest_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
)

// proxied is a rig whose first rep (amy) reaches Dovecot through a proxy
// that can break the connection, with n messages in her INBOX.
func proxied(t *testing.T, n int) (*rig, *proxy) {
	t.Helper()
	dc := testenv.Dovecot(t)
	px := newProxy(t, dc.Addr)
	host, port := splitHostPort(t, px.addr)
	r := newRigWith(t, func(c *config.Config) {
		c.Reps = c.Reps[:1]
		c.Reps[0].IMAP = config.IMAP{Host: host, Port: port, TLS: "none", Username: c.Reps[0].IMAP.Username, Password: dc.Password}
		c.Sync.BatchSize = 10
		c.Sync.Timeout = time.Second
	})
	for i := range n {
		r.appendMail(amy, "INBOX", mail(buyer, amy, fmt.Sprintf("Order %d", i), fmt.Sprintf("fault-%d@acme-buyer.de", i),
			strings.Repeat(fmt.Sprintf("Line %d of a longer message body.\n", i), 40)))
	}
	return r, px
}

// assertComplete checks that every message is stored once with one
// location, and the folder's backfill is done.
func (r *rig) assertComplete(n int) {
	r.t.Helper()
	if got := r.count(`SELECT count(*) FROM messages`); got != n {
		r.t.Errorf("messages = %d, want %d", got, n)
	}
	if got := r.count(`SELECT count(*) FROM message_locations`); got != n {
		r.t.Errorf("locations = %d, want %d (no duplicates)", got, n)
	}
	if got := r.count(`SELECT count(*) FROM folders WHERE folder = 'INBOX' AND backfill_done`); got != 1 {
		r.t.Errorf("INBOX backfill not done")
	}
}

// A server that stops answering in the middle of a FETCH is cut off by
// the deadline, the error says so, and the next pass completes with no
// duplicate. The same for a connection dropped in the middle of a
// message's literal, and for an untagged BYE.
func TestBrokenConnections(t *testing.T) {
	for _, tc := range []struct {
		fault string
		kind  string
	}{
		{faultStall, ingest.KindTimeout},
		{faultCut, ingest.KindDropped},
		{faultBye, ingest.KindDropped},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			r, px := proxied(t, 25)
			fired := px.arm(tc.fault, "BODY.PEEK[]", 600)
			err := r.syncer.SyncOnce(r.ctx)
			select {
			case <-fired:
			default:
				t.Fatalf("the fault never fired (sync: %v)", err)
			}
			if err == nil || ingest.IsPermanent(err) || ingest.ErrorKind(err) != tc.kind {
				t.Fatalf("sync: %v (kind %q), want a temporary %s error", err, ingest.ErrorKind(err), tc.kind)
			}
			if m := r.mailbox(amy); m.failures != 1 || m.parkedAt != nil {
				t.Errorf("mailbox after the fault: failures %d parked %v", m.failures, m.parkedAt)
			}
			r.syncOnce()
			r.assertComplete(25)
		})
	}
}

// "Too many connections" and [LIMIT]/[UNAVAILABLE] are throttling:
// temporary, never parked, with advice to wait.
func TestThrottling(t *testing.T) {
	ms := newMemServer(t)
	bye := byeServer(t, "* BYE Too many connections from your IP address\r\n")
	r := newRigWith(t, func(c *config.Config) {
		c.Reps = []config.Rep{ms.rep(t, amy, ms.password), {Email: bob, IMAP: config.IMAP{
			Host: "127.0.0.1", Port: bye, TLS: "none", Password: "x"}}}
	})
	for _, loginErr := range []*imap.Error{
		{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit, Text: "Too many simultaneous sessions"},
		{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable, Text: "Backend down"},
		{Type: imap.StatusResponseTypeNo, Text: "Login rate limit exceeded, try again later"},
	} {
		ms.set(func() { ms.loginErr = loginErr })
		err := r.syncer.SyncOnce(r.ctx)
		for _, rep := range []string{amy, bob} {
			if !strings.Contains(err.Error(), rep) {
				t.Errorf("%s: no error for %s: %v", loginErr.Text, rep, err)
			}
			if m := r.mailbox(rep); m.parkedAt != nil || !strings.Contains(m.advice, "limiting connections") {
				t.Errorf("%s: %s parked %v advice %q, want temporary throttling", loginErr.Text, rep, m.parkedAt, m.advice)
			}
		}
		if ingest.IsPermanent(err) {
			t.Errorf("%s: throttling taken as permanent: %v", loginErr.Text, err)
		}
	}
}

// byeServer greets every connection with line and hangs up.
func byeServer(t *testing.T, line string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(line))
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// A server that leaves a message out of its FETCH answer (twice: the
// first try and the retry): the cursor stops before it, the pass fails,
// and the next pass fetches it. Both directions: the newest-first
// backfill and new mail.
func TestServerReturnsFewer(t *testing.T) {
	ms := newMemServer(t)
	for i := 1; i <= 5; i++ {
		ms.add(t, "INBOX", mail(buyer, amy, "Hi", fmt.Sprintf("few-%d@acme-buyer.de", i), "Hello"))
	}
	r := newRigWith(t, func(c *config.Config) { c.Reps = []config.Rep{ms.rep(t, amy, ms.password)} })
	cursor := func() (last, backfill int, done bool) {
		r.store.Pool.QueryRow(r.ctx, `SELECT last_uid, backfill_uid, backfill_done FROM folders WHERE folder = 'INBOX'`).
			Scan(&last, &backfill, &done)
		return
	}

	ms.set(func() { ms.drop[3] = 2 })
	err := r.syncer.SyncOnce(r.ctx)
	if err == nil || !strings.Contains(err.Error(), "UID 3") || ingest.IsPermanent(err) {
		t.Fatalf("backfill with UID 3 missing: %v", err)
	}
	if last, backfill, done := cursor(); last != 5 || backfill != 4 || done {
		t.Errorf("cursor after the short answer: last %d backfill %d done %v, want 5, 4, false", last, backfill, done)
	}
	r.syncOnce()
	if last, backfill, done := cursor(); last != 5 || !done {
		t.Errorf("cursor after the retry: last %d backfill %d done %v", last, backfill, done)
	}

	for i := 6; i <= 8; i++ {
		ms.add(t, "INBOX", mail(buyer, amy, "Hi", fmt.Sprintf("few-%d@acme-buyer.de", i), "Hello"))
	}
	ms.set(func() { ms.drop[7] = 2 })
	if err := r.syncer.SyncOnce(r.ctx); err == nil || !strings.Contains(err.Error(), "UID 7") {
		t.Fatalf("new mail with UID 7 missing: %v", err)
	}
	if last, _, _ := cursor(); last != 6 {
		t.Errorf("new-mail cursor = %d, want 6 (stopped before 7)", last)
	}
	r.syncOnce()
	if last, _, _ := cursor(); last != 8 {
		t.Errorf("new-mail cursor = %d, want 8", last)
	}
	r.assertComplete(8)
}

// A message expunged between the listing and the FETCH is missing from
// the follow-up UID SEARCH too: it is deleted, and the cursor goes past it.
func TestMessageExpungedMeanwhile(t *testing.T) {
	ms := newMemServer(t)
	for i := 1; i <= 4; i++ {
		ms.add(t, "INBOX", mail(buyer, amy, "Hi", fmt.Sprintf("gone-%d@acme-buyer.de", i), "Hello"))
	}
	ms.set(func() { ms.onBodyFetch = func() { ms.set(func() { ms.hidden[2] = true }) } })
	r := newRigWith(t, func(c *config.Config) { c.Reps = []config.Rep{ms.rep(t, amy, ms.password)} })
	r.syncOnce()
	if got := r.count(`SELECT count(*) FROM messages`); got != 3 {
		t.Errorf("messages = %d, want 3", got)
	}
	if got := r.count(`SELECT count(*) FROM folders WHERE backfill_done AND last_uid = 4`); got != 1 {
		t.Errorf("cursor did not pass the expunged message")
	}
}

// A folder the server will not open is skipped, the others synced; 163's
// "Unsafe Login" on SELECT is the mailbox refused, parked with advice.
func TestFolderRefused(t *testing.T) {
	ms := newMemServer(t)
	if err := ms.mem.Create("Broken", nil); err != nil {
		t.Fatal(err)
	}
	ms.add(t, "INBOX", mail(buyer, amy, "Hi", "ok-1@acme-buyer.de", "Hello"))
	ms.set(func() {
		ms.selectErr = map[string]*imap.Error{"Broken": {Type: imap.StatusResponseTypeNo, Text: "Mailbox is corrupted"}}
	})
	r := newRigWith(t, func(c *config.Config) { c.Reps = []config.Rep{ms.rep(t, "rep@163.com", ms.password)} })
	r.syncOnce()
	if !r.stored("ok-1@acme-buyer.de")["ok-1@acme-buyer.de"] || !strings.Contains(r.logs.String(), "would not open a folder") {
		t.Errorf("INBOX not synced past the broken folder, or no warning:\n%s", r.logs.String())
	}

	ms.set(func() {
		ms.selectErr = map[string]*imap.Error{"*": {Type: imap.StatusResponseTypeNo, Text: "SELECT Unsafe Login. Please contact kefu@188.com for help"}}
	})
	err := r.syncer.SyncOnce(r.ctx)
	if !ingest.IsPermanent(err) || ingest.ErrorKind(err) != ingest.KindUnsafeLogin {
		t.Fatalf("Unsafe Login: %v (kind %q), want permanent", err, ingest.ErrorKind(err))
	}
	if m := r.mailbox("rep@163.com"); m.parkedAt == nil || !strings.Contains(m.advice, "客户端授权密码") {
		t.Errorf("Unsafe Login: parked %v advice %q", m.parkedAt, m.advice)
	}
}
