// Package testenv gives integration tests real PostgreSQL, Meilisearch and
// Dovecot servers. Each server is started once per test binary, on first
// use, and stopped by Main; tests are isolated from each other by a fresh
// database, their own index names and their own IMAP users.
//
// A package's tests opt in with
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// A missing server binary fails the test (it does not skip), with a pointer
// to scripts/install-deps.sh: a suite that silently skips proves nothing.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail/migrations"

	"github.com/mailtrail/mailtrail/internal/services"
)

// Package state is unavoidable here: the servers are shared by every test
// in the binary and outlive any one of them. Main owns their shutdown.
var (
	mainRunning atomic.Bool

	mu       sync.Mutex
	stoppers []func() error
	baseDir  string

	postgres = lazily("postgres", func(ctx context.Context, dir string) (*services.Postgres, error) {
		// Durability is pointless for a throw-away cluster and costs seconds;
		// minimal WAL also makes CREATE DATABASE faster.
		settings := []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off",
			"wal_level=minimal", "max_wal_senders=0", "max_connections=200"}
		if s := services.SocketSetting(dir); s != "" {
			settings = append(settings, s) // for SocketURL
		}
		return services.StartPostgres(ctx, dir, logger(), settings...)
	}, (*services.Postgres).Stop)
	meili = lazily("meili", func(ctx context.Context, dir string) (*services.Meili, error) {
		return services.StartMeili(ctx, dir, logger())
	}, (*services.Meili).Stop)
	dovecot = lazily("dovecot", func(ctx context.Context, dir string) (*services.Dovecot, error) {
		return services.StartDovecot(ctx, dir, logger())
	}, (*services.Dovecot).Stop)
)

// Main runs the tests, then stops the servers they started and removes
// their data. Call it from TestMain.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	mu.Lock()
	for i := len(stoppers) - 1; i >= 0; i-- {
		if err := stoppers[i](); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stop:", err)
		}
	}
	if baseDir != "" {
		os.RemoveAll(baseDir)
	}
	mu.Unlock()
	os.Exit(code)
}

// Postgres returns the URL of a new, empty database on the shared cluster.
// The database is dropped (WITH FORCE, closing connections the test left
// open) when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "template1")
}

// MigratedPostgres is Postgres with mailtrail's schema applied: a copy of
// a template database migrated once per test process, instead of running
// every migration again for each test.
func MigratedPostgres(t testing.TB) string {
	t.Helper()
	pg := postgres.get(t)
	migrated.once.Do(func() {
		name := "mailtrail_migrated_" + randomHex(4)
		if migrated.err = pgExec(pg.URL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" STRATEGY FILE_COPY"); migrated.err != nil {
			return
		}
		if _, _, migrated.err = migrations.Apply(context.Background(), pg.DatabaseURL(name)); migrated.err == nil {
			migrated.name = name
		}
	})
	if migrated.err != nil {
		t.Fatalf("testenv: migrated template database: %v", migrated.err)
	}
	return newDatabase(t, migrated.name)
}

// migrated is the template database of MigratedPostgres.
var migrated struct {
	once sync.Once
	name string
	err  error
}

