package services

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgUser is the cluster's superuser, created by initdb; loopback
// connections are trusted, so URLs carry no password.
const pgUser = "mailtrail"

// Postgres is a running PostgreSQL cluster on 127.0.0.1.
type Postgres struct {
	Dir  string // service directory: cluster in Dir/data, log in Dir/postgres.log
	Port int
	URL  string // the "mailtrail" database, e.g. postgres://mailtrail@127.0.0.1:PORT/mailtrail?sslmode=disable
	// Socket is the directory of the cluster's Unix socket, or "" for
	// none (see SocketSetting).
	Socket string

	proc *proc
}

// StartPostgres runs a PostgreSQL cluster with its files under dir, running
// initdb first unless dir/data already holds a cluster (PG_VERSION), and
// creates the database "mailtrail" if it is missing. It uses the newest
// /usr/lib/postgresql/*/bin. As root the server runs as an unprivileged
// user (see serverAccount) that is given ownership of dir.
//
// settings are extra "name=value" server settings, e.g. "fsync=off" for
// throw-away test clusters. ctx bounds start-up only; the server runs until
// Stop.
func StartPostgres(ctx context.Context, dir string, log *slog.Logger, settings ...string) (*Postgres, error) {
	log = discardIfNil(log)
	begin := time.Now()
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if dir, err = relocate(dir, acct); err != nil {
		return nil, fmt.Errorf("postgres dir: %w", err)
	}
	if err := handOver(dir, acct); err != nil {
		return nil, fmt.Errorf("postgres dir: %w", err)
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); os.IsNotExist(err) {
		if err := initdb(bin, dir, data, acct); err != nil {
			return nil, err
		}
	}

	var lastErr error
	for range 3 { // a free port can be taken before postgres binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := startPostgresOn(ctx, bin, dir, data, port, acct, settings)
		if err == nil {
			log.Info("postgres started", "dir", dir, "port", port, "took", time.Since(begin).Round(time.Millisecond))
			return p, nil
		}
		if lastErr = err; !portInUse(err) {
			break
		}
	}
	return nil, lastErr
}

func startPostgresOn(ctx context.Context, bin, dir, data string, port int, acct account, settings []string) (*Postgres, error) {
	args := []string{"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", // TCP only unless asked: see SocketSetting
		"-c", "logging_collector=off",
	}
	socket := ""
	for _, s := range settings {
		args = append(args, "-c", s)
		if dir, ok := strings.CutPrefix(s, "unix_socket_directories="); ok {
			socket = dir
		}
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = dir
	pr, err := startProc("postgres", cmd, filepath.Join(dir, "postgres.log"), acct.credential())
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, Port: port, Socket: socket, proc: pr}
	p.URL = p.DatabaseURL("mailtrail")
	err = pr.waitReady(ctx, func(ctx context.Context) error {
		return ensureDatabase(ctx, p.DatabaseURL("postgres"), "mailtrail")
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DatabaseURL returns the URL of database name on this cluster.
func (p *Postgres) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pgUser, p.Port, name)
}

// SocketSetting is the server setting that has a cluster in dir listen on
// a Unix socket in dir as well, or "" when the socket's path would not fit
// (sun_path is 108 bytes). A client on the same host that sends much (the
// raw messages of a sync) spends less CPU on a socket than on TCP. Not
// every file system holds sockets, so a cluster has none unless asked.
func SocketSetting(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil || len(dir)+len("/.s.PGSQL.65535.lock") >= 108 {
		return ""
	}
	return "unix_socket_directories=" + dir
}

// SocketURL returns the URL of database name through the cluster's Unix
// socket, or "" when it has none (see SocketSetting).
func (p *Postgres) SocketURL(name string) string {
	if p.Socket == "" {
		return ""
	}
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", pgUser, name, url.QueryEscape(p.Socket), p.Port)
}

// Stop shuts the server down with a fast shutdown (SIGINT: roll back open
// transactions, checkpoint) and waits for it. The data stay in Dir.
func (p *Postgres) Stop() error {
	return p.proc.terminate(syscall.SIGINT, 30*time.Second, false)
}

// ensureDatabase connects to adminURL and creates db if it does not exist.
// It doubles as the readiness probe: it fails until the server accepts
// connections.
func ensureDatabase(ctx context.Context, adminURL, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

func initdb(bin, dir, data string, acct account) error {
	logPath := filepath.Join(dir, "initdb.log")
	// C.UTF-8 rather than C: lower()/upper() and regexes then handle
	// non-ASCII text (names, Chinese folders) the way production does.
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", pgUser, "-A", "trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions")
	cmd.Dir = dir
	if acct.credential() != nil {
		cmd.Env = append(os.Environ(), "HOME="+dir) // root's HOME is unreadable to the server user
	}
	pr, err := startProc("initdb", cmd, logPath, acct.credential())
	if err != nil {
		return err
	}
	<-pr.done
	if pr.err != nil {
		return fmt.Errorf("initdb %s: %v%s", data, pr.err, pr.logTail())
	}
	return nil
}

// postgresBinDir returns the bin directory of the newest installed major.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", fmt.Errorf("postgresql: %w (no /usr/lib/postgresql/*/bin/initdb)", ErrNotInstalled)
	}
	major := func(d string) float64 {
		v, _ := strconv.ParseFloat(strings.Split(d, "/")[4], 64) // "15", "9.6"
		return v
	}
	sort.Slice(found, func(i, j int) bool { return major(found[i]) < major(found[j]) })
	return found[len(found)-1], nil
}
