package services

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dovecot is a running Dovecot IMAP server on 127.0.0.1 that accepts any
// username with one shared password and keeps each user's mail in a
// Maildir under Dir/mail. Every user sees the special-use folders Sent and
// 已发送 (both \Sent, RFC 6154), Drafts, Junk and Trash.
type Dovecot struct {
	Dir      string // service directory: config, logs, sockets, mail
	Addr     string // plaintext IMAP (STARTTLS offered), host:port
	TLSAddr  string // implicit-TLS IMAP (RFC 8314), host:port
	Password string // for every user; kept in Dir/password across runs
	CertPEM  []byte // self-signed certificate served on both ports
	CertFile string // CertPEM's file, for a client's CA file
	Version  string // `dovecot --version`, e.g. "2.3.19.1 (9b53102964)"

	conf   string
	syntax confSyntax
	proc   *proc
}

// StartDovecot runs Dovecot with its configuration and data under dir,
// reusing mail and certificate from an earlier run, and waits for the IMAP
// greeting. As root, mail is owned by an unprivileged user (see
// serverAccount) and Dovecot's internal processes run as the Debian
// package's dovecot/dovenull users. The configuration is written in the
// syntax of the installed version (see syntaxOf): Debian 12 ships 2.3,
// Debian 13 ships 2.4, which refuses 2.3 configurations. A failed start
// reports the version and the end of Dovecot's log. ctx bounds start-up
// only.
func StartDovecot(ctx context.Context, dir string, log *slog.Logger) (*Dovecot, error) {
	return startDovecot(ctx, dir, log, "")
}

