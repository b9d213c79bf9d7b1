// Package config loads mailtrail's YAML configuration, applies environment
// overrides and checks it. Secrets are referenced (password_env,
// password_file, token_env) rather than inlined where possible, and are never
// part of an error message or a log line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mailtrail/mailtrail/matcher"
)

// Config is the whole configuration file. Every key is documented in
// configs/mailtrail.example.yaml.
type Config struct {
	Database    Database    `yaml:"database"`
	Meilisearch Meilisearch `yaml:"meilisearch"`
	Company     Company     `yaml:"company"`
	Suppliers   []Supplier  `yaml:"suppliers"`
	Reps        []Rep       `yaml:"reps"`
	API         API         `yaml:"api"`
	Sync        Sync        `yaml:"sync"`
	Matching    Matching    `yaml:"matching"`
	Followup    Followup    `yaml:"followup"`
	Pool        Pool        `yaml:"pool"`
	Classify    Classify    `yaml:"classify"`
}

// Classify points at the admin's own kind and noise rules.
type Classify struct {
	// RulesFile is a YAML file of rules in the form of classify/rules.yaml
	// (which is the default, built in): copy it, edit it, point here, and
	// run `mailtrail reclassify` to apply it to the stored mail.
	RulesFile string `yaml:"rules_file"`
}

type Database struct {
	URL string `yaml:"url"`
}

type Meilisearch struct {
	URL       string `yaml:"url"`
	APIKey    string `yaml:"api_key"`
	APIKeyEnv string `yaml:"api_key_env"`
	Index     string `yaml:"index"`
}

// Company is our own side: mail among Domains only is internal.
type Company struct {
	Name    string   `yaml:"name"`
	Domains []string `yaml:"domains"`
}

// Supplier is a factory we buy from: never a customer.
type Supplier struct {
	Name    string   `yaml:"name"`
	Domains []string `yaml:"domains"`
	Emails  []string `yaml:"emails"`
}

// Rep is a sales rep whose mailbox is captured.
type Rep struct {
	Email   string   `yaml:"email"`
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
	IMAP    IMAP     `yaml:"imap"`
	// Since limits how far back a first sync goes for this rep
	// (YYYY-MM-DD); empty: sync.since.
	Since   string  `yaml:"since"`
	Folders Folders `yaml:"folders"`
}

