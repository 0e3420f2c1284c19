package netsim

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyQueue: the heap pops items in (at, seq) order, as a sorted
// slice would, through pushes, pops and compactions (heapify after
// dropping items), with many ties on at and heaps of every shape.
func TestPropertyQueue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue
		var model []item // sorted by (at, seq)
		seq := uint64(0)
		floor := int64(0)
		for range rapid.IntRange(1, 400).Draw(t, "ops") {
			switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
			case op < 5:
				seq++
				it := newItem(floor+rapid.Int64Range(0, 20).Draw(t, "dt"), seq,
					itemKind(rapid.IntRange(0, 2).Draw(t, "kind")), rapid.Uint64().Draw(t, "ref"))
				q.push(it)
				i, _ := slices.BinarySearchFunc(model, it, cmpItem)
				model = slices.Insert(model, i, it)
			case op < 9:
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
				keep := rapid.Uint64().Draw(t, "keep") // drop items whose ref has this bit clear
				bit := uint(rapid.IntRange(0, 63).Draw(t, "bit"))
				kept := q[:0]
				for _, it := range q {
					if it.ref>>bit&1 == keep>>bit&1 {
						kept = append(kept, it)
					}
				}
				q = kept
				q.heapify()
				model = slices.DeleteFunc(model, func(it item) bool { return it.ref>>bit&1 != keep>>bit&1 })
			}
			if len(q) != len(model) {
				t.Fatalf("queue holds %d items, want %d", len(q), len(model))
			}
			if len(q) > 0 && q[0] != model[0] {
				t.Fatalf("head = %+v, want %+v", q[0], model[0])
			}
		}
		for len(model) > 0 {
			if got := q.pop(); got != model[0] {
				t.Fatalf("drain: pop = %+v, want %+v", got, model[0])
			}
			model = model[1:]
		}
	})
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
