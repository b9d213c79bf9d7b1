package ingest_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
	"github.com/mailtrail/mailtrail/timeline"
)

func (r *rig) verify() ([]timeline.VerifyResult, error) {
	r.t.Helper()
	v := ingest.NewVerifier(r.cfg, r.store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return v.VerifyAll(r.ctx)
}

func find(rs []timeline.VerifyResult, rep, folder string) timeline.VerifyResult {
	for _, r := range rs {
		if r.Rep == rep && r.Folder == folder {
			return r
		}
	}
	return timeline.VerifyResult{Rep: rep, Folder: folder, Error: "not checked"}
}

func summary(r timeline.VerifyResult) string {
	return fmt.Sprintf("server %d stored %d gaps %d %v pending %d gone %d %s",
		r.ServerMessages, r.Stored, r.Gaps, r.GapUIDs, r.Pending, r.Gone, r.Error)
}

func TestVerify(t *testing.T) {
	r := newRig(t)
	for i := 1; i <= 4; i++ {
		r.appendMail(amy, "INBOX", mail(buyer, amy, fmt.Sprintf("Order %d", i), fmt.Sprintf("v-%d@acme-buyer.de", i), "Hello Amy"))
	}
	r.appendMail(amy, "Sent", mail(amy, buyer, "Re: Order 1", "v-sent@ourco.example", "Dear Li Wei, thanks."))
	r.syncOnce()

	check := func(step string, want map[string]string) []timeline.VerifyResult {
		t.Helper()
		rs, err := r.verify()
		if err != nil {
			t.Fatalf("%s: verify: %v", step, err)
		}
		for key, w := range want {
			rep, folder, _ := strings.Cut(key, "/")
			if got := summary(find(rs, rep, folder)); got != w {
				t.Errorf("%s: %s: %s\n  want %s", step, key, got, w)
			}
		}
		return rs
	}
	check("after sync", map[string]string{
		amy + "/INBOX": "server 4 stored 4 gaps 0 [] pending 0 gone 0 ",
		amy + "/Sent":  "server 1 stored 1 gaps 0 [] pending 0 gone 0 ",
		bob + "/INBOX": "server 0 stored 0 gaps 0 [] pending 0 gone 0 ",
	})

	// New mail not yet synced is pending, not a gap.
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Order 5", "v-5@acme-buyer.de", "Hello"))
	check("new mail", map[string]string{amy + "/INBOX": "server 5 stored 4 gaps 0 [] pending 1 gone 0 "})

	// A UID below the cursor that mailtrail lost, and one whose stored
	// message is not the one on the server, are gaps.
	r.store.Pool.Exec(r.ctx, `DELETE FROM message_locations WHERE rep = $1 AND folder = 'INBOX' AND uid = 2`, amy)
	r.store.Pool.Exec(r.ctx, `UPDATE message_locations SET message_id = (SELECT id FROM messages WHERE message_id = 'v-sent@ourco.example')
		WHERE rep = $1 AND folder = 'INBOX' AND uid = 3`, amy)
	rs := check("lost", map[string]string{amy + "/INBOX": "server 5 stored 3 gaps 2 [2 3] pending 1 gone 0 "})
	st, err := timeline.GetStatus(r.ctx, r.store.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Totals.VerifyGaps != 2 || len(st.Verify) != len(rs) {
		t.Errorf("status: verify_gaps %d over %d folders, want 2 over %d", st.Totals.VerifyGaps, len(st.Verify), len(rs))
	}

	// Mail deleted on the server is only informational.
	if out, err := testenv.Dovecot(t).Doveadm("expunge", "-u", r.users[amy], "mailbox", "Sent", "all"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	check("expunged", map[string]string{amy + "/Sent": "server 0 stored 1 gaps 0 [] pending 0 gone 1 "})

	// After a UIDVALIDITY change the next sync re-reads the folder: all
	// pending, nothing missing.
	if out, err := testenv.Dovecot(t).Doveadm("mailbox", "update", "--uid-validity", "777", "-u", r.users[amy], "INBOX"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	check("uidvalidity", map[string]string{amy + "/INBOX": "server 5 stored 0 gaps 0 [] pending 5 gone 0 "})
	r.syncOnce()
	check("resynced", map[string]string{amy + "/INBOX": "server 5 stored 5 gaps 0 [] pending 0 gone 0 "})

	// A mailbox that cannot be checked is named and keeps its last result.
	r.cfg.Reps[1].IMAP.Password = "wrong"
	_, err = r.verify()
	var me *ingest.MailboxError
	if err == nil || !strings.Contains(err.Error(), bob) || !errors.As(err, &me) {
		t.Errorf("verify with a wrong password: %v", err)
	}
	st, _ = timeline.GetStatus(r.ctx, r.store.Pool)
	if !slices.ContainsFunc(st.Verify, func(v timeline.VerifyStatus) bool { return v.Rep == bob }) {
		t.Errorf("bob's last result was dropped: %+v", st.Verify)
	}
}
