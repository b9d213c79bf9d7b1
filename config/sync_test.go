package config

import (
	"strings"
	"testing"
	"time"
)

func TestSyncKeysNameTheKey(t *testing.T) {
	base := "database: {url: postgres://x}\nmeilisearch: {url: http://m}\n"
	rep := func(extra string) string {
		return base + "reps: [{email: a@b.c, " + extra + "}]\n"
	}
	for _, tc := range []struct{ yaml, want string }{
		{base + "sync: {workers: 0}\n", ""}, // 0 is the default
		{base + "sync: {workers: -2}\n", "sync.workers"},
		{base + "sync: {since: 2024/01/01}\n", "sync.since"},
		{base + "sync: {max_message_size: 50 megs}\n", "sync.max_message_size"},
		{base + "sync: {max_message_size: 100}\n", "sync.max_message_size: 100 is below 1KB"},
		{base + "sync: {retry_min: 10m, retry_max: 1m}\n", "sync.retry_max"},
		{rep("since: yesterday, imap: {host: h, password: p}"), "reps[0].since"},
		{rep("folders: {include: ['']}, imap: {host: h, password: p}"), "reps[0].folders.include[0]"},
		{rep("imap: {host: h, password: p, auth: cram-md5}"), "reps[0].imap.auth"},
		{rep("imap: {host: h, password: p, auth: xoauth2}"), "reps[0].imap.auth: \"xoauth2\" needs imap.oauth"},
		{rep("imap: {host: h, password: p, oauth: {provider: google, client_id: c, refresh_token_env: R}}"), "reps[0].imap: set exactly one of"},
		{rep("imap: {host: h, oauth: {provider: yahoo, client_id: c, refresh_token_env: R}}"), "reps[0].imap.oauth.provider"},
		{rep("imap: {host: h, oauth: {provider: custom, client_id: c, refresh_token_env: R}}"), "reps[0].imap.oauth.token_url"},
		{rep("imap: {host: h, oauth: {provider: google, refresh_token_env: R}}"), "reps[0].imap.oauth.client_id"},
		{rep("imap: {host: h, oauth: {provider: google, client_id: c}}"), "reps[0].imap.oauth: set exactly one of refresh_token_env"},
		{rep("imap: {host: h, password_command: [pass, '']}"), "reps[0].imap.password_command[1]"},
	} {
		_, err := Parse([]byte(tc.yaml), "test.yaml")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSyncDefaults(t *testing.T) {
	c, err := Parse([]byte(`database: {url: postgres://x}
meilisearch: {url: http://m}
sync: {since: "2024-01-01"}
reps:
  - {email: a@b.c, imap: {host: imap.gmail.com, oauth: {provider: google, client_id: c, refresh_token_env: R}}}
  - {email: d@b.c, since: "2025-06-01", imap: {host: outlook.office365.com, oauth: {provider: microsoft, tenant: contoso.onmicrosoft.com, client_id: c, refresh_token_file: /x}}}
  - {email: e@b.c, imap: {host: imap.qq.com, password_command: [pass, show, qq]}}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sync.Workers != 8 || c.Sync.MaxMessageBytes() != 50<<20 || !c.Sync.IdleEnabled() || c.Sync.RetryMax != 30*time.Minute {
		t.Errorf("sync defaults: %+v", c.Sync)
	}
	g, m := c.Reps[0].IMAP, c.Reps[1].IMAP
	if g.Auth != "xoauth2" || g.OAuth.TokenURL != GoogleTokenURL || g.OAuth.Scope != "" {
		t.Errorf("google: %+v %+v", g, g.OAuth)
	}
	if m.OAuth.TokenURL != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" || !strings.Contains(m.OAuth.Scope, "https://outlook.office.com/IMAP.AccessAsUser.All") {
		t.Errorf("microsoft: %+v", m.OAuth)
	}
	if c.Reps[2].IMAP.Auth != "login" {
		t.Errorf("password rep auth = %q", c.Reps[2].IMAP.Auth)
	}
	if d, ok := c.SinceDate(c.Reps[0]); !ok || d.Format(time.DateOnly) != "2024-01-01" {
		t.Errorf("global since: %v %v", d, ok)
	}
	if d, _ := c.SinceDate(c.Reps[1]); d.Format(time.DateOnly) != "2025-06-01" {
		t.Errorf("rep since: %v", d)
	}
	for s, want := range map[string]int64{"50MB": 50 << 20, "512 kb": 512 << 10, "1GB": 1 << 30, "2048": 2048} {
		if n, err := ParseSize(s); err != nil || n != want {
			t.Errorf("ParseSize(%q) = %d, %v", s, n, err)
		}
	}
}
