package ingest_test

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/mailtrail/mailtrail/config"
)

// memServer is go-imap's in-memory IMAP server with knobs to inject the
// faults Dovecot will not produce on demand: a refused or throttled
// login, messages left out of FETCH answers, messages that vanish, and
// OAuth (XOAUTH2, OAUTHBEARER) logins checked against a set of tokens.
type memServer struct {
	addr, user, password string
	mem                  *imapmemserver.User

	mu       sync.Mutex
	loginErr error             // answered to every login when set
	drop     map[imap.UID]int  // left out of that many body FETCH answers
	hidden   map[imap.UID]bool // expunged, as far as FETCH and SEARCH tell
	tokens   map[string]bool   // accepted OAuth access tokens
	logins   int               // successful logins
	conns    int               // connections
	fetches  []fetchCall       // body FETCHes asked for
	// onBodyFetch runs when a body FETCH arrives, before it is answered.
	onBodyFetch func()
	// selectErr answers SELECT/EXAMINE of a folder (key "*": every folder).
	selectErr map[string]*imap.Error
}

func newMemServer(t *testing.T) *memServer {
	t.Helper()
	m := &memServer{user: "rep@mem.example", password: "mem-password-1", drop: map[imap.UID]int{},
		hidden: map[imap.UID]bool{}, tokens: map[string]bool{}}
	m.mem = imapmemserver.NewUser(m.user, m.password)
	for _, f := range []string{"INBOX", "Sent"} {
		if err := m.mem.Create(f, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			m.mu.Lock()
			m.conns++
			m.mu.Unlock()
			return &memSession{srv: m}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapESearch: {}, imap.CapListExtended: {}, imap.CapSpecialUse: {}},
		InsecureAuth: true,
		Logger:       testLogger{t},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	m.addr = ln.Addr().String()
	return m
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// add appends raw messages to a folder.
func (m *memServer) add(t *testing.T, folder string, raws ...string) {
	t.Helper()
	m.addAt(t, folder, time.Time{}, raws...)
}

// addAt appends raw messages with an INTERNALDATE.
func (m *memServer) addAt(t *testing.T, folder string, date time.Time, raws ...string) {
	t.Helper()
	for _, raw := range raws {
		raw = strings.ReplaceAll(raw, "\n", "\r\n")
		if _, err := m.mem.Append(folder, literal{bytes.NewReader([]byte(raw)), int64(len(raw))}, &imap.AppendOptions{Time: date}); err != nil {
			t.Fatal(err)
		}
	}
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

func (m *memServer) set(fn func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn()
}

// fetchCall is one body FETCH: the UIDs and the section (HEADER, or ""
// for the whole message).
type fetchCall struct {
	uids    []imap.UID
	section imap.PartSpecifier
}

func (m *memServer) fetchLog() []fetchCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]fetchCall(nil), m.fetches...)
}

// memSession is a memserver session with the faults of its server.
type memSession struct {
	*imapmemserver.UserSession
	srv *memServer
}

func (s *memSession) Close() error {
	if s.UserSession != nil {
		return s.UserSession.Close()
	}
	return nil
}

func (s *memSession) Login(username, password string) error {
	m := s.srv
	m.mu.Lock()
	loginErr := m.loginErr
	m.mu.Unlock()
	if loginErr != nil {
		return loginErr
	}
	if err := m.mem.Login(username, password); err != nil {
		return err
	}
	return s.loggedIn()
}

func (s *memSession) loggedIn() error {
	s.srv.mu.Lock()
	s.srv.logins++
	s.srv.mu.Unlock()
	s.UserSession = imapmemserver.NewUserSession(s.srv.mem)
	return nil
}

