package netsim

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyQueue: the queue pops items in (at, seq) order, as a sorted
// slice would, through pushes, pops and compactions (filter), with many
// ties on at, in both layouts and across the switches between them (runs
// of pushes or pops take it past heapAbove and below sortedBelow). After
// every operation the layout's invariant holds. Items are pushed in seq
// order, as the Network queues them (push compares instants only).
func TestPropertyQueue(t *testing.T) {
	toHeap, toSorted := 0, 0 // layout switches seen over all runs
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		var model []item // sorted by (at, seq)
		seq := uint64(0)
		floor := int64(0)
		for range rapid.IntRange(1, 60).Draw(t, "runs") {
			op := rapid.IntRange(0, 4).Draw(t, "op")
			for range rapid.IntRange(1, 3*heapAbove).Draw(t, "times") {
				wasHeap := q.heap
				switch {
				case op < 2:
					seq++
					it := newItem(floor+rapid.Int64Range(0, 20).Draw(t, "dt"), seq,
						itemKind(rapid.IntRange(0, 2).Draw(t, "kind")), rapid.Uint64().Draw(t, "ref"))
					q.push(it)
					i, _ := slices.BinarySearchFunc(model, it, cmpItem)
					model = slices.Insert(model, i, it)
				case op < 4:
					if len(model) == 0 {
						continue
					}
					got := q.pop()
					if got != model[0] {
						t.Fatalf("pop = %+v, want %+v", got, model[0])
					}
					model = model[1:]
					floor = got.at
				default:
					bit := uint(rapid.IntRange(0, 63).Draw(t, "bit"))
					q.filter(func(it *item) bool { return it.ref>>bit&1 == 1 })
					model = slices.DeleteFunc(model, func(it item) bool { return it.ref>>bit&1 == 0 })
				}
				if q.len() != len(model) {
					t.Fatalf("queue holds %d items, want %d", q.len(), len(model))
				}
				if len(model) > 0 && *q.least() != model[0] {
					t.Fatalf("least = %+v, want %+v", *q.least(), model[0])
				}
				checkLayout(t, &q)
				switch {
				case q.heap && !wasHeap:
					toHeap++
				case !q.heap && wasHeap:
					toSorted++
				}
			}
		}
		for len(model) > 0 {
			if got := q.pop(); got != model[0] {
				t.Fatalf("drain: pop = %+v, want %+v", got, model[0])
			}
			model = model[1:]
			checkLayout(t, &q)
		}
	})
	t.Logf("switches: %d to heap, %d back", toHeap, toSorted)
	if toHeap == 0 || toSorted == 0 {
		t.Errorf("the queue switched to a heap %d times, back %d times; want both exercised", toHeap, toSorted)
	}
}

// checkLayout fails t unless q's items satisfy its layout's invariant.
func checkLayout(t *rapid.T, q *queue) {
	for i := 1; i < q.len(); i++ {
		if q.heap {
			if p := (i - 1) / 4; q.items[i].before(&q.items[p]) {
				t.Fatalf("heap: item %d %+v goes before its parent %d %+v", i, q.items[i], p, q.items[p])
			}
		} else if !q.items[i].before(&q.items[i-1]) {
			t.Fatalf("sorted: item %d %+v does not go before item %d %+v", i, q.items[i], i-1, q.items[i-1])
		}
	}
}

func cmpItem(a, b item) int {
	switch {
	case a.at != b.at:
		return cmpInt(a.at, b.at)
	case a.seq() != b.seq():
		return cmpInt(a.seq(), b.seq())
	}
	return 0
}

func cmpInt[T int64 | uint64](a, b T) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// TestItemFields: an item gives back the sequence number and kind it was
// built from, and its order is (at, seq) whatever the kinds.
func TestItemFields(t *testing.T) {
	for _, k := range []itemKind{kindMessage, kindTimer, kindFault} {
		it := newItem(5, 1<<60-1, k, 7)
		if it.seq() != 1<<60-1 || it.kind() != k || it.ref != 7 {
			t.Errorf("newItem(5, 1<<60-1, %d, 7) gives seq %d, kind %d, ref %d", k, it.seq(), it.kind(), it.ref)
		}
		if later := newItem(5, 1<<60, kindMessage, 0); !it.before(&later) || later.before(&it) {
			t.Errorf("kind %d: item with seq 1<<60-1 is not before seq 1<<60 at the same instant", k)
		}
	}
}
