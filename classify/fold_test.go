package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// foldTextReference is foldText as first written: each fold over the
// whole text in turn, with the libraries' own functions. foldText does
// the same in one pass and must give the same text.
func foldTextReference(s string) string {
	s = width.Fold.String(s)
	s = arabicReplacer.Replace(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case invisible(r):
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

var arabicReplacer = strings.NewReplacer("أ", "ا", "إ", "ا", "آ", "ا", "ٱ", "ا", "ى", "ي")

// Every rune of the first two planes (the others hold no letter with a
// case, a width or a space) between letters and spaces, then random mixes
// of runes that fold, spaces, marks and invalid UTF-8.
func TestFoldTextAgreesWithReference(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := foldText(s), foldTextReference(s); got != want {
			t.Fatalf("foldText(%q) = %q, want %q", s, got, want)
		}
	}
	for r := rune(0); r < 0x20000; r++ {
		check("X " + string(r) + "\tY")
	}
	for b := 0x80; b <= 0xff; b++ {
		check(string([]byte{byte(b)}))
		check("a" + string([]byte{byte(b)}) + "Ａ")
	}
	pieces := []string{"A", "z", " ", "\n", "\r\n", "\u00a0", "\u3000", "\u200b", "\ufeff", "Ａ", "ｚ", "：", "ｶ", "ﾞ",
		"أ", "ى", "\u064e", "ـ", "报价", "Ж", "É", "ẞ", "İ", "\xe3\x81", "\xff", "\xed\xa0\x80", "\xef\xbf\xbd"}
	rnd := rand.New(rand.NewPCG(1, 1))
	for range 20000 {
		var b strings.Builder
		for n := rnd.IntN(10); n >= 0; n-- {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		check(b.String())
	}
	if s := foldText("ＲＦＱ：\u3000Please\n\nquote  أسعار\u200b"); !utf8.ValidString(s) || s != "rfq: please quote اسعار" {
		t.Errorf("foldText = %q", s)
	}
}
