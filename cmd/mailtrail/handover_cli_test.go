package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestCLIHandover walks the day a rep leaves, as a manager would: tokens,
// the report, a dry run, the transfer, then the rep's mailbox removed from
// the config while their mail stays on the timelines and in search.
func TestCLIHandover(t *testing.T) {
	addr := freePort(t)
	c := newCLI(t, addr)
	c.mustRun("migrate")
	csv := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(csv, []byte(customersCSV), 0o600)
	c.run("customers", "import", csv) // one row is bad on purpose; the others import

	c.appendMail("bob@ourco.example", "Sent", "From: Bob <bob@ourco.example>\nTo: compras@pacifico.mx\nSubject: Quotation LED high bay\nDate: Wed, 4 Mar 2026 09:00:00 +0800\nMessage-ID: <q-1@ourco.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nDear Juan,\nPlease find our quotation: LED high bay 150W USD 26.48/pc FOB Ningbo.\nBob\n")
	c.appendMail("bob@ourco.example", "INBOX", "From: Juan <compras@pacifico.mx>\nTo: bob@ourco.example\nSubject: RFQ floodlights 200W\nDate: Thu, 5 Mar 2026 09:00:00 -0600\nMessage-ID: <rfq-2@pacifico.mx>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello Bob, please quote 300 pcs of 200W floodlights, best price FOB.\nJuan\n")
	// Two listed buyers nobody owns: Nordlicht wrote only to bob, Baltic
	// to bob and amy.
	unowned := filepath.Join(t.TempDir(), "unowned.csv")
	os.WriteFile(unowned, []byte("name,domains,emails,grade,owner,phone,country\nNordlicht Leuchten GmbH,nordlicht-leuchten.de,,,,,Germany\nBaltic Lamps SIA,baltic-lamps.lv,,,,,Latvia\n"), 0o600)
	c.mustRun("customers", "import", unowned)
	c.appendMail("bob@ourco.example", "INBOX", "From: Lars <lars@nordlicht-leuchten.de>\nTo: bob@ourco.example\nSubject: Greetings from Hamburg\nDate: Fri, 6 Mar 2026 09:00:00 +0100\nMessage-ID: <hi-3@nordlicht-leuchten.de>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello Bob, nice to meet you at the fair.\nLars\n")
	baltic := "From: Olga <olga@baltic-lamps.lv>\nTo: bob@ourco.example, amy@ourco.example\nSubject: Greetings from Riga\nDate: Fri, 6 Mar 2026 10:00:00 +0200\nMessage-ID: <hi-4@baltic-lamps.lv>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello Bob and Amy, nice to meet you at the fair.\nOlga\n"
	c.appendMail("bob@ourco.example", "INBOX", baltic)
	c.appendMail("amy@ourco.example", "INBOX", baltic)
	c.mustRun("sync", "--once")

	// Tokens: the value is printed once, on stdout alone; list never shows it.
	repToken := strings.TrimSpace(c.mustRun("tokens", "create", "--role", "rep", "--rep", "Bob@OurCo.Example"))
	mgrToken := strings.TrimSpace(c.mustRun("tokens", "create", "--role", "manager", "--name", "sales-manager"))
	if !strings.HasPrefix(repToken, "mt_") || len(repToken) < 40 || repToken == mgrToken {
		t.Fatalf("tokens %q %q", repToken, mgrToken)
	}
	if _, errs, code := c.run("tokens", "create", "--role", "rep"); code == 0 || !strings.Contains(errs, "--rep") {
		t.Errorf("rep token without --rep: exit %d %q", code, errs)
	}
	if _, errs, code := c.run("tokens", "create", "--role", "manager", "--name", "sales-manager"); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate name: exit %d %q", code, errs)
	}
	list := c.mustRun("tokens", "list")
	if !strings.Contains(list, "sales-manager") || !strings.Contains(list, "bob@ourco.example") || strings.Contains(list, repToken[3:20]) {
		t.Errorf("tokens list:\n%s", list)
	}

	// The report, in each format.
	md := c.mustRun("handover", "--rep", "bob@ourco.example")
	if !strings.Contains(md, "# Handover: bob@ourco.example") || !strings.Contains(md, "Pacifico SA") || !strings.Contains(md, "RFQ floodlights 200W") {
		t.Errorf("markdown report:\n%s", md)
	}
	page := filepath.Join(t.TempDir(), "bob.html")
	c.mustRun("handover", "--rep", "bob@ourco.example", "--format", "html", "--out", page)
	if b, _ := os.ReadFile(page); !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("html report: %.100s", b)
	}
	var rpt struct {
		Summary struct {
			Customers        int `json:"customers"`
			OpenInquiries    int `json:"open_inquiries"`
			UnansweredQuotes int `json:"unanswered_quotes"`
		} `json:"summary"`
		Customers []struct {
			Name     string `json:"name"`
			FollowUp *struct {
				CadenceDays int `json:"cadence_days"`
			} `json:"follow_up_overdue"`
		} `json:"customers"`
	}
	// Follow-ups by the config's cadence: Pacifico is grade B.
	f, _ := os.OpenFile(c.config, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("followup:\n  cadence: {B: 72h}\n")
	f.Close()
	if err := json.Unmarshal([]byte(c.mustRun("handover", "--rep", "bob@ourco.example", "--format", "json", "--months", "24")), &rpt); err != nil ||
		rpt.Summary.Customers != 3 || rpt.Summary.OpenInquiries != 1 || rpt.Summary.UnansweredQuotes != 0 {
		t.Errorf("json report: %+v %v", rpt.Summary, err)
	}
	cadence := -1
	for _, cu := range rpt.Customers {
		if cu.Name == "Pacifico SA" && cu.FollowUp != nil {
			cadence = cu.FollowUp.CadenceDays
		}
	}
	if cadence != 3 {
		t.Errorf("Pacifico's follow-up cadence %d days, want 3 (followup.cadence.B: 72h)", cadence)
	}
	if _, errs, code := c.run("handover", "--rep", "bob@ourco.example", "--format", "pdf"); code == 0 || !strings.Contains(errs, "--format") {
		t.Errorf("bad format: exit %d %q", code, errs)
	}

	// Every flag is checked before anything is written: no transfer
	// followed by an error, no file left by a failed command.
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--to", "amy@ourco.example", "--apply", "--format", "html"}, "--format"},
		{[]string{"--to", "amy@ourco.example", "--apply", "--months", "3"}, "--months"},
		{[]string{"--to", "amy@ourco.example", "--apply", "--map", "x=amy@ourco.example"}, "map"},
		{[]string{"--to", "amy@ourco.example", "--apply", "--out", filepath.Join(dir, "missing", "result.txt")}, "--out"},
		{[]string{"--to", "amy@ourco.example", "--apply", "--out", dir}, "--out"},
		{[]string{"--format", "pdf", "--out", filepath.Join(dir, "bob.pdf")}, "--format"},
		{[]string{"--months", "0", "--out", filepath.Join(dir, "bob.md")}, "--months"},
		{[]string{"--apply", "--out", filepath.Join(dir, "bob.md")}, "--apply"},
	} {
		if _, errs, code := c.run(append([]string{"handover", "--rep", "bob@ourco.example"}, tc.args...)...); code == 0 || !strings.Contains(errs, tc.flag) {
			t.Errorf("%v: exit %d %q, want an error naming %s", tc.args, code, errs, tc.flag)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("failed commands left files: %v", left)
	}
	// --out takes the transfer's result too; a dry run here.
	result := filepath.Join(dir, "dry-run.json")
	if out, errs := c.mustRun2("handover", "--rep", "bob@ourco.example", "--to", "amy@ourco.example", "--format", "json", "--out", result); out != "" ||
		!strings.Contains(errs, "wrote "+result+": would move 2 customers") {
		t.Errorf("--out with a transfer: stdout %q, stderr %q", out, errs)
	}
	var dry struct {
		DryRun bool `json:"dry_run"`
		Moves  []struct {
			Customer string `json:"customer"`
		} `json:"moves"`
	}
	if b, err := os.ReadFile(result); err != nil || json.Unmarshal(b, &dry) != nil || !dry.DryRun || len(dry.Moves) != 2 {
		t.Errorf("the transfer's result in %s: %+v %v", result, dry, err)
	}

	// Transfer: a dry run by default, then --apply, then nothing left.
	// --to takes bob's customers and the unowned buyer only bob knew;
	// the one amy wrote to as well is listed, not moved.
	out := c.mustRun("handover", "--rep", "bob@ourco.example", "--to", "amy@ourco.example")
	if !strings.Contains(out, "Pacifico SA") || !strings.Contains(out, "Nordlicht Leuchten GmbH") ||
		!strings.Contains(out, "would move 2 customers from bob@ourco.example (dry run") ||
		!regexp.MustCompile(`left unowned: customer \d+ \(Baltic Lamps SIA\): amy@ourco.example wrote to them too`).MatchString(out) {
		t.Errorf("dry run:\n%s", out)
	}
	if out = c.mustRun("handover", "--rep", "bob@ourco.example", "--to", "amy@ourco.example"); !strings.Contains(out, "would move 2 customers") {
		t.Errorf("the dry run moved something:\n%s", out)
	}
	if out = c.mustRun("handover", "--rep", "bob@ourco.example", "--to", "amy@ourco.example", "--apply"); !strings.Contains(out, "moved 2 customers from bob@ourco.example\n") {
		t.Errorf("apply:\n%s", out)
	}
	if out = c.mustRun("handover", "--rep", "bob@ourco.example", "--to", "amy@ourco.example", "--apply"); !strings.Contains(out, "moved 0 customers") {
		t.Errorf("second apply:\n%s", out)
	}

	// Disconnect bob's mailbox: remove him from the config; syncing still
	// works and his mail stays.
	cfg, _ := os.ReadFile(c.config)
	var kept []string
	skip := false
	for _, line := range strings.Split(string(cfg), "\n") {
		if strings.HasPrefix(line, "  - email: ") {
			skip = strings.Contains(line, "bob@")
		} else if !strings.HasPrefix(line, "    ") {
			skip = false
		}
		if !skip {
			kept = append(kept, line)
		}
	}
	os.WriteFile(c.config, []byte(strings.Join(kept, "\n")), 0o600)
	if strings.Contains(strings.Join(kept, "\n"), "bob@") {
		t.Fatalf("bob still in the config:\n%s", strings.Join(kept, "\n"))
	}
	c.mustRun("sync", "--once")
	var boxes struct {
		Mailboxes []struct{ Rep, State string } `json:"mailboxes"`
	}
	if err := json.Unmarshal([]byte(c.mustRun("mailboxes")), &boxes); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, m := range boxes.Mailboxes {
		states[m.Rep] = m.State
	}
	if states["bob@ourco.example"] != "disconnected" || states["amy@ourco.example"] != "ok" {
		t.Errorf("mailboxes after bob left: %v, want bob disconnected and amy ok", states)
	}

	srv := exec.Command(c.bin, "--config", c.config, "serve")
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	get := func(path, token string) (int, map[string]any) { return getJSON(addr, path, token) }
	waitServing(t, addr, &srvErr)
	code, v := get("/api/v1/customers?q=pacifico", mgrToken)
	custs, _ := v["customers"].([]any)
	if code != 200 || len(custs) != 1 || custs[0].(map[string]any)["owner"] != "amy@ourco.example" {
		t.Fatalf("Pacifico after the transfer: %d %v", code, v)
	}
	id := int(custs[0].(map[string]any)["id"].(float64))
	code, v = get("/api/v1/customers/"+strconv.Itoa(id)+"/timeline", mgrToken)
	if evs, _ := v["events"].([]any); code != 200 || len(evs) != 2 {
		t.Errorf("timeline after bob left: %d %v", code, v)
	}
	code, v = get("/api/v1/mailboxes", mgrToken)
	if ms, _ := v["mailboxes"].([]any); code != 200 || len(ms) != 2 || ms[1].(map[string]any)["state"] != "disconnected" {
		t.Errorf("GET /api/v1/mailboxes after bob left: %d %v", code, v)
	}
	code, v = get("/api/v1/search?q="+url.QueryEscape("floodlights")+"&rep=bob@ourco.example", mgrToken)
	if hits, _ := v["hits"].([]any); code != 200 || len(hits) != 1 {
		t.Errorf("search for bob's mail after he left: %d %v", code, v)
	}
	if code, _ = get("/api/v1/status", repToken); code != 403 {
		t.Errorf("rep token on status: %d", code)
	}
	laptop := strings.TrimSpace(c.mustRun("tokens", "create", "--role", "rep", "--rep", "bob@ourco.example", "--name", "bob-laptop"))
	c.mustRun("tokens", "revoke", "bob@ourco.example")
	if code, _ = get("/api/v1/customers", repToken); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	if code, _ = get("/api/v1/customers", laptop); code != 200 {
		t.Errorf("bob's other token, revoked by another's name: %d", code)
	}
	// A rep who leaves: every token of theirs, whatever its name.
	if out := c.mustRun("tokens", "revoke", "--rep", "Bob@OurCo.example"); !strings.Contains(out, `revoked token "bob-laptop"`) ||
		!strings.Contains(out, "1 token of Bob@OurCo.example revoked") {
		t.Errorf("revoke --rep:\n%s", out)
	}
	if code, _ = get("/api/v1/customers", laptop); code != 401 {
		t.Errorf("bob's token after revoke --rep: %d", code)
	}
	if _, errs, code := c.run("tokens", "revoke", "bob@ourco.example"); code == 0 || !strings.Contains(errs, "no token") {
		t.Errorf("revoke twice: exit %d %q", code, errs)
	}
}
