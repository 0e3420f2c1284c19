package proto

import (
	"maps"
	"math"
	"slices"
	"sort"
	"unsafe"
)

// VClock is a vector clock over the unique addresses that changed the gossip
// state. Entries of removed members are pruned (see State.prune), so a clock
// stays as small as the set of members that ever wrote.
//
// Invariant: no entry is zero.
type VClock map[UniqueAddress]uint64

// Ordering is how two clocks relate.
type Ordering int8

// The four outcomes of VClock.Compare.
const (
	Same Ordering = iota
	Before
	After
	Concurrent
)

var orderingNames = [...]string{"Same", "Before", "After", "Concurrent"}

// String names the ordering.
func (o Ordering) String() string { return orderingNames[o] }

// Clone returns a copy.
func (v VClock) Clone() VClock {
	if v == nil {
		return VClock{}
	}
	return maps.Clone(v) // copies the table rather than rehashing every entry
}

// Increment returns a copy of v with node's entry raised by one.
func (v VClock) Increment(node UniqueAddress) VClock {
	out := v.Clone()
	out[node]++
	return out
}

// Merge returns the element-wise maximum of v and w.
func (v VClock) Merge(w VClock) VClock {
	out := v.Clone()
	for k, c := range w {
		if c > out[k] {
			out[k] = c
		}
	}
	return out
}

// mergeShared is Merge, except that it returns v or w itself when that one
// already is the element-wise maximum. Clocks in states are never modified
// once assigned, so states may share them.
func mergeShared(v, w VClock) VClock {
	if v != nil && sameClock(v, w) {
		return v
	}
	if v != nil && dominates(v, w) {
		return v
	}
	if w != nil && dominates(w, v) {
		return w
	}
	return v.Merge(w)
}

// dominates reports whether every entry of w is at most v's.
func dominates(v, w VClock) bool {
	for k, c := range w {
		if c > v[k] {
			return false
		}
	}
	return true
}

// sameClock reports whether v and w are the same map, which implies equal
// contents. States share clocks (see mergeShared), so two states compared
// often hold the very same clock.
func sameClock(v, w VClock) bool { return mapPointer(v) == mapPointer(w) }

// mapPointer is reflect.ValueOf(m).UnsafePointer(), the identity of a map
// (nil for a nil map), read without going through reflect: a map value is
// one pointer word.
func mapPointer[M ~map[K]V, K comparable, V any](m M) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// Compare tells whether v is Before, After, the Same as or Concurrent with w.
func (v VClock) Compare(w VClock) Ordering {
	if sameClock(v, w) {
		return Same
	}
	less, more := false, false
	found := 0 // keys of v that w has
	for k, a := range v {
		b, ok := w[k]
		if ok {
			found++
		}
		if a < b {
			less = true
		} else if a > b {
			more = true
		}
		if less && more {
			return Concurrent
		}
	}
	// Keys of w that v lacks make v less, unless their counts are zero;
	// there are none when w has no keys beyond those found.
	if !less && found < len(w) {
		for k, b := range w {
			if _, ok := v[k]; !ok && b > 0 {
				less = true
				break
			}
		}
	}
	return orderingOf(less, more)
}

