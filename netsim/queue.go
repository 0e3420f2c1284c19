package netsim

// itemKind says what an entry of the event queue refers to.
type itemKind uint8

const (
	kindMessage itemKind = iota // ref indexes Network.payloads
	kindTimer                   // ref is the timer id
	kindFault                   // ref indexes Network.faults
)

// item is one entry of the event queue, kept small (32 bytes) so that heap
// moves are cheap; message payloads live in a slab beside it. Items are
// totally ordered by (at, seq), and seq is unique, so the pop order never
// depends on how the heap happens to be laid out.
type item struct {
	at   int64 // Unix nanoseconds
	seq  uint64
	ref  uint64
	kind itemKind
}

// queue is a 4-ary min-heap of items ordered by (at, seq): shallower than
// a binary heap, and a node's children share a cache line.
type queue []item

func (q queue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *queue) push(it item) {
	*q = append(*q, it)
	q.up(len(*q) - 1)
}

// pop removes and returns the least item; q must not be empty.
func (q *queue) pop() item {
	h := *q
	last := len(h) - 1
	top := h[0]
	h[0] = h[last]
	*q = h[:last]
	if last > 0 {
		q.down(0)
	}
	return top
}

func (q queue) up(i int) {
	for i > 0 {
		parent := (i - 1) / 4
		if !q.less(i, parent) {
			return
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (q queue) down(i int) {
	n := len(q)
	for {
		first := 4*i + 1
		if first >= n {
			return
		}
		least := first
		for c := first + 1; c < first+4 && c < n; c++ {
			if q.less(c, least) {
				least = c
			}
		}
		if !q.less(least, i) {
			return
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
}

// heapify restores the heap order after an arbitrary rewrite of q.
func (q queue) heapify() {
	for i := (len(q) - 2) / 4; i >= 0; i-- {
		q.down(i)
	}
}
