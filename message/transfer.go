package message

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// enmime is told to leave each part's transfer encoding (RawContent):
// decoding every attachment only to learn its size was a third of the CPU
// of a sync. The walker undoes it for the parts it reads (body text and
// attached messages) and estimates attachments' sizes.

// decoded is p's content with its Content-Transfer-Encoding undone,
// leniently: what is malformed is skipped or kept as written, and noted.
func (w *walker) decoded(p *enmime.Part) []byte {
	switch cte := transferEncoding(p); cte {
	case "base64":
		out, bad := decodeBase64Body(p.Content)
		if bad {
			w.m.problem("part %s: malformed base64: characters outside the alphabet skipped", partID(p))
		}
		return out
	case "quoted-printable":
		out, bad := decodeQuotedPrintable(p.Content)
		if bad {
			w.m.problem("part %s: malformed quoted-printable: bad escapes kept as written", partID(p))
		}
		return out
	case "", "7bit", "8bit", "binary":
		return p.Content
	default:
		w.m.problem("part %s: unknown Content-Transfer-Encoding %q: read as is", partID(p), cte)
		return p.Content
	}
}

func transferEncoding(p *enmime.Part) string {
	return strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding")))
}

// decodedSize is the size p's content has once decoded, without decoding
// it (three bytes for four base64 characters); base64 with characters
// outside the alphabet is noted as decoding would.
func (w *walker) decodedSize(p *enmime.Part) int {
	if _, n, ok := hollowed(p.Header); ok {
		return n
	}
	switch transferEncoding(p) {
	case "base64":
	case "", "7bit", "8bit", "binary", "quoted-printable":
		return w.hollowed.originalLen(p.Content) // an attached message may have had bodies taken out
	default:
		w.m.problem("part %s: unknown Content-Transfer-Encoding %q", partID(p), transferEncoding(p))
		return len(p.Content)
	}
	n, bad := base64Count(p.Content)
	if bad {
		w.m.problem("part %s: malformed base64: characters outside the alphabet", partID(p))
	}
	return n * 3 / 4
}

// base64Count counts the base64 characters of b, and tells whether it
// holds anything but them, line breaks, blanks and padding. It reads
// every attachment of a sync (megabytes), so a sound body, the usual
// case, is checked by base64Classes and counted by what it skips, with
// bytes.Count, which reads many bytes at a time: two to three times as
// fast as counting each byte's class (BenchmarkBase64Count).
func base64Count(b []byte) (n int, bad bool) {
	if base64Classes(b)&2 == 0 {
		skipped := 0
		for _, c := range []byte{'\r', '\n', ' ', '\t', '='} {
			skipped += bytes.Count(b, []byte{c})
		}
		return len(b) - skipped, false
	}
	for _, c := range b {
		n += int(base64Class[c] & 1)
	}
	return n, true
}

// base64Classes is the union (OR) of the base64Class of b's bytes, taken
// eight at a time: independent loads and few rounds of the loop.
func base64Classes(b []byte) (seen uint8) {
	for len(b) >= 8 {
		seen |= base64Class[b[0]] | base64Class[b[1]] | base64Class[b[2]] | base64Class[b[3]] |
			base64Class[b[4]] | base64Class[b[5]] | base64Class[b[6]] | base64Class[b[7]]
		b = b[8:]
	}
	for _, c := range b {
		seen |= base64Class[c]
	}
	return seen
}

// base64Class sorts bytes for base64Count: 0 skipped silently (line
// breaks, blanks, padding), 1 the alphabet, 2 anything else.
var base64Class = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case base64Char(byte(c)):
			t[c] = 1
		case c == '=' || c == '\r' || c == '\n' || c == ' ' || c == '\t':
			t[c] = 0
		default:
			t[c] = 2
		}
	}
	return t
}()

func base64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// decodeBase64Body decodes a base64 body: line breaks and spaces are
// skipped, padding ends the data, any other character outside the
// alphabet is skipped and makes bad true.
//
// A body that encoding/base64 accepts as it is (the alphabet and line
// breaks, padded at the end: nearly all mail) decodes the same with it,
// without first copying out the alphabet: twice as fast, for documents of
// megabytes. Anything else takes the lenient path.
func decodeBase64Body(b []byte) (out []byte, bad bool) {
	out = make([]byte, base64.RawStdEncoding.DecodedLen(len(b))) // room for either
	if n, err := base64.StdEncoding.Decode(out, b); err == nil {
		return out[:n], false
	}
	return decodeBase64Filtered(b, out)
}

// decodeBase64Filtered decodes the base64 alphabet of b into out (of at
// least RawStdEncoding.DecodedLen(len(b))), up to the first "=", line
// breaks and blanks skipped; bad tells of anything else, or a stray last
// character.
func decodeBase64Filtered(b, out []byte) ([]byte, bool) {
	bad := false
	clean := make([]byte, 0, len(b))
loop:
	for _, c := range b {
		switch {
		case base64Char(c):
			clean = append(clean, c)
		case c == '=':
			break loop
		case c == '\r' || c == '\n' || c == ' ' || c == '\t':
		default:
			bad = true
		}
	}
	if len(clean)%4 == 1 {
		clean, bad = clean[:len(clean)-1], true
	}
	n, err := base64.RawStdEncoding.Decode(out, clean)
	return out[:n], bad || err != nil
}

// base64Prefix is at least the first n bytes decodeBase64Body returns for
// b (all of them when fewer), decoded from only the characters they need.
// The characters are those of the lenient path, which decodes the same as
// the fast one: the alphabet up to the first "=".
func base64Prefix(b []byte, n int) []byte {
	need := (max(n, 0) + 2) / 3 * 4 // whole quanta of 4 characters, 3 bytes each
	clean := make([]byte, 0, need)
	for _, c := range b {
		if len(clean) == need || c == '=' {
			break
		}
		if base64Char(c) {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 { // only at the end of the data, as there
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	k, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:k]
}

// decodeQuotedPrintable decodes RFC 2045 6.7 quoted-printable: "=XX" is a
// byte, "=" at a line's end a soft break, trailing blanks on a line are
// dropped; an "=" followed by anything else is kept and makes bad true.
func decodeQuotedPrintable(b []byte) (out []byte, bad bool) {
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '=' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		case c == '=':
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			switch {
			case j < len(b) && b[j] == '\n':
				i = j
			case j+1 < len(b) && b[j] == '\r' && b[j+1] == '\n':
				i = j + 1
			case j == len(b):
				i = j
			default:
				out, bad = append(out, c), true
			}
		case c == ' ' || c == '\t':
			j := i
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j < len(b) && b[j] != '\r' && b[j] != '\n' {
				out = append(out, b[i:j]...)
			}
			i = j - 1
		default:
			out = append(out, c)
		}
	}
	return out, bad
}
