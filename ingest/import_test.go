package ingest_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/classify"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
)

func (r *rig) importer() *ingest.Importer {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return ingest.NewImporter(ingest.NewPipeline(r.cfg, r.store, classify.Default(), log), r.store, log)
}

func (r *rig) importFiles(rep string, paths ...string) ingest.ImportSummary {
	r.t.Helper()
	sum, err := r.importer().Import(r.ctx, rep, paths)
	if err != nil {
		r.t.Fatalf("import: %v", err)
	}
	return sum
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mboxOf writes messages as an mboxrd file: a postmark before each, body
// lines starting with (>*)From escaped with one more '>'.
func mboxOf(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("From - Tue Mar  3 10:00:00 2026\n")
		for _, line := range strings.SplitAfter(m, "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				b.WriteString(">")
			}
			b.WriteString(line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Every kind of export, imported into Amy's mailbox: what she sent goes
// to Sent, the rest to INBOX; a second import adds nothing.
func TestImportFiles(t *testing.T) {
	r := newRig(t)
	dir := t.TempDir()
	rfq := mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel", "imp-rfq@acme-buyer.de",
		"Dear Amy,\nPlease quote 500 pcs LED panel 600x600, FOB Ningbo.\nRegards, Li Wei")
	quote := mail("Amy <"+amy+">", buyer, "Re: RFQ: LED panel", "imp-quote@ourco.example",
		"Dear Li Wei,\nPlease find our quotation: USD 9.10/pc FOB Ningbo, 500 pcs.\nBest regards, Amy")
	escaped := mail(buyer, amy, "Samples", "imp-escaped@acme-buyer.de",
		"Hi Amy,\nFrom the factory we need the samples by Friday.\n>From the quoted part\nThanks")
	noID := strings.Replace(mail(buyer, amy, "Payment", "x", "Hi Amy, the deposit is paid."), "Message-ID: <x>\n", "", 1)
	aliasSent := mail("Amy <amy.alias@ourco.example>", buyer, "Shipping date", "imp-alias@ourco.example",
		"Dear Li Wei, the goods ship on Monday. Amy")
	r.cfg.Reps[0].Aliases = []string{"amy.alias@ourco.example"}

	writeFile(t, filepath.Join(dir, "rfq.eml"), rfq)
	// A Maildir with a Maildir++ subfolder; tmp/ holds a delivery in
	// progress, never imported; dovecot's own files are no mail.
	md := filepath.Join(dir, "Maildir")
	writeFile(t, filepath.Join(md, "cur", "1700000000.1.host:2,S"), quote)
	writeFile(t, filepath.Join(md, "new", "1700000001.2.host"), rfq) // also in rfq.eml: known
	writeFile(t, filepath.Join(md, "tmp", "1700000002.3.host"), mail(buyer, amy, "half", "imp-tmp@acme-buyer.de", "partial"))
	writeFile(t, filepath.Join(md, "dovecot-uidlist"), "3 V1 N3 G0\n")
	writeFile(t, filepath.Join(md, ".Sent", "cur", "1700000003.4.host:2,S"), aliasSent)
	os.MkdirAll(filepath.Join(md, ".Sent", "new"), 0o755)
	// Thunderbird-style mbox with escaped From lines and a message without
	// a Message-ID; an Apple Mail export is a directory holding "mbox".
	writeFile(t, filepath.Join(dir, "Inbox"), mboxOf(escaped, noID))
	writeFile(t, filepath.Join(dir, "Inbox.msf"), "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n")
	apple := filepath.Join(dir, "Old Mail.mbox")
	writeFile(t, filepath.Join(apple, "mbox"), mboxOf(quote))
	writeFile(t, filepath.Join(apple, "Info.plist"), "<?xml version=\"1.0\"?>\n<plist/>\n")

	sum := r.importFiles(amy, dir)
	if len(sum.Errors) > 0 {
		t.Fatalf("errors: %v", sum.Errors)
	}
	// rfq.eml, 3 Maildir messages, Inbox, Old Mail.mbox/mbox.
	if sum.Files != 6 || sum.Messages != 7 || sum.New != 5 || sum.Known != 2 || sum.Skipped != 3 {
		t.Errorf("summary %+v: want 6 files, 7 messages, 5 new, 2 already known, 3 skipped", sum)
	}
	if got := r.count(`SELECT count(*) FROM messages`); got != 5 {
		t.Errorf("messages = %d, want 5", got)
	}
	if got := r.count(`SELECT count(*) FROM messages WHERE message_id = 'imp-tmp@acme-buyer.de'`); got != 0 {
		t.Errorf("a message from Maildir tmp/ was imported")
	}
	folders := map[string]string{}
	rows, _ := r.store.Pool.Query(r.ctx, `SELECT coalesce(m.message_id, m.dedup_key), i.folder, i.rep FROM message_imports i JOIN messages m ON m.id = i.message_id`)
	for rows.Next() {
		var id, folder, rep string
		rows.Scan(&id, &folder, &rep)
		if rep != amy {
			t.Errorf("%s imported for %s, want %s", id, rep, amy)
		}
		folders[id] = folder
	}
	for id, want := range map[string]string{"imp-rfq@acme-buyer.de": "INBOX", "imp-quote@ourco.example": "Sent",
		"imp-alias@ourco.example": "Sent", "imp-escaped@acme-buyer.de": "INBOX"} {
		if folders[id] != want {
			t.Errorf("%s in folder %q, want %q", id, folders[id], want)
		}
	}
	var body string
	r.store.Pool.QueryRow(r.ctx, `SELECT body FROM messages WHERE message_id = 'imp-escaped@acme-buyer.de'`).Scan(&body)
	if !strings.Contains(body, "\nFrom the factory we need") || !strings.Contains(body, "\n>From the quoted part") {
		t.Errorf("mbox escapes not undone: %q", body)
	}
	if got := r.count(`SELECT count(*) FROM messages WHERE message_id IS NULL AND dedup_key LIKE 'sha256:%' AND subject = 'Payment'`); got != 1 {
		t.Errorf("message without Message-ID: %d stored, want 1", got)
	}
	var raw []byte
	r.store.Pool.QueryRow(r.ctx, `SELECT x.raw FROM message_raw x JOIN messages m ON m.id = x.message_id WHERE m.message_id = 'imp-rfq@acme-buyer.de'`).Scan(&raw)
	if !strings.Contains(string(raw), "Subject: RFQ: LED panel\r\n") || strings.Count(string(raw), "\n") != strings.Count(string(raw), "\r\n") {
		t.Errorf("raw not stored with CRLF line ends: %q", raw)
	}
	kinds := map[string]string{}
	rows, _ = r.store.Pool.Query(r.ctx, `SELECT coalesce(m.message_id, m.dedup_key), e.kind || '/' || e.direction || '/' || e.rep FROM events e JOIN messages m ON m.id = e.message_id`)
	for rows.Next() {
		var id, k string
		rows.Scan(&id, &k)
		kinds[id] = k
	}
	if kinds["imp-rfq@acme-buyer.de"] != "inquiry/in/"+amy || kinds["imp-quote@ourco.example"] != "quote/out/"+amy {
		t.Errorf("events = %v", kinds)
	}

	// Importing again adds nothing at all.
	before := r.tableCounts()
	again := r.importFiles(amy, dir)
	if again.New != 0 || again.Known != 7 || again.NewEvents != 0 {
		t.Errorf("second import: %+v, want 0 new, 7 already known", again)
	}
	if after := r.tableCounts(); after != before {
		t.Errorf("second import changed the store: %v -> %v", before, after)
	}
}

// tableCounts counts the rows an import or a sync could add.
func (r *rig) tableCounts() [6]int {
	var c [6]int
	for i, table := range []string{"messages", "message_raw", "message_locations", "events", "search_outbox", "message_imports"} {
		c[i] = r.count(`SELECT count(*) FROM ` + table)
	}
	return c
}

// Unreadable input is named, with the message index and byte offset
// inside an mbox, and the rest is imported.
func TestImportBadInput(t *testing.T) {
	r := newRig(t)
	dir := t.TempDir()
	ok := mail(buyer, amy, "Fine", "imp-fine@acme-buyer.de", "Hello")
	mbox := filepath.Join(dir, "broken.mbox")
	writeFile(t, mbox, mboxOf(ok)+"From - Tue Mar  3 10:00:00 2026\n\n")
	notes := filepath.Join(dir, "notes.txt")
	writeFile(t, notes, "shopping list\n")
	missing := filepath.Join(dir, "missing.eml")
	sum := r.importFiles(amy, mbox, notes, missing)
	if sum.New != 1 || len(sum.Errors) != 3 {
		t.Fatalf("summary %+v, errors %v: want 1 new and 3 errors", sum, sum.Errors)
	}
	offset := len(mboxOf(ok))
	for i, want := range []string{
		mbox + ": message 2 at byte " + strconv.Itoa(offset) + ": empty message",
		notes + ": not an .eml file, an mbox file or a Maildir",
		missing + ": stat: no such file or directory",
	} {
		if sum.Errors[i].Error() != want {
			t.Errorf("error %d = %q\nwant      %q", i, sum.Errors[i], want)
		}
	}
	var ie *ingest.ImportError
	if !errors.As(sum.Errors[0], &ie) || ie.Index != 2 {
		t.Errorf("error is not an *ImportError with the index: %#v", sum.Errors[0])
	}
	if _, err := r.importer().Import(r.ctx, "not an address", []string{mbox}); err == nil || !strings.Contains(err.Error(), "not an email address") {
		t.Errorf("bad --rep: %v", err)
	}
}

// Mail synced over IMAP, then imported from an export of the same mailbox
// (an mbox with LF line ends, and the server's own Maildir) adds no
// message and no event.
func TestImportAfterIMAPSync(t *testing.T) {
	r := newRig(t)
	msgs := []string{
		mail("Li Wei <"+buyer+">", amy, "RFQ: downlights", "sync-rfq@acme-buyer.de", "Dear Amy,\nplease quote 1,000 downlights.\nFrom our side the deadline is May.\nLi Wei"),
		strings.Replace(mail(buyer, amy, "No id", "x", "A message without a Message-ID."), "Message-ID: <x>\n", "", 1),
	}
	sent := mail("Amy <"+amy+">", buyer, "Re: RFQ: downlights", "sync-quote@ourco.example", "Dear Li Wei,\nour price is USD 3.20/pc.\nAmy")
	for _, m := range msgs {
		r.appendMail(amy, "INBOX", m)
	}
	r.appendMail(amy, "Sent", sent)
	r.syncOnce()
	before := r.tableCounts()
	if before[0] != 3 || before[3] != 3 {
		t.Fatalf("after sync: counts %v, want 3 messages and 3 events", before)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "export.mbox"), mboxOf(append(msgs, sent)...))
	sum := r.importFiles(amy, filepath.Join(dir, "export.mbox"), testenv.Dovecot(t).Maildir(r.users[amy]))
	if len(sum.Errors) > 0 {
		t.Fatalf("errors: %v", sum.Errors)
	}
	if sum.Messages != 6 || sum.New != 0 || sum.Known != 6 || sum.NewEvents != 0 {
		t.Errorf("summary %+v: want 6 messages (3 in the mbox, 3 in the Maildir), all already known", sum)
	}
	after := r.tableCounts()
	after[5] = 0 // message_imports: provenance rows are expected
	before[5] = 0
	if after != before {
		t.Errorf("import of synced mail changed the store: %v -> %v", before, after)
	}
}
