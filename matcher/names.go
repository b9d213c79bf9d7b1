package matcher

import (
	"hash/maphash"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Display names are never evidence of who a sender is, but a display name
// that carries a customer's company name or a contact's name on an address
// that is not that customer's is the signature of invoice fraud and
// phishing ("Sunrise Trading LLC <accounts@sunrise-trading.net>"). Names
// are reduced to tokens (accents and case folded, punctuation dropped,
// legal forms such as LLC, GmbH, S.A.S., ООО removed) and looked up as
// contiguous token runs of the display name, hashed, so a lookup is a few
// dozen map probes whatever the number of customers.

const (
	maxNameTokens = 24      // display-name tokens looked at; the rest is noise
	maxRunTokens  = 10      // longest indexed name, in tokens
	contactFlag   = 1 << 30 // keeps values positive: companies sort before contacts
)

// legalForms are company-form tokens (after dots are removed: "S.A.S." is
// "sas", "Sp. z o.o." is "sp z oo") that say nothing about which company.
var legalForms = setOf(
	"llc", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "plc", "llp", "lp",
	"gmbh", "ag", "kg", "ohg", "ug", "mbh", "ev", "sa", "sas", "sarl", "srl", "spa", "sl", "slu",
	"sau", "bv", "nv", "oy", "ab", "as", "aps", "asa", "pty", "pte", "sdn", "bhd", "lda", "ltda",
	"eireli", "cv", "wll", "est", "fze", "fzco", "fzc", "fzllc", "kk", "jsc", "ojsc", "pjsc", "cjsc",
	"sp", "z", "oo", "sro", "spol", "kft", "zrt", "doo", "eood", "ood", "tbk", "pt", "snc", "ooo",
	"oao", "zao", "pao", "ao", "ип", "ооо", "оао", "зао", "пао", "тов",
)

// fillers are dropped at the ends of a name only ("S.A. de C.V." leaves a
// trailing "de").
var fillers = setOf("de", "del", "y", "e", "and", "the", "of", "und", "&")

// genericWords: a name made only of these ("Lighting Supply", "LED Trading")
// would flag every buyer in the trade, so it is not indexed.
var genericWords = setOf(
	"lighting", "light", "lights", "led", "leds", "lamp", "lamps", "electric", "electrical",
	"electricals", "electronics", "electro", "trading", "trade", "traders", "supply", "supplies",
	"solutions", "solution", "company", "group", "international", "intl", "industries", "industrial",
	"technology", "technologies", "tech", "enterprise", "enterprises", "services", "service",
	"import", "export", "global", "world", "general", "distribution", "distributors", "distributor",
	"store", "shop", "sales", "holding", "holdings", "energy", "solar", "power", "lux", "products",
	"wholesale", "contracting", "engineering", "systems", "home", "house", "new", "best", "star",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// nameTokens folds a name to comparable tokens: NFKD with marks removed,
// lower case, dots deleted (so initials and legal forms stay one token),
// every other non-letter/digit a separator.
func nameTokens(s string, dst []string) []string {
	s = norm.NFKD.String(s)
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			dst = append(dst, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || r == '.':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// companyCore is the indexed form of a company name: tokens without legal
// forms and end fillers; nil if nothing distinctive is left.
func companyCore(name string) []string {
	var out []string
	for _, t := range nameTokens(name, nil) {
		if !legalForms[t] {
			out = append(out, t)
		}
	}
	out = trimFillers(out)
	generic, letters := true, 0
	for _, t := range out {
		letters += len([]rune(t))
		if !genericWords[t] {
			generic = false
		}
	}
	if generic || letters < 4 || len(out) > maxRunTokens {
		return nil
	}
	return out
}

// contactCore is the indexed form of a person's name: at least two tokens
// ("Rashid Al Mansoori"), or one token of two or more CJK/Hangul/Kana
// characters ("何嘉欣"), since a lone Latin first name matches half the world.
func contactCore(name string) []string {
	toks := nameTokens(name, nil)
	if len(toks) == 0 || len(toks) > maxRunTokens {
		return nil
	}
	if len(toks) == 1 {
		n := 0
		for _, r := range toks[0] {
			if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) {
				n++
			}
		}
		if n < 2 {
			return nil
		}
	}
	letters := 0
	for _, t := range toks {
		letters += len([]rune(t))
	}
	if letters < 2 {
		return nil
	}
	return toks
}

func trimFillers(t []string) []string {
	for len(t) > 0 && fillers[t[0]] {
		t = t[1:]
	}
	for len(t) > 0 && fillers[t[len(t)-1]] {
		t = t[:len(t)-1]
	}
	return t
}

type nameIndex struct {
	seed maphash.Seed
	m    hashMulti[uint64] // hash of tokens joined by " " -> cust index | contactFlag
}

func newNameIndex() *nameIndex {
	return &nameIndex{seed: maphash.MakeSeed()}
}

func (x *nameIndex) hash(toks []string) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	for i, t := range toks {
		if i > 0 {
			h.WriteByte(' ')
		}
		h.WriteString(t)
	}
	return h.Sum64()
}

// add indexes a core. When several customers claim a name, the lookup
// returns the company name before any contact name, then the lowest
// customer index (callers add customers in ID order).
func (x *nameIndex) add(core []string, cust int32, contact bool) {
	if len(core) == 0 {
		return
	}
	v := cust
	if contact {
		v |= contactFlag
	}
	x.m.add(x.hash(core), v)
}

// seal keeps one value per name: the smallest, which is a company name
// before a contact name, then the lowest customer index.
func (x *nameIndex) seal() { x.m.seal(true) }

func (x *nameIndex) first(h uint64) (int32, bool) {
	var v int32
	ok := false
	x.m.each(h, func(got int32) bool { v, ok = got, true; return false })
	return v, ok
}

// find looks for any indexed name as a contiguous token run of a display
// name, ignoring legal forms there too. It returns the customer index and
// whether it was a contact's name; company names win over contact names,
// then the longest run.
func (x *nameIndex) find(display string) (cust int32, contact, ok bool) {
	if x.m.len() == 0 || strings.TrimSpace(display) == "" {
		return 0, false, false
	}
	var buf [maxNameTokens]string
	toks := buf[:0]
	for _, t := range nameTokens(display, nil) {
		if !legalForms[t] && len(toks) < maxNameTokens {
			toks = append(toks, t)
		}
	}
	bestLen, best := 0, int32(0)
	var h maphash.Hash
	h.SetSeed(x.seed)
	for i := range toks {
		h.Reset()
		for j := i; j < len(toks) && j-i < maxRunTokens; j++ {
			if j > i {
				h.WriteByte(' ')
			}
			h.WriteString(toks[j])
			v, hit := x.first(h.Sum64())
			if !hit {
				continue
			}
			n := j - i + 1
			isCompany := v&contactFlag == 0
			bestIsCompany := bestLen > 0 && best&contactFlag == 0
			if bestLen == 0 || (isCompany && !bestIsCompany) || (isCompany == bestIsCompany && n > bestLen) {
				best, bestLen = v, n
			}
		}
	}
	if bestLen == 0 {
		return 0, false, false
	}
	return best &^ contactFlag, best&contactFlag != 0, true
}
