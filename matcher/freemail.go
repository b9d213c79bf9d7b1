package matcher

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Refresh the embedded list from npm (see the script for the review edits):
//go:generate sh freemail_refresh.sh

//go:embed freemail.txt
var freemailTxt string

// FreeMail is a set of free-mail domains (gmail.com, qq.com, mail.ru ...).
// Addresses on them never match a customer by domain, only by exact
// address, and an unknown one is a NewEmail buyer keyed by address rather
// than a NewDomain buyer. A domain is free-mail when it or a parent is in
// the set (mail.yahoo.co.jp counts as yahoo.co.jp).
//
// A FreeMail is immutable: With returns a new one, so one value can be
// shared by many matchers. The zero value is "not set" (see IsZero);
// Directory treats it as DefaultFreeMail().
type FreeMail struct {
	set map[string]struct{}
}

// defaultFreeMail parses the embedded list once; the result is never
// mutated (With copies), so sharing it is safe.
var defaultFreeMail = sync.OnceValue(func() FreeMail {
	f, err := ParseFreeMail(strings.NewReader(freemailTxt))
	if err != nil {
		panic("matcher: embedded freemail.txt: " + err.Error()) // caught by TestDefaultFreeMail
	}
	return f
})

// DefaultFreeMail returns the embedded list (freemail.txt: the npm package
// free-email-domains, reviewed; about 14,000 domains).
func DefaultFreeMail() FreeMail { return defaultFreeMail() }

// NewFreeMail returns a list of exactly these domains (normalised; junk and
// public suffixes such as "co.uk" are dropped, since a suffix would make
// every domain under it free-mail). NewFreeMail() is a deliberately empty,
// non-zero list.
func NewFreeMail(domains ...string) FreeMail {
	f := FreeMail{set: make(map[string]struct{}, len(domains))}
	for _, d := range domains {
		f.add(d)
	}
	return f
}

// ParseFreeMail reads one domain per line; blank lines and lines starting
// with "#" are skipped, as is anything after the first space. Junk lines are
// an error naming the line, so a broken override file is caught at startup.
func ParseFreeMail(r io.Reader) (FreeMail, error) {
	f := FreeMail{set: make(map[string]struct{}, 16384)}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			line = line[:i]
		}
		if _, ok := normalizeDomain(line); !ok {
			return FreeMail{}, fmt.Errorf("free-mail list line %d: %q is not a domain", n, line)
		}
		f.add(line)
	}
	if err := sc.Err(); err != nil {
		return FreeMail{}, fmt.Errorf("read free-mail list: %w", err)
	}
	return f, nil
}

func (f FreeMail) add(d string) {
	if n, ok := normalizeDomain(d); ok && !isPublicSuffix(n) {
		f.set[n] = struct{}{}
	}
}

// With returns a copy with add added and remove removed (remove wins when a
// domain is in both). It is how config extends or trims the list. Removing
// a domain does not remove its parents: removing mail.example.com while
// example.com is listed changes nothing. With on the zero value starts from
// an empty list.
func (f FreeMail) With(add, remove []string) FreeMail {
	out := FreeMail{set: make(map[string]struct{}, len(f.set)+len(add))}
	maps.Copy(out.set, f.set)
	for _, d := range add {
		out.add(d)
	}
	for _, d := range remove {
		if n, ok := normalizeDomain(d); ok {
			delete(out.set, n)
		}
	}
	return out
}

// Contains reports whether a normalised domain (as in a Normalize result),
// or one of its parents, is free-mail.
func (f FreeMail) Contains(domain string) bool {
	if len(f.set) == 0 {
		return false
	}
	return parents(domain, func(d string) bool {
		_, ok := f.set[d]
		return ok
	})
}

// Len is the number of domains in the list.
func (f FreeMail) Len() int { return len(f.set) }

// IsZero reports whether f is the zero value (no list given at all), as
// opposed to a list that is empty on purpose.
func (f FreeMail) IsZero() bool { return f.set == nil }

// Domains returns the list's domains, sorted: what a fingerprint of the
// matching config hashes, so that stored mail is matched again when the
// list changes.
func (f FreeMail) Domains() []string {
	return slices.Sorted(maps.Keys(f.set))
}
