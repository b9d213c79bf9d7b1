package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// cli is the built binary with a config of its own, driven as a user or
// an outside script would drive it.
type cli struct {
	t      *testing.T
	bin    string
	config string
	users  map[string]string
	token  string
	db     string // the config's database URL
}

func buildBinary(t testing.TB) string {
	bin := filepath.Join(t.TempDir(), "mailtrail")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func newCLI(t *testing.T, apiAddr string) *cli {
	dbURL := testenv.Postgres(t)
	meiliURL, meiliKey := testenv.Meili(t)
	dc := testenv.Dovecot(t)
	dir := t.TempDir()
	ca := dc.CertFile
	pw := filepath.Join(dir, "imap-password")
	os.WriteFile(pw, []byte(dc.Password+"\n"), 0o600)
	host, port, _ := net.SplitHostPort(dc.TLSAddr)
	c := &cli{t: t, bin: buildBinary(t), users: map[string]string{}, token: "test-token-0123456789", db: dbURL}
	c.users["amy@ourco.example"] = testenv.User(t) + "-amy"
	c.users["bob@ourco.example"] = testenv.User(t) + "-bob"
	cfg := fmt.Sprintf(`database:
  url: %s
meilisearch:
  url: %s
  api_key_env: CLI_TEST_MEILI_KEY
  index: %s
company:
  name: Our Co
  domains: [ourco.example]
reps:
  - email: amy@ourco.example
    imap: {host: %s, port: %s, username: %s, password_file: %s, ca_file: %s}
  - email: bob@ourco.example
    imap: {host: %s, port: %s, username: %s, password_env: CLI_TEST_BOB_PASSWORD, ca_file: %s}
api:
  listen: %s
  tokens: [{name: test, token_env: CLI_TEST_TOKEN}]
`, dbURL, meiliURL, testenv.IndexName(t), host, port, c.users["amy@ourco.example"], pw, ca,
		host, port, c.users["bob@ourco.example"], ca, apiAddr)
	c.config = filepath.Join(dir, "mailtrail.yaml")
	os.WriteFile(c.config, []byte(cfg), 0o600)
	t.Setenv("CLI_TEST_MEILI_KEY", meiliKey)
	t.Setenv("CLI_TEST_BOB_PASSWORD", dc.Password)
	t.Setenv("CLI_TEST_TOKEN", c.token)
	return c
}

// run runs a subcommand and returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	cmd := exec.Command(c.bin, append([]string{"--config", c.config}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// mustRun2 is mustRun that returns stderr too.
func (c *cli) mustRun2(args ...string) (string, string) {
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("mailtrail %v: exit %d\n%s", args, code, errs)
	}
	return out, errs
}

func (c *cli) mustRun(args ...string) string {
	out, _ := c.mustRun2(args...)
	return out
}

func (c *cli) appendMail(rep, folder, raw string) {
	dc := testenv.Dovecot(c.t)
	ic, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(c.users[rep], dc.Password).Wait(); err != nil {
		c.t.Fatal(err)
	}
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	cmd := ic.Append(folder, int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		c.t.Fatal(err)
	}
}

