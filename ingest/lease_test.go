package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/timeline"
)

// Two daemons on one database split the mailboxes: each mailbox is synced
// by one of them only (the other never connects to it), and when the
// daemon holding a mailbox stops, the other takes it over and its new
// mail still arrives.
func TestDaemonsShareMailboxesByLease(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) {
		c.Reps = c.Reps[:1] // amy
		c.Sync.Interval = time.Second
	})
	first, second := r.syncer, r.newSyncer()
	r.appendMail(amy, "INBOX", mail(buyer, amy, "One", "lease-1@acme-buyer.de", "Hello Amy"))

	ctx1, stop1 := context.WithCancel(r.ctx)
	done1 := make(chan struct{})
	go func() { first.Run(ctx1); close(done1) }()
	defer func() { stop1(); <-done1 }()
	stored := func(id string) func() bool {
		return func() bool { return r.count(`SELECT count(*) FROM messages WHERE message_id = $1`, id) == 1 }
	}
	waitFor(t, "the first daemon's sync", 30*time.Second, stored("lease-1@acme-buyer.de"))
	syncedBy := func() string {
		ms, err := timeline.MailboxReports(r.ctx, r.store.Pool, nil)
		if err != nil || len(ms) != 1 {
			t.Fatalf("mailboxes %+v: %v", ms, err)
		}
		if ms[0].SyncedBy == nil {
			return ""
		}
		return *ms[0].SyncedBy
	}
	holder := syncedBy()
	if holder == "" {
		t.Error("the mailboxes report says no daemon syncs the mailbox")
	}

	ctx2, stop2 := context.WithCancel(r.ctx)
	done2 := make(chan struct{})
	go func() { second.Run(ctx2); close(done2) }()
	defer func() { stop2(); <-done2 }()
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Two", "lease-2@acme-buyer.de", "Hello again"))
	waitFor(t, "new mail while both run", 30*time.Second, stored("lease-2@acme-buyer.de"))
	time.Sleep(3 * time.Second) // three of the second daemon's turns
	if n := second.RoundTrips(); n != 0 {
		t.Errorf("the second daemon made %d IMAP round trips to a mailbox the first holds", n)
	}

	if got := syncedBy(); got != holder {
		t.Errorf("synced by %q, then %q, while the first daemon ran", holder, got)
	}
	stop1()
	<-done1
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Three", "lease-3@acme-buyer.de", "Still there?"))
	waitFor(t, "the second daemon took over", 30*time.Second, stored("lease-3@acme-buyer.de"))
	if second.RoundTrips() == 0 {
		t.Errorf("the third message was stored but the second daemon never connected")
	}
	if n := r.count(`SELECT count(*) FROM messages`); n != 3 {
		t.Errorf("%d messages stored, want 3", n)
	}
	if got := syncedBy(); got == "" || got == holder {
		t.Errorf("after the takeover the mailbox is synced by %q (first daemon %q)", got, holder)
	}
}
