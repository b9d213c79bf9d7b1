package matcher

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// maxAddrLen bounds the input we look at. RFC 5321 4.5.3.1 allows 64 octets
// of local part and 255 of domain; anything far longer is junk.
const maxAddrLen = 512

// idnaProfile maps Unicode domains the way a resolver would (UTS #46
// non-transitional: ß stays ß, full-width letters and "。" are mapped), but
// leniently: underscores and odd hyphens seen in real mail are accepted,
// because rejecting them would lose the message, not protect anything.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.StrictDomainName(false),
	idna.CheckHyphens(false),
)

// Normalize returns the one canonical form of an e-mail address used for
// every comparison in mailtrail, or ok=false for junk.
//
// It trims spaces; drops a "mailto:" prefix, a display name with its angle
// brackets ("Name <a@b>" takes the last <...>), and (comments) outside
// quotes; accepts a full-width "＠"; lower-cases the whole address (local
// parts are case-sensitive in RFC 5321 2.4, but no mail system we meet uses
// that); turns a Unicode domain into punycode (IDNA, UTS #46 lookup
// mapping, lenient on underscores and hyphens); strips a trailing root dot.
// A quoted local part that needs no quotes is unquoted ("a.b"@x = a.b@x).
//
// It rejects: no "@" or more than one outside quotes, an empty local part
// or domain, address literals ([1.2.3.4]), single-label domains, numeric
// TLDs (IP addresses), spaces or control characters, labels over 63
// octets, and inputs over 512 bytes.
func Normalize(addr string) (norm string, ok bool) {
	if n, ok, handled := fastNormalize(addr); handled {
		return n, ok
	}
	return normalizeSlow(addr)
}

// localByte and domainByte are the bytes the fast path accepts: RFC 5322
// 3.2.3 atext plus "." in a local part; letters, digits, "-", "_" in a
// domain label.
var localByte, domainByte = func() (l, d [256]bool) {
	for c := 0; c < 256; c++ {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		l[c] = alnum || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", byte(c)) >= 0
		d[c] = alnum || c == '-' || c == '_'
	}
	return l, d
}()

// fastNormalize handles the common case, a bare ASCII address such as
// "Buyer@Acme.co.uk", in one pass and without allocating unless it has
// upper case. handled=false sends everything else (display names, quotes,
// comments, IDN, trailing dots, odd bytes) to normalizeSlow, which gives the
// same answer on what this handles (FuzzNormalize checks).
func fastNormalize(s string) (norm string, ok, handled bool) {
	if len(s) > maxAddrLen {
		return "", false, false
	}
	at, upper, labels, labelStart := -1, false, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '@':
			if at >= 0 || i == 0 || i > 128 {
				return "", false, false
			}
			at, labelStart = i, i+1
			continue
		case c >= 'A' && c <= 'Z':
			upper = true
		}
		switch {
		case at < 0:
			if !localByte[c] {
				return "", false, false
			}
		case c == '.':
			if i == labelStart || i-labelStart > 63 {
				return "", false, false
			}
			labels, labelStart = labels+1, i+1
		case !domainByte[c]:
			return "", false, false
		}
	}
	last := s[labelStart:]
	if at < 0 || labels == 0 || last == "" || len(last) > 63 || len(s)-at-1 > 253 || isNumeric(last) {
		return "", false, false
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true, true
}

// normalizeSlow is the general path of Normalize.
func normalizeSlow(addr string) (norm string, ok bool) {
	s := strings.TrimSpace(addr)
	if s == "" || len(s) > maxAddrLen || !utf8.ValidString(s) {
		return "", false
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		rest := s[i+1:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			rest = rest[:j]
		}
		s = rest
	} else if strings.ContainsRune(s, '(') {
		s = stripComments(s)
	}
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	s = strings.ReplaceAll(s, "＠", "@")

	at := lastAtOutsideQuotes(s)
	if at <= 0 || at == len(s)-1 {
		return "", false
	}
	local, ok := normalizeLocal(s[:at])
	if !ok {
		return "", false
	}
	domain, ok := normalizeDomain(s[at+1:])
	if !ok {
		return "", false
	}
	if len(local)+1+len(domain) == len(s) && local == s[:at] && domain == s[at+1:] {
		return s, true // already canonical: no allocation on the hot path
	}
	return local + "@" + domain, true
}

