package services

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDovecotSyntaxOfVersion(t *testing.T) {
	for version, want := range map[string]confSyntax{
		"2.3.19.1 (9b53102964)": syntax23, // Debian 12
		"2.3.21 (47349e2482)":   syntax23,
		"2.4.1-4 (7d8c0e5759)":  syntax24, // Debian 13
		"2.4.0 (8b2b4eb4b1)":    syntax24,
		"2.10.0":                syntax24,
		"3.0.0":                 syntax24,
	} {
		if got, err := syntaxOf(version); err != nil || got != want {
			t.Errorf("syntaxOf(%q) = %q, %v; want %q", version, got, err, want)
		}
	}
	if _, err := syntaxOf("dovecot: command not found"); err == nil {
		t.Error("syntaxOf accepted a line without a version")
	}
}

// confEntries returns each setting of a rendered dovecot.conf as key →
// values in file order; a section header "passdb static {" counts as
// setting "passdb" with value "static". Quotes around values are dropped.
func confEntries(t *testing.T, conf []byte) map[string][]string {
	t.Helper()
	entries := map[string][]string{}
	depth := 0
	for i, line := range strings.Split(string(conf), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "}":
			depth--
		case strings.HasSuffix(line, "{"):
			f := strings.Fields(strings.TrimSuffix(line, "{"))
			entries[f[0]] = append(entries[f[0]], strings.Trim(strings.Join(f[1:], " "), `"`))
			depth++
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("line %d %q: neither a setting nor a section", i+1, line)
			}
			entries[strings.TrimSpace(k)] = append(entries[strings.TrimSpace(k)], strings.Trim(strings.TrimSpace(v), `"`))
		}
		if depth < 0 {
			t.Fatalf("line %d: unbalanced }", i+1)
		}
	}
	if depth != 0 {
		t.Fatalf("%d unclosed sections", depth)
	}
	return entries
}