// IMAP says how to reach a rep's mailbox.
type IMAP struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`
	TLS          string `yaml:"tls"` // implicit (default), starttls, none
	Username     string `yaml:"username"`
	Password     string `yaml:"password"` // discouraged: prefer password_env or password_file
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// InsecureSkipVerify turns off certificate checks; only for test servers.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// CAFile adds a CA (PEM) to trust, for servers with a private CA.
	CAFile string `yaml:"ca_file"`
	// PasswordCommand is run without a shell (program and arguments); its
	// standard output, trimmed, is the password.
	PasswordCommand []string `yaml:"password_command"`
	// Auth is the login mechanism: login (default), plain, xoauth2 or
	// oauthbearer (default xoauth2 when oauth is set).
	Auth  string `yaml:"auth"`
	OAuth *OAuth `yaml:"oauth"`
}

type API struct {
	Listen string  `yaml:"listen"`
	Tokens []Token `yaml:"tokens"`
}

// Token is a bearer token accepted by the API.
type Token struct {
	Name     string `yaml:"name"`
	Token    string `yaml:"token"`
	TokenEnv string `yaml:"token_env"`
}

// Sync tunes the mailbox sync loops.
type Sync struct {
	Interval  time.Duration `yaml:"interval"`   // poll interval per mailbox (default 60s)
	BatchSize int           `yaml:"batch_size"` // UIDs per UID FETCH (default 100)
	Timeout   time.Duration `yaml:"timeout"`    // deadline of one IMAP command (default 60s)
	Workers   int           `yaml:"workers"`    // mailboxes synced at once (default 8)
	// Since limits how far back a first sync goes (YYYY-MM-DD); empty: all.
	Since string `yaml:"since"`
	// MaxMessageSize: bigger messages are stored with their headers only
	// (default 50MB; a number of bytes or with KB/MB/GB).
	MaxMessageSize string `yaml:"max_message_size"`
	// Idle: wait for new INBOX mail with IMAP IDLE where the server has it
	// (default true).
	Idle     *bool         `yaml:"idle"`
	RetryMin time.Duration `yaml:"retry_min"` // first backoff after a temporary failure (default 5s)
	RetryMax time.Duration `yaml:"retry_max"` // longest backoff (default 30m)
	// VerifyInterval: how often serve runs the completeness check (default
	// 6h; 0 turns it off). A pointer, so that an explicit 0 is kept.
	VerifyInterval *Interval `yaml:"verify_interval"`
}

// Matching controls customer matching and auto-creation.
type Matching struct {
	// AutoCreate: "all" (default: unknown corporate domains and unknown
	// free-mail senders become customers), "corporate" (domains only) or "off".
	AutoCreate string `yaml:"auto_create"`
	// FreeMailFile replaces the embedded free-mail list with the domains
	// of a file (one a line, "#" comments); FreeMailAdd and FreeMailRemove
	// apply on top of either. See Matching.FreeMail.
	FreeMailFile   string           `yaml:"freemail_file"`
	FreeMailAdd    []string         `yaml:"freemail_add"`
	FreeMailRemove []string         `yaml:"freemail_remove"`
	freeMailFile   matcher.FreeMail // FreeMailFile as Validate read it

	// RequireReply: a new buyer becomes a customer only once a rep has
	// written to them; until then their mail is stored as pending_reply
	// and goes on their timeline when the rep replies.
	RequireReply bool `yaml:"require_reply"`
}

// Load reads the file at path (YAML), applies the MAILTRAIL_* environment
// overrides and defaults, and validates the result. An unknown key is an
// error naming it and its line.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b, path)
}

// Parse is Load on bytes; name is used in error messages.
func Parse(b []byte, name string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %s", name, strings.ReplaceAll(err.Error(), "yaml: ", ""))
	}
	c.applyEnv()
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return &c, nil
}

func (c *Config) applyEnv() {
	if v := os.Getenv("MAILTRAIL_DATABASE_URL"); v != "" {
		c.Database.URL = v
	}
	if v := os.Getenv("MAILTRAIL_MEILI_URL"); v != "" {
		c.Meilisearch.URL = v
	}
	if v := os.Getenv("MAILTRAIL_MEILI_KEY"); v != "" {
		c.Meilisearch.APIKey = v
	}
}

func (c *Config) applyDefaults() {
	if c.Meilisearch.Index == "" {
		c.Meilisearch.Index = "mailtrail"
	}
	if c.API.Listen == "" {
		c.API.Listen = "127.0.0.1:8080"
	}
	if c.Sync.Interval == 0 {
		c.Sync.Interval = 60 * time.Second
	}
	if c.Sync.BatchSize == 0 {
		c.Sync.BatchSize = 100
	}
	if c.Sync.Timeout == 0 {
		c.Sync.Timeout = 60 * time.Second
	}
	c.applySyncDefaults()
	if c.Matching.AutoCreate == "" {
		c.Matching.AutoCreate = "all"
	}
	c.Followup.applyDefaults()
	for i := range c.Reps {
		im := &c.Reps[i].IMAP
		if im.TLS == "" {
			im.TLS = "implicit"
		}
		if im.Port == 0 {
			switch im.TLS {
			case "implicit":
				im.Port = 993
			default:
				im.Port = 143
			}
		}
		if im.Username == "" {
			im.Username = c.Reps[i].Email
		}
	}
}

// Finish applies defaults and validates a config built in code (the demo,
// tests), as Parse does for a file. Environment overrides are not applied.
func (c *Config) Finish() error {
	c.applyDefaults()
	return c.Validate()
}

// Rep returns the configured rep whose address is email, in any case.
func (c *Config) Rep(email string) (Rep, bool) {
	for _, r := range c.Reps {
		if strings.EqualFold(r.Email, email) {
			return r, true
		}
	}
	return Rep{}, false
}
