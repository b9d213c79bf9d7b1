package search

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// Meilisearch does not fold traditional Chinese onto simplified: 報價 does
// not find 报价 (see FIELD-NOTES). We fold both sides ourselves, character by
// character: documents whose text changes under the fold carry the folded
// copy in the hidden searchable field "zh", and queries are folded before
// they are sent. Matching then happens in folded space whichever script
// either side was written in. The fold only has to be consistent, not a
// correct conversion (乾 always becomes 干, even in 乾隆), because nobody
// reads it.

//go:embed zhdata/TSCharacters.txt
var tsCharacters string

// t2s maps a traditional character to its first simplified candidate. It
// is built once, on first use, from the embedded table and never changed.
var t2s = sync.OnceValue(func() map[rune]rune {
	m := make(map[rune]rune, 4096)
	for line := range strings.Lines(tsCharacters) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "\t")
		if !ok {
			continue
		}
		v, _, _ = strings.Cut(v, " ") // first candidate is OpenCC's default
		kr, kn := utf8.DecodeRuneInString(k)
		vr, vn := utf8.DecodeRuneInString(v)
		if kn != len(k) || vn != len(v) || kr == vr || kr == utf8.RuneError {
			continue // phrases and identity entries: nothing to fold
		}
		m[kr] = vr
	}
	return m
})

// simplify folds traditional Chinese characters in s onto simplified ones.
// It returns s itself (no allocation) when nothing folds, which is the
// case for all non-Han text, so callers can compare the result with s to
// learn whether a folded copy is worth storing.
func simplify(s string) string {
	m := t2s()
	for i, r := range s {
		if r < 0x3400 { // the table starts at CJK Extension A
			continue
		}
		if _, ok := m[r]; ok {
			var b strings.Builder
			b.Grow(len(s))
			b.WriteString(s[:i])
			for _, r := range s[i:] {
				if f, ok := m[r]; ok {
					r = f
				}
				b.WriteRune(r)
			}
			return b.String()
		}
	}
	return s
}

// hasKana reports whether s has hiragana or katakana, i.e. is Japanese for
// sure: kanji alone could be Chinese.
func hasKana(s string) bool {
	for _, r := range s {
		if (r >= 0x3040 && r <= 0x30FF) || (r >= 0x31F0 && r <= 0x31FF) || (r >= 0xFF66 && r <= 0xFF9F) {
			return true
		}
	}
	return false
}