// Nodes returns the clock's keys in address order.
func (v VClock) Nodes() []UniqueAddress {
	out := make([]UniqueAddress, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}

// Digest is a stable 64-bit hash of the clock, walked in address order.
func (v VClock) Digest() uint64 {
	h := newHasher()
	for _, k := range v.Nodes() {
		h.addNode(k)
		h.addUint(v[k])
	}
	return h.sum
}

// OrderFreeDigest is a stable 64-bit hash of the clock that needs no
// sorting: the sum of one mixed hash per entry. It is never zero for a
// non-empty clock.
func (v VClock) OrderFreeDigest() uint64 {
	var sum uint64
	for k, c := range v {
		sum += fmix64(k.Hash() ^ (c * 0x9e3779b97f4a7c15))
	}
	if sum == 0 && len(v) > 0 {
		sum = 1
	}
	return sum
}

// digestAndSum is (v.OrderFreeDigest(), v.Sum()) in one walk of v.
func (v VClock) digestAndSum() (digest, sum uint64) {
	saturated := false
	for k, c := range v {
		digest += fmix64(k.Hash() ^ (c * 0x9e3779b97f4a7c15))
		if sum+c < sum {
			saturated = true
		}
		sum += c
	}
	if digest == 0 && len(v) > 0 {
		digest = 1
	}
	if saturated {
		sum = math.MaxUint64
	}
	return digest, sum
}

// fmix64 is MurmurHash3's 64-bit finalizer: every input bit affects every
// output bit, so sums of mixed values make good order-free digests.
func fmix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Sum is the sum of the counters, saturating at the largest uint64. A clock
// that dominates another has a larger sum; the converse does not hold.
func (v VClock) Sum() uint64 {
	var sum uint64
	for _, c := range v {
		if sum+c < sum {
			return math.MaxUint64
		}
		sum += c
	}
	return sum
}

// hasher is FNV-1a over fixed-width fields.
type hasher struct{ sum uint64 }

func newHasher() *hasher { return &hasher{sum: 14695981039346656037} }

func (h *hasher) addUint(x uint64) {
	const prime = 1099511628211
	s := h.sum
	s = (s ^ (x & 0xff)) * prime
	s = (s ^ (x >> 8 & 0xff)) * prime
	s = (s ^ (x >> 16 & 0xff)) * prime
	s = (s ^ (x >> 24 & 0xff)) * prime
	s = (s ^ (x >> 32 & 0xff)) * prime
	s = (s ^ (x >> 40 & 0xff)) * prime
	s = (s ^ (x >> 48 & 0xff)) * prime
	s = (s ^ (x >> 56)) * prime
	h.sum = s
}

func (h *hasher) addString(s string) {
	h.addUint(uint64(len(s)))
	sum := h.sum
	for i := 0; i < len(s); i++ {
		sum = (sum ^ uint64(s[i])) * 1099511628211
	}
	h.sum = sum
}

func (h *hasher) addNode(u UniqueAddress) {
	h.addString(u.Host)
	h.addUint(uint64(u.Port))
	h.addUint(uint64(u.UID))
}

// clockEntry is one entry of a flattened clock.
type clockEntry struct {
	node  UniqueAddress
	count uint64
}

// entryBefore orders clock entries by UID, then port, then host: any total
// order of the keys consistent with their equality serves, and this one
// mostly settles on the UID.
func entryBefore(a, b *UniqueAddress) bool {
	if a.UID != b.UID {
		return a.UID < b.UID
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	return a.Host < b.Host
}

// flatClock is a clock's entries in entryBefore order, walked out of the
// map once: comparing two flattened clocks hashes no key, and asking
// about the same clock again walks no map. A flatClock is a node's
// scratch space: it is refilled for the next clock in place.
type flatClock struct {
	// of is the clock flattened (held, so that its memory is not
	// reused while it is remembered); filled tells a nil clock from none.
	of      VClock
	filled  bool
	entries []clockEntry
	// spare is the other buffer placeLike writes into.
	spare []clockEntry
	// valid is validateClock(of) == nil.
	valid bool
	// mask is uidMask of the entries' UIDs: a list of UIDs whose mask
	// meets none of its bits names no entry.
	mask uint64
	// hashes[i] is hashed[i].Hash(): digestAndSum's memo, kept over
	// refills, since the same nodes mostly come back in the same places.
	// Nodes with UID 0 are never kept.
	hashed []UniqueAddress
	hashes []uint64
}

// flatten makes f the flattening of v, unless it is already.
func (f *flatClock) flatten(v VClock) {
	if f.filled && sameClock(f.of, v) {
		return
	}
	if len(v) > 12 && f.filled && len(v) == len(f.entries) && f.placeLike(v) {
		return
	}
	es := f.entries[:0]
	valid := len(v) <= MaxClockEntries
	var mask uint64
	for k, c := range v {
		if c == 0 || k.UID == 0 {
			valid = false
		}
		mask |= 1 << (k.UID % 64)
		es = append(es, clockEntry{node: k, count: c})
	}
	if len(es) <= 12 {
		for i := 1; i < len(es); i++ {
			if !entryBefore(&es[i].node, &es[i-1].node) {
				continue
			}
			// Shift the entries after it up by one, then place it.
			x, j := es[i], i
			for ; j > 0 && entryBefore(&x.node, &es[j-1].node); j-- {
				es[j] = es[j-1]
			}
			es[j] = x
		}
	} else {
		slices.SortFunc(es, func(a, b clockEntry) int {
			if a.node.UID != b.node.UID { // entryBefore, its common case first
				if a.node.UID < b.node.UID {
					return -1
				}
				return 1
			}
			if entryBefore(&a.node, &b.node) {
				return -1
			}
			if a.node == b.node {
				return 0
			}
			return 1
		})
	}
	f.of, f.filled, f.entries, f.valid, f.mask = v, true, es, valid, mask
}

// placeLike flattens v without sorting when v names the very nodes of the
// clock f holds, as the clocks of one cluster mostly do: each entry goes to
// its node's place in f's entries, found by a binary search on the UID. It
// reports false, leaving f as it was, when some node of v is not in f.
// The entries are written to f.spare, which then swaps with f.entries.
func (f *flatClock) placeLike(v VClock) bool {
	prev := f.entries
	out := f.spare
	if cap(out) < len(prev) {
		out = make([]clockEntry, len(prev))
	}
	out = out[:len(prev)]
	valid := len(v) <= MaxClockEntries
	var mask uint64
	for k, c := range v {
		if c == 0 || k.UID == 0 {
			valid = false
		}
		mask |= 1 << (k.UID % 64)
		lo, hi := 0, len(prev)
		for lo < hi {
			if m := int(uint(lo+hi) >> 1); prev[m].node.UID < k.UID {
				lo = m + 1
			} else {
				hi = m
			}
		}
		for lo < len(prev) && prev[lo].node.UID == k.UID && prev[lo].node != k {
			lo++
		}
		if lo == len(prev) || prev[lo].node != k {
			return false
		}
		// v's keys are distinct and as many as prev's, so each lands on
		// a place of its own and every place is written.
		out[lo] = clockEntry{node: k, count: c}
	}
	f.spare = prev
	f.of, f.entries, f.valid, f.mask = v, out, valid, mask
	return true
}

// get is f.of[u].
func (f *flatClock) get(u *UniqueAddress) uint64 {
	for i := range f.entries {
		if e := &f.entries[i]; e.node.UID == u.UID && e.node == *u {
			return e.count
		}
	}
	return 0
}

// namesUID is namesUID(f.of, a, b): both lists and the entries are in
// UID order, so one walk of each settles it.
func (f *flatClock) namesUID(a, b []UID) bool {
	return sortedUIDsMeet(f.entries, a) || sortedUIDsMeet(f.entries, b)
}

// sortedUIDsMeet reports whether some entry's UID is in list; both are in
// UID order.
func sortedUIDsMeet(es []clockEntry, list []UID) bool {
	i, j := 0, 0
	for i < len(es) && j < len(list) {
		switch uid := es[i].node.UID; {
		case uid == list[j]:
			return true
		case uid < list[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// compareFlatClocks is v.Compare(w) for the flattenings of v and w: one walk of
// both in step, a key missing on one side counting as zero there.
func compareFlatClocks(v, w []clockEntry) Ordering {
	less, more := false, false
	i, j := 0, 0
	for i < len(v) && j < len(w) {
		a, b := &v[i], &w[j]
		switch {
		case a.node == b.node:
			if a.count < b.count {
				less = true
			} else if a.count > b.count {
				more = true
			}
			i++
			j++
		case entryBefore(&a.node, &b.node): // w lacks a's key
			if a.count > 0 {
				more = true
			}
			i++
		default: // v lacks b's key
			if b.count > 0 {
				less = true
			}
			j++
		}
		if less && more {
			return Concurrent
		}
	}
	for ; i < len(v); i++ {
		if v[i].count > 0 {
			more = true
		}
	}
	for ; j < len(w); j++ {
		if w[j].count > 0 {
			less = true
		}
	}
	return orderingOf(less, more)
}

// digestAndSum is f.of.digestAndSum(), from the entries.
func (f *flatClock) digestAndSum() (digest, sum uint64) {
	if len(f.hashed) < len(f.entries) {
		f.hashed = append(f.hashed, make([]UniqueAddress, len(f.entries)-len(f.hashed))...)
		f.hashes = append(f.hashes, make([]uint64, len(f.entries)-len(f.hashes))...)
	}
	saturated := false
	for i := range f.entries {
		e := &f.entries[i]
		var h uint64
		switch k := &f.hashed[i]; {
		case e.node.UID != 0 && sameNode(k, &e.node):
			h = f.hashes[i]
		case e.node.UID != 0:
			h = e.node.Hash()
			*k, f.hashes[i] = e.node, h
		default:
			h = e.node.Hash()
		}
		digest += fmix64(h ^ (e.count * 0x9e3779b97f4a7c15))
		if sum+e.count < sum {
			saturated = true
		}
		sum += e.count
	}
	if digest == 0 && len(f.entries) > 0 {
		digest = 1
	}
	if saturated {
		sum = math.MaxUint64
	}
	return digest, sum
}

// orderingOf is the Ordering of a clock that counts less than the other
// somewhere (less) and more somewhere (more).
func orderingOf(less, more bool) Ordering {
	switch {
	case less && more:
		return Concurrent
	case less:
		return Before
	case more:
		return After
	}
	return Same
}
