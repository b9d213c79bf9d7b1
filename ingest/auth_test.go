package ingest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/config"
	"github.com/mailtrail/mailtrail/ingest"
	"github.com/mailtrail/mailtrail/internal/testenv"
)

// STARTTLS verifies the certificate like implicit TLS; a certificate that
// does not verify is permanent and says what to do; plaintext only when
// asked, with a warning naming the rep.
func TestTLSModes(t *testing.T) {
	dc := testenv.Dovecot(t)
	plainHost, plainPort := splitHostPort(t, dc.Addr)
	r := newRigWith(t, func(c *config.Config) {
		c.Reps[0].IMAP.TLS, c.Reps[0].IMAP.Port = "starttls", plainPort // amy: STARTTLS, with the CA
		c.Reps[1].IMAP.CAFile = ""                                      // bob: implicit TLS, CA unknown
	})
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Hi", "tls-1@acme-buyer.de", "Hello"))
	err := r.syncer.SyncOnce(r.ctx)
	if err == nil || strings.Contains(err.Error(), amy) {
		t.Fatalf("sync: %v: want only bob's mailbox to fail", err)
	}
	if !ingest.IsPermanent(err) || ingest.ErrorKind(err) != ingest.KindCertificate {
		t.Errorf("bob: %v (kind %q), want a permanent certificate error", err, ingest.ErrorKind(err))
	}
	if m := r.mailbox(bob); !strings.Contains(m.advice, "ca_file") {
		t.Errorf("advice %q does not point to imap.ca_file", m.advice)
	}
	if !r.stored("tls-1@acme-buyer.de")["tls-1@acme-buyer.de"] {
		t.Errorf("nothing synced over STARTTLS")
	}
	if strings.Contains(r.logs.String(), "without TLS") {
		t.Errorf("warned about plaintext with TLS on")
	}

	r.cfg.Reps = r.cfg.Reps[:1]
	r.cfg.Reps[0].IMAP = config.IMAP{Host: plainHost, Port: plainPort, TLS: "none", Username: r.users[amy], Password: dc.Password}
	if err := r.cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	r.syncer = r.newSyncer()
	r.syncOnce()
	if !strings.Contains(r.logs.String(), "level=WARN msg=\"IMAP without TLS") || !strings.Contains(r.logs.String(), "rep="+amy) {
		t.Errorf("no warning naming %s for tls: none:\n%s", amy, r.logs.String())
	}
}

// password_command is run without a shell and its output trimmed; when
// it fails, neither its output nor its error output shows anywhere.
func TestPasswordCommand(t *testing.T) {
	const leaked = "Pr1nted-S3cret-77"
	dc := testenv.Dovecot(t)
	r := newRigWith(t, func(c *config.Config) {
		c.Reps[0].IMAP.Password, c.Reps[0].IMAP.PasswordCommand = "", []string{"/bin/echo", "  " + dc.Password + "  "}
		c.Reps[0].IMAP.Auth = "plain" // AUTHENTICATE PLAIN rather than LOGIN
		c.Reps[1].IMAP.Password, c.Reps[1].IMAP.PasswordCommand = "", []string{"/bin/sh", "-c", "echo " + leaked + "; echo " + leaked + " >&2; exit 3"}
	})
	r.appendMail(amy, "INBOX", mail(buyer, amy, "Hi", "cmd-1@acme-buyer.de", "Hello"))
	err := r.syncer.SyncOnce(r.ctx)
	if err == nil || strings.Contains(err.Error(), amy) || ingest.ErrorKind(err) != ingest.KindSecret || !ingest.IsPermanent(err) {
		t.Fatalf("sync: %v, want only bob's password command to fail, permanently", err)
	}
	if !strings.Contains(err.Error(), "imap.password_command") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error %q does not name the key and the exit status", err)
	}
	if !r.stored("cmd-1@acme-buyer.de")["cmd-1@acme-buyer.de"] {
		t.Errorf("amy's password from the command did not work")
	}
	r.assertNoSecret(err, leaked)
}

// assertNoSecret fails if secret appears in err, the log or any text of
// the mailboxes table (what the API serves).
func (r *rig) assertNoSecret(err error, secrets ...string) {
	r.t.Helper()
	var rows []string
	res, qerr := r.store.Pool.Query(r.ctx, `SELECT row_to_json(m)::text FROM mailboxes m`)
	if qerr != nil {
		r.t.Fatal(qerr)
	}
	for res.Next() {
		var s string
		res.Scan(&s)
		rows = append(rows, s)
	}
	res.Close()
	for _, s := range secrets {
		if err != nil && strings.Contains(err.Error(), s) {
			r.t.Errorf("the error shows a secret: %v", err)
		}
		if strings.Contains(r.logs.String(), s) {
			r.t.Errorf("the log shows a secret %q", s)
		}
		for _, row := range rows {
			if strings.Contains(row, s) {
				r.t.Errorf("the mailboxes table shows a secret: %s", row)
			}
		}
	}
}

