package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/config"
)

// import and verify as a user runs them, and the daemon's periodic check
// showing in status.
func TestCLIImportVerify(t *testing.T) {
	c := newCLI(t, freePort(t))
	cfg, err := config.Load(c.config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	msg := func(id, subject string) string {
		return "From: Li Wei <li.wei@acme-buyer.de>\nTo: amy@ourco.example\nSubject: " + subject +
			"\nDate: Tue, 3 Mar 2026 09:00:00 +0800\nMessage-ID: <" + id + ">\n\nDear Amy, please quote.\n"
	}
	c.appendMail("amy@ourco.example", "INBOX", msg("cli-1@acme-buyer.de", "RFQ 1"))
	c.appendMail("amy@ourco.example", "INBOX", msg("cli-2@acme-buyer.de", "RFQ 2"))
	c.mustRun("sync", "--once")
	out := c.mustRun("verify")
	if !strings.Contains(out, "amy@ourco.example INBOX: 2 on the server, 2 stored, 0 missing, 0 pending") {
		t.Errorf("verify output:\n%s", out)
	}

	mbox := filepath.Join(t.TempDir(), "old.mbox")
	os.WriteFile(mbox, []byte("From - Mon Mar  2 10:00:00 2026\n"+msg("cli-1@acme-buyer.de", "RFQ 1")+
		"\nFrom - Mon Mar  2 10:00:00 2026\n"+msg("cli-old@acme-buyer.de", "RFQ 2019")+"\n"), 0o600)
	out = c.mustRun("import", "--rep", "amy@ourco.example", mbox)
	if !strings.HasPrefix(out, "files 1, messages 2, new 1, already known 1, flagged 0, new events 1,") {
		t.Errorf("import: %q", out)
	}
	out = c.mustRun("import", "--rep", "amy@ourco.example", mbox)
	if !strings.HasPrefix(out, "files 1, messages 2, new 0, already known 2, flagged 0, new events 0,") {
		t.Errorf("import again: %q", out)
	}
	_, errs, code := c.run("import", "--rep", "amy@ourco.example", mbox+".missing")
	if code == 0 || !strings.Contains(errs, mbox+".missing: stat: no such file or directory") {
		t.Errorf("import of a missing file: exit %d, stderr %q", code, errs)
	}

	// Lose a stored UID: verify finds the gap and fails, as fsck would.
	conn, err := pgx.Connect(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DELETE FROM message_locations WHERE rep = 'amy@ourco.example' AND folder = 'INBOX' AND uid = 1`); err != nil {
		t.Fatal(err)
	}
	out, errs, code = c.run("verify", "--json")
	var res struct {
		Folders []struct {
			Rep, Folder string
			Gaps        int64   `json:"gaps"`
			GapUIDs     []int64 `json:"gap_uids"`
		} `json:"folders"`
		Gaps int64 `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	if code == 0 || res.Gaps != 1 || !strings.Contains(errs, "1 messages missing in 1 folders") {
		t.Errorf("verify with a gap: exit %d, gaps %d, stderr %q", code, res.Gaps, errs)
	}
	for _, f := range res.Folders {
		if f.Folder == "INBOX" && f.Rep == "amy@ourco.example" && (f.Gaps != 1 || len(f.GapUIDs) != 1 || f.GapUIDs[0] != 1) {
			t.Errorf("amy's INBOX: %+v, want UID 1 missing", f)
		}
	}

	// The daemon checks on its own (sync.verify_interval) and status
	// shows the gap count.
	b, _ := os.ReadFile(c.config)
	os.WriteFile(c.config, append(b, []byte("sync: {verify_interval: 1s}\n")...), 0o600)
	if _, err := conn.Exec(ctx, `DELETE FROM verify_results`); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(c.bin, "--config", c.config, "serve")
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			Totals map[string]int64 `json:"totals"`
			Verify []struct {
				Rep, Folder string
				Gaps        int64 `json:"gaps"`
			} `json:"verify"`
		}
		if err := json.Unmarshal([]byte(c.mustRun("status")), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.Verify) >= 4 { // INBOX, Sent and 已发送 of two reps: every folder but junk, trash, drafts
			if st.Totals["verify_gaps"] != 1 {
				t.Errorf("status after the daemon's check: verify_gaps %d, want 1 (%+v)", st.Totals["verify_gaps"], st.Verify)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not verify within 30s; status %+v\n%s", st, srvErr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
}
