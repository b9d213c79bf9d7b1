package matcher

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"unsafe"
)

// The two tables here hold the large parts of the index compactly. A Go
// map[string]int32 over a million addresses costs about 88 MB (string
// headers, per-key allocations, slack); strTable keeps the keys in one
// arena string with 4-byte offsets and 4-byte slots, about half of that.

// strTable maps exact strings to int32 values; the first value put for a
// key stays. Build with put, then freeze; get is safe for concurrent use
// after freeze.
type strTable struct {
	seed  maphash.Seed
	arena []byte // keys, back to back, during building
	keys  string // the arena, frozen
	off   []uint32
	val   []int32
	slots []uint32 // 0 = empty, else entry index + 1; open addressing, linear probing
	mask  uint32
}

func newStrTable(sizeHint int) *strTable {
	t := &strTable{seed: maphash.MakeSeed(), off: []uint32{0}, arena: []byte{}}
	t.resize(max(16, sizeHint*2))
	return t
}

// keyIs compares entry i's key with k without allocating (the []byte to
// string conversion in a comparison is free).
func (t *strTable) keyIs(i uint32, k string) bool {
	if t.arena == nil {
		return t.keys[t.off[i]:t.off[i+1]] == k
	}
	return string(t.arena[t.off[i]:t.off[i+1]]) == k
}

func (t *strTable) resize(n int) {
	size := 1 << bits.Len(uint(n-1))
	t.slots, t.mask = make([]uint32, size), uint32(size-1)
	for i := range t.val {
		t.insertSlot(uint32(i), maphash.Bytes(t.seed, t.arena[t.off[i]:t.off[i+1]]))
	}
}

func (t *strTable) insertSlot(i uint32, h uint64) {
	for s := uint32(h) & t.mask; ; s = (s + 1) & t.mask {
		if t.slots[s] == 0 {
			t.slots[s] = i + 1
			return
		}
	}
}

func (t *strTable) put(k string, v int32) {
	if _, ok := t.get(k); ok {
		return
	}
	if 4*(len(t.val)+1) > 3*len(t.slots) { // keep the load under 3/4
		t.resize(2 * len(t.slots))
	}
	i := uint32(len(t.val))
	t.arena = append(t.arena, k...)
	t.off = append(t.off, uint32(len(t.arena)))
	t.val = append(t.val, v)
	t.insertSlot(i, maphash.String(t.seed, k))
}

// freeze turns the arena into one immutable string and trims slack.
func (t *strTable) freeze() {
	t.keys = string(t.arena)
	t.arena = nil // keyIs reads keys from now on
	t.off = slices.Clip(t.off)
	t.val = slices.Clip(t.val)
}

func (t *strTable) get(k string) (int32, bool) {
	for s := uint32(maphash.String(t.seed, k)) & t.mask; ; s = (s + 1) & t.mask {
		e := t.slots[s]
		if e == 0 {
			return 0, false
		}
		if t.keyIs(e-1, k) {
			return t.val[e-1], true
		}
	}
}

func (t *strTable) len() int { return len(t.val) }

// hashMulti maps hashes (32 or 64 bits) to int32 values, several values
// per hash allowed: sorted pairs plus a bucket table on the top bits, so a
// lookup is one bucket read and a short scan instead of a binary search
// over millions of entries. 8 or 12 bytes per pair plus about 1 byte of
// buckets. 32-bit hashes suit callers that verify every candidate.
type hashMulti[H uint32 | uint64] struct {
	hs      []H
	vs      []int32
	starts  []uint32
	shift   uint
	pending []hashPair[H]
}

type hashPair[H uint32 | uint64] struct {
	h H
	v int32
}

func (x *hashMulti[H]) add(h H, v int32) { x.pending = append(x.pending, hashPair[H]{h, v}) }

// seal sorts the pairs by hash, then value, so the lowest value of a hash
// comes first, and drops repeated pairs; with firstOnly it keeps only the
// lowest value of each hash. add must not be called afterwards.
func (x *hashMulti[H]) seal(firstOnly bool) {
	p := x.pending
	x.pending = nil
	slices.SortFunc(p, func(a, b hashPair[H]) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.v, b.v))
	})
	p = slices.CompactFunc(p, func(a, b hashPair[H]) bool { return a.h == b.h && (firstOnly || a.v == b.v) })
	x.hs, x.vs = make([]H, len(p)), make([]int32, len(p))
	for i, e := range p {
		x.hs[i], x.vs[i] = e.h, e.v
	}
	width := uint(8 * unsafe.Sizeof(H(0)))
	b := uint(max(1, bits.Len(uint(len(p)))-2)) // about 4 pairs per bucket
	x.shift = width - b
	x.starts = make([]uint32, 1<<b+1)
	k := 0
	for bk := range 1 << b {
		x.starts[bk] = uint32(k)
		for k < len(x.hs) && int(x.hs[k]>>x.shift) == bk {
			k++
		}
	}
	x.starts[1<<b] = uint32(len(x.hs))
}

// each calls f with every value stored under h, lowest first, until f
// returns false.
func (x *hashMulti[H]) each(h H, f func(int32) bool) {
	if len(x.hs) == 0 {
		return
	}
	bk := h >> x.shift
	for k := x.starts[bk]; k < x.starts[bk+1] && x.hs[k] <= h; k++ {
		if x.hs[k] == h && !f(x.vs[k]) {
			return
		}
	}
}

func (x *hashMulti[H]) len() int { return len(x.hs) }
