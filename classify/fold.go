package classify

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// arabicFold maps letter variants that writers use interchangeably to one
// form, so one pattern covers "أسعار" and "اسعار". It only touches letters,
// which is why it is also safe to apply to a regular expression's source.
var arabicFold = strings.NewReplacer(
	"أ", "ا", "إ", "ا", "آ", "ا", "ٱ", "ا",
	"ى", "ي",
)

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
func foldText(s string) string {
	s = width.Fold.String(s)
	s = arabicFold.Replace(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\u200b' || r == '\ufeff' || r == '\u200e' || r == '\u200f' || isArabicMark(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// foldPattern applies to a pattern the folds of foldText that cannot change
// regular-expression syntax. Width folding is not applied: it would turn a
// full-width "（" into a group; the rules file is told to use ASCII instead.
func foldPattern(p string) string {
	p = arabicFold.Replace(p)
	return strings.Map(func(r rune) rune {
		if isArabicMark(r) {
			return -1
		}
		return r
	}, p)
}
