package search

import (
	"strconv"
	"strings"
)

// quote returns s as a Meilisearch filter string literal: wrapped in double
// quotes, with every backslash and double quote escaped by a backslash.
// Meilisearch (since 1.4) reads \\ as \ and \" as " inside a quoted value,
// so the literal always parses back to exactly s and can never end early:
// `x" OR rep = "y` stays one value. Invalid UTF-8 is replaced by U+FFFD
// first, as JSON encoding would do anyway, so what is compared is what the
// caller sees. Other characters, newlines and NUL included, need no escape
// inside quotes.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		// Byte-wise is safe: '\\' and '"' never occur inside a multi-byte
		// UTF-8 sequence.
		if c := s[i]; c == '\\' || c == '"' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// filter turns the restrictions of q into Meilisearch filter clauses, which
// the server ANDs (the array form of "filter"). Numbers are formatted as
// integers and strings go through quote: no caller text reaches the filter
// any other way. An empty CustomerIDs, Rep or Kind means no restriction
// on it; nil means no filter at all.
func filter(q Query) []string {
	var f []string
	if len(q.CustomerIDs) > 0 {
		ids := make([]string, len(q.CustomerIDs))
		for i, id := range q.CustomerIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		f = append(f, "customer_id IN ["+strings.Join(ids, ", ")+"]")
	}
	if q.Rep != "" {
		f = append(f, "rep = "+quote(q.Rep))
	}
	if q.Kind != "" {
		f = append(f, "kind = "+quote(q.Kind))
	}
	return f
}
