package ingest_test

import (
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
)

// imapAs runs fn on a plain IMAP session of a rep's Dovecot user.
func (r *rig) imapAs(rep string, fn func(c *imapclient.Client) error) {
	r.t.Helper()
	dc := testenv.Dovecot(r.t)
	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(r.users[rep], dc.Password).Wait(); err != nil {
		r.t.Fatal(err)
	}
	if err := fn(c); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) stored(ids ...string) map[string]bool {
	r.t.Helper()
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = r.count(`SELECT count(*) FROM messages WHERE message_id = $1`, id) > 0
	}
	return out
}

// Every folder but junk, trash and drafts is read, a folder name in
// Chinese (modified UTF-7 on the wire) included; include and exclude pick
// others; an idle mailbox costs one round trip per poll; a renamed folder
// is followed without reading it again.
func TestFoldersOnDovecot(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) {
		c.Reps[1].Folders = config.Folders{Include: []string{"INBOX", `\Junk`}}
	})
	r.imapAs(amy, func(c *imapclient.Client) error {
		for _, f := range []string{"客户/Acme", "Archive"} {
			if err := c.Create(f, nil).Wait(); err != nil {
				return err
			}
		}
		return nil
	})
	for folder, id := range map[string]string{"INBOX": "in-1", "客户/Acme": "acme-1", "Archive": "arch-1", "Sent": "sent-1",
		"Junk": "junk-1", "Drafts": "draft-1", "Trash": "trash-1"} {
		r.appendMail(amy, folder, mail(buyer, amy, "Hi "+folder, id+"@acme-buyer.de", "Hello from "+folder))
	}
	r.appendMail(bob, "Junk", mail(buyer, bob, "Hi", "bob-junk-1@acme-buyer.de", "In Bob's junk"))
	r.appendMail(bob, "Sent", mail(bob, buyer, "Hi", "bob-sent-1@ourco.example", "Bob's sent mail"))
	r.syncOnce()
	want := map[string]bool{"in-1@acme-buyer.de": true, "acme-1@acme-buyer.de": true, "arch-1@acme-buyer.de": true,
		"sent-1@acme-buyer.de": true, "junk-1@acme-buyer.de": false, "draft-1@acme-buyer.de": false, "trash-1@acme-buyer.de": false,
		"bob-junk-1@acme-buyer.de": true, "bob-sent-1@ourco.example": false}
	for id, w := range want {
		if got := r.stored(id)[id]; got != w {
			t.Errorf("message %s stored = %v, want %v", id, got, w)
		}
	}
	if n := r.count(`SELECT count(*) FROM folders WHERE rep = $1 AND folder = '客户/Acme'`, amy); n != 1 {
		t.Errorf("folder 客户/Acme not recorded under its decoded name")
	}

	// An idle mailbox: one round trip per poll (Dovecot has LIST-STATUS).
	p := r.syncer.NewPoller()
	defer p.Close()
	if err := p.PollOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	before := r.syncer.RoundTrips()
	if err := p.PollOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.syncer.RoundTrips() - before; got != int64(len(r.cfg.Reps)) {
		t.Errorf("an idle poll of %d mailboxes took %d round trips, want one each", len(r.cfg.Reps), got)
	}

	// A renamed folder keeps its UIDVALIDITY: its cursor and locations
	// follow the new name and only the new message is fetched.
	r.imapAs(amy, func(c *imapclient.Client) error { return c.Rename("客户/Acme", "客户/Acme GmbH", nil).Wait() })
	r.appendMail(amy, "客户/Acme GmbH", mail(buyer, amy, "After rename", "acme-2@acme-buyer.de", "New in the renamed folder"))
	var fetched atomic.Int64
	r.syncer.OnProgress = func(pr ingest.Progress) { fetched.Add(int64(pr.Messages)) }
	if err := p.PollOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if fetched.Load() != 1 {
		t.Errorf("after the rename %d messages were fetched, want only the new one", fetched.Load())
	}
	if n := r.count(`SELECT count(*) FROM message_locations WHERE rep = $1 AND folder = '客户/Acme GmbH'`, amy); n != 2 {
		t.Errorf("locations under the new name = %d, want 2", n)
	}
	if n := r.count(`SELECT count(*) FROM message_locations WHERE rep = $1 AND folder = '客户/Acme'`, amy) +
		r.count(`SELECT count(*) FROM folders WHERE rep = $1 AND folder = '客户/Acme'`, amy); n != 0 {
		t.Errorf("%d rows left under the old name", n)
	}
}

// A server without LIST-STATUS: after the first pass, one pipelined round
// of STATUS per poll, whatever the number of folders.
func TestIdlePollWithoutListStatus(t *testing.T) {
	ms := newMemServer(t)
	for _, f := range []string{"Archive", "Customers", "Customers/Acme"} {
		if err := ms.mem.Create(f, nil); err != nil {
			t.Fatal(err)
		}
	}
	ms.add(t, "INBOX", mail(buyer, amy, "Hi", "in-1@acme-buyer.de", "Hello"))
	r := newRigWith(t, func(c *config.Config) { c.Reps = []config.Rep{ms.rep(t, amy, ms.password)} })
	p := r.syncer.NewPoller()
	defer p.Close()
	for range 2 {
		if err := p.PollOnce(r.ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := r.syncer.RoundTrips()
	if err := p.PollOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.syncer.RoundTrips() - before; got != 1 {
		t.Errorf("idle poll: %d round trips, want 1", got)
	}
	ms.add(t, "Customers/Acme", mail(buyer, amy, "Hi", "acme-1@acme-buyer.de", "Hello"))
	if err := p.PollOnce(r.ctx); err != nil {
		t.Fatal(err)
	}
	if !r.stored("acme-1@acme-buyer.de")["acme-1@acme-buyer.de"] {
		t.Errorf("new mail in a subfolder not fetched by the poll")
	}
}