// startDovecot is StartDovecot; a non-empty syntax overrides the one the
// installed version calls for (a test starts Dovecot with the wrong one).
func startDovecot(ctx context.Context, dir string, log *slog.Logger, syntax confSyntax) (*Dovecot, error) {
	log = discardIfNil(log)
	begin := time.Now()
	bin, err := findBinary("dovecot", "/usr/sbin/dovecot")
	if err != nil {
		return nil, err
	}
	if _, err := findBinary("doveadm", "/usr/bin/doveadm"); err != nil {
		return nil, err
	}
	version, err := dovecotVersion(bin)
	if err != nil {
		return nil, err
	}
	if syntax == "" {
		if syntax, err = syntaxOf(version); err != nil {
			return nil, err
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	// The path goes into dovecot.conf unquoted, and Dovecot's unix sockets
	// live under it (sun_path holds 108 bytes).
	if strings.ContainsAny(dir, " \t\n\"'#{}$%<") || len(dir) > 70 {
		return nil, fmt.Errorf("dovecot dir %q: use a path of at most 70 characters without spaces or config metacharacters", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if err := handOver(filepath.Join(dir, "mail"), acct); err != nil {
		return nil, fmt.Errorf("dovecot mail dir: %w", err)
	}
	pass, err := readOrCreate(filepath.Join(dir, "password"), 12)
	if err != nil {
		return nil, err
	}
	cert, err := loopbackCert(filepath.Join(dir, "tls"))
	if err != nil {
		return nil, fmt.Errorf("dovecot certificate: %w", err)
	}
	var lastErr error
	for range 3 { // a free port can be taken before dovecot binds it
		d := &Dovecot{Dir: dir, Password: pass, CertPEM: cert, CertFile: filepath.Join(dir, "tls", "cert.pem"),
			Version: version, conf: filepath.Join(dir, "dovecot.conf"), syntax: syntax}
		if err := d.writeConfig(acct); err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "-F", "-c", d.conf)
		cmd.Dir = dir
		if d.proc, err = startProc("dovecot", cmd, filepath.Join(dir, "dovecot.log"), nil); err != nil {
			return nil, err
		}
		if lastErr = d.proc.waitReady(ctx, d.ready); lastErr == nil {
			log.Info("dovecot started", "dir", dir, "addr", d.Addr, "tls_addr", d.TLSAddr, "took", time.Since(begin).Round(time.Millisecond))
			return d, nil
		}
		d.proc.kill()
		if !portInUse(lastErr) {
			break
		}
	}
	return nil, fmt.Errorf("dovecot %s with a %s-syntax %s: %w", version, syntax, filepath.Join(dir, "dovecot.conf"), lastErr)
}

// Stop sends SIGTERM to the master and all its children at once and waits
// for the master, which reaps the children before it exits. (Signalled
// alone, the master takes 1 to 6 s to wind its children down.) Mail stays
// in Dir/mail.
func (d *Dovecot) Stop() error {
	return d.proc.terminate(syscall.SIGTERM, 15*time.Second, true)
}

// Doveadm runs doveadm against this instance's configuration and returns
// its standard output, e.g. Doveadm("mailbox", "update", "--uid-validity",
// "7", "-u", "alice", "Sent").
func (d *Dovecot) Doveadm(args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("/usr/bin/doveadm", append([]string{"-c", d.conf}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("doveadm %s (dovecot %s): %v: %s", strings.Join(args, " "), d.Version, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Maildir returns the root of user's Maildir (fs layout: folder F is in
// Maildir/F, INBOX is the root itself), for tests that drop raw files in.
// Files written there must be readable by the server's mail user.
func (d *Dovecot) Maildir(user string) string {
	return filepath.Join(d.Dir, "mail", user, "Maildir")
}

// TLSConfig returns a client configuration that trusts CertPEM and
// verifies it for 127.0.0.1.
func (d *Dovecot) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(d.CertPEM)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// ready succeeds once the plaintext port greets (RFC 9051 7.1.1) and the
// TLS port accepts connections.
func (d *Dovecot) ready(ctx context.Context) error {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	t, err := dialer.DialContext(ctx, "tcp", d.TLSAddr)
	if err != nil {
		return err
	}
	return t.Close()
}

func (d *Dovecot) writeConfig(acct account) error {
	plain, err := freePort()
	if err != nil {
		return err
	}
	implicit, err := freePort()
	if err != nil {
		return err
	}
	d.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(plain))
	d.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(implicit))

	v := dovecotVars{Dir: d.Dir, Password: d.Password, PlainPort: plain, TLSPort: implicit}
	if os.Geteuid() == 0 {
		v.MailUID, v.MailGID = strconv.Itoa(acct.UID), strconv.Itoa(acct.GID)
		v.Internal, v.Login = firstAccount("dovecot", acct), firstAccount("dovenull", acct)
	} else {
		// Unprivileged Dovecot cannot switch users: every process runs as us.
		v.Internal, v.Login = acct, acct
	}
	b, err := renderConf(d.syntax, v)
	if err != nil {
		return err
	}
	return os.WriteFile(d.conf, b, 0o600) // holds the password
}

// firstAccount returns the system user name if it exists, else fallback.
func firstAccount(name string, fallback account) account {
	if a, err := lookupAccount(name); err == nil {
		return a
	}
	return fallback
}

type dovecotVars struct {
	Dir, Password      string
	PlainPort, TLSPort int
	MailUID, MailGID   string // empty when not root
	Internal, Login    account
}

// dovecotConf is a complete configuration: nothing is read from /etc, so
// the system's Dovecot (if any) neither interferes nor is needed.
var dovecotConf = confTemplate(`# Written by mailtrail internal/services on every start; edits are lost.
{{template "server" .}}
ssl_cert = <{{.Dir}}/tls/cert.pem
ssl_key = <{{.Dir}}/tls/key.pem
disable_plaintext_auth = no
{{template "users" .}}
# LAYOUT=fs: folder names may contain dots, like on most real servers.
mail_location = maildir:~/Maildir:LAYOUT=fs

passdb {
  driver = static
  args = password={{.Password}}
}
userdb {
  driver = static
  args = home={{.Dir}}/mail/%u
}

service imap-login {
  chroot =
  # Benchmarks keep hundreds of TLS sessions open, and a login process
  # stays as the TLS proxy of its session: let one process serve many
  # (Dovecot's high-performance mode) rather than one each, capped at 100.
  service_count = 0
{{template "listeners" .}}
}
service anvil {
  chroot =
}
protocol imap {
  # Tests and benchmarks open many sessions per user from one address.
  mail_max_userip_connections = 1000
  # Log every client's ID command (RFC 2971), under the user's name once
  # logged in: tests check that mailtrail sends it after login.
  imap_id_log = *
}

{{template "folders" .}}
`)
