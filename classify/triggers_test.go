package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// The one-pass scan must find exactly the words strings.Contains finds.
// The texts are made of the built-in rules' own trigger words (one-byte,
// Latin, Chinese, Cyrillic, Arabic), words cut short or with a byte
// changed, and random runes and bytes between them; each is also checked
// cut by up to three bytes at either end, so that words fall at every
// offset and at both edges.
func TestScanAgreesWithContains(t *testing.T) {
	ix := Default().triggers
	var one, multi int
	for _, w := range ix.words {
		if len(w) == 1 {
			one++
		} else if !isASCII(w) {
			multi++
		}
	}
	if len(ix.words) < 100 || one == 0 || multi == 0 {
		t.Fatalf("%d words, %d of one byte, %d not ASCII: the built-in rules no longer test all cases", len(ix.words), one, multi)
	}
	rnd := rand.New(rand.NewPCG(3, 5))
	noise := []string{" ", "x", "q", "\n", "é", "价", "报", "ж", "ا", "$", "0", "\xe8", "\xff"}
	piece := func() string {
		w := ix.words[rnd.IntN(len(ix.words))]
		switch rnd.IntN(4) {
		case 0:
			return noise[rnd.IntN(len(noise))]
		case 1: // cut short: a near miss
			return w[:rnd.IntN(len(w))]
		case 2: // last byte changed: a near miss
			return w[:len(w)-1] + string(rune('a'+rnd.IntN(26)))
		}
		return w
	}
	hits := 0
	for range 500 {
		var b strings.Builder
		for n := 1 + rnd.IntN(12); n > 0; n-- {
			b.WriteString(piece())
		}
		text := b.String()
		for cut := range 4 {
			for _, s := range []string{text[min(cut, len(text)):], text[:max(0, len(text)-cut)]} {
				found := ix.scan(s)
				for id, w := range ix.words {
					want := strings.Contains(s, w)
					if got := found.has(int32(id)); got != want {
						t.Fatalf("word %q in %q: scan says %v, strings.Contains %v", w, s, got, want)
					}
					if want {
						hits++
					}
				}
			}
		}
	}
	if hits < 3000 {
		t.Fatalf("only %d words found: the texts test little", hits)
	}
}

func isASCII(s string) bool { return utf8.RuneCountInString(s) == len(s) }
