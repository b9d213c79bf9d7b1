package services

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"
)

// These tests cover what the demo relies on: a second start on the same
// directory finds the first one's data. Per-test isolation and the IMAP
// details are tested in internal/testenv.

// serviceDir is t.TempDir with o+x: as root the servers run as another user.
func serviceDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "mailtrail-services-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestPostgresRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx, dir := context.Background(), serviceDir(t)
	run := func(setup, query string) (got string) {
		t.Helper()
		p, err := StartPostgres(ctx, dir, nil, "fsync=off")
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := p.Stop(); err != nil {
				t.Error(err)
			}
		}()
		conn, err := pgx.Connect(ctx, p.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, setup); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	run(`CREATE TABLE kept (v text); INSERT INTO kept VALUES ('Ärger 已发送')`, `SELECT v FROM kept`)
	if got := run(``, `SELECT lower(v) FROM kept`); got != "ärger 已发送" {
		t.Fatalf("after restart: %q (lower() must be Unicode-aware, so C.UTF-8)", got)
	}
	// A server that cannot start reports why, from its own log.
	_, err := StartPostgres(ctx, dir, nil, "no_such_setting=1")
	if err == nil || !strings.Contains(err.Error(), `unrecognized configuration parameter "no_such_setting"`) {
		t.Fatalf("start with a bad setting: %v, want postgres' own complaint", err)
	}
}

func TestMeiliRestartKeepsKeyAndIndex(t *testing.T) {
	t.Parallel()
	ctx, dir := context.Background(), serviceDir(t)
	m, err := StartMeili(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", m.URL+"/indexes", strings.NewReader(`{"uid":"kept"}`))
	req.Header.Set("Authorization", "Bearer "+m.MasterKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create index: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}

	m2, err := StartMeili(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Stop()
	if m2.MasterKey != m.MasterKey {
		t.Fatal("master key changed across restarts")
	}
	// Index creation is a queued task: it may have been persisted as
	// enqueued and finish after the restart, so poll briefly.
	if err := m2.proc.waitReady(ctx, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", m2.URL+"/indexes/kept", nil)
		req.Header.Set("Authorization", "Bearer "+m2.MasterKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}); err != nil {
		t.Fatalf("index after restart: %v", err)
	}
}

func TestDovecotRestartKeepsMailAndPassword(t *testing.T) {
	t.Parallel()
	ctx, dir := context.Background(), serviceDir(t)
	d, err := StartDovecot(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Doveadm("mailbox", "create", "-u", "alice", "Customers/ACME"); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}

	d2, err := StartDovecot(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Stop()
	if d2.Password != d.Password || string(d2.CertPEM) != string(d.CertPEM) {
		t.Fatal("password or certificate changed across restarts")
	}
	c, err := imapclient.DialTLS(d2.TLSAddr, &imapclient.Options{TLSConfig: d2.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", d2.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status("Customers/ACME", &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
		t.Fatalf("folder made before restart: %v", err)
	}
	// A failed doveadm names the Dovecot version: its commands and
	// messages differ between 2.3 and 2.4.
	_, err = d2.Doveadm("mailbox", "status", "-u", "alice", "messages", "No/Such/Folder")
	if err == nil || d2.Version == "" || !strings.Contains(err.Error(), "(dovecot "+d2.Version+")") {
		t.Fatalf("doveadm on a missing folder: %v, want an error naming dovecot %q", err, d2.Version)
	}
}

func TestMissingBinaryIsNotInstalled(t *testing.T) {
	t.Setenv("MAILTRAIL_MEILI_BIN", "/nonexistent/meilisearch")
	_, err := StartMeili(context.Background(), t.TempDir(), nil)
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "install-deps.sh") {
		t.Fatalf("err = %v, want ErrNotInstalled naming install-deps.sh", err)
	}
}

func TestHandOverRejectsUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands directories to another user")
	}
	a, err := serverAccount()
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is 0700 root: the server user could not get in.
	err = handOver(t.TempDir()+"/pg", a)
	if err == nil || !strings.Contains(err.Error(), "not searchable by user "+a.Name) {
		t.Fatalf("handOver under a 0700 parent: %v", err)
	}
}

// As root, a cluster asked for under a 0700 directory (a clone in /root)
// lives under /var/lib/mailtrail, linked from where it was asked for, and
// is found there again on the next start.
func TestPostgresUnderUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands directories to another user")
	}
	relocatedRoot = t.TempDir() // 0700 itself: relocation must say so
	home := t.TempDir()
	if _, err := StartPostgres(context.Background(), filepath.Join(home, "pg"), nil); err == nil ||
		!strings.Contains(err.Error(), "not searchable") {
		t.Fatalf("relocation under an unreachable root: %v", err)
	}
	os.Remove(filepath.Join(home, "pg"))
	relocatedRoot = filepath.Join("/var/lib/mailtrail-test", filepath.Base(home))
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(relocatedRoot)); relocatedRoot = "/var/lib/mailtrail" })
	for run := range 2 {
		pg, err := StartPostgres(context.Background(), filepath.Join(home, "pg"), nil)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		target, err := os.Readlink(filepath.Join(home, "pg"))
		if err != nil || !strings.HasPrefix(target, relocatedRoot+"/") || pg.Dir != target {
			t.Errorf("run %d: link %q (%v), cluster in %q", run, target, err, pg.Dir)
		}
		if _, err := os.Stat(filepath.Join(target, "data", "PG_VERSION")); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
		if err := pg.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// A cluster gets a Unix socket only where its path fits in sun_path.
func TestSocketSetting(t *testing.T) {
	if s := SocketSetting("/tmp/mt/postgres"); s != "unix_socket_directories=/tmp/mt/postgres" {
		t.Errorf("short dir: %q", s)
	}
	if s := SocketSetting("/" + strings.Repeat("d", 90)); s != "" {
		t.Errorf("a socket path over 107 bytes: %q", s)
	}
}
