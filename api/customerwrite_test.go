package api

import (
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
