package ingest_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/timeline"
)

// appendAt puts messages into a rep's folder with an INTERNALDATE.
func (r *rig) appendAt(rep, folder string, date time.Time, raws ...string) {
	r.t.Helper()
	r.imapAs(rep, func(c *imapclient.Client) error {
		for _, raw := range raws {
			raw = strings.ReplaceAll(raw, "\n", "\r\n")
			cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Time: date})
			cmd.Write([]byte(raw))
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
}

// A first sync goes newest first in batches, keeps the backfill cursor
// apart from the new-mail one, stops at the since date (the rep's over
// the global one), and goes further back without fetching anything twice
// when the date moves back.
func TestFirstSyncNewestFirst(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) {
		c.Sync.BatchSize = 3
		c.Sync.Since = "2020-01-01"
		c.Reps[0].Since = "2026-01-01"
	})
	old := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := 1; i <= 2; i++ {
		r.appendAt(amy, "INBOX", old, mail(buyer, amy, "Old", fmt.Sprintf("old-%d@acme-buyer.de", i), "From last year"))
	}
	for i := 1; i <= 8; i++ {
		r.appendAt(amy, "INBOX", recent, mail(buyer, amy, "Recent", fmt.Sprintf("new-%d@acme-buyer.de", i), "From this year"))
	}
	var mu sync.Mutex
	var batches [][]int // UIDs stored after each INBOX batch, in commit order
	r.syncer.OnProgress = func(p ingest.Progress) {
		if p.Rep != amy || p.Folder != "INBOX" {
			return
		}
		rows, _ := r.store.Pool.Query(r.ctx, `SELECT uid FROM message_locations WHERE rep = $1 AND folder = 'INBOX' ORDER BY uid`, amy)
		var uids []int
		for rows.Next() {
			var u int
			rows.Scan(&u)
			uids = append(uids, u)
		}
		rows.Close()
		mu.Lock()
		batches = append(batches, uids)
		mu.Unlock()
	}
	r.syncOnce()
	want := [][]int{{8, 9, 10}, {5, 6, 7, 8, 9, 10}, {3, 4, 5, 6, 7, 8, 9, 10}}
	if fmt.Sprint(batches) != fmt.Sprint(want) {
		t.Errorf("stored after each batch: %v\nwant newest first:         %v", batches, want)
	}
	cur := cursorOf(t, r, amy, "INBOX")
	if cur.LastUID != 10 || !cur.BackfillDone || cur.BackfillUID != 3 || cur.BeforeSince != 2 {
		t.Errorf("cursor %+v: want last 10, backfill done at 3, 2 messages before since", cur)
	}
	reports, err := timeline.MailboxReports(r.ctx, r.store.Pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range reports {
		if m.Rep == amy && (m.Backlog != 0 || m.MessagesStored != 8) {
			t.Errorf("amy: backlog %d stored %d, want 0 and 8 (old mail is left out, not backlog)", m.Backlog, m.MessagesStored)
		}
	}

	// New mail moves only the new-mail cursor.
	r.appendAt(amy, "INBOX", recent, mail(buyer, amy, "Newer", "new-9@acme-buyer.de", "Newer"))
	batches = nil
	r.syncOnce()
	if cur := cursorOf(t, r, amy, "INBOX"); cur.LastUID != 11 || cur.BackfillUID != 3 {
		t.Errorf("after new mail: %+v", cur)
	}

	// The rep's since moves back: the two old messages come, nothing else.
	r.cfg.Reps[0].Since = ""
	batches = nil
	r.syncOnce()
	if fmt.Sprint(batches) != "[[1 2 3 4 5 6 7 8 9 10 11]]" {
		t.Errorf("after since moved back: %v, want one batch with UIDs 1 and 2", batches)
	}
	if got := r.count(`SELECT count(*) FROM messages WHERE subject = 'Old'`); got != 2 {
		t.Errorf("old messages = %d, want 2", got)
	}
	if cur := cursorOf(t, r, amy, "INBOX"); !cur.BackfillDone || cur.BeforeSince != 0 {
		t.Errorf("after since moved back: %+v", cur)
	}
}

