package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// arabicLetter maps letter variants that writers use interchangeably to
// one form, so one pattern covers "أسعار" and "اسعار". It only touches
// letters, which is why it is also safe to apply to a regular expression's
// source.
func arabicLetter(r rune) rune {
	switch r {
	case 'أ', 'إ', 'آ', 'ٱ':
		return 'ا'
	case 'ى':
		return 'ي'
	}
	return r
}

// isArabicMark reports harakat (short-vowel marks), the superscript alef and
// the tatweel, which decorate a word without changing it.
func isArabicMark(r rune) bool {
	return (r >= 0x064B && r <= 0x065F) || r == 0x0670 || r == 0x0640
}

// foldText prepares text for matching:
//   - full-width ASCII becomes ASCII (Chinese and Japanese mail writes
//     "ＲＦＱ", "：", "（" as often as the narrow forms), half-width katakana
//     becomes full-width;
//   - Arabic letter variants are unified and vowel marks dropped;
//   - zero-width characters are removed and every run of white space
//     (including NBSP and the ideographic space) becomes one space, so a
//     phrase wrapped over two lines still matches.
//   - everything is lower-cased; patterns are compiled to match lower-case
//     text (matcher.go), which makes them case-insensitive.
//
// Each fold maps one rune to one rune, so they are done in one pass, rune
// by rune, with a shortcut for ASCII, which none of them but lower-casing
// and white space concern: width.Fold, a Replacer and strings.ToLower
// over the whole text, one after the other, were most of the cost of
// classifying a long letter. Invalid UTF-8 becomes U+FFFD.
func foldText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			if c == ' ' || '\t' <= c && c <= '\r' {
				space = true
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < '\u4e00' || r > '\u9fff' { // CJK ideographs, most of a Chinese letter, fold to themselves
			r = foldRune(r)
			switch {
			case invisible(r):
				continue
			case unicode.IsSpace(r):
				space = true
				continue
			}
			r = unicode.ToLower(r)
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// invisible tells the runes that folding drops: zero-width space, byte
// order mark, direction marks and Arabic vowel marks.
func invisible(r rune) bool {
	return r == '\u200b' || r == '\ufeff' || r == '\u200e' || r == '\u200f' || isArabicMark(r)
}

// foldRune is the width and Arabic folding of foldText for one rune.
func foldRune(r rune) rune {
	if f := width.LookupRune(r).Folded(); f != 0 {
		r = f
	}
	return arabicLetter(r)
}

// foldPattern applies to a pattern the folds of foldText that cannot change
// regular-expression syntax. Width folding is not applied: it would turn a
// full-width "（" into a group; the rules file is told to use ASCII instead.
func foldPattern(p string) string {
	return strings.Map(func(r rune) rune {
		if isArabicMark(r) {
			return -1
		}
		return arabicLetter(r)
	}, p)
}
