package invariants

// fifo is a map that forgets its oldest key beyond limit entries.
//
// The entries live in a ring of limit slots, in insertion order, and m
// maps each key held to its slot. The ring is allocated a chunk of
// fifoChunk slots at a time as it fills, never moved: a memory that holds
// few entries costs little, and one that grows allocates each entry once
// (a map of whole records, or a slice grown by append, allocates them
// about twice over as it doubles).
type fifo[K comparable, V any] struct {
	m      map[K]int32 // key -> its slot in the ring
	chunks [][]fifoEntry[K, V]
	n      int // entries ever put; the next goes to slot n % limit
	limit  int
}

type fifoEntry[K comparable, V any] struct {
	k K
	v V
}

// fifoChunk is how many slots of the ring are allocated at once.
const fifoChunk = 32

func newFIFO[K comparable, V any](limit int) fifo[K, V] {
	return fifo[K, V]{m: map[K]int32{}, limit: limit}
}

// entry is the ring's slot i.
func (f *fifo[K, V]) entry(i int32) *fifoEntry[K, V] {
	return &f.chunks[i/fifoChunk][i%fifoChunk]
}

func (f *fifo[K, V]) get(k K) (V, bool) {
	if i, ok := f.m[k]; ok {
		return f.entry(i).v, true
	}
	var zero V
	return zero, false
}

// len is the number of keys held.
func (f *fifo[K, V]) len() int { return len(f.m) }

func (f *fifo[K, V]) put(k K, v V) {
	if i, ok := f.m[k]; ok {
		f.entry(i).v = v
		return
	}
	i := int32(f.n % f.limit)
	if f.n >= f.limit {
		e := f.entry(i)
		delete(f.m, e.k)
	} else if int(i)/fifoChunk == len(f.chunks) {
		f.chunks = append(f.chunks, make([]fifoEntry[K, V], min(fifoChunk, f.limit-int(i))))
	}
	f.n++
	*f.entry(i) = fifoEntry[K, V]{k: k, v: v}
	f.m[k] = i
}
