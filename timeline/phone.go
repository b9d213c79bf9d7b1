package timeline

import (
	"cmp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Phone is one number of a customer's phone field, as duplicate detection
// compares it (see SamePhone).
type Phone struct {
	// Digits are the number's digits, without an extension and without
	// the "00" of an international prefix.
	Digits string
	// Intl: written with "+" or "00", so Digits start with the country
	// code.
	Intl bool
}

// minNSN is the fewest digits a national number may have to be compared:
// shorter ones are placeholders or extensions, not phones.
const minNSN = 7

// Phones reads the numbers in a phone field: a field may hold several,
// separated by ";", "," or "/"; an extension ("ext 12", "x12") is cut off;
// full-width digits count ("０２１"). Numbers of fewer than 7 digits are
// dropped.
func Phones(field string) []Phone {
	var out []Phone
	for _, part := range strings.FieldsFunc(field, func(r rune) bool { return r == ';' || r == ',' || r == '/' }) {
		var b strings.Builder
		plus := false
		for _, r := range norm.NFKC.String(part) {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else if r == '+' && b.Len() == 0 {
				plus = true
			} else if unicode.IsLetter(r) && b.Len() >= minNSN {
				break // "ext. 12", "x12"
			}
		}
		p := Phone{Digits: b.String(), Intl: plus}
		if d, ok := strings.CutPrefix(p.Digits, "00"); ok {
			p.Digits, p.Intl = d, true
		}
		if len(p.Digits) >= minNSN {
			out = append(out, p)
		}
	}
	return out
}

// phoneReading is one way to read a number: a country code ("" when the
// number does not say) and the national significant number (E.164).
type phoneReading struct{ cc, nsn string }

// readings returns the ways p can be read:
//
//   - international ("+86 21 5555 0183", "0086 ..."): the country code is
//     taken off, and a "0" right after it ("+44 (0)20 ...", Italy's "+39
//     02 ...") as well;
//   - national with a trunk "0" ("021 5555 0183"): the 0 is taken off, the
//     country is unknown;
//   - bare digits ("13800138000", or "4989218044" from a spreadsheet cell
//     that lost its "+"): both as written, country unknown, and as an
//     international number.
//
// Readings whose national number is shorter than minNSN are left out.
func (p Phone) readings() []phoneReading {
	if len(p.Digits) < minNSN {
		return nil
	}
	var rs []phoneReading
	add := func(cc, nsn string) {
		if len(nsn) >= minNSN {
			rs = append(rs, phoneReading{cc, nsn})
		}
	}
	intl := func() {
		n := countryCodeLen(p.Digits)
		add(p.Digits[:n], strings.TrimPrefix(p.Digits[n:], "0"))
	}
	switch {
	case p.Intl:
		intl()
	case p.Digits[0] == '0':
		add("", p.Digits[1:])
	default:
		add("", p.Digits)
		intl()
	}
	return rs
}

// twoDigitCodes are the two-digit country calling codes (ITU-T E.164).
// Codes are prefix-free: 1 and 7 are the one-digit codes, and every code
// that starts otherwise and is not here has three digits, so the length
// of the code follows from its first digits without a full table.
var twoDigitCodes = wordSet(
	"20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
	"48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
	"66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
)

func countryCodeLen(d string) int {
	switch {
	case d[0] == '1' || d[0] == '7':
		return 1
	case twoDigitCodes[d[:2]]:
		return 2
	}
	return 3
}

// SamePhone reports whether a and b are one number written two ways, and
// that number's digits in the fullest form known (with the country code
// when either gives it), for the duplicate reason's detail.
//
// The rule: two numbers are the same when they are written alike, or when
// a reading of one and a reading of the other (see readings) have the
// same national significant number and the same country code, or a
// country code on one side only. So "021 5555 0183", "+86 21 5555 0183",
// "0086-21-5555-0183" and "862155550183" are one number, and "+44 20 7946
// 0000" and "+49 20 7946 0000" are two. Comparing trailing digits instead
// was rejected: Chinese local numbers have 8 digits, so Beijing's "010
// 5555 0183" and Shanghai's "021 5555 0183" share their last 8, while the
// last 9 of "+971 4 352 8810" and "04 352 8810" differ. What the rule
// cannot tell apart: two countries' numbers written nationally with the
// same digits (the country is not written). A same_phone pair is a
// candidate for a person to judge, not a merge.
func SamePhone(a, b Phone) (string, bool) {
	if a == b && a.Digits != "" {
		return a.Digits, true
	}
	for _, x := range a.readings() {
		for _, y := range b.readings() {
			if x.nsn == y.nsn && (x.cc == y.cc || x.cc == "" || y.cc == "") {
				return cmp.Or(x.cc, y.cc) + x.nsn, true
			}
		}
	}
	return "", false
}

// phoneGroupKey is what any two numbers that SamePhone can match share:
// their last minNSN digits (a national number is a suffix of the digits).
func phoneGroupKey(p Phone) string { return p.Digits[len(p.Digits)-minNSN:] }
