package ingest

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/config"
)

// provider is a mail service whose refusals deserve specific advice.
type provider struct {
	name    string
	domains []string // the IMAP host or the rep's address ends with one of these
	login   string   // what to check when a login is refused
}

// providers, most specific first (exmail.qq.com before qq.com).
var providers = []provider{
	{"Tencent Exmail", []string{"exmail.qq.com"},
		"check the Exmail password; with secure login (安全登录) on, generate a client-specific password (客户端专用密码), and make sure IMAP is enabled for the account"},
	{"QQ mail", []string{"qq.com", "foxmail.com"},
		"check the authorization code (授权码) for QQ mail: it comes from Settings → Account → POP3/IMAP/SMTP service, and is not the QQ password"},
	{"163/126 mail", []string{"163.com", "126.com", "yeah.net", "188.com"},
		"check the client authorization password (客户端授权密码) for 163/126 mail: turn on IMAP in Settings → POP3/SMTP/IMAP and use the authorization password, not the web password"},
	{"Gmail", []string{"gmail.com", "googlemail.com"},
		"check the app password for Gmail (2-Step Verification must be on), or sign in with OAuth (imap.oauth, provider google)"},
	{"Microsoft 365", []string{"office365.com", "outlook.com", "hotmail.com", "live.com", "office.com"},
		"Microsoft 365 no longer accepts passwords over IMAP: sign in with OAuth (imap.oauth, provider microsoft)"},
	{"Alibaba Mail", []string{"aliyun.com", "mxhichina.com"},
		"check the password and that IMAP is enabled in Alibaba Mail's settings"},
}

func providerOf(rep config.Rep) *provider {
	host := strings.ToLower(rep.IMAP.Host)
	addr := strings.ToLower(rep.Email)
	for i, p := range providers {
		for _, d := range p.domains {
			if host == d || strings.HasSuffix(host, "."+d) {
				return &providers[i]
			}
		}
	}
	for i, p := range providers {
		for _, d := range p.domains {
			if strings.HasSuffix(addr, "@"+d) {
				return &providers[i]
			}
		}
	}
	return nil
}

// Advice says in words a person understands what went wrong with a rep's
// mailbox and what to do. It never includes a secret.
func Advice(rep config.Rep, err error) string {
	if err == nil {
		return ""
	}
	im := rep.IMAP
	addr := net.JoinHostPort(im.Host, strconv.Itoa(im.Port))
	p := providerOf(rep)
	switch ErrorKind(err) {
	case KindLogin:
		if im.OAuth != nil {
			return "IMAP login with OAuth refused: check that imap.username is the mailbox the token was issued for, that the grant includes mail access " +
				"(https://mail.google.com/ for Gmail, https://outlook.office.com/IMAP.AccessAsUser.All for Microsoft 365) and that IMAP is enabled for the mailbox"
		}
		if p != nil {
			return "IMAP login refused: " + p.login
		}
		return "IMAP login refused: check imap.username and the password"
	case KindUnsafeLogin:
		return "IMAP login refused as unsafe: " + cmpOr(p, "turn on IMAP in the mailbox settings and use the client authorization password (客户端授权密码); log in once on the web to clear a security check")
	case KindCertificate:
		return fmt.Sprintf("the TLS certificate of %s could not be verified: check imap.host, or set imap.ca_file for a server with a private CA", addr)
	case KindSecret:
		return "the password or token could not be read: " + err.Error()
	case KindOAuth:
		return "the OAuth provider refused the refresh token (revoked, expired or issued to another client): authorize mailtrail again and store the new refresh token"
	case KindThrottled:
		return fmt.Sprintf("%s is limiting connections (too many connections or a rate limit): mailtrail backs off and retries; close other mail clients of this mailbox if it persists", im.Host)
	case KindUnreachable:
		return fmt.Sprintf("cannot reach %s: check imap.host, imap.port and the network", addr)
	case KindTLS:
		return fmt.Sprintf("the TLS handshake with %s failed: check imap.tls (implicit on port 993, starttls on 143)", addr)
	case KindTimeout:
		return fmt.Sprintf("%s stopped answering: mailtrail cut the connection and retries", im.Host)
	case KindDropped:
		return fmt.Sprintf("%s closed the connection: mailtrail retries", im.Host)
	}
	return "sync failed: " + err.Error()
}

func cmpOr(p *provider, fallback string) string {
	if p != nil {
		return p.login
	}
	return fallback
}
