package netsim

// itemKind says what an entry of the event queue refers to.
type itemKind uint8

const (
	kindMessage itemKind = iota // ref indexes Network.payloads
	kindTimer                   // ref is the timer id
	kindFault                   // ref indexes Network.faults
)

// kindBits is how many low bits of item.key hold the kind.
const kindBits = 2

// item is one entry of the event queue, kept small (24 bytes) so that heap
// moves are cheap; message payloads live in a slab beside it. Items are
// totally ordered by (at, seq), and seq is unique, so the pop order never
// depends on how the heap happens to be laid out.
type item struct {
	at  int64  // Unix nanoseconds
	key uint64 // seq<<kindBits | kind: ordering by key is ordering by seq
	ref uint64
}

func newItem(at int64, seq uint64, kind itemKind, ref uint64) item {
	return item{at: at, key: seq<<kindBits | uint64(kind), ref: ref}
}

func (it *item) seq() uint64    { return it.key >> kindBits }
func (it *item) kind() itemKind { return itemKind(it.key & (1<<kindBits - 1)) }
func (it *item) before(o *item) bool {
	return it.at < o.at || it.at == o.at && it.key < o.key
}

// queue is a 4-ary min-heap of items ordered by (at, seq): shallower than
// a binary heap, and a node's children share a cache line. Sifting moves a
// hole rather than swapping, so each level costs one item copy.
type queue []item

func (q *queue) push(it item) {
	h := append(*q, it)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !it.before(&h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = it
	*q = h
}

// pop removes and returns the least item; q must not be empty.
func (q *queue) pop() item {
	h := *q
	last := len(h) - 1
	top := h[0]
	if last > 0 {
		h[:last].siftDown(0, h[last])
	}
	*q = h[:last]
	return top
}

// siftDown places it in the hole at i, moving the hole down past every
// child that goes before it.
func (q queue) siftDown(i int, it item) {
	n := len(q)
	for {
		first := 4*i + 1
		var least int
		if first+4 <= n {
			c := q[first : first+4 : first+4]
			a, b := 0, 2
			if c[1].before(&c[0]) {
				a = 1
			}
			if c[3].before(&c[2]) {
				b = 3
			}
			if c[b].before(&c[a]) {
				a = b
			}
			least = first + a
		} else if first < n {
			least = first
			for j := first + 1; j < n; j++ {
				if q[j].before(&q[least]) {
					least = j
				}
			}
		} else {
			break
		}
		if !q[least].before(&it) {
			break
		}
		q[i] = q[least]
		i = least
	}
	q[i] = it
}

// heapify restores the heap order after an arbitrary rewrite of q.
func (q queue) heapify() {
	if len(q) < 2 {
		return
	}
	for i := (len(q) - 2) / 4; i >= 0; i-- {
		q.siftDown(i, q[i])
	}
}
