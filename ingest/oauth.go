package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/config"
)

// tokenSource hands out OAuth 2.0 access tokens for one rep, refreshed
// from the refresh token (RFC 6749 6) at the token endpoint and cached
// until shortly before they expire. A refresh token rotated by the
// provider is kept for the next refresh and, with refresh_token_file,
// written back to the file.
type tokenSource struct {
	rep  string
	cfg  config.OAuth
	http *http.Client
	log  *slog.Logger

	mu      sync.Mutex
	access  string
	expiry  time.Time
	rotated string // a refresh token newer than the configured one
}

// token returns a valid access token, refreshing it when it expires
// within a minute or when force is set (the server refused the cached one).
func (t *tokenSource) token(ctx context.Context, force bool) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !force && t.access != "" && time.Until(t.expiry) > time.Minute {
		return t.access, nil
	}
	secret, refresh, err := t.cfg.OAuthSecrets()
	if err != nil {
		return "", &PermanentError{err, KindSecret}
	}
	if t.rotated != "" {
		refresh = t.rotated
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refresh},
		"client_id":     {t.cfg.ClientID},
	}
	if secret != "" {
		form.Set("client_secret", secret)
	}
	if t.cfg.Scope != "" {
		form.Set("scope", t.cfg.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &PermanentError{fmt.Errorf("imap.oauth.token_url: %w", err), KindSecret}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.http.Do(req)
	if err != nil {
		// The error names the URL, which holds no secret: the form is in the body.
		return "", classifySession(fmt.Errorf("refresh OAuth token at %s: %w", t.cfg.TokenURL, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", classifySession(fmt.Errorf("refresh OAuth token at %s: %w", t.cfg.TokenURL, err))
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		// RFC 6749 5.2: error and error_description hold no secret; the
		// rest of the body is never shown.
		msg := fmt.Sprintf("refresh OAuth token at %s: HTTP %d", t.cfg.TokenURL, resp.StatusCode)
		if tr.Error != "" {
			msg += ": " + tr.Error
		}
		if tr.Description != "" {
			msg += " (" + firstLine(tr.Description) + ")"
		}
		switch {
		case tr.Error == "invalid_grant" || tr.Error == "invalid_client" || tr.Error == "unauthorized_client" ||
			tr.Error == "invalid_scope" || resp.StatusCode == http.StatusUnauthorized:
			return "", &PermanentError{fmt.Errorf("%s", msg), KindOAuth}
		case resp.StatusCode == http.StatusTooManyRequests:
			return "", &TemporaryError{fmt.Errorf("%s", msg), KindThrottled}
		}
		return "", &TemporaryError{fmt.Errorf("%s", msg), KindServer}
	}
	t.access = tr.AccessToken
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600
	}
	t.expiry = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	if tr.RefreshToken != "" && tr.RefreshToken != refresh {
		t.rotated = tr.RefreshToken
		if f := t.cfg.RefreshTokenFile; f != "" {
			if err := writeFileAtomic(f, []byte(tr.RefreshToken+"\n")); err != nil {
				t.log.Warn("new OAuth refresh token not saved; the old one is used until it expires",
					"rep", t.rep, "file", f, "err", err)
			} else {
				t.rotated = ""
			}
		}
	}
	return t.access, nil
}

// invalidate drops the cached access token.
func (t *tokenSource) invalidate() {
	t.mu.Lock()
	t.access = ""
	t.mu.Unlock()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// writeFileAtomic replaces path with data (mode 0600) so that a crash
// leaves either the old or the new token, never half of one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mailtrail-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