// uidValidity is the UIDVALIDITY Dovecot gives a rep's folder.
func (c *cli) uidValidity(rep, folder string) int64 {
	c.t.Helper()
	out, err := testenv.Dovecot(c.t).Doveadm("mailbox", "status", "-u", c.users[rep], "uidvalidity", folder)
	if err != nil {
		c.t.Fatal(err)
	}
	var v int64 // doveadm says "FOLDER uidvalidity=N"
	_, after, _ := strings.Cut(string(out), "uidvalidity=")
	if _, err := fmt.Sscan(after, &v); err != nil || v == 0 {
		c.t.Fatalf("doveadm mailbox status %s: %q: %v", folder, out, err)
	}
	return v
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

const customersCSV = `name,domains,emails,grade,owner,phone,country
Acme Buyer GmbH,acme-buyer.de,,A,amy@ourco.example,+49 1,Germany
Broken Row Ltd,broken.example,,Z,amy@ourco.example,,UK
Pacifico SA,pacifico.mx,Compras@Pacifico.MX; pacifico.gdl@hotmail.com,B,bob@ourco.example,,Mexico
`

func TestCLIContract(t *testing.T) {
	addr := freePort(t)
	c := newCLI(t, addr)
	c.mustRun("migrate")
	c.mustRun("migrate") // twice is harmless

	csv := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(csv, []byte(customersCSV), 0o600)
	out, errs, code := c.run("customers", "import", csv)
	if code == 0 || !strings.Contains(errs, "line 3: grade") || !strings.Contains(out, "created 2") {
		t.Fatalf("import with a bad row: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	out, _, _ = c.run("customers", "import", csv)
	if !strings.Contains(out, "created 0, updated 0, unchanged 2") {
		t.Errorf("re-import changed something: %q", out)
	}

	subj, _ := simplifiedchinese.GBK.NewEncoder().String("询价：LED面板灯")
	body, _ := simplifiedchinese.GBK.NewEncoder().String("您好，请报价LED面板灯两千件，谢谢。")
	c.appendMail("amy@ourco.example", "INBOX", "From: Li Wei <li.wei@acme-buyer.de>\nTo: amy@ourco.example\nSubject: =?GBK?B?"+
		base64.StdEncoding.EncodeToString([]byte(subj))+"?=\nDate: Tue, 3 Mar 2026 09:00:00 +0800\nMessage-ID: <gbk-1@acme-buyer.de>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: base64\n\n"+
		base64.StdEncoding.EncodeToString([]byte(body))+"\n")
	// An internal note whose header has a line that is no field: stored,
	// flagged as unparseable, on no timeline.
	c.appendMail("amy@ourco.example", "INBOX", "From: Bob <bob@ourco.example>\nTo: amy@ourco.example\nSubject: Samples\nthis line is no header field\nDate: Tue, 3 Mar 2026 10:00:00 +0800\nMessage-ID: <note-1@ourco.example>\n\nThe samples left today.\n")
	c.appendMail("bob@ourco.example", "Sent", "From: Bob <bob@ourco.example>\nTo: compras@pacifico.mx\nSubject: Quotation LED high bay\nDate: Wed, 4 Mar 2026 09:00:00 +0800\nMessage-ID: <q-7@ourco.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nDear Juan,\nPlease find our quotation: LED high bay 150W USD 26.48/pc FOB Ningbo, 600 pcs = USD 15,888.00.\nBest regards, Bob\n")
	c.mustRun("sync", "--once")

	// export events: one JSON object per line, the documented fields.
	out = c.mustRun("export", "events")
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	if len(events) != 2 {
		t.Fatalf("exported %d events, want 2:\n%s", len(events), out)
	}
	for _, e := range events {
		for _, k := range []string{"event_id", "kind", "direction", "occurred_at", "rep", "message_id", "subject", "from", "to", "cc", "customer"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event lacks %q: %v", k, e)
			}
		}
		if _, err := time.Parse(time.RFC3339, e["occurred_at"].(string)); err != nil {
			t.Errorf("occurred_at not RFC 3339: %v", e["occurred_at"])
		}
		cust := e["customer"].(map[string]any)
		for _, k := range []string{"id", "name", "domains", "emails"} {
			if _, ok := cust[k]; !ok {
				t.Errorf("customer lacks %q: %v", k, cust)
			}
		}
	}
	byID := map[any]map[string]any{}
	for _, e := range events {
		byID[e["message_id"]] = e
	}
	first := byID["gbk-1@acme-buyer.de"]
	if first["kind"] != "inquiry" || first["direction"] != "in" || first["rep"] != "amy@ourco.example" ||
		first["message_id"] != "gbk-1@acme-buyer.de" || first["subject"] != "询价：LED面板灯" ||
		first["customer"].(map[string]any)["name"] != "Acme Buyer GmbH" {
		t.Errorf("first event = %v", first)
	}
	second := byID["q-7@ourco.example"]
	if second["kind"] != "quote" || second["direction"] != "out" || second["customer"].(map[string]any)["name"] != "Pacifico SA" {
		t.Errorf("second event = %v", second)
	}

	// status: per folder state and totals.
	var st struct {
		Folders []struct {
			Rep, Folder    string
			UIDValidity    int64 `json:"uidvalidity"`
			LastUID        int64 `json:"last_uid"`
			MessagesStored int64 `json:"messages_stored"`
		} `json:"folders"`
		Totals map[string]int64 `json:"totals"`
	}
	if err := json.Unmarshal([]byte(c.mustRun("status")), &st); err != nil {
		t.Fatal(err)
	}
	wantTotals := map[string]int64{"messages": 3, "messages_unparseable": 1, "messages_on_no_timeline": 1,
		"events": 2, "customers": 2, "search_outbox_backlog": 0, "verify_gaps": 0}
	if fmt.Sprint(st.Totals) != fmt.Sprint(wantTotals) {
		t.Errorf("status totals = %v\nwant            %v", st.Totals, wantTotals)
	}
	// Every folder but junk, trash and drafts: INBOX and both \Sent
	// folders (Sent, 已发送) of the test server, for each rep, each with
	// the UIDVALIDITY Dovecot gives it, its last UID and what it holds.
	var wantFolders []string
	for _, f := range []struct {
		rep, folder   string
		last, storedN int
	}{
		{"amy@ourco.example", "INBOX", 2, 2}, {"amy@ourco.example", "Sent", 0, 0}, {"amy@ourco.example", "已发送", 0, 0},
		{"bob@ourco.example", "INBOX", 0, 0}, {"bob@ourco.example", "Sent", 1, 1}, {"bob@ourco.example", "已发送", 0, 0},
	} {
		wantFolders = append(wantFolders, fmt.Sprintf("%s %s uidvalidity=%d last_uid=%d stored=%d",
			f.rep, f.folder, c.uidValidity(f.rep, f.folder), f.last, f.storedN))
	}
	var gotFolders []string
	for _, f := range st.Folders {
		gotFolders = append(gotFolders, fmt.Sprintf("%s %s uidvalidity=%d last_uid=%d stored=%d",
			f.Rep, f.Folder, f.UIDValidity, f.LastUID, f.MessagesStored))
	}
	if strings.Join(gotFolders, "\n") != strings.Join(wantFolders, "\n") {
		t.Errorf("status folders:\n%s\nwant\n%s", strings.Join(gotFolders, "\n"), strings.Join(wantFolders, "\n"))
	}

	// serve: the API answers with a token, refuses without, finds Chinese.
	srv := exec.Command(c.bin, "--config", c.config, "serve")
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	get := func(path, token string) (int, map[string]any) { return getJSON(addr, path, token) }
	waitServing(t, addr, &srvErr)
	if code, v := get("/api/v1/customers", ""); code != 401 || v["error"] == nil {
		t.Errorf("no token: %d %v", code, v)
	}
	if code, _ := get("/api/v1/customers", "wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	code, v := get("/api/v1/customers/1/timeline", c.token)
	if code != 200 || len(v["events"].([]any)) != 1 {
		t.Errorf("timeline: %d %v", code, v)
	}
	if code, _ := get("/api/v1/customers/999/timeline", c.token); code != 404 {
		t.Errorf("unknown customer: %d", code)
	}
	// Each search finds its one event: the GBK message (in its body, then
	// its subject), the quotation.
	for q, want := range map[string]map[string]any{"报价": first, "面板灯": first, "quotation high bay": second} {
		code, v = get("/api/v1/search?q="+url.QueryEscape(q), c.token)
		hits, _ := v["hits"].([]any)
		if code != 200 || v["total"] != float64(1) || len(hits) != 1 {
			t.Errorf("search %q: %d %v, want one hit", q, code, v)
			continue
		}
		hit := hits[0].(map[string]any)
		if hit["event_id"] != want["event_id"] || hit["subject"] != want["subject"] ||
			!strings.Contains(fmt.Sprint(hit["snippet"]), "<mark>") {
			t.Errorf("search %q: hit %v, want event %v (%v) with the match marked", q, hit, want["event_id"], want["subject"])
		}
	}
	srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, srvErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("serve did not stop on SIGTERM")
	}
}

func TestCLISyncNamesFailedMailbox(t *testing.T) {
	c := newCLI(t, freePort(t))
	t.Setenv("CLI_TEST_BOB_PASSWORD", "wrong-password")
	_, errs, code := c.run("sync", "--once")
	_, failure, _ := strings.Cut(errs, "mailtrail sync: ")
	if code == 0 || !strings.Contains(failure, "mailbox bob@ourco.example: IMAP login refused") || strings.Contains(failure, "amy@ourco.example") {
		t.Errorf("exit %d, stderr %q: want non-zero naming only bob's mailbox", code, errs)
	}
	if strings.Contains(errs, "wrong-password") {
		t.Errorf("stderr shows the password: %q", errs)
	}

	// mailboxes: bob is parked, in words; retry unparks him.
	state := func() map[string]map[string]any {
		var out struct{ Mailboxes []map[string]any }
		if err := json.Unmarshal([]byte(c.mustRun("mailboxes")), &out); err != nil {
			t.Fatal(err)
		}
		m := map[string]map[string]any{}
		for _, mb := range out.Mailboxes {
			m[mb["rep"].(string)] = mb
		}
		return m
	}
	bob := state()["bob@ourco.example"]
	if bob["state"] != "parked" || !strings.Contains(fmt.Sprint(bob["advice"]), "IMAP login refused") {
		t.Errorf("mailboxes: bob = %v, want parked with advice", bob)
	}
	if amy := state()["amy@ourco.example"]; amy["state"] != "ok" || amy["messages_stored"] != float64(0) {
		t.Errorf("mailboxes: amy = %v", amy)
	}
	if _, errs, code := c.run("mailboxes", "retry", "nobody@ourco.example"); code == 0 || !strings.Contains(errs, "no rep nobody@ourco.example") {
		t.Errorf("retry of an unknown rep: exit %d, stderr %q", code, errs)
	}
	c.mustRun("mailboxes", "retry", "bob@ourco.example")
	if bob := state()["bob@ourco.example"]; bob["state"] == "parked" {
		t.Errorf("after retry: bob = %v", bob)
	}
}

func TestCLIBadConfigNamesKey(t *testing.T) {
	c := newCLI(t, freePort(t))
	b, _ := os.ReadFile(c.config)
	os.WriteFile(c.config, append(b, []byte("sync: {intervall: 5s}\n")...), 0o600)
	_, errs, code := c.run("status")
	if code == 0 || !strings.Contains(errs, "intervall") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// A daemon on PostgreSQL's own host can reach it through the Unix socket
// (a URL with host=DIR, here from MAILTRAIL_DATABASE_URL over the config's
// TCP URL): nothing in mailtrail assumes TCP.
func TestCLIDatabaseUnixSocket(t *testing.T) {
	c := newCLI(t, freePort(t))
	socketURL := testenv.SocketURL(t, c.db)
	t.Setenv("MAILTRAIL_DATABASE_URL", socketURL)
	c.mustRun("migrate")
	conn, err := pgx.Connect(context.Background(), c.db) // over TCP
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename IN ('messages', 'events')`).Scan(&tables); err != nil || tables != 2 {
		t.Fatalf("schema applied through the socket, seen over TCP: %d tables, %v", tables, err)
	}
	u, _ := url.Parse(socketURL)
	q := u.Query()
	q.Set("host", filepath.Join(t.TempDir(), "no-server-here"))
	u.RawQuery = q.Encode()
	t.Setenv("MAILTRAIL_DATABASE_URL", u.String())
	if _, errs, code := c.run("status"); code == 0 {
		t.Errorf("status through a socket directory with no server: exit 0, stderr %q", errs)
	}
}

// getJSON GETs path from the API at addr with a bearer token (none when
// ""), and returns the status and the decoded JSON object.
func getJSON(addr, path, token string) (int, map[string]any) {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

// waitServing waits up to 30 s for `serve` at addr to answer /healthz.
func waitServing(t *testing.T, addr string, srvErr fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := getJSON(addr, "/healthz", ""); code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %s", srvErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
