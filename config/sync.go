package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Folders chooses a rep's folders beyond the defaults (every selectable
// folder but Junk, Trash, Drafts and Gmail's virtual ones). Names are
// written as people read them (已发送, not &XfJT0ZAB-); `*` matches any run
// of characters, and a special-use attribute such as `\Junk` matches the
// folder that carries it.
type Folders struct {
	// Include, when set, is the only folders read (it may name folders
	// skipped by default, such as Junk).
	Include []string `yaml:"include"`
	// Exclude is never read, even when included.
	Exclude []string `yaml:"exclude"`
}

// OAuth signs in with XOAUTH2 or OAUTHBEARER using an access token got
// from a refresh token at the provider's token endpoint.
type OAuth struct {
	Provider string `yaml:"provider"` // google, microsoft or custom
	// TokenURL defaults to Google's endpoint, or Microsoft's for Tenant.
	TokenURL         string `yaml:"token_url"`
	Tenant           string `yaml:"tenant"` // microsoft: directory (tenant) id or "common" (default)
	ClientID         string `yaml:"client_id"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	RefreshTokenEnv  string `yaml:"refresh_token_env"`
	// RefreshTokenFile is rewritten when the provider hands out a new
	// refresh token (Microsoft does on every refresh).
	RefreshTokenFile string `yaml:"refresh_token_file"`
	Scope            string `yaml:"scope"` // sent with the refresh; microsoft default: IMAP.AccessAsUser.All offline_access
}

// Token endpoints and scopes of the known providers.
const (
	GoogleTokenURL = "https://oauth2.googleapis.com/token"
	microsoftScope = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
)

const defaultMaxMessageSize = 50 << 20

func (c *Config) applySyncDefaults() {
	if c.Sync.Workers == 0 {
		c.Sync.Workers = 8
	}
	if c.Sync.MaxMessageSize == "" {
		c.Sync.MaxMessageSize = "50MB"
	}
	if c.Sync.RetryMin == 0 {
		c.Sync.RetryMin = 5 * time.Second
	}
	if c.Sync.RetryMax == 0 {
		c.Sync.RetryMax = 30 * time.Minute
	}
	for i := range c.Reps {
		im := &c.Reps[i].IMAP
		if o := im.OAuth; o != nil {
			if im.Auth == "" {
				im.Auth = "xoauth2"
			}
			switch o.Provider {
			case "google":
				// Google's refresh takes no scope: the grant carries
				// https://mail.google.com/.
				o.TokenURL = cmpOr(o.TokenURL, GoogleTokenURL)
			case "microsoft":
				o.Tenant = cmpOr(o.Tenant, "common")
				o.TokenURL = cmpOr(o.TokenURL, "https://login.microsoftonline.com/"+url.PathEscape(o.Tenant)+"/oauth2/v2.0/token")
				o.Scope = cmpOr(o.Scope, microsoftScope)
			}
		}
		if im.Auth == "" {
			im.Auth = "login"
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *Config) validateRep(key string, r Rep, bad func(key, format string, args ...any)) {
	if r.Since != "" {
		if _, err := time.Parse(time.DateOnly, r.Since); err != nil {
			bad(key+".since", "%q is not a date (YYYY-MM-DD)", r.Since)
		}
	}
	for j, f := range r.Folders.Include {
		if strings.TrimSpace(f) == "" {
			bad(fmt.Sprintf("%s.folders.include[%d]", key, j), "empty folder name")
		}
	}
	for j, f := range r.Folders.Exclude {
		if strings.TrimSpace(f) == "" {
			bad(fmt.Sprintf("%s.folders.exclude[%d]", key, j), "empty folder name")
		}
	}
	im := r.IMAP
	for j, a := range im.PasswordCommand {
		if a == "" {
			bad(fmt.Sprintf("%s.imap.password_command[%d]", key, j), "empty argument")
		}
	}
	switch im.Auth {
	case "login", "plain":
		if im.OAuth != nil {
			bad(key+".imap.auth", "%q cannot use oauth: use xoauth2 or oauthbearer", im.Auth)
		}
	case "xoauth2", "oauthbearer":
		if im.OAuth == nil {
			bad(key+".imap.auth", "%q needs imap.oauth", im.Auth)
		}
	default:
		bad(key+".imap.auth", "%q is not one of login, plain, xoauth2, oauthbearer", im.Auth)
	}
	if o := im.OAuth; o != nil {
		k := key + ".imap.oauth"
		switch o.Provider {
		case "google", "microsoft":
		case "custom":
			if o.TokenURL == "" {
				bad(k+".token_url", "required for provider custom")
			}
		default:
			bad(k+".provider", "%q is not one of google, microsoft, custom", o.Provider)
		}
		if o.TokenURL != "" {
			if u, err := url.Parse(o.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad(k+".token_url", "%q is not an http(s) URL", o.TokenURL)
			}
		}
		if o.ClientID == "" {
			bad(k+".client_id", "required")
		}
		if o.ClientSecretEnv != "" && o.ClientSecretFile != "" {
			bad(k, "set at most one of client_secret_env, client_secret_file")
		}
		if (o.RefreshTokenEnv == "") == (o.RefreshTokenFile == "") {
			bad(k, "set exactly one of refresh_token_env, refresh_token_file")
		}
	}
}

func (c *Config) validateSync(bad func(key, format string, args ...any)) {
	s := c.Sync
	if s.Workers < 1 || s.Workers > 1000 {
		bad("sync.workers", "%d is outside 1..1000", s.Workers)
	}
	if s.Since != "" {
		if _, err := time.Parse(time.DateOnly, s.Since); err != nil {
			bad("sync.since", "%q is not a date (YYYY-MM-DD)", s.Since)
		}
	}
	if n, err := ParseSize(s.MaxMessageSize); err != nil {
		bad("sync.max_message_size", "%v", err)
	} else if n < 1024 {
		bad("sync.max_message_size", "%s is below 1KB", s.MaxMessageSize)
	}
	if s.Interval < time.Second {
		bad("sync.interval", "%v is below 1s", s.Interval)
	}
	if s.Timeout < 100*time.Millisecond {
		bad("sync.timeout", "%v is below 100ms", s.Timeout)
	}
	if s.RetryMin <= 0 {
		bad("sync.retry_min", "%v is not positive", s.RetryMin)
	}
	if s.RetryMax < s.RetryMin {
		bad("sync.retry_max", "%v is below sync.retry_min (%v)", s.RetryMax, s.RetryMin)
	}
}

// ParseSize reads a size in bytes: a whole number, optionally followed by
// KB, MB or GB (powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size (a number of bytes, or with KB, MB, GB)", s)
	}
	return n * mult, nil
}

// MaxMessageBytes is sync.max_message_size in bytes.
func (s Sync) MaxMessageBytes() int64 {
	n, err := ParseSize(s.MaxMessageSize)
	if err != nil || n == 0 {
		return defaultMaxMessageSize
	}
	return n
}

// IdleEnabled reports whether IMAP IDLE is used (sync.idle, default true).
func (s Sync) IdleEnabled() bool { return s.Idle == nil || *s.Idle }

// SinceDate is how far back a first sync of rep's mailbox goes: the rep's
// since, else sync.since; ok is false when there is no limit.
func (c *Config) SinceDate(r Rep) (t time.Time, ok bool) {
	s := cmpOr(r.Since, c.Sync.Since)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// runPasswordCommand runs password_command without a shell and returns
// its standard output, trimmed. Neither the output nor the command's
// error output ever appears in the error: they may hold the secret.
func (im IMAP) runPasswordCommand() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, im.PasswordCommand[0], im.PasswordCommand[1:]...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = nil
	cmd.Stdin = nil
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("imap.password_command: %s did not finish within 30s", im.PasswordCommand[0])
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("imap.password_command: %s failed: %s", im.PasswordCommand[0], ee.ProcessState.String())
		}
		return "", fmt.Errorf("imap.password_command: cannot run %s: %w", im.PasswordCommand[0], unwrapPath(err))
	}
	v := strings.TrimSpace(out.String())
	if v == "" {
		return "", fmt.Errorf("imap.password_command: %s printed nothing", im.PasswordCommand[0])
	}
	return v, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

// OAuthSecrets returns the client secret (may be empty) and the refresh
// token. Errors name the key, never the value.
func (o OAuth) OAuthSecrets() (clientSecret, refreshToken string, err error) {
	switch {
	case o.ClientSecretEnv != "":
		clientSecret = os.Getenv(o.ClientSecretEnv)
		if clientSecret == "" {
			return "", "", fmt.Errorf("imap.oauth.client_secret_env: environment variable %s is empty", o.ClientSecretEnv)
		}
	case o.ClientSecretFile != "":
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return "", "", fmt.Errorf("imap.oauth.client_secret_file: %w", err)
		}
		clientSecret = strings.TrimSpace(string(b))
	}
	switch {
	case o.RefreshTokenEnv != "":
		refreshToken = os.Getenv(o.RefreshTokenEnv)
		if refreshToken == "" {
			return "", "", fmt.Errorf("imap.oauth.refresh_token_env: environment variable %s is empty", o.RefreshTokenEnv)
		}
	case o.RefreshTokenFile != "":
		b, err := os.ReadFile(o.RefreshTokenFile)
		if err != nil {
			return "", "", fmt.Errorf("imap.oauth.refresh_token_file: %w", err)
		}
		refreshToken = strings.TrimSpace(string(b))
		if refreshToken == "" {
			return "", "", fmt.Errorf("imap.oauth.refresh_token_file: %s is empty", o.RefreshTokenFile)
		}
	}
	return clientSecret, refreshToken, nil
}
