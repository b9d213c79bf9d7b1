package message

import (
	"encoding/base64"
	"strings"
)

// decodeWords decodes the RFC 2047 encoded-words in a header value that is
// already valid UTF-8 (see decodeHeaderBytes). It is more lenient than
// mime.WordDecoder, because real mail needs it to be:
//   - encoded-words are found anywhere, also inside quoted strings and glued
//     to other text ("Re:=?gbk?B?...?=");
//   - adjacent encoded-words in the same charset are joined as bytes before
//     the charset is decoded, so a multi-byte character split across two
//     words (common with GBK and UTF-8 B-encoding) survives;
//   - white space between two encoded-words is dropped (RFC 2047 6.2);
//   - base64 with missing padding or stray characters is accepted;
//   - an unknown charset is decoded as a best guess and reported.
//
// The second result lists what had to be guessed, for Problems.
func decodeWords(s string) (string, []string) {
	if !strings.Contains(s, "=?") {
		return s, nil
	}
	var (
		out      strings.Builder
		problems []string
		pendCS   string // charset of the pending bytes
		pend     []byte // decoded bytes of adjacent encoded-words
		afterEW  bool   // the last thing written was an encoded-word
	)
	flush := func() {
		if pendCS == "" && pend == nil {
			return
		}
		text, problem := decodeText(pend, pendCS)
		if problem != "" {
			problems = append(problems, "encoded-word: "+problem)
		}
		out.WriteString(text)
		pendCS, pend = "", nil
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			break
		}
		j += i
		cs, data, end, ok := parseEncodedWord(s, j)
		if !ok {
			// Not an encoded-word: keep "=?" as text.
			flush()
			out.WriteString(s[i : j+2])
			afterEW = false
			i = j + 2
			continue
		}
		between := s[i:j]
		if !(afterEW && strings.TrimSpace(between) == "") {
			flush()
			out.WriteString(between)
		}
		if pend != nil && !strings.EqualFold(cs, pendCS) {
			flush()
		}
		pendCS = cs
		pend = append(pend, data...)
		if pend == nil {
			pend = []byte{}
		}
		afterEW = true
		i = end
	}
	flush()
	out.WriteString(s[i:])
	return out.String(), problems
}

// parseEncodedWord parses "=?charset?E?text?=" starting at s[start]
// (RFC 2047 2) and returns the charset, the decoded bytes and the index
// after the word.
func parseEncodedWord(s string, start int) (cs string, data []byte, end int, ok bool) {
	rest := s[start+2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1 > 64 || strings.ContainsAny(rest[:q1], " \t\r\n\"") {
		return "", nil, 0, false
	}
	cs = rest[:q1]
	rest = rest[q1+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return "", nil, 0, false
	}
	enc := rest[0] | 0x20
	if enc != 'b' && enc != 'q' {
		return "", nil, 0, false
	}
	rest = rest[2:]
	q2 := strings.Index(rest, "?=")
	if q2 < 0 || q2 > 8000 {
		return "", nil, 0, false
	}
	text := rest[:q2]
	// An encoded-word has no white space in it (RFC 2047 5), but broken
	// mailers put spaces in Q text or fold in the middle of a word: accept
	// both, dropping the line breaks.
	if strings.ContainsAny(text, "\r\n") {
		text = strings.NewReplacer("\r", "", "\n", "").Replace(text)
	}
	end = start + 2 + q1 + 1 + 2 + q2 + 2
	if enc == 'b' {
		data = decodeBase64Lenient(text)
	} else {
		data = decodeQ(text)
	}
	return cs, data, end, true
}

// decodeBase64Lenient decodes base64 ignoring characters outside the
// alphabet and missing or extra padding.
func decodeBase64Lenient(s string) []byte {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case base64Char(c):
			clean = append(clean, c)
		case c == '-':
			clean = append(clean, '+') // URL-safe alphabet
		case c == '_':
			clean = append(clean, '/')
		case c == '=':
			// Padding ends the data.
			i = len(s)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQ decodes the "Q" encoding (RFC 2047 4.2): "_" is a space, "=XX" a
// byte; a malformed escape is kept as written.
func decodeQ(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
