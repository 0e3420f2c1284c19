package invariants

import "unsafe"

// memo is a direct-mapped cache of a pure function of one or two
// immutable state parts, named by their pointers: each key has one slot,
// and a newer entry replaces the one in it. A slot holds the pointers of
// its key, so that the parts' memory cannot be reused by other parts
// while they are remembered. What a memo forgets only costs time.
type memo[V any] struct {
	slots []memoSlot[V]
	shift uint
}

type memoSlot[V any] struct {
	a, b unsafe.Pointer
	used bool
	v    V
}

// newMemo returns a memo of 1<<bits slots.
func newMemo[V any](bits uint) memo[V] {
	return memo[V]{slots: make([]memoSlot[V], 1<<bits), shift: 64 - bits}
}

func (m *memo[V]) slot(a, b unsafe.Pointer) *memoSlot[V] {
	h := uint64(uintptr(a))*0x9e3779b97f4a7c15 ^ uint64(uintptr(b))*0xc2b2ae3d27d4eb4f
	return &m.slots[h>>m.shift]
}

// get returns the value remembered for (a, b).
func (m *memo[V]) get(a, b unsafe.Pointer) (V, bool) {
	if s := m.slot(a, b); s.used && s.a == a && s.b == b {
		return s.v, true
	}
	var zero V
	return zero, false
}

// put remembers v for (a, b), in place of what its slot held.
func (m *memo[V]) put(a, b unsafe.Pointer, v V) {
	*m.slot(a, b) = memoSlot[V]{a: a, b: b, used: true, v: v}
}