// newDatabase creates a database copied from template, dropped when the
// test ends.
func newDatabase(t testing.TB, template string) string {
	t.Helper()
	pg := postgres.get(t)
	name := "t_" + strings.ReplaceAll(slug(t, 30), "-", "_") + "_" + randomHex(4)
	// FILE_COPY (PostgreSQL 15+) copies the template's files: measured
	// 20-100 ms against 60-300 ms for the default WAL_LOG on a loaded
	// 2-core machine.
	if err := pgExec(pg.URL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize()+" STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, pg, name) })
	return pg.DatabaseURL(name)
}

// DropDatabase drops a database of MigratedPostgres or Postgres before
// the test ends, and checkpoints, so that what comes next neither shares
// the server with its autovacuum nor writes its dirty pages (a benchmark
// of gigabytes that runs twice).
func DropDatabase(t testing.TB, dbURL string) {
	t.Helper()
	pg := postgres.get(t)
	dropDatabase(t, pg, databaseName(t, dbURL))
	if err := pgExec(pg.URL, "CHECKPOINT"); err != nil {
		t.Errorf("testenv: checkpoint: %v", err)
	}
}

// SocketURL returns the URL of a database of MigratedPostgres or Postgres
// through the cluster's Unix socket; the test fails when the cluster has
// none (its directory's path is too long for one: services.SocketSetting).
func SocketURL(t testing.TB, dbURL string) string {
	t.Helper()
	pg := postgres.get(t)
	s := pg.SocketURL(databaseName(t, dbURL))
	if s == "" {
		t.Fatalf("testenv: the cluster in %s has no Unix socket: its path is too long", pg.Dir)
	}
	return s
}

// databaseName is the name of the database of a URL that Postgres or
// MigratedPostgres returned.
func databaseName(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("testenv: database URL: %v", err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func dropDatabase(t testing.TB, pg *services.Postgres, name string) {
	if err := pgExec(pg.URL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("testenv: drop database %s: %v", name, err)
	}
}

// pgExec runs one statement on its own connection: CREATE and DROP
// DATABASE cannot run inside a transaction or a pool's session state.
func pgExec(url, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Meili returns the shared Meilisearch server's URL and master key. Tests
// must keep to their own indexes: see IndexName.
func Meili(t testing.TB) (url, key string) {
	t.Helper()
	m := meili.get(t)
	return m.URL, m.MasterKey
}

// IndexName returns an index uid unique to this test run. If the shared
// Meilisearch server is running when the test ends, the index is deleted
// (asynchronously, as Meilisearch does every write).
func IndexName(t testing.TB) string {
	t.Helper()
	uid := "t_" + strings.ReplaceAll(slug(t, 40), "-", "_") + "_" + randomHex(4)
	t.Cleanup(func() {
		m, ok := meili.running()
		if !ok {
			return
		}
		req, _ := http.NewRequest(http.MethodDelete, m.URL+"/indexes/"+uid, nil)
		req.Header.Set("Authorization", "Bearer "+m.MasterKey)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return uid
}

// Dovecot returns the shared Dovecot server. Any username logs in with its
// Password; use User for a mailbox no other test touches.
func Dovecot(t testing.TB) *services.Dovecot {
	t.Helper()
	return dovecot.get(t)
}

// User returns a username (lower-case letters, digits, '-') unique to this
// test run, whose mailbox starts with only the configured empty folders.
func User(t testing.TB) string {
	t.Helper()
	return slug(t, 40) + "-" + randomHex(4)
}

// service starts a server at most once and remembers the outcome, so a
// server that failed to start fails every test that needs it, quickly.
type service[S any] struct {
	name  string
	start func(context.Context, string) (S, error)
	stop  func(S) error

	once sync.Once
	srv  S
	err  error
	up   atomic.Bool
}

func lazily[S any](name string, start func(context.Context, string) (S, error), stop func(S) error) *service[S] {
	return &service[S]{name: name, start: start, stop: stop}
}

// get returns the running server, starting it on first use.
func (s *service[S]) get(t testing.TB) S {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatalf("testenv: add `func TestMain(m *testing.M) { testenv.Main(m) }` to this package so the %s server gets stopped", s.name)
	}
	s.once.Do(func() {
		dir, err := dataDir(s.name)
		if err != nil {
			s.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if s.srv, s.err = s.start(ctx, dir); s.err == nil {
			s.up.Store(true)
			mu.Lock()
			stoppers = append(stoppers, func() error { return s.stop(s.srv) })
			mu.Unlock()
		}
	})
	if s.err != nil {
		t.Fatalf("testenv: %s: %v\n(the servers come from scripts/install-deps.sh: run it if they are missing)", s.name, s.err)
	}
	return s.srv
}

// running returns the server if it has been started.
func (s *service[S]) running() (S, bool) {
	if !s.up.Load() {
		var zero S
		return zero, false
	}
	return s.srv, true
}

// dataDir returns a fresh directory for one server under a per-binary
// temporary directory. Mode 0755, unlike t.TempDir's 0700: as root the
// servers run as an unprivileged user that must reach it.
func dataDir(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if baseDir == "" {
		sweepStale()
		d, err := os.MkdirTemp("", fmt.Sprintf("mailtrail-testenv-%d-", os.Getpid()))
		if err != nil {
			return "", err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
		baseDir = d
	}
	return filepath.Join(baseDir, name), nil
}

// sweepStale removes the directories of test binaries that were killed
// before Main could clean up (their servers died with them, by Pdeathsig).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "mailtrail-testenv-*-*"))
	for _, d := range dirs {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "mailtrail-testenv-%d-", &pid); err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns the test's name into at most n characters of [a-z0-9-], so
// names of databases, indexes and users say which test made them.
func slug(t testing.TB, n int) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(s) > n {
		s = strings.TrimRight(s[:n], "-")
	}
	if s == "" {
		s = "test"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