// tokenServer is an OAuth token endpoint (RFC 6749 6) that issues access
// tokens for one refresh token, rotating it on every refresh like
// Microsoft's.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	refresh  string
	secret   string
	issued   []string
	requests int
	refuse   bool
}

func newTokenServer(t *testing.T, ms *memServer, refresh, secret string) *tokenServer {
	ts := &tokenServer{refresh: refresh, secret: secret}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.requests++
		w.Header().Set("Content-Type", "application/json")
		if req.ParseForm() != nil || req.Form.Get("grant_type") != "refresh_token" || ts.refuse ||
			req.Form.Get("refresh_token") != ts.refresh || req.Form.Get("client_secret") != ts.secret ||
			req.Form.Get("client_id") != "client-1" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)
			return
		}
		access := fmt.Sprintf("ya29.access-%d", len(ts.issued)+1)
		ts.issued = append(ts.issued, access)
		ts.refresh = fmt.Sprintf("1//rotated-refresh-%d", len(ts.issued))
		ms.set(func() { ms.tokens[access] = true })
		json.NewEncoder(w).Encode(map[string]any{"access_token": access, "expires_in": 3600, "token_type": "Bearer",
			"refresh_token": ts.refresh})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// XOAUTH2 (Google, Microsoft) and OAUTHBEARER (RFC 7628) with an access
// token refreshed at the token endpoint and cached; a rotated refresh
// token is written back to refresh_token_file; a refresh token the
// provider refuses parks the mailbox with advice; no token or secret ever
// shows.
func TestOAuth(t *testing.T) {
	const refresh0, clientSecret = "1//initial-refresh-token-XYZ", "client-S3cret-Q"
	for _, mech := range []string{"xoauth2", "oauthbearer"} {
		t.Run(mech, func(t *testing.T) {
			ms := newMemServer(t)
			ms.add(t, "INBOX", mail(buyer, amy, "Hi", "oauth-1@acme-buyer.de", "Hello"))
			tok := newTokenServer(t, ms, refresh0, clientSecret)
			dir := t.TempDir()
			rtFile := filepath.Join(dir, "refresh-token")
			os.WriteFile(rtFile, []byte(refresh0+"\n"), 0o600)
			t.Setenv("TEST_OAUTH_CLIENT_SECRET", clientSecret)
			r := newRigWith(t, func(c *config.Config) {
				rep := ms.rep(t, amy, "")
				rep.IMAP.Password, rep.IMAP.Auth = "", mech
				rep.IMAP.OAuth = &config.OAuth{Provider: "custom", TokenURL: tok.URL, ClientID: "client-1",
					ClientSecretEnv: "TEST_OAUTH_CLIENT_SECRET", RefreshTokenFile: rtFile}
				c.Reps = []config.Rep{rep}
			})
			r.syncOnce()
			if !r.stored("oauth-1@acme-buyer.de")["oauth-1@acme-buyer.de"] {
				t.Fatalf("nothing synced with %s", mech)
			}
			r.syncOnce()
			if tok.requests != 1 {
				t.Errorf("token endpoint asked %d times for two syncs, want 1 (cached)", tok.requests)
			}
			if b, _ := os.ReadFile(rtFile); strings.TrimSpace(string(b)) != tok.refresh {
				t.Errorf("refresh_token_file holds %q, want the rotated %q", b, tok.refresh)
			}

			// The server stops taking the cached token: one refresh, then on.
			ms.set(func() { clear(ms.tokens) })
			r.syncOnce()
			if tok.requests != 2 {
				t.Errorf("token endpoint asked %d times, want a refresh after the refused token", tok.requests)
			}

			// The provider revokes the grant: parked, with advice.
			ms.set(func() { clear(ms.tokens) })
			tok.mu.Lock()
			tok.refuse = true
			tok.mu.Unlock()
			err := r.syncer.SyncOnce(r.ctx)
			if !ingest.IsPermanent(err) || ingest.ErrorKind(err) != ingest.KindOAuth || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("revoked grant: %v (kind %q), want a permanent OAuth error", err, ingest.ErrorKind(err))
			}
			if m := r.mailbox(amy); m.parkedAt == nil || !strings.Contains(m.advice, "authorize mailtrail again") {
				t.Errorf("revoked grant: parked %v advice %q", m.parkedAt, m.advice)
			}
			secrets := append([]string{refresh0, clientSecret, tok.refresh}, tok.issued...)
			r.assertNoSecret(err, secrets...)
		})
	}
}

// A refused login shows no password in the error, the log or the table.
func TestLoginRefusedShowsNoSecret(t *testing.T) {
	ms := newMemServer(t)
	r := newRigWith(t, func(c *config.Config) { c.Reps = []config.Rep{ms.rep(t, amy, badPassword)} })
	err := r.syncer.SyncOnce(r.ctx)
	if ingest.ErrorKind(err) != ingest.KindLogin {
		t.Fatalf("sync: %v, want a refused login", err)
	}
	r.assertNoSecret(err, badPassword)
}
