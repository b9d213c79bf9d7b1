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

// session is one logged-in IMAP connection of a rep. It is used by one
// goroutine at a time: go-imap's client reads every response in one
// goroutine, so a command waited on inside another's loop deadlocks.
type session struct {
	c        *imapclient.Client
	conn     *deadlineConn
	close    func()
	caps     imap.CapSet
	selected string // the folder EXAMINEd, "" when none
	// changed receives a value when the server reports new messages in the
	// selected folder (an untagged EXISTS, during IDLE or after a command).
	changed chan struct{}
	// list is the folder list and when it was read.
	list   []listed
	listAt time.Time
	// status remembers what was last written of each folder's STATUS, so
	// that an idle folder costs no database write.
	status map[string]folderStatus
	// idled is set while INBOX stays selected after an IDLE: its news
	// come as untagged EXISTS, and inboxCheckedAt bounds how long it goes
	// without a full check.
	idled          bool
	inboxCheckedAt time.Time
	// refused holds the folders the server would not open this session,
	// logged once each.
	refused map[string]bool
}

type folderStatus struct {
	messages int64
	uidnext  uint32
}

func (s *session) alive() bool {
	select {
	case <-s.c.Closed():
		return false
	default:
		return true
	}
}

// connect dials, does TLS as configured, logs in and sends ID. The
// connection is closed when ctx ends. Every read and write has the sync
// timeout as deadline.
func (s *Syncer) connect(ctx context.Context, rep config.Rep) (*session, error) {
	im := rep.IMAP
	timeout := s.cfg.Sync.Timeout
	addr := net.JoinHostPort(im.Host, strconv.Itoa(im.Port))
	tlsConf := &tls.Config{ServerName: im.Host, InsecureSkipVerify: im.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if im.CAFile != "" {
		pem, err := os.ReadFile(im.CAFile)
		if err != nil {
			return nil, &PermanentError{fmt.Errorf("imap.ca_file: %w", err), KindSecret}
		}
		tlsConf.RootCAs = x509.NewCertPool()
		if !tlsConf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, &PermanentError{fmt.Errorf("imap.ca_file %s: no PEM certificate", im.CAFile), KindSecret}
		}
	}
	if im.TLS == "none" {
		if _, warned := s.warnedPlain.LoadOrStore(rep.Email, true); !warned {
			s.log.Warn("IMAP without TLS: the password crosses the network in clear (imap.tls: none)",
				"rep", rep.Email, "imap", addr)
		}
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, classifySession(fmt.Errorf("connect to %s: %w", addr, err))
	}
	conn := newDeadlineConn(raw, timeout, &s.roundTrips)
	sess := &session{conn: conn, changed: make(chan struct{}, 1), status: map[string]folderStatus{}, refused: map[string]bool{}}
	opts := &imapclient.Options{
		TLSConfig: tlsConf,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages == nil {
					return
				}
				select {
				case sess.changed <- struct{}{}:
				default:
				}
			},
		},
	}
	var c *imapclient.Client
	switch im.TLS {
	case "implicit":
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, tlsError(addr, err)
		}
		c = imapclient.New(tc, opts)
	case "starttls":
		c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			raw.Close()
			var ie *imap.Error
			if errors.As(err, &ie) {
				return nil, classifyLogin(err, func(err error) error { return fmt.Errorf("greeting from %s: %w", addr, err) })
			}
			return nil, tlsError(addr, fmt.Errorf("STARTTLS: %w", err))
		}
	default:
		c = imapclient.New(conn, opts)
	}
	sess.c = c
	stop := context.AfterFunc(ctx, func() { c.Close() })
	sess.close = func() { stop(); c.Close() }
	if err := c.WaitGreeting(); err != nil {
		sess.close()
		// "* BYE Too many connections" greets a client over its limit.
		return nil, classifyLogin(err, func(err error) error { return fmt.Errorf("greeting from %s: %w", addr, err) })
	}
	if err := s.login(ctx, c, rep); err != nil {
		sess.close()
		return nil, err
	}
	sess.caps = c.Caps()
	// 163.com and 126.com answer "NO SELECT Unsafe Login" without ID.
	if sess.caps.Has(imap.CapID) {
		_, _ = c.ID(&imap.IDData{Name: "mailtrail", Version: Version}).Wait()
	}
	return sess, nil
}

// tlsError classifies a failed handshake: a certificate that does not
// verify is permanent (the config must change), anything else temporary.
func tlsError(addr string, err error) error {
	err = classifySession(fmt.Errorf("TLS with %s: %w", addr, err))
	if ErrorKind(err) == "" || ErrorKind(err) == KindDropped {
		return &TemporaryError{err, KindTLS}
	}
	return err
}

// logout ends a session politely; errors do not matter any more.
func (sess *session) logout() {
	if sess == nil {
		return
	}
	if sess.alive() {
		_ = sess.c.Logout().Wait()
	}
	sess.close()
}

// unselect leaves the selected folder: with EXAMINE, CLOSE never expunges
// (RFC 3501 6.4.2), so it stands in for UNSELECT where that is missing.
func (sess *session) unselect() error {
	if sess.selected == "" {
		return nil
	}
	var err error
	if sess.caps.Has(imap.CapUnselect) {
		err = sess.c.Unselect().Wait()
	} else {
		err = sess.c.UnselectAndExpunge().Wait()
	}
	sess.selected, sess.idled = "", false
	return err
}

// examine opens a folder read-only.
func (sess *session) examine(name string) (*imap.SelectData, error) {
	sess.selected, sess.idled = "", false
	sel, err := sess.c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, examineError(fmt.Errorf("examine %s: %w", name, err))
	}
	sess.selected = name
	return sel, nil
}
