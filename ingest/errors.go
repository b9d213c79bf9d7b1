package ingest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/emersion/go-imap/v2"
)

// Kinds of failure, for advice and for tests.
const (
	KindLogin       = "login"        // the server refused the credentials
	KindUnsafeLogin = "unsafe_login" // 163/126 "Unsafe Login"
	KindCertificate = "certificate"  // the server's certificate did not verify
	KindSecret      = "secret"       // the password or token could not be read
	KindOAuth       = "oauth"        // the token endpoint refused the refresh token
	KindThrottled   = "throttled"    // too many connections, rate limits, [LIMIT], [UNAVAILABLE]
	KindUnreachable = "unreachable"  // connect failed
	KindTimeout     = "timeout"      // the server stopped answering
	KindDropped     = "dropped"      // the connection closed under a command (BYE, reset)
	KindTLS         = "tls"          // the TLS handshake failed otherwise
	KindServer      = "server"       // any other refusal by the server
)

// PermanentError is a failure that retrying will not fix (the server
// refused the login): the mailbox is parked until its config changes or
// an operator asks for a retry.
type PermanentError struct {
	Err  error
	Kind string
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// TemporaryError is a failure that goes away by itself (a network error,
// throttling): the mailbox backs off and retries.
type TemporaryError struct {
	Err  error
	Kind string
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// IsPermanent reports whether err will not go away by retrying.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrorKind returns the kind of failure err is (one of the Kind
// constants), or "" when unknown.
func ErrorKind(err error) string {
	var p *PermanentError
	if errors.As(err, &p) {
		return p.Kind
	}
	var t *TemporaryError
	if errors.As(err, &t) {
		return t.Kind
	}
	return ""
}

// throttleWords mark a refusal as temporary: servers say "too many
// connections" or "try again later" in words more often than in codes.
var throttleWords = []string{
	"too many", "try again", "try later", "temporar", "rate limit", "throttl", "busy",
	"limit exceeded", "exceeded", "频繁", "稍后", "繁忙", "超过", "过多",
}

func throttleText(s string) bool {
	s = strings.ToLower(s)
	for _, w := range throttleWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// classifyLogin turns the answer to LOGIN or AUTHENTICATE into a permanent
// error (credentials refused) or a temporary one (throttling, an
// unavailable backend: RFC 5530 codes and common texts).
func classifyLogin(err error, wrap func(error) error) error {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return classifySession(wrap(err))
	}
	switch ie.Code {
	case imap.ResponseCodeUnavailable, imap.ResponseCodeLimit, imap.ResponseCodeInUse, imap.ResponseCodeServerBug:
		return &TemporaryError{wrap(err), KindThrottled}
	}
	if ie.Type == imap.StatusResponseTypeBye || throttleText(ie.Text) {
		return &TemporaryError{wrap(err), KindThrottled}
	}
	if strings.Contains(strings.ToLower(ie.Text), "unsafe login") {
		return &PermanentError{wrap(err), KindUnsafeLogin}
	}
	return &PermanentError{wrap(err), KindLogin}
}

// classifySession gives an error met during a session its kind; anything
// not recognised as permanent is temporary. Errors already classified are
// returned as they are.
func classifySession(err error) error {
	if err == nil {
		return nil
	}
	var p *PermanentError
	var t *TemporaryError
	if errors.As(err, &p) || errors.As(err, &t) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return &PermanentError{err, KindCertificate}
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		switch {
		case strings.Contains(strings.ToLower(ie.Text), "unsafe login"):
			// 163/126 answer SELECT with it when the account blocks the client.
			return &PermanentError{err, KindUnsafeLogin}
		case ie.Code == imap.ResponseCodeLimit || ie.Code == imap.ResponseCodeUnavailable ||
			ie.Code == imap.ResponseCodeInUse || throttleText(ie.Text):
			return &TemporaryError{err, KindThrottled}
		case ie.Type == imap.StatusResponseTypeBye:
			return &TemporaryError{err, KindDropped}
		}
		return &TemporaryError{err, KindServer}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &TemporaryError{err, KindTimeout}
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return &TemporaryError{err, KindUnreachable}
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return &TemporaryError{err, KindUnreachable}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return &TemporaryError{err, KindDropped}
	}
	// go-imap formats its reader's errors with %v: the chain is lost,
	// the words stay.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "i/o timeout"):
		return &TemporaryError{err, KindTimeout}
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "connection reset"),
		strings.Contains(msg, "closed network connection"), strings.Contains(msg, "broken pipe"):
		return &TemporaryError{err, KindDropped}
	}
	return &TemporaryError{err, ""}
}

// folderError is a folder the server would not open (NO to EXAMINE, not
// throttling): the pass goes on with the other folders.
type folderError struct{ err error }

func (e *folderError) Error() string { return e.err.Error() }
func (e *folderError) Unwrap() error { return e.err }

// examineError classifies a failed EXAMINE.
func examineError(err error) error {
	c := classifySession(err)
	var ie *imap.Error
	if IsPermanent(c) || ErrorKind(c) == KindThrottled || !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo {
		return c
	}
	return &folderError{err}
}
