package classify

import "strings"

// A triggerIndex finds, in one pass over a message's text, which trigger
// words of the text rules occur in it. Asking strings.Contains for each
// instead read the whole text once per trigger, hundreds of times per
// message: that was most of the CPU of a sync.
//
// The words are listed by their first two bytes in one flat array (CSR):
// those beginning with bytes a, b are ids[at[a<<8|b]:at[a<<8|b+1]], so at
// each byte of the text only the few words that begin there are compared.
// One-byte words (from a class like [$€¥] or [0-9]) are looked up in one.
type triggerIndex struct {
	words []string   // by id
	at    []uint32   // 1<<16+1 offsets into ids
	ids   []int32    // word ids ordered by their first two bytes
	one   [256]int32 // id+1 of the one-byte word, 0 for none
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
	ix.ids = make([]int32, ix.at[1<<16])
	next := make([]uint32, 1<<16)
	copy(next, ix.at)
	for id, w := range ix.words {
		if len(w) == 1 {
			ix.one[w[0]] = int32(id) + 1
			continue
		}
		k := pairKey(w)
		ix.ids[next[k]] = int32(id)
		next[k]++
	}
	return ix
}

func pairKey(s string) int { return int(s[0])<<8 | int(s[1]) }

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
		k := int(s[i])<<8 | int(s[i+1])
		for _, id := range ix.ids[ix.at[k]:ix.at[k+1]] {
			if strings.HasPrefix(s[i:], ix.words[id]) {
				found.add(id)
			}
		}
	}
	return found
}
