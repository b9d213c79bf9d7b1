package config

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
)

// Validate checks what spans fields and names the key that is wrong. It
// reports every problem, not just the first.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Database.URL == "" {
		bad("database.url", "required (or set MAILTRAIL_DATABASE_URL)")
	}
	if c.Meilisearch.URL == "" {
		bad("meilisearch.url", "required (or set MAILTRAIL_MEILI_URL)")
	}
	if c.Meilisearch.APIKeyEnv != "" && c.Meilisearch.APIKey == "" && os.Getenv(c.Meilisearch.APIKeyEnv) == "" {
		bad("meilisearch.api_key_env", "environment variable %s is not set", c.Meilisearch.APIKeyEnv)
	}
	switch c.Matching.AutoCreate {
	case "all", "corporate", "off":
	default:
		bad("matching.auto_create", "%q is not one of all, corporate, off", c.Matching.AutoCreate)
	}
	if c.Matching.FreeMailFile != "" {
		if err := c.Matching.loadFreeMailFile(); err != nil {
			bad("matching.freemail_file", "%s: %v", c.Matching.FreeMailFile, err)
		}
	}
	for i, d := range c.Company.Domains {
		if !strings.Contains(d, ".") {
			bad(fmt.Sprintf("company.domains[%d]", i), "%q is not a domain", d)
		}
	}
	for i, s := range c.Suppliers {
		for j, e := range s.Emails {
			if _, err := mail.ParseAddress(e); err != nil {
				bad(fmt.Sprintf("suppliers[%d].emails[%d]", i, j), "%q is not an address", e)
			}
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Reps {
		key := fmt.Sprintf("reps[%d]", i)
		if _, err := mail.ParseAddress(r.Email); err != nil {
			bad(key+".email", "%q is not an address", r.Email)
		}
		if seen[strings.ToLower(r.Email)] {
			bad(key+".email", "%q is listed twice", r.Email)
		}
		seen[strings.ToLower(r.Email)] = true
		im := r.IMAP
		if im.Host == "" {
			bad(key+".imap.host", "required")
		}
		switch im.TLS {
		case "implicit", "starttls", "none":
		default:
			bad(key+".imap.tls", "%q is not one of implicit, starttls, none", im.TLS)
		}
		if im.Port <= 0 || im.Port > 65535 {
			bad(key+".imap.port", "%d is not a port", im.Port)
		}
		n := 0
		for _, s := range []string{im.Password, im.PasswordEnv, im.PasswordFile, strings.Join(im.PasswordCommand, " ")} {
			if s != "" {
				n++
			}
		}
		if im.OAuth != nil {
			n++
		}
		if n != 1 {
			bad(key+".imap", "set exactly one of password_env, password_file, password_command, oauth (or password)")
		}
		c.validateRep(key, r, bad)
	}
	c.validateSync(bad)
	for i, t := range c.API.Tokens {
		if (t.Token == "") == (t.TokenEnv == "") {
			bad(fmt.Sprintf("api.tokens[%d]", i), "set exactly one of token, token_env")
		}
	}
	if c.Sync.BatchSize < 1 || c.Sync.BatchSize > 1000 {
		bad("sync.batch_size", "%d is outside 1..1000", c.Sync.BatchSize)
	}
	if d := c.Sync.VerifyEvery(); d < 0 {
		bad("sync.verify_interval", "%v is negative (0 turns the check off)", d)
	}
	errs = append(errs, c.validateFollowup()...)
	return errors.Join(errs...)
}

// Secret returns the IMAP password of a rep from wherever the config
// points. The error names the key, never the secret.
func (im IMAP) Secret() (string, error) {
	switch {
	case im.Password != "":
		return im.Password, nil
	case im.PasswordEnv != "":
		v := os.Getenv(im.PasswordEnv)
		if v == "" {
			return "", fmt.Errorf("imap.password_env: environment variable %s is empty", im.PasswordEnv)
		}
		return v, nil
	case im.PasswordFile != "":
		b, err := os.ReadFile(im.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("imap.password_file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case len(im.PasswordCommand) > 0:
		return im.runPasswordCommand()
	}
	return "", errors.New("imap: no password configured")
}

// Key returns the Meilisearch API key from api_key or api_key_env.
func (m Meilisearch) Key() string {
	if m.APIKey != "" {
		return m.APIKey
	}
	if m.APIKeyEnv != "" {
		return os.Getenv(m.APIKeyEnv)
	}
	return ""
}

// UnsetTokens names the api.tokens[i].token_env keys whose variable is
// empty: the token they stand for is not accepted.
func (a API) UnsetTokens() []string {
	var out []string
	for i, t := range a.Tokens {
		if t.TokenEnv != "" && os.Getenv(t.TokenEnv) == "" {
			out = append(out, fmt.Sprintf("api.tokens[%d].token_env: environment variable %s is empty", i, t.TokenEnv))
		}
	}
	return out
}

// TokenValues maps each API token's value to its name, resolving token_env.
func (a API) TokenValues() map[string]string {
	out := map[string]string{}
	for _, t := range a.Tokens {
		v := t.Token
		if t.TokenEnv != "" {
			v = os.Getenv(t.TokenEnv)
		}
		if v != "" {
			out[v] = t.Name
		}
	}
	return out
}