// stripComments removes RFC 5322 3.2.2 comments, "(...)", outside quotes.
func stripComments(s string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '(' && !quoted:
			depth++
			continue
		case c == ')' && !quoted && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func lastAtOutsideQuotes(s string) int {
	at, quoted, n := -1, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			i++ // quoted-pair
		case '@':
			if !quoted {
				at = i
				n++
			}
		}
	}
	if n != 1 {
		return -1
	}
	return at
}

// normalizeLocal folds a local part and checks it holds nothing that
// cannot be in an address. RFC 6531 allows UTF-8 local parts, and RFC 6532
// 3.1 asks for them in NFC; we fold further, to NFKC, as UTS #46 does for
// domains: full-width letters typed on Chinese keyboards ("ｊｏｈｎ") are
// ASCII, and a decomposed "ö" is the precomposed one. Then it is
// lower-cased (and composed again, since lower-casing can leave a
// string that NFKC would change, and Normalize must be idempotent).
func normalizeLocal(l string) (string, bool) {
	if l == "" || len(l) > 128 {
		return "", false
	}
	if !isASCII(l) {
		l = norm.NFKC.String(strings.ToLower(norm.NFKC.String(l)))
		if len(l) > 128 {
			return "", false
		}
	}
	if l[0] == '"' {
		if len(l) < 3 || l[len(l)-1] != '"' {
			return "", false
		}
		inner := l[1 : len(l)-1]
		if isDotAtom(inner) {
			return strings.ToLower(inner), true
		}
		for _, r := range inner {
			if unicode.IsControl(r) {
				return "", false
			}
		}
		return strings.ToLower(l), true
	}
	if !isDotAtom(l) {
		return "", false
	}
	return strings.ToLower(l), true
}

// isDotAtom is RFC 5322 3.2.3 dot-atom, extended to non-ASCII (RFC 6531),
// and lenient about leading, trailing and doubled dots, which real senders
// (old Japanese carriers) use.
func isDotAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x80 {
			if r <= ' ' || r == 0x7f || strings.ContainsRune(`"(),:;<>@[\]`, r) {
				return false
			}
			continue
		}
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// normalizeDomain returns the lower-case punycode form of a domain, or false.
func normalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(strings.TrimSpace(d), ".")
	if d == "" || d[0] == '[' || len(d) > 253*2 {
		return "", false
	}
	if !isASCII(d) {
		a, err := idnaProfile.ToASCII(d)
		if err != nil {
			return "", false
		}
		d = strings.TrimSuffix(a, ".")
	}
	d = strings.ToLower(d)
	if len(d) > 253 {
		return "", false
	}
	labels, start := 0, 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
			continue
		}
		if i == start || i-start > 63 {
			return "", false
		}
		labels++
		start = i + 1
	}
	if labels < 2 || isNumeric(d[strings.LastIndexByte(d, '.')+1:]) {
		return "", false
	}
	return d, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitAddr splits a normalised address; the domain never contains "@".
func splitAddr(norm string) (local, domain string) {
	at := strings.LastIndexByte(norm, '@')
	return norm[:at], norm[at+1:]
}

// registrable returns the registrable domain (eTLD+1, public suffix list)
// and its label without the suffix: "sales.acme.co.uk" gives "acme.co.uk"
// and "acme". A domain that is itself a public suffix, or has no listed
// suffix parent, is returned as is, with its first label.
func registrable(d string) (regdom, label string) {
	reg, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		reg = d
	}
	label = reg
	if i := strings.IndexByte(reg, '.'); i >= 0 {
		label = reg[:i]
	}
	return reg, label
}

// isPublicSuffix reports whether d is itself a public suffix ("co.uk"),
// which must never be indexed as anyone's domain.
func isPublicSuffix(d string) bool {
	ps, _ := publicsuffix.PublicSuffix(d)
	return ps == d
}

// parents calls f with d and each parent domain of d down to two labels,
// most specific first, until f returns true. It allocates nothing: this is
// the hot path of domain matching.
func parents(d string, f func(string) bool) bool {
	for {
		if f(d) {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 || strings.IndexByte(d[i+1:], '.') < 0 {
			return false
		}
		d = d[i+1:]
	}
}
