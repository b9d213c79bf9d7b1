package matcher

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// CustomerDomain returns the normal form of a domain that a person lists
// for a customer (the domains column of an imported sheet, the domains of
// an API write), or ok=false when it is not a domain. It trims spaces and
// a leading "@", takes the host of a web address ("https://www.acme.com/
// contact", from a sheet's website column), then normalizes as Normalize
// does a domain (lower case, punycode, no trailing dot).
//
// A leading "www." label is dropped when what remains is still a
// registrable domain or below (www.acme.com is acme.com, www.sales.acme.com
// is sales.acme.com): sheets copy the company's web site, and nobody's
// mail comes from www. It is kept when the rest is a public suffix
// (www.co.uk, www.com), since then "www" is the registrable label itself.
func CustomerDomain(s string) (string, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "@"))
	if i := strings.Index(s, "://"); i >= 0 && isScheme(s[:i]) {
		s = s[i+3:]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
	}
	d, ok := normalizeDomain(s)
	if !ok {
		return "", false
	}
	return withoutWWW(d), true
}

// withoutWWW drops a leading www. label from a normalized domain when what
// remains is still a registrable domain or below: a web site's
// www.acme.com is the company's acme.com, where its mail comes from.
func withoutWWW(d string) string {
	if rest, www := strings.CutPrefix(d, "www."); www {
		if _, err := publicsuffix.EffectiveTLDPlusOne(rest); err == nil {
			return rest
		}
	}
	return d
}

func isScheme(s string) bool {
	return strings.EqualFold(s, "http") || strings.EqualFold(s, "https")
}
