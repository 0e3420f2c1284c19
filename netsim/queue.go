package netsim

import "slices"

// itemKind says what an entry of the event queue refers to.
type itemKind uint8

const (
	kindMessage itemKind = iota // ref indexes Network.payloads
	kindTimer                   // ref is the timer id
	kindFault                   // ref indexes Network.faults
)

// kindBits is how many low bits of item.key hold the kind.
const kindBits = 2

// item is one entry of the event queue, kept small (24 bytes) so that
// moving it is cheap; message payloads live in a slab beside it. Items are
// totally ordered by (at, seq), and seq is unique, so the pop order never
// depends on how the queue happens to be laid out.
type item struct {
	at  int64  // Unix nanoseconds
	key uint64 // seq<<kindBits | kind: ordering by key is ordering by seq
	ref uint64
}

func newItem(at int64, seq uint64, kind itemKind, ref uint64) item {
	return item{at: at, key: seq<<kindBits | uint64(kind), ref: ref}
}

func (it item) seq() uint64    { return it.key >> kindBits }
func (it item) kind() itemKind { return itemKind(it.key & (1<<kindBits - 1)) }

// before reports whether it goes before o in (at, seq) order.
func (it *item) before(o *item) bool {
	return it.at < o.at || it.at == o.at && it.key < o.key
}

// A queue that grows past heapAbove items becomes a heap; a heap that
// shrinks below sortedBelow items becomes sorted again. The gap keeps a
// queue whose length hovers around one bound from switching back and
// forth.
const (
	heapAbove   = 64
	sortedBelow = 16
)

// queue holds the items in (at, seq) order, in one of two layouts. A short
// queue (a small cluster keeps about ten entries) is sorted, latest first,
// so that a pop takes the last item and a push moves up the few items that
// go before the new one. A long one is a 4-ary min-heap: shallower than a
// binary heap, and a node's children share a cache line; its sifts move a
// hole rather than swapping, one item copy per level.
type queue struct {
	items []item
	// heap says which layout items has. Invariant: if heap, every item
	// goes after its parent (the item at (i-1)/4); otherwise each item
	// goes after the next one.
	heap bool
}

func (q *queue) len() int { return len(q.items) }

// least returns the item that pop would return; q must not be empty.
func (q *queue) least() *item {
	if q.heap {
		return &q.items[0]
	}
	return &q.items[len(q.items)-1]
}

// push adds it to the queue. it must come after every queued item in seq
// (the Network numbers its entries as it queues them), so that it goes
// after exactly the items due at or before its instant: the comparisons
// read only at.
func (q *queue) push(it item) {
	h := q.items
	n := len(h)
	if q.heap || n >= heapAbove || n == cap(h) {
		q.pushSlow(it)
		return
	}
	// Insertion from the least end: move up each item that goes before
	// it (is due no later). A small queue is a few in-flight copies and a
	// timer per node, so this is a few moves, cheaper than a search and a
	// memmove call.
	h = h[:n+1] // only the length changes: no write barrier
	q.items = h
	i := n
	for ; i > 0; i-- {
		prev := &h[i-1]
		if prev.at > it.at {
			break
		}
		h[i] = *prev
	}
	h[i] = it
}

// pushSlow is push to a heap, to a sorted queue that becomes one, or to
// a full slice.
func (q *queue) pushSlow(it item) {
	if q.heap {
		q.items = heapPush(q.items, it)
		return
	}
	h := q.items
	if len(h) >= heapAbove {
		slices.Reverse(h) // ascending order is a heap
		q.heap = true
		q.items = heapPush(h, it)
		return
	}
	q.items = append(h, item{})[:len(h)]
	q.push(it)
}

// pop removes and returns the least item; q must not be empty.
func (q *queue) pop() item {
	h := q.items
	last := len(h) - 1
	if !q.heap {
		top := h[last]
		q.items = h[:last]
		return top
	}
	top := h[0]
	if last > 0 {
		heap(h[:last]).siftDown(0, h[last])
	}
	q.items = h[:last]
	if last < sortedBelow {
		slices.SortFunc(q.items, func(a, b item) int { // latest first
			switch {
			case b.before(&a):
				return -1
			case a.before(&b):
				return 1
			}
			return 0
		})
		q.heap = false
	}
	return top
}

// filter keeps only the items for which keep returns true.
func (q *queue) filter(keep func(*item) bool) {
	kept := q.items[:0]
	for i := range q.items {
		if keep(&q.items[i]) {
			kept = append(kept, q.items[i])
		}
	}
	clear(q.items[len(kept):])
	q.items = kept
	if q.heap {
		heap(kept).heapify()
	}
}

// heap is a 4-ary min-heap of items.
type heap []item

// heapPush adds it, which comes after every item of h in seq (see
// queue.push), to h.
func heapPush(h heap, it item) heap {
	h = append(h, it)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if it.at >= h[parent].at { // !it.before(&h[parent]), its seq being larger
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = it
	return h
}

// siftDown places it in the hole at i, moving the hole down past every
// child that goes before it.
func (h heap) siftDown(i int, it item) {
	n := len(h)
	for {
		first := 4*i + 1
		var least int
		if first+4 <= n {
			c := h[first : first+4 : first+4]
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
				if h[j].before(&h[least]) {
					least = j
				}
			}
		} else {
			break
		}
		if !h[least].before(&it) {
			break
		}
		h[i] = h[least]
		i = least
	}
	h[i] = it
}

// heapify restores the heap order after an arbitrary rewrite of h.
func (h heap) heapify() {
	if len(h) < 2 {
		return
	}
	for i := (len(h) - 2) / 4; i >= 0; i-- {
		h.siftDown(i, h[i])
	}
}
