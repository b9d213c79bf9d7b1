package services

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"text/template"
)

// confSyntax names a Dovecot configuration syntax: "2.3" (dovecotConf) or
// "2.4" (dovecotConf24). Dovecot 2.4 refuses 2.3 configurations outright.
type confSyntax string

const (
	syntax23 confSyntax = "2.3"
	syntax24 confSyntax = "2.4"
)

// dovecotVersion returns what `dovecot --version` prints, e.g.
// "2.3.19.1 (9b53102964)" on Debian 12 or "2.4.1-4 (7d8c0e5759)" on 13.
func dovecotVersion(bin string) (string, error) {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v: %s", bin, err, bytes.TrimSpace(out))
	}
	return string(bytes.TrimSpace(out)), nil
}

var versionPrefix = regexp.MustCompile(`^(\d+)\.(\d+)`)

// syntaxOf returns the configuration syntax a version reads: 2.4 for 2.4
// and later, 2.3 before.
func syntaxOf(version string) (confSyntax, error) {
	m := versionPrefix.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("dovecot version %q: want major.minor first", version)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major > 2 || major == 2 && minor >= 4 {
		return syntax24, nil
	}
	return syntax23, nil
}

// renderConf writes the configuration for v in the given syntax.
func renderConf(syntax confSyntax, v dovecotVars) ([]byte, error) {
	t := dovecotConf
	switch syntax {
	case syntax23:
	case syntax24:
		t = dovecotConf24
	default:
		return nil, fmt.Errorf("dovecot config syntax %q: want %s or %s", syntax, syntax23, syntax24)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// dovecotConf24 is dovecotConf in Dovecot 2.4's syntax: the same servers,
// users, mail layout and folders, setting for setting. Renamed settings
// cite their page; the base for all of them is
// https://doc.dovecot.org/2.4.1/installation/upgrade/2.3-to-2.4.html
// (Debian 13 ships 2.4.1). Settings not commented here kept their 2.3 name.
// When written, this file ran the package's tests against Debian 13's
// Dovecot 2.4.1-4, as root and not.
var dovecotConf24 = confTemplate(`# Written by mailtrail internal/services on every start; edits are lost.
# Must come first, then the storage version (2.3-to-2.4.html, "Required
# Settings"); 2.4.0 pins the defaults every later 2.4.x started from.
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
{{template "server" .}}
# ssl_cert and ssl_key were renamed and take a path, not "<path" (2.3-to-2.4.html,
# "Converted Settings"; https://doc.dovecot.org/2.4.1/core/settings/types.html "File").
ssl_server_cert_file = {{.Dir}}/tls/cert.pem
ssl_server_key_file = {{.Dir}}/tls/key.pem
# disable_plaintext_auth = no became auth_allow_cleartext = yes (2.3-to-2.4.html).
auth_allow_cleartext = yes
{{template "users" .}}
# mail_location = maildir:~/Maildir:LAYOUT=fs, split into mail_* settings
# (https://doc.dovecot.org/2.4.1/core/config/mail_location.html). With the fs
# layout INBOX is still Maildir's root, folder F is Maildir/F
# (https://doc.dovecot.org/2.4.1/core/config/mailbox_formats/maildir.html).
# fs: folder names may contain dots, like on most real servers.
mail_driver = maildir
mail_path = ~/Maildir
mailbox_list_layout = fs

# passdb and userdb blocks need a name, which is also their driver; args and
# %u are gone: static's password is passdb_static_password, userdb fields go
# in fields { } and %u is %{user}
# (https://doc.dovecot.org/2.4.1/core/config/auth/databases/static.html,
# https://doc.dovecot.org/2.4.1/core/settings/syntax.html,
# https://doc.dovecot.org/2.4.1/core/settings/variables.html).
passdb static {
  passdb_static_password = {{.Password}}
}
userdb static {
  fields {
    home = {{.Dir}}/mail/%{user}
  }
}

service imap-login {
  chroot =
  # Benchmarks keep hundreds of TLS sessions open, and a login process
  # stays as the TLS proxy of its session: let one process serve many
  # (Dovecot's high-performance mode) rather than one each, capped at 100.
  # service_count = 0 became restart_request_count = unlimited; 0 is now an
  # error (2.3-to-2.4.html, "Converted Settings";
  # https://doc.dovecot.org/2.4.1/core/config/login_processes.html).
  restart_request_count = unlimited
{{template "listeners" .}}
}
# 2.3's "service anvil { chroot = }" is gone: anvil is no longer chrooted
# (2.3-to-2.4.html, "Changed Default Settings").
protocol imap {
  # Tests and benchmarks open many sessions per user from one address.
  mail_max_userip_connections = 1000
}
# 2.3's imap_id_log is gone: the imap_id_received event it became is
# logged at debug level, as "ID sent: ..." under the user's name once
# logged in (2.3-to-2.4.html, "Removed Features"; imap/cmd-id.c). Tests
# check that mailtrail sends ID after login.
log_debug = event=imap_id_received

{{template "folders" .}}
`)

// confParts are the lines both syntaxes write alike. The one folder name
// that is not an atom is quoted: 2.4 needs it, 2.3 reads it the same.
var confParts = template.Must(template.New("parts").Parse(`
{{- define "server"}}base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Dir}}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes{{end}}
{{- define "users"}}auth_mechanisms = plain login
auth_verbose = yes
first_valid_uid = 1
default_internal_user = {{.Internal.Name}}
default_internal_group = {{.Internal.Group}}
default_login_user = {{.Login.Name}}
{{- if .MailUID}}
mail_uid = {{.MailUID}}
mail_gid = {{.MailGID}}
{{- end}}{{end}}
{{- define "listeners"}}  client_limit = 4000
  inet_listener imap {
    port = {{.PlainPort}}
  }
  inet_listener imaps {
    port = {{.TLSPort}}
    ssl = yes
  }{{end}}
{{- define "folders"}}namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox "已发送" {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}{{end}}`))

// confTemplate parses text, a whole configuration, with confParts.
func confTemplate(text string) *template.Template {
	t := template.Must(confParts.Clone())
	return template.Must(t.New("dovecot.conf").Parse(text))
}
