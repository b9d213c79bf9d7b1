package search

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `""`},
		{`anna@seller.example`, `"anna@seller.example"`},
		{`x" OR rep = "y`, `"x\" OR rep = \"y"`},
		{`x\`, `"x\\"`},
		{`\"`, `"\\\""`},
		{"a\nb", "\"a\nb\""},
		{"王经理", `"王经理"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	} {
		if got := quote(c.in); got != c.want {
			t.Errorf("quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFilter(t *testing.T) {
	for _, c := range []struct {
		q    Query
		want []string
	}{
		{Query{Q: "anything"}, nil},
		{Query{CustomerIDs: []int64{7}}, []string{`customer_id IN [7]`}},
		{Query{CustomerIDs: []int64{1, -2, 9223372036854775807}}, []string{`customer_id IN [1, -2, 9223372036854775807]`}},
		{Query{Rep: `a" OR rep = "b`, Kind: "quote"}, []string{`rep = "a\" OR rep = \"b"`, `kind = "quote"`}},
	} {
		if got := filter(c.q); !slices.Equal(got, c.want) {
			t.Errorf("filter(%+v) = %q, want %q", c.q, got, c.want)
		}
	}
}

// unquote reads a double-quoted filter value the way Meilisearch's filter
// parser does (a backslash takes the next character literally, an
// unescaped quote ends the value) and returns the value and what follows.
func unquote(t *testing.T, lit string) (value, rest string) {
	if !strings.HasPrefix(lit, `"`) {
		t.Fatalf("%q does not start with a quote", lit)
	}
	var b strings.Builder
	for i := 1; i < len(lit); i++ {
		switch lit[i] {
		case '\\':
			i++
			if i == len(lit) {
				t.Fatalf("%q ends in a lone backslash", lit)
			}
			b.WriteByte(lit[i])
		case '"':
			return b.String(), lit[i+1:]
		default:
			b.WriteByte(lit[i])
		}
	}
	t.Fatalf("%q is not terminated", lit)
	return "", ""
}

// FuzzQuote checks that any input comes back as exactly one quoted value
// with nothing after it: no input can end the literal early and add
// filter syntax of its own.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{``, `x" OR rep = "y`, `x\" OR rep = "y`, `\`, `"`, `\\"`, "\xff\"", `" OR customer_id IN [1] OR rep = "`, "报价\"单"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := quote(s)
		v, rest := unquote(t, lit)
		if rest != "" {
			t.Fatalf("quote(%q) = %q: %q follows the value", s, lit, rest)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); v != want {
			t.Fatalf("quote(%q) reads back as %q, want %q", s, v, want)
		}
		if !utf8.ValidString(lit) {
			t.Fatalf("quote(%q) = %q is not valid UTF-8", s, lit)
		}
	})
}
