package ingest_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// A message that PostgreSQL refuses whatever the try (here a constraint
// the test adds; in life, a value nobody foresaw) must not block its
// folder: the batch is saved again one message at a time, that message
// raw and flagged, the others on their timelines, and the cursor moves.
func TestSyncSurvivesRefusedMessage(t *testing.T) {
	r := newRig(t)
	if _, err := r.store.Pool.Exec(r.ctx, `ALTER TABLE messages ADD CONSTRAINT test_poison CHECK (subject <> 'POISON')`); err != nil {
		t.Fatal(err)
	}
	r.appendMail(amy, "INBOX", mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel", "before@acme-buyer.de", "Dear Amy, please quote 500 pcs."))
	r.appendMail(amy, "INBOX", mail("Li Wei <"+buyer+">", amy, "POISON", "poison@acme-buyer.de", "Dear Amy, please quote 600 pcs."))
	r.appendMail(amy, "INBOX", mail("Li Wei <"+buyer+">", amy, "RFQ: LED tube", "after@acme-buyer.de", "Dear Amy, please quote 700 pcs."))
	r.syncOnce()
	r.syncOnce() // and again: nothing twice

	if got := r.count(`SELECT count(*) FROM messages`); got != 3 {
		t.Errorf("%d messages stored, want 3", got)
	}
	if got := r.count(`SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id WHERE m.message_id IN ('before@acme-buyer.de', 'after@acme-buyer.de')`); got != 2 {
		t.Errorf("%d events for the two good messages, want 2", got)
	}
	var problems []string
	var malformed bool
	var raw int
	err := r.store.Pool.QueryRow(r.ctx, `SELECT m.malformed, m.problems, length(x.raw) FROM messages m
		JOIN message_raw x ON x.message_id = m.id WHERE m.dedup_key LIKE 'sha256:%'`).Scan(&malformed, &problems, &raw)
	if err != nil {
		t.Fatalf("the refused message is not stored raw: %v", err)
	}
	if !malformed || len(problems) == 0 || !strings.Contains(problems[0], "test_poison") || raw == 0 {
		t.Errorf("refused message: malformed %v, problems %q, %d raw bytes", malformed, problems, raw)
	}
	if got := r.count(`SELECT count(*) FROM message_locations WHERE rep = $1 AND folder = 'INBOX'`, amy); got != 3 {
		t.Errorf("%d locations in INBOX, want 3 (verify would see a gap)", got)
	}
	if got := r.count(`SELECT last_uid FROM folders WHERE rep = $1 AND folder = 'INBOX'`, amy); got != 3 {
		t.Errorf("INBOX cursor at UID %d, want 3", got)
	}
	// New mail takes another path (no backfill, no second connection).
	r.appendMail(amy, "INBOX", mail("Li Wei <"+buyer+">", amy, "POISON", "poison-2@acme-buyer.de", "Dear Amy, again."))
	r.syncOnce()
	if got := r.count(`SELECT count(*) FROM messages WHERE dedup_key LIKE 'sha256:%'`); got != 2 {
		t.Errorf("%d refused messages kept raw after new mail, want 2", got)
	}
	if got := r.count(`SELECT last_uid FROM folders WHERE rep = $1 AND folder = 'INBOX'`, amy); got != 4 {
		t.Errorf("INBOX cursor at UID %d after new mail, want 4", got)
	}
}

// The same for `mailtrail import`: the refused message is kept raw, the
// others imported, and the summary counts them all.
func TestImportSurvivesRefusedMessage(t *testing.T) {
	r := newRig(t)
	if _, err := r.store.Pool.Exec(r.ctx, `ALTER TABLE messages ADD CONSTRAINT test_poison CHECK (subject <> 'POISON')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.eml"), mail("Li Wei <"+buyer+">", amy, "RFQ: LED panel", "imp-a@acme-buyer.de", "Dear Amy, please quote 500 pcs."))
	writeFile(t, filepath.Join(dir, "b.eml"), mail("Li Wei <"+buyer+">", amy, "POISON", "imp-b@acme-buyer.de", "Dear Amy, please quote 600 pcs."))
	sum := r.importFiles(amy, dir)
	if len(sum.Errors) > 0 || sum.New != 2 {
		t.Fatalf("summary %+v: want 2 new, no errors", sum)
	}
	if got := r.count(`SELECT count(*) FROM messages WHERE malformed AND dedup_key LIKE 'sha256:%'`); got != 1 {
		t.Errorf("%d refused messages kept raw, want 1", got)
	}
	if got := r.count(`SELECT count(*) FROM events`); got != 1 {
		t.Errorf("%d events, want 1 (the good message's)", got)
	}
}
