package invariants

// fifo is a map that forgets its oldest key beyond limit entries.
type fifo[K comparable, V any] struct {
	m     map[K]V
	order []K // ring of keys in insertion order
	next  int // oldest slot once the ring is full
	limit int
}

func newFIFO[K comparable, V any](limit int) fifo[K, V] {
	return fifo[K, V]{m: map[K]V{}, limit: limit}
}

func (f *fifo[K, V]) get(k K) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

func (f *fifo[K, V]) put(k K, v V) {
	if _, ok := f.m[k]; ok {
		f.m[k] = v
		return
	}
	if len(f.order) < f.limit {
		f.order = append(f.order, k)
	} else {
		delete(f.m, f.order[f.next])
		f.order[f.next] = k
		f.next = (f.next + 1) % f.limit
	}
	f.m[k] = v
}
