package timeline

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NameKey reduces a company name to the form two records of one company
// share: compatibility-folded (full-width letters, "，"), accents and case
// dropped, dots deleted so that "L.L.C." is "llc", every other punctuation
// mark a separator; legal forms trimmed from the end (and the few written
// first, ООО or PT, from the start), CJK legal forms from either end,
// fillers ("the", a trailing "de") from both ends and conjunctions ("&",
// "and") everywhere; the remaining words joined without spaces, so that
// "Luz Forte" and "LuzForte" meet. "Sunrise Trading L.L.C." and "SUNRISE
// TRADING LLC" are "sunrisetrading", "ООО «Светлый Дом»" is "светлыидом"
// and "光明照明有限公司" is "光明照明". It returns "" when nothing
// distinctive is left (a name that is only a legal form, or one letter).
func NameKey(name string) string {
	s := norm.NFKC.String(name)
	s = stripCJKForms(s)
	s = norm.NFKD.String(s)
	var toks []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r) || r == '.' || r == '\'' || r == '’':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	for changed := true; changed && len(toks) > 0; {
		changed = false
		if t := toks[len(toks)-1]; legalForms[t] || nameFillers[t] {
			toks, changed = toks[:len(toks)-1], true
		} else if n := spacedForm(toks); n > 0 {
			toks, changed = toks[:len(toks)-n], true
		}
		if len(toks) > 0 && (prefixForms[toks[0]] || nameFillers[toks[0]]) {
			toks, changed = toks[1:], true
		}
	}
	kept := toks[:0]
	for _, t := range toks {
		if !conjunctions[t] {
			kept = append(kept, t)
		}
	}
	key := strings.Join(kept, "")
	if len([]rune(key)) < 2 {
		return ""
	}
	return key
}

// spacedForm returns how many single-letter tokens at the end of toks
// spell a legal form when put together ("S. A." and "C. V." are "s", "a"
// and "c", "v" once the dots are gone), or 0. Up to four letters: the
// longest initialism among legalForms.
func spacedForm(toks []string) int {
	run := 0
	for run < len(toks) && run < 4 && utf8.RuneCountInString(toks[len(toks)-1-run]) == 1 {
		run++
	}
	for n := run; n >= 2; n-- {
		if legalForms[strings.Join(toks[len(toks)-n:], "")] {
			return n
		}
	}
	return 0
}

// legalForms are company-form words as NameKey sees them (dots removed:
// "S.A." is "sa", "Sp. z o.o." is "sp", "z", "oo"). They are dropped only
// at the end of a name, where they say nothing about which company it is
// (and "As" or "Co" inside a name stays).
var legalForms = wordSet(
	"llc", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "plc", "llp", "lp",
	"gmbh", "ag", "kg", "kgaa", "ohg", "ug", "mbh", "ev", "sa", "sas", "sarl", "srl", "spa", "sl", "slu",
	"sau", "sac", "saa", "sapi", "bv", "nv", "oy", "oyj", "ab", "as", "aps", "asa", "pty", "pte",
	"sdn", "bhd", "lda", "ltda", "eireli", "cv", "wll", "est", "fze", "fzco", "fzc", "fzllc",
	"fzlle", "kk", "jsc", "ojsc", "pjsc", "cjsc", "sp", "z", "oo", "sro", "spol", "kft", "zrt",
	"doo", "eood", "ood", "tbk", "pt", "snc", "sci", "ooo", "oao", "zao", "pao", "ao", "ип", "ооо",
	"оао", "зао", "пао", "ао", "тов", "тоо", "чп", "ltdco", "coltd", "pvt", "private", "company",
)

// prefixForms are the legal forms written before the name ("ООО
// «Светлый Дом»", "PT Maju Jaya", "CV Sinar").
var prefixForms = wordSet("ooo", "oao", "zao", "pao", "ao", "ип", "ооо", "оао", "зао", "пао", "ао", "тов", "тоо", "чп", "pt", "cv")

// nameFillers are dropped at the ends ("S.A. de C.V." leaves "de" behind,
// "The" opens many names); conjunctions everywhere ("Tan & Lim" = "Tan and
// Lim").
var (
	nameFillers  = wordSet("de", "del", "the", "of", "y", "e", "and", "und", "et")
	conjunctions = wordSet("and", "und", "et", "y", "e")
)

// cjkForms are legal forms written without spaces in Chinese, Japanese and
// Korean names, longest first so that 股份有限公司 goes before 有限公司.
var cjkForms = []string{
	"股份有限公司", "有限责任公司", "有限責任公司", "集团有限公司", "集團有限公司", "有限公司",
	"股份公司", "株式会社", "有限会社", "合同会社", "주식회사", "(주)", "集团", "集團", "公司",
}

// stripCJKForms removes CJK legal forms from the start and the end of s,
// repeatedly ("集团有限公司" ends in two of them).
func stripCJKForms(s string) string {
	s = strings.TrimSpace(s)
	if slices.Contains(cjkForms, s) {
		return ""
	}
	for changed := true; changed; {
		changed = false
		for _, f := range cjkForms {
			if t, ok := strings.CutSuffix(s, f); ok && strings.TrimSpace(t) != "" {
				s, changed = strings.TrimSpace(t), true
			}
			if t, ok := strings.CutPrefix(s, f); ok && strings.TrimSpace(t) != "" {
				s, changed = strings.TrimSpace(t), true
			}
		}
	}
	return s
}

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
