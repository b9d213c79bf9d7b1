package message

import (
	"sort"
	"strconv"
	"strings"
)

// mediaParams is a parsed Content-Type or Content-Disposition value.
type mediaParams struct {
	value  string            // "text/plain", "attachment", lower-case
	params map[string]string // raw values by lower-case name, unquoted
}

// parseMediaParams splits "type; a=b; c*0*=..." tolerantly: it keeps going
// past a parameter it cannot read, accepts unterminated quotes and values
// with spaces, and never fails. The input must already be valid UTF-8 so
// that a GBK trail byte of 0x5C is not taken for a backslash.
func parseMediaParams(v string) mediaParams {
	mp := mediaParams{params: map[string]string{}}
	parts := splitParams(v)
	if len(parts) == 0 {
		return mp
	}
	first := strings.TrimSpace(parts[0])
	if strings.Contains(first, "=") && !strings.Contains(first, "/") {
		// "Content-Type: name=x.pdf" with the type missing.
		parts = append([]string{""}, parts...)
		first = ""
	}
	mp.value = strings.ToLower(strings.Trim(first, " \t\"'"))
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" {
			continue
		}
		if _, dup := mp.params[k]; dup {
			continue // first one wins
		}
		mp.params[k] = unquote(strings.TrimSpace(val))
	}
	return mp
}

// splitParams splits at ';' outside double quotes.
func splitParams(v string) []string {
	var out []string
	quote := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quote {
				i++
			}
		case '"':
			quote = !quote
		case ';':
			if !quote {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	if start < len(v) {
		out = append(out, v[start:])
	}
	return out
}

func unquote(s string) string {
	if len(s) < 1 || s[0] != '"' {
		return strings.TrimRight(s, " \t")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			// Windows paths in filenames ("C:\dir\a.pdf") are sent with
			// single backslashes: keep a backslash that escapes nothing
			// special.
			if n := s[i+1]; n == '"' || n == '\\' {
				b.WriteByte(n)
				i++
			} else {
				b.WriteByte(c)
			}
		case c == '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// param returns the decoded value of a parameter, assembling RFC 2231
// forms: "name*=charset'lang'%XX", continuations "name*0*=", "name*1=" in
// any order, and falling back to the plain "name=" value, in which
// encoded-words (RFC 2047 in a parameter, which RFC 2047 5 forbids and
// Outlook and others write) are decoded.
func (mp mediaParams) param(name string) (string, []string) {
	if v, ok := mp.params[name+"*"]; ok {
		cs, _, data := split2231(v)
		s, p := decodeText(percentDecode(data), cs)
		return s, problemList("parameter "+name, p)
	}
	if s, probs, ok := mp.continued(name); ok {
		return s, probs
	}
	if v, ok := mp.params[name]; ok {
		return decodeWords(v)
	}
	return "", nil
}

// continued assembles "name*0", "name*0*", "name*1"... (RFC 2231 3 and 4.1).
func (mp mediaParams) continued(name string) (string, []string, bool) {
	type seg struct {
		n       int
		encoded bool
		value   string
	}
	var segs []seg
	prefix := name + "*"
	for k, v := range mp.params {
		if !strings.HasPrefix(k, prefix) || len(k) == len(prefix) {
			continue
		}
		rest := k[len(prefix):]
		enc := strings.HasSuffix(rest, "*")
		rest = strings.TrimSuffix(rest, "*")
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || n > 999 {
			continue
		}
		segs = append(segs, seg{n, enc, v})
	}
	if len(segs) == 0 {
		return "", nil, false
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
	var (
		cs   string
		data []byte
	)
	for i, s := range segs {
		v := s.value
		if s.encoded {
			if i == 0 {
				var rest string
				cs, _, rest = split2231(v)
				v = rest
			}
			data = append(data, percentDecode(v)...)
		} else {
			data = append(data, v...)
		}
	}
	if cs == "" && !segs[0].encoded {
		// Plain continuations: may still hold encoded-words.
		s, p := decodeWords(string(data))
		return s, p, true
	}
	s, p := decodeText(data, cs)
	return s, problemList("parameter "+name, p), true
}

// split2231 splits "charset'language'value". A value without the two
// quotes is taken as is (some mailers omit them).
func split2231(v string) (charset, lang, value string) {
	a := strings.IndexByte(v, '\'')
	if a < 0 {
		return "", "", v
	}
	b := strings.IndexByte(v[a+1:], '\'')
	if b < 0 {
		return "", "", v
	}
	return v[:a], v[a+1 : a+1+b], v[a+1+b+1:]
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func problemList(what, p string) []string {
	if p == "" {
		return nil
	}
	return []string{what + ": " + p}
}
