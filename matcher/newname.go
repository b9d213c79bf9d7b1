package matcher

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// NewBuyerName is the name a customer created from mail gets: for a new
// domain, its registrable label in Unicode with hyphens as spaces and each
// word capitalised ("shopfitsydney.com.au" is "Shopfitsydney",
// "sunrise-trading.ae" is "Sunrise Trading", "xn--...рф" its Cyrillic
// label); for a free-mail sender, the display name when it is a name
// (not empty, not an address), else the address. Display names are never
// evidence of who someone is, but as a label for a person to read they are
// the best there is.
func NewBuyerName(r Resolution, displayName string) string {
	switch r.Class {
	case ClassNewDomain:
		return domainName(r.NewKey)
	case ClassNewEmail:
		n := strings.Join(strings.Fields(displayName), " ")
		if n == "" || strings.ContainsAny(n, "@＠") || utf8.RuneCountInString(n) > 100 {
			return r.NewKey
		}
		return n
	}
	return r.Email
}

// domainName turns a registrable domain into a company-like name.
func domainName(regdom string) string {
	label, _, _ := strings.Cut(regdom, ".")
	if u, err := idna.ToUnicode(label); err == nil {
		label = u
	}
	words := strings.FieldsFunc(label, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToTitle(r)) + w[n:]
	}
	if len(words) == 0 {
		return regdom
	}
	return strings.Join(words, " ")
}
