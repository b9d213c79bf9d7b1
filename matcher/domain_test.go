package matcher

import "testing"

func TestCustomerDomain(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"acme.com", "acme.com", true},
		{" www.acme.com ", "acme.com", true},
		{"WWW.Acme.COM.", "acme.com", true},
		{"@www.acme.com", "acme.com", true},
		{"www.sales.acme.co.uk", "sales.acme.co.uk", true}, // below the registrable domain
		{"www.acme.co.uk", "acme.co.uk", true},
		{"www.acme.example", "acme.example", true}, // an unlisted TLD counts as a suffix
		{"www.bücher.de", "xn--bcher-kva.de", true},
		{"www.co.uk", "www.co.uk", true}, // the rest is a public suffix: www is the company
		{"www.com", "www.com", true},
		{"www.example", "www.example", true},
		{"wwwacme.com", "wwwacme.com", true},
		{"www2.acme.com", "www2.acme.com", true},
		{"mail.www.acme.com", "mail.www.acme.com", true},       // only a leading label
		{"https://www.acme.com/contact?x=1", "acme.com", true}, // a web site column
		{"HTTP://Sales.Acme.com", "sales.acme.com", true},
		{"http://acme.com#top", "acme.com", true},
		{"ftp://acme.com", "", false},
		{"not a domain", "", false},
		{"localhost", "", false},
		{"www.", "", false},
		{"", "", false},
	} {
		got, ok := CustomerDomain(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("CustomerDomain(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