func (s *memSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	m := s.srv
	uids, isUID := numSet.(imap.UIDSet)
	var nums []imap.UID
	if isUID {
		// Expand "n:*" to the UIDs it stands for, so that faults apply.
		data, err := s.UserSession.Search(imapserver.NumKindUID, &imap.SearchCriteria{UID: []imap.UIDSet{uids}}, &imap.SearchOptions{})
		if err != nil {
			return err
		}
		nums, _ = data.All.(imap.UIDSet).Nums()
	}
	body := len(options.BodySection) > 0
	m.mu.Lock()
	hook := m.onBodyFetch
	m.mu.Unlock()
	if body && hook != nil {
		hook()
	}
	m.mu.Lock()
	if body {
		m.fetches = append(m.fetches, fetchCall{nums, options.BodySection[0].Specifier})
	}
	if isUID {
		var keep imap.UIDSet
		for _, u := range nums {
			switch {
			case m.hidden[u]:
			case body && m.drop[u] > 0:
				m.drop[u]--
			default:
				keep.AddNum(u)
			}
		}
		numSet = keep
	}
	m.mu.Unlock()
	if isUID && len(numSet.(imap.UIDSet)) == 0 {
		return nil
	}
	return s.UserSession.Fetch(w, numSet, options)
}

func (s *memSession) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.srv.mu.Lock()
	err, ok := s.srv.selectErr[name]
	if !ok {
		err, ok = s.srv.selectErr["*"]
	}
	s.srv.mu.Unlock()
	if ok {
		return nil, err
	}
	return s.UserSession.Select(name, options)
}

func (s *memSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	data, err := s.UserSession.Search(kind, criteria, options)
	if err != nil || kind != imapserver.NumKindUID {
		return data, err
	}
	m := s.srv
	m.mu.Lock()
	defer m.mu.Unlock()
	all, _ := data.All.(imap.UIDSet)
	nums, _ := all.Nums()
	var keep imap.UIDSet
	for _, u := range nums {
		if !m.hidden[u] {
			keep.AddNum(u)
		}
	}
	data.All = keep
	data.Count = uint32(len(nums))
	return data, nil
}

// SASL: PLAIN, XOAUTH2 and OAUTHBEARER, the last two checked against the
// server's token set.
func (s *memSession) AuthenticateMechanisms() []string {
	return []string{sasl.Plain, "XOAUTH2", sasl.OAuthBearer}
}

func (s *memSession) Authenticate(mech string) (sasl.Server, error) {
	m := s.srv
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			return s.Login(username, password)
		}), nil
	case sasl.OAuthBearer:
		return authFailed{sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			m.mu.Lock()
			ok := o.Username == m.user && m.tokens[o.Token]
			m.mu.Unlock()
			if !ok {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			s.loggedIn()
			return nil
		})}, nil
	case "XOAUTH2":
		return &xoauth2Server{s: s}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

// authFailed answers a failed SASL exchange as servers do, with NO
// [AUTHENTICATIONFAILED], where imapserver would say SERVERBUG.
type authFailed struct{ sasl.Server }

func (a authFailed) Next(resp []byte) ([]byte, bool, error) {
	c, done, err := a.Server.Next(resp)
	if err != nil {
		err = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: err.Error()}
	}
	return c, done, err
}

// xoauth2Server checks Google's XOAUTH2 initial response.
type xoauth2Server struct {
	s      *memSession
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Invalid credentials"}
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	m := x.s.srv
	var user, token string
	for _, kv := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			token = v
		}
	}
	m.mu.Lock()
	ok := user == m.user && m.tokens[token]
	m.mu.Unlock()
	if !ok {
		x.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	x.s.loggedIn()
	return nil, true, nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *memServer) connections() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns
}

// rep is a rep whose mailbox is on this server (plaintext, explicitly).
func (m *memServer) rep(t *testing.T, email, password string) config.Rep {
	host, port := splitHostPort(t, m.addr)
	return config.Rep{Email: email, IMAP: config.IMAP{Host: host, Port: port, TLS: "none", Username: m.user, Password: password}}
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, args ...any) { l.t.Logf("imapserver: "+format, args...) }