func cursorOf(t *testing.T, r *rig, rep, folder string) timeline.Cursor {
	t.Helper()
	cs, err := timeline.Cursors(r.ctx, r.store.Pool, rep)
	if err != nil {
		t.Fatal(err)
	}
	return cs[folder]
}

// A message over sync.max_message_size is stored from its header, with
// its real size and a note, and its body is never asked for.
func TestOversizeMessageHeadersOnly(t *testing.T) {
	ms := newMemServer(t)
	attachment := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("PDF-BYTES ", 30000)))
	big := fmt.Sprintf("From: %s\nTo: %s\nSubject: Drawings\nDate: Mon, 2 Mar 2026 10:00:00 +0800\nMessage-ID: <big-1@acme-buyer.de>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nPlease see the drawings.\n"+
		"--b\nContent-Type: application/pdf; name=d.pdf\nContent-Transfer-Encoding: base64\n\n%s\n--b--\n", buyer, amy, attachment)
	ms.add(t, "INBOX", mail(buyer, amy, "Hi", "small-1@acme-buyer.de", "Hello"), big, mail(buyer, amy, "Hi", "small-2@acme-buyer.de", "Hello"))
	r := newRigWith(t, func(c *config.Config) {
		c.Reps = []config.Rep{ms.rep(t, amy, ms.password)}
		c.Sync.MaxMessageSize = "100KB"
	})
	r.syncOnce()
	var size int
	var problems []string
	var subject string
	err := r.store.Pool.QueryRow(r.ctx, `SELECT size, problems, subject FROM messages WHERE message_id = 'big-1@acme-buyer.de'`).
		Scan(&size, &problems, &subject)
	if err != nil {
		t.Fatal(err)
	}
	if size < 300000 || subject != "Drawings" || !slices.ContainsFunc(problems, func(p string) bool {
		return strings.Contains(p, "over the size limit: headers only") && strings.Contains(p, "MB")
	}) {
		t.Errorf("big message: size %d subject %q problems %q", size, subject, problems)
	}
	var raw int
	r.store.Pool.QueryRow(r.ctx, `SELECT length(raw) FROM message_raw r JOIN messages m ON m.id = r.message_id WHERE m.message_id = 'big-1@acme-buyer.de'`).Scan(&raw)
	if raw == 0 || raw > 2000 {
		t.Errorf("raw stored for the big message: %d bytes, want its header only", raw)
	}
	if got := r.count(`SELECT count(*) FROM events`); got != 3 {
		t.Errorf("events = %d, want 3 (the big message is on the timeline too)", got)
	}
	headers := 0
	for _, f := range ms.fetchLog() {
		switch {
		case f.section == imap.PartSpecifierHeader && fmt.Sprint(f.uids) == "[2]":
			headers++
		case slices.Contains(f.uids, 2):
			t.Errorf("the big message was asked for in %+v", f)
		}
	}
	if headers != 1 {
		t.Errorf("fetches %+v: want the big message's header asked for once", ms.fetchLog())
	}
}

