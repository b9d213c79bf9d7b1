package matcher

import (
	"hash/maphash"
	"strings"

	"golang.org/x/net/idna"
)

// Look-alike detection compares the registrable label of an unknown domain
// (sunrise-tradlng in sunrise-tradlng.com) with every customer's and our own
// registrable labels. Labels are first reduced to a skeleton that folds the
// homoglyphs phishers use (0/o, 1/l/i, rn/m, vv/w, Cyrillic and Greek
// letters that look Latin), then compared within one edit (insert, delete,
// substitute, swap adjacent). A symmetric-delete index (every skeleton and
// its one-character deletions, hashed and sorted) finds the candidates in
// a few binary searches, so 100,000 customers cost microseconds, not a scan.
const (
	minSkeleton = 4 // shorter labels are too crowded to call look-alikes
	minEditLen  = 6 // a one-edit match needs a label at least this long
)

type lookLabel struct {
	raw, skel, regdom string
	cust              int32 // index into Matcher.cust; -1 for our own domains
}

type lookalikes struct {
	seed    maphash.Seed
	labels  []lookLabel
	byReg   map[string]int32  // registrable domain -> labels index
	byRaw   map[string]int32  // raw label -> first labels index (own, then lowest ID)
	deletes hashMulti[uint32] // skeleton and its one-byte deletions -> labels index; 32 bits suffice, every candidate is verified
}

func newLookalikes() *lookalikes {
	return &lookalikes{seed: maphash.MakeSeed(), byReg: map[string]int32{}, byRaw: map[string]int32{}}
}

// add indexes a normalised domain; first come wins, so callers add our own
// domains first, then customers in ID order.
func (l *lookalikes) add(domain string, cust int32) {
	reg, raw := registrable(domain)
	if _, dup := l.byReg[reg]; dup || reg == raw {
		return // already indexed, or no registrable label at all
	}
	i := int32(len(l.labels))
	sk := skeleton(raw)
	l.labels = append(l.labels, lookLabel{raw: raw, skel: sk, regdom: reg, cust: cust})
	l.byReg[reg] = i
	if _, dup := l.byRaw[raw]; !dup {
		l.byRaw[raw] = i
	}
	if len(sk) < minSkeleton {
		return
	}
	l.deletes.add(uint32(maphash.String(l.seed, sk)), i)
	if len(sk) >= minEditLen {
		for j := range len(sk) {
			l.deletes.add(uint32(l.hashWithout(sk, j)), i)
		}
	}
}

// seal builds the delete index; add must not be called afterwards.
func (l *lookalikes) seal() { l.deletes.seal(false) }

func (l *lookalikes) hashWithout(s string, j int) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(s[:j])
	h.WriteString(s[j+1:])
	return h.Sum64()
}

// check classifies an unknown domain against the index: the index of the
// label it imitates and whether it is the exact same label under another
// suffix (same=true) rather than a typo or homoglyph. ok=false: unrelated.
// A domain whose registrable domain is itself indexed (the parent of a
// customer's subdomain entry) is not a look-alike. skip, when not nil,
// leaves out the labels of some customers (the customer being checked and
// the other customers created from mail).
func (l *lookalikes) check(domain string, skip func(cust int32) bool) (hit lookLabel, same, ok bool) {
	reg, raw := registrable(domain)
	if reg == raw {
		return lookLabel{}, false, false
	}
	skipped := func(i int32) bool { return skip != nil && skip(l.labels[i].cust) }
	if i, own := l.byReg[reg]; own && !skipped(i) {
		return lookLabel{}, false, false
	}
	if i, found := l.byRaw[raw]; found && !skipped(i) {
		return l.labels[i], true, true
	}
	q := skeleton(raw)
	if len(q) < minSkeleton {
		return lookLabel{}, false, false
	}
	best := int32(-1)
	consider := func(h uint64) {
		l.deletes.each(uint32(h), func(i int32) bool {
			c := l.labels[i]
			if skipped(i) {
				return true
			}
			if c.skel == q || (len(c.skel) >= minEditLen && withinOneEdit(q, c.skel)) {
				if best < 0 || i < best {
					best = i
				}
				return false // values come lowest first
			}
			return true
		})
	}
	consider(maphash.String(l.seed, q))
	if len(q) >= minEditLen {
		for j := range len(q) {
			consider(l.hashWithout(q, j))
		}
	}
	if best < 0 {
		return lookLabel{}, false, false
	}
	// The same label under another suffix, found here when byRaw holds a
	// skipped customer's entry for it.
	return l.labels[best], l.labels[best].raw == raw, true
}

// withinOneEdit reports whether a and b differ by at most one insertion,
// deletion, substitution or swap of adjacent bytes (optimal string
// alignment distance <= 1). Labels are ASCII (punycode), so bytes suffice.
func withinOneEdit(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(b) {
		return true // equal, or a has one extra byte at the end
	}
	if len(a) != len(b) {
		return a[i+1:] == b[i:]
	}
	if a[i+1:] == b[i+1:] {
		return true
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// skeleton folds the homoglyphs of a registrable label. A punycode label is
// decoded first; if every letter then maps to ASCII (a Cyrillic "а" in an
// otherwise Latin name) the folded ASCII is used, otherwise the label is a
// genuine IDN (светлыйдом) and is compared as its punycode form.
func skeleton(label string) string {
	s := label
	if strings.HasPrefix(label, "xn--") {
		u, err := idna.ToUnicode(label)
		if err != nil {
			return label
		}
		var b strings.Builder
		for _, r := range u {
			if r < 0x80 {
				b.WriteRune(r)
			} else if a, ok := confusables[r]; ok {
				b.WriteByte(a)
			} else {
				return label
			}
		}
		s = b.String()
	}
	return foldASCII.Replace(s)
}

// foldASCII maps the ASCII look-alikes onto one letter each. "rn" and "vv"
// go first so that the longer sequence wins.
var foldASCII = strings.NewReplacer("rn", "m", "vv", "w", "0", "o", "1", "l", "i", "l", "_", "-")

// confusables are Cyrillic and Greek lower-case letters that render like a
// Latin letter (Unicode TR #39 confusables, the common subset).
var confusables = map[rune]byte{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l', 'һ': 'h',
	'ο': 'o', 'α': 'a', 'ν': 'v', 'ρ': 'p', 'ι': 'i', 'κ': 'k',
}
