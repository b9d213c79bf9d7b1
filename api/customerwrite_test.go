package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/matcher"
)

// Customer domains are checked against the free-mail list in use, with
// the config's changes (matching.freemail_add/remove), not the embedded
// one: a domain the config adds is refused, one it removes is accepted.
func TestCustomerWriteUsesConfiguredFreeMail(t *testing.T) {
	f := newFixture(t, false)
	f.srv.WithFreeMail(matcher.DefaultFreeMail().With([]string{"buyers-free.example"}, []string{"gmail.com"}).Contains)
	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"POST", "/api/v1/customers", `{"name": "Gee Trading", "domains": ["gmail.com"]}`, 201, ""},
		{"POST", "/api/v1/customers", `{"name": "Free Buyers", "domains": ["mail.buyers-free.example"]}`, 400,
			"domains[0]: mail.buyers-free.example is a free-mail domain"},
		{"PATCH", "/api/v1/customers/{Delta}", `{"domains": ["delta.example", "buyers-free.example"]}`, 400,
			"domains[1]: buyers-free.example is a free-mail domain"},
		{"PATCH", "/api/v1/customers/{Delta}", `{"domains": ["delta.example", "qq.com"]}`, 400, "domains[1]: qq.com is a free-mail domain"},
	} {
		r := f.do("manager", c.method, c.path, c.body)
		if r.status != c.status || !strings.Contains(r.errorMessage(), c.message) {
			t.Errorf("%s %s %s: %d %s, want %d %q", c.method, c.path, c.body, r.status, r.body, c.status, c.message)
		}
	}
}

// A domain given as the web site (www.acme.com) is stored as the domain
// mail comes from (acme.com), unless the rest is a public suffix.
func TestCustomerWriteDropsWWW(t *testing.T) {
	f := newFixture(t, false)
	r := f.do("manager", "POST", "/api/v1/customers", `{"name": "Echo Lighting", "domains": ["www.echo.example", "WWW.Echo-Licht.DE", "www.co.uk"]}`)
	if got := fmt.Sprint(r.json(t)["domains"]); r.status != 201 || got != "[echo-licht.de echo.example www.co.uk]" {
		t.Errorf("POST: %d domains %s", r.status, got)
	}
	r = f.do("manager", "PATCH", "/api/v1/customers/{Delta}", `{"domains": ["www.delta.example", "www.sales.delta-group.example"]}`)
	if got := fmt.Sprint(r.json(t)["domains"]); r.status != 200 || got != "[delta.example sales.delta-group.example]" {
		t.Errorf("PATCH: %d domains %s", r.status, got)
	}
}
