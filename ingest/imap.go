// Package ingest brings mail into mailtrail: it syncs each rep's IMAP
// folders (read-only: EXAMINE and BODY.PEEK, never a flag changed) and runs
// every fetched message through the pipeline (parse, match, classify,
// store) in the same transaction as the folder's cursor.
package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail/config"
)

// Version is sent in the IMAP ID command.
var Version = "dev"

// deadlineConn gives every read and write a deadline, because go-imap's
// client takes no context: a server that stops answering would otherwise
// block a command forever. The sync loop always has a command in flight,
// so an expired deadline means the server went silent.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c deadlineConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	return c.Conn.Read(p)
}

func (c deadlineConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.Conn.Write(p)
}

// PermanentError is a failure that retrying will not fix (the server
// refused the login): the mailbox waits for its config to change.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err will not go away by retrying.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// connect dials, logs in and sends ID. The returned client is closed when
// ctx ends.
func connect(ctx context.Context, rep config.Rep, timeout time.Duration) (*imapclient.Client, func(), error) {
	im := rep.IMAP
	addr := net.JoinHostPort(im.Host, strconv.Itoa(im.Port))
	password, err := im.Secret()
	if err != nil {
		return nil, nil, &PermanentError{fmt.Errorf("password: %w", err)}
	}
	tlsConf := &tls.Config{ServerName: im.Host, InsecureSkipVerify: im.InsecureSkipVerify}
	if im.CAFile != "" {
		pem, err := os.ReadFile(im.CAFile)
		if err != nil {
			return nil, nil, &PermanentError{fmt.Errorf("imap.ca_file: %w", err)}
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, nil, &PermanentError{fmt.Errorf("imap.ca_file %s: no PEM certificate", im.CAFile)}
		}
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	var conn net.Conn = deadlineConn{raw, timeout}
	opts := &imapclient.Options{TLSConfig: tlsConf}
	var c *imapclient.Client
	switch im.TLS {
	case "implicit":
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, nil, fmt.Errorf("TLS with %s: %w", addr, err)
		}
		c = imapclient.New(tc, opts)
	case "starttls":
		c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			raw.Close()
			return nil, nil, fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	default:
		c = imapclient.New(conn, opts)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	closeFn := func() { stop(); c.Close() }
	if err := c.WaitGreeting(); err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	if err := c.Login(im.Username, password).Wait(); err != nil {
		closeFn()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, nil, &PermanentError{fmt.Errorf("IMAP login refused for %s at %s (check the password or app password): %s", im.Username, addr, ie.Text)}
		}
		return nil, nil, fmt.Errorf("login at %s: %w", addr, err)
	}
	// 163.com and 126.com answer "NO SELECT Unsafe Login" without ID.
	if c.Caps().Has(imap.CapID) {
		_, _ = c.ID(&imap.IDData{Name: "mailtrail", Version: Version}).Wait()
	}
	return c, closeFn, nil
}
