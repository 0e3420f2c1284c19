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

// queue is a binary min-heap of items ordered by (at, seq).
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
		parent := (i - 1) / 2
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
		l := 2*i + 1
		if l >= n {
			return
		}
		least := l
		if r := l + 1; r < n && q.less(r, l) {
			least = r
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
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}
