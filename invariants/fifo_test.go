package invariants

import (
	"testing"

	"pgregory.net/rapid"
)

// naiveFIFO is the plain form of fifo: a map of the values and a ring of
// the keys in insertion order.
type naiveFIFO struct {
	m     map[int]int
	order []int
	next  int
	limit int
}

func (f *naiveFIFO) put(k, v int) {
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

// TestFIFOMatchesNaive: after any sequence of puts, with limits below,
// at and above the chunk size, fifo holds exactly the keys and values the
// naive map-and-ring does.
func TestFIFOMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.SampledFrom([]int{1, 2, 3, fifoChunk - 1, fifoChunk, fifoChunk + 1, 2*fifoChunk + 5, 100}).Draw(t, "limit")
		keys := rapid.IntRange(1, 3*limit+2).Draw(t, "keys")
		f := newFIFO[int, int](limit)
		want := naiveFIFO{m: map[int]int{}, limit: limit}
		for i := range rapid.IntRange(0, 6*limit+10).Draw(t, "puts") {
			k := rapid.IntRange(0, keys).Draw(t, "key")
			f.put(k, i)
			want.put(k, i)
			if f.len() != len(want.m) {
				t.Fatalf("after put %d the fifo holds %d keys, want %d", i, f.len(), len(want.m))
			}
		}
		for k := 0; k <= keys; k++ {
			v, ok := f.get(k)
			w, wok := want.m[k]
			if v != w || ok != wok {
				t.Fatalf("get(%d) = %d, %v, want %d, %v", k, v, ok, w, wok)
			}
		}
	})
}
