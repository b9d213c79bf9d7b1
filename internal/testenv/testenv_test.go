package testenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// connect opens a connection to url, closed when the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestPostgresDatabasePerTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := connect(t, testenv.Postgres(t))
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE contact (email text PRIMARY KEY); INSERT INTO contact VALUES ('李@例子.cn')`); err != nil {
		t.Fatal(err)
	}
	// A second database is empty: tests cannot see each other's tables.
	other := connect(t, testenv.Postgres(t))
	var n int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'contact'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("contact tables in a fresh database: %d, %v", n, err)
	}
}

// The same database is reached through the Unix socket, over no TCP
// connection (inet_client_addr is NULL only there).
func TestPostgresUnixSocket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Postgres(t)
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, `CREATE TABLE seen (x int); INSERT INTO seen VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	socketURL := testenv.SocketURL(t, url)
	if !strings.Contains(socketURL, "host=%2F") {
		t.Fatalf("socket URL %q names no socket directory", socketURL)
	}
	local := connect(t, socketURL)
	var x int
	var tcp bool
	if err := local.QueryRow(ctx, `SELECT x, inet_client_addr() IS NOT NULL FROM seen`).Scan(&x, &tcp); err != nil || x != 7 || tcp {
		t.Fatalf("through the socket: x=%d over TCP=%v, %v", x, tcp, err)
	}
}

func TestMeiliIndexAndSearch(t *testing.T) {
	t.Parallel()
	url, key := testenv.Meili(t)
	index := testenv.IndexName(t)
	call := func(method, path string, body any, out any) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url+path, r)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	// 202 only means enqueued: wait for each task and check it succeeded.
	wait := func(task struct{ TaskUID int }) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var st struct {
				Status string
				Error  any
			}
			call("GET", fmt.Sprintf("/tasks/%d", task.TaskUID), nil, &st)
			switch st.Status {
			case "succeeded":
				return
			case "failed", "canceled":
				t.Fatalf("task %d %s: %v", task.TaskUID, st.Status, st.Error)
			}
		}
		t.Fatalf("task %d did not finish", task.TaskUID)
	}
	var task struct{ TaskUID int }
	call("POST", "/indexes", map[string]string{"uid": index, "primaryKey": "id"}, &task)
	wait(task)
	call("POST", "/indexes/"+index+"/documents", []map[string]string{
		{"id": "m1", "subject": "报价单 for Q3", "from": "wang@example.cn"},
		{"id": "m2", "subject": "lunch", "from": "bob@example.com"},
	}, &task)
	wait(task)
	var res struct{ Hits []struct{ ID string } }
	call("POST", "/indexes/"+index+"/search", map[string]string{"q": "报价"}, &res)
	if len(res.Hits) != 1 || res.Hits[0].ID != "m1" {
		t.Fatalf("search 报价: %+v, want only m1", res.Hits)
	}
}

func TestDovecotFoldersAppendAndUIDValidity(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	user := testenv.User(t)
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, d.Password).Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}

	boxes, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string][]imap.MailboxAttr{}
	for _, b := range boxes {
		attrs[b.Mailbox] = b.Attrs
	}
	for _, want := range []struct {
		name string
		attr imap.MailboxAttr
	}{{"Sent", imap.MailboxAttrSent}, {"已发送", imap.MailboxAttrSent}, {"Drafts", imap.MailboxAttrDrafts}, {"Junk", imap.MailboxAttrJunk}, {"Trash", imap.MailboxAttrTrash}} {
		if !slices.Contains(attrs[want.name], want.attr) {
			t.Errorf("LIST: %q has %v, want %s (all: %v)", want.name, attrs[want.name], want.attr, attrs)
		}
	}

	msg := "From: rep@example.com\r\nTo: buyer@example.cn\r\nSubject: quote\r\nMessage-ID: <q1@example.com>\r\n\r\nHello\r\n"
	app := c.Append("Sent", int64(len(msg)), nil)
	if _, err := io.WriteString(app, msg); err != nil {
		t.Fatal(err)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	status := func() *imap.StatusData {
		t.Helper()
		st, err := c.Status("Sent", &imap.StatusOptions{NumMessages: true, UIDValidity: true}).Wait()
		if err != nil {
			t.Fatalf("STATUS Sent: %v", err)
		}
		return st
	}
	before := status()
	if *before.NumMessages != 1 {
		t.Fatalf("Sent holds %d messages after APPEND, want 1", *before.NumMessages)
	}
	newValidity := before.UIDValidity + 1000
	if out, err := d.Doveadm("mailbox", "update", "--uid-validity", fmt.Sprint(newValidity), "-u", user, "Sent"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if after := status(); after.UIDValidity != newValidity {
		t.Fatalf("UIDVALIDITY after doveadm update = %d, want %d (was %d)", after.UIDValidity, newValidity, before.UIDValidity)
	}
}

func TestDovecotImplicitTLS(t *testing.T) {
	t.Parallel()
	d := testenv.Dovecot(t)
	c, err := imapclient.DialTLS(d.TLSAddr, &imapclient.Options{TLSConfig: d.TLSConfig()})
	if err != nil {
		t.Fatalf("TLS dial with the exposed certificate: %v", err)
	}
	defer c.Close()
	if err := c.Login(testenv.User(t), d.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	// The system roots must not trust it: the test above proves the
	// exposed certificate is what made the handshake succeed.
	if bad, err := imapclient.DialTLS(d.TLSAddr, nil); err == nil {
		bad.Close()
		t.Fatal("TLS dial without the certificate succeeded")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("TLS dial without the certificate: %v, want a certificate error", err)
	}
}