// The 2.4 configuration says what the 2.3 one says, in 2.4's names
// (https://doc.dovecot.org/2.4.1/installation/upgrade/2.3-to-2.4.html):
// every 2.3 setting is kept, renamed or dropped for a documented reason,
// and none of the names 2.4 refuses is left. Only a 2.4 server can show
// that it accepts the file; this checks it against the documentation.
func TestDovecot24ConfigCarriesEvery23Setting(t *testing.T) {
	v := dovecotVars{Dir: "/srv/mt/dovecot", Password: "0123abcd", PlainPort: 1143, TLSPort: 1993,
		MailUID: "107", MailGID: "113",
		Internal: account{Name: "dovecot", Group: "dovecot"}, Login: account{Name: "dovenull", Group: "dovenull"}}
	conf23, err := renderConf(syntax23, v)
	if err != nil {
		t.Fatal(err)
	}
	conf24, err := renderConf(syntax24, v)
	if err != nil {
		t.Fatal(err)
	}
	old, cur := confEntries(t, conf23), confEntries(t, conf24)
	one := func(key string) string {
		t.Helper()
		if len(cur[key]) != 1 {
			t.Fatalf("2.4 config: %s = %q, want one value", key, cur[key])
		}
		return cur[key][0]
	}

	// 2.3 name → how its value reads in 2.4, checked against the 2.3 value.
	renamed := map[string]func(old string){
		"ssl_cert": func(old string) {
			if got := one("ssl_server_cert_file"); "<"+got != old {
				t.Errorf("ssl_server_cert_file = %q, from ssl_cert = %q", got, old)
			}
		},
		"ssl_key": func(old string) {
			if got := one("ssl_server_key_file"); "<"+got != old {
				t.Errorf("ssl_server_key_file = %q, from ssl_key = %q", got, old)
			}
		},
		"disable_plaintext_auth": func(old string) {
			if old != "no" || one("auth_allow_cleartext") != "yes" {
				t.Errorf("auth_allow_cleartext = %q, from disable_plaintext_auth = %q", cur["auth_allow_cleartext"], old)
			}
		},
		"mail_location": func(old string) {
			got := one("mail_driver") + ":" + one("mail_path") + ":LAYOUT=" + one("mailbox_list_layout")
			if got != old {
				t.Errorf("mail_driver/mail_path/mailbox_list_layout give %q, from mail_location = %q", got, old)
			}
		},
		// The driver is now the block's name: passdb static, userdb static.
		"driver": func(old string) {
			if !slices.Contains(cur["passdb"], old) || !slices.Contains(cur["userdb"], old) {
				t.Errorf("passdb %q, userdb %q: want both named after driver %q", cur["passdb"], cur["userdb"], old)
			}
		},
		"args": func(old string) {
			if strings.HasPrefix(old, "password=") {
				if got := one("passdb_static_password"); got != strings.TrimPrefix(old, "password=") {
					t.Errorf("passdb_static_password = %q, from args = %q", got, old)
				}
				return
			}
			if got := one("home"); got != strings.ReplaceAll(strings.TrimPrefix(old, "home="), "%u", "%{user}") {
				t.Errorf("userdb home = %q, from args = %q", got, old)
			}
		},
		"imap_id_log": func(old string) {
			if old != "*" || one("log_debug") != "event=imap_id_received" {
				t.Errorf("log_debug = %q, from imap_id_log = %q", cur["log_debug"], old)
			}
		},
		"service_count": func(old string) {
			if old != "0" || one("restart_request_count") != "unlimited" {
				t.Errorf("restart_request_count = %q, from service_count = %q", cur["restart_request_count"], old)
			}
		},
	}
	// passdb and userdb blocks need a name now; "service anvil { chroot = }"
	// is dropped as 2.4 no longer chroots anvil.
	changed := map[string][]string{"passdb": {"static"}, "userdb": {"static"}, "service": {"imap-login"}, "chroot": {""}}

	for key, values := range old {
		if check, ok := renamed[key]; ok {
			for _, v := range values {
				check(v)
			}
			if len(cur[key]) > 0 {
				t.Errorf("2.4 config still has 2.3's %s = %q", key, cur[key])
			}
			continue
		}
		want := values
		if c, ok := changed[key]; ok {
			want = c
		}
		if !slices.Equal(cur[key], want) {
			t.Errorf("%s: 2.4 config has %q, want %q (2.3 has %q)", key, cur[key], want, values)
		}
	}

	// Required first, in this order (2.3-to-2.4.html, "Required Settings").
	var settings []string
	for _, line := range strings.Split(string(conf24), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			settings = append(settings, line)
		}
	}
	if len(settings) < 2 || settings[0] != "dovecot_config_version = 2.4.0" || settings[1] != "dovecot_storage_version = 2.4.0" {
		t.Errorf("2.4 config starts with %q, want dovecot_config_version then dovecot_storage_version", settings[:2])
	}
	// One-letter variables are gone in 2.4 (%u is %{user}); so is an
	// unnamed passdb or userdb.
	if m := regexp.MustCompile(`%[^{]`).FindString(strings.Join(settings, "\n")); m != "" {
		t.Errorf("2.4 config has a 2.3 variable %q", m)
	}
	for _, key := range []string{"passdb", "userdb"} {
		if slices.Contains(cur[key], "") {
			t.Errorf("2.4 config has an unnamed %s block", key)
		}
	}
}

// A Dovecot that refuses its configuration says why, with its version:
// started with the other major version's syntax, it exits, and the error
// carries the version and Dovecot's own complaint from its log.
func TestDovecotStartFailureShowsVersionAndLog(t *testing.T) {
	t.Parallel()
	version, err := dovecotVersion("/usr/sbin/dovecot")
	if err != nil {
		t.Fatal(err)
	}
	own, err := syntaxOf(version)
	if err != nil {
		t.Fatal(err)
	}
	wrong := syntax24
	if own == syntax24 {
		wrong = syntax23
	}
	dir := serviceDir(t)
	d, err := startDovecot(context.Background(), dir, nil, wrong)
	if err == nil {
		d.Stop()
		t.Fatalf("dovecot %s started with a %s-syntax config", version, wrong)
	}
	for _, want := range []string{
		"dovecot " + version,
		"--- " + filepath.Join(dir, "dovecot.log") + " (end) ---",
		"dovecot_config_version", // 2.3 does not know it; 2.4 requires it first
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