// A first sync of several folders goes in turns of ten batches, each
// folder newest first, with what is left of each counted down, and the
// links between an inquiry and its quote, saved in different folders and
// turns, are made by the end.
func TestBackfillTurns(t *testing.T) {
	r := newRigWith(t, func(c *config.Config) { c.Sync.BatchSize = 1 })
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r.appendAt(amy, "INBOX", day, mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel 600x600", "rfq-t@acme-buyer.de",
		"Dear Amy,\nPlease send us your best price for 2,000 pcs LED panel 600x600 40W, FOB Ningbo.\nRegards, Li Wei"))
	quote := mail("Amy <"+amy+">", buyer, "Re: RFQ: LED panel 600x600", "quote-t@ourco.example",
		"Dear Li Wei,\nPlease find our quotation below:\nLED panel 600x600 40W: USD 9.17/pc FOB Ningbo, 2,000 pcs = USD 18,340.00\nBest regards, Amy",
		"In-Reply-To: <rfq-t@acme-buyer.de>")
	r.appendAt(amy, "Sent", day, strings.Replace(quote, "10:00:00", "15:00:00", 1)) // the afternoon after the inquiry
	for i := 2; i <= 13; i++ {
		r.appendAt(amy, "INBOX", day, mail(buyer, amy, "Samples", fmt.Sprintf("in-%d@acme-buyer.de", i), "The samples arrived."))
	}
	for i := 2; i <= 12; i++ {
		r.appendAt(amy, "Sent", day, mail(amy, buyer, "Samples", fmt.Sprintf("out-%d@ourco.example", i), "The samples are on their way."))
	}
	var mu sync.Mutex
	var got []string
	pendingAfterSent := -1 // customers with links pending when INBOX's second turn began
	r.syncer.OnProgress = func(p ingest.Progress) {
		if p.Rep == amy && p.Backfill {
			mu.Lock()
			got = append(got, fmt.Sprintf("%s:%d", p.Folder, p.Remaining))
			mu.Unlock()
			if p.Folder == "INBOX" && p.Remaining == 2 {
				pendingAfterSent = r.count(`SELECT count(*) FROM pending_links`)
			}
		}
	}
	r.syncOnce()
	var want []string
	for _, turn := range []struct {
		folder         string
		from, messages int
	}{{"INBOX", 13, 10}, {"Sent", 12, 10}, {"INBOX", 3, 3}, {"Sent", 2, 2}} {
		for i := range turn.messages {
			want = append(want, fmt.Sprintf("%s:%d", turn.folder, turn.from-1-i))
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batches stored (folder:left after it):\n got %v\nwant %v", got, want)
	}
	for _, folder := range []string{"INBOX", "Sent"} {
		if cur := cursorOf(t, r, amy, folder); !cur.BackfillDone || cur.BackfillUID != 1 {
			t.Errorf("%s cursor %+v: want the backfill done down to UID 1", folder, cur)
		}
	}
	if n := r.count(`SELECT count(*) FROM message_locations WHERE rep = $1`, amy); n != 25 {
		t.Errorf("stored %d messages of amy's, want 25", n)
	}
	linked := r.count(`SELECT count(*) FROM events i JOIN messages im ON im.id = i.message_id
		JOIN events q ON q.id = i.quote_event_id JOIN messages qm ON qm.id = q.message_id
		WHERE im.message_id = 'rfq-t@acme-buyer.de' AND qm.message_id = 'quote-t@ourco.example'`)
	if linked != 1 {
		t.Errorf("the inquiry is not linked to its quote after the backfill")
	}
	// The log says where the time went, stage by stage.
	line := regexp.MustCompile(`msg="mailbox synced" rep=` + regexp.QuoteMeta(amy) + ` .* fetching=(\S+) parsing=(\S+) storing=(\S+)`).
		FindStringSubmatch(r.logs.String())
	if line == nil {
		t.Errorf("no stage times in the log:\n%s", r.logs.String())
	} else {
		for i, stage := range []string{"fetching", "parsing", "storing"} {
			if d, err := time.ParseDuration(line[i+1]); err != nil || d <= 0 || d > time.Minute {
				t.Errorf("%s took %q, want a time over zero", stage, line[i+1])
			}
		}
	}
	// Sent's outbound mail noted links to redo in older inquiries; the end
	// of Sent's turn applied them (inbound mail notes none).
	if pendingAfterSent != 0 {
		t.Errorf("%d customers' links pending after Sent's turn, want 0", pendingAfterSent)
	}
}
