package ingest_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A buyer's message without a Message-ID, Cc'd to a second rep, is in both
// reps' INBOXes, each copy with trace headers of its own: it is stored once
// (known by its content hash), located in both mailboxes, and lands once on
// its customer's timeline, however many passes read it.
func TestSyncNoMessageIDInTwoMailboxes(t *testing.T) {
	r := newRig(t)
	msg := "From: Li Wei <" + buyer + ">\nTo: " + amy + "\nCc: " + bob + "\nSubject: Price list please\n" +
		"Date: Thu, 5 Mar 2026 08:30:00 +0800\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n" +
		"Hi Amy, could you send us your latest price list for LED panels?\nLi Wei\n"
	r.appendMail(amy, "INBOX", "Received: from mail.acme-buyer.de by mx1.ourco.example; Thu, 5 Mar 2026 08:30:02 +0800\nDelivered-To: "+amy+"\n"+msg)
	r.appendMail(bob, "INBOX", "Received: from mail.acme-buyer.de by mx2.ourco.example; Thu, 5 Mar 2026 08:30:05 +0800\nDelivered-To: "+bob+"\n"+msg)
	r.syncOnce()
	r.syncOnce()

	ids := r.ids(`SELECT id FROM messages WHERE message_id IS NULL`)
	if len(ids) != 1 || r.count(`SELECT count(*) FROM messages`) != 1 {
		t.Fatalf("messages without a Message-ID: %v of %d stored, want one", ids, r.count(`SELECT count(*) FROM messages`))
	}
	id := ids[0]
	var key string
	r.store.Pool.QueryRow(r.ctx, `SELECT dedup_key FROM messages WHERE id = $1`, id).Scan(&key)
	if !strings.HasPrefix(key, "sha256:") {
		t.Errorf("dedup key %q, want the content hash", key)
	}
	rows, _ := r.store.Pool.Query(r.ctx, `SELECT rep || ' ' || folder FROM message_locations WHERE message_id = $1 ORDER BY 1`, id)
	locs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(locs, ", ") != amy+" INBOX, "+bob+" INBOX" {
		t.Errorf("locations %v, want both reps' INBOX", locs)
	}
	if n := r.count(`SELECT count(*) FROM message_locations`); n != 2 {
		t.Errorf("%d locations in all, want 2", n)
	}
	if n := r.count(`SELECT count(*) FROM events e JOIN customers c ON c.id = e.customer_id
		WHERE e.message_id = $1 AND c.name = 'Acme Buyer GmbH'`, id); n != 1 || r.count(`SELECT count(*) FROM events`) != 1 {
		t.Errorf("events of the message: %d on Acme of %d in all, want one", n, r.count(`SELECT count(*) FROM events`))
	}
	if n := r.count(`SELECT count(*) FROM search_outbox`); n != 1 {
		t.Errorf("search outbox rows: %d, want one", n)
	}
}
