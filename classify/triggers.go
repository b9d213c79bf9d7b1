package classify

import "strings"

// A triggerIndex finds, in one pass over a message's text, which trigger
// words of the text rules occur in it. Asking strings.Contains for each
// instead read the whole text once per trigger, hundreds of times per
// message: that was most of the CPU of a sync.
//
// The words are listed by their first two bytes in one flat array (CSR):
// those beginning with bytes a, b are at positions at[a<<8|b] up to
// at[a<<8|b+1] of ids, head and mask, so at each byte of the text only
// the few words that begin there are compared. head holds a word's first
// 8 bytes as a number (fewer for a shorter word, mask telling which): one
// integer compare rejects most candidates ("the " begins dozens of
// words), and finds a word of up to 8 bytes. One-byte words ("$" from a
// class like [$€]) are looked up in one.
//
// Measured on 13 KB letters against two Aho-Corasick modules, this scans
// at 8-10 ns a byte, BobuSumisu/aho-corasick at 4-7 with 25 MB of tables
// for the built-in rules and petar-dambovaliev/aho-corasick at 10-14 with
// 13 MB; this index takes 0.3 MB.
type triggerIndex struct {
	words      []string   // by id
	at         []uint32   // 1<<16+1 offsets into ids, head and mask
	ids        []int32    // word ids ordered by their first two bytes
	head, mask []uint64   // of ids[i]'s word: see first8
	one        [256]int32 // id+1 of the one-byte word, 0 for none
}

// triggerSet holds the ids of the words a scan found.
type triggerSet []uint64

func (ts triggerSet) has(id int32) bool { return ts[id>>6]&(1<<(id&63)) != 0 }

func (ts triggerSet) add(id int32) { ts[id>>6] |= 1 << (id & 63) }

// newTriggerIndex indexes the triggers and starts of matchers, and gives
// each matcher the ids of its own (triggerIDs, startIDs) so that it can
// ask a scan instead of the text. nil matchers and matchers without
// triggers are skipped.
func newTriggerIndex(matchers []*matcher) *triggerIndex {
	ix := &triggerIndex{at: make([]uint32, 1<<16+1)}
	byWord := map[string]int32{}
	idOf := func(w string) int32 {
		id, ok := byWord[w]
		if !ok {
			id = int32(len(ix.words))
			byWord[w] = id
			ix.words = append(ix.words, w)
		}
		return id
	}
	for _, mt := range matchers {
		if mt == nil || mt.triggers == nil {
			continue
		}
		mt.triggerIDs, mt.startIDs = nil, nil
		for _, t := range mt.triggers {
			mt.triggerIDs = append(mt.triggerIDs, idOf(t))
		}
		for _, t := range mt.starts {
			mt.startIDs = append(mt.startIDs, idOf(t))
		}
	}
	// Count the words under each two-byte key, turn the counts into
	// offsets, then place each word's id.
	for _, w := range ix.words {
		if len(w) >= 2 {
			ix.at[pairKey(w)+1]++
		}
	}
	for k := 1; k < len(ix.at); k++ {
		ix.at[k] += ix.at[k-1]
	}
	n := ix.at[1<<16]
	ix.ids, ix.head, ix.mask = make([]int32, n), make([]uint64, n), make([]uint64, n)
	next := make([]uint32, 1<<16)
	copy(next, ix.at)
	for id, w := range ix.words {
		if len(w) == 1 {
			ix.one[w[0]] = int32(id) + 1
			continue
		}
		i := next[pairKey(w)]
		ix.ids[i] = int32(id)
		ix.head[i], ix.mask[i] = first8(w)
		next[pairKey(w)]++
	}
	return ix
}

func pairKey(s string) int { return int(s[0])<<8 | int(s[1]) }

// first8 returns the first 8 bytes of s as a little-endian number, or all
// of s when shorter, and the mask of the bytes it holds.
func first8(s string) (v, mask uint64) {
	if len(s) >= 8 {
		_ = s[7]
		return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56, ^uint64(0)
	}
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
		mask |= 0xff << (8 * i)
	}
	return v, mask
}

// scan returns the set of indexed words that occur in s: the same answer
// as strings.Contains(s, word) for each.
func (ix *triggerIndex) scan(s string) triggerSet {
	found := make(triggerSet, (len(ix.words)+63)/64)
	for i := 0; i < len(s); i++ {
		if id := ix.one[s[i]]; id != 0 {
			found.add(id - 1)
		}
		if i+1 == len(s) {
			break
		}
		k := pairKey(s[i:])
		lo, hi := ix.at[k], ix.at[k+1]
		if lo == hi {
			continue
		}
		next, _ := first8(s[i:])
		for c := lo; c < hi; c++ {
			if next&ix.mask[c] != ix.head[c] {
				continue
			}
			if w := ix.words[ix.ids[c]]; len(w) <= 8 || strings.HasPrefix(s[i:], w) {
				found.add(ix.ids[c])
			}
		}
	}
	return found
}
