package sim

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestPendingQueue: entries pushed and popped in any interleaving come
// out as a stable sort by instant of the entries pushed would give them,
// each once, and pop takes none whose instant is after its argument.
func TestPendingQueue(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := &sim{}
		var want []Entry // the entries waiting, in the order they must leave
		for i := range rapid.IntRange(0, 200).Draw(t, "steps") {
			if rapid.IntRange(0, 2).Draw(t, "pop") == 0 {
				at := rapid.Int64Range(0, 12).Draw(t, "until")
				got, ok := s.pop(at)
				if len(want) == 0 || int64(want[0].At) > at {
					if ok {
						t.Fatalf("pop(%d) = entry %d at %v, want none", at, got.Node, got.At)
					}
					continue
				}
				if !ok || got.Node != want[0].Node {
					t.Fatalf("pop(%d) = entry %d, %v, want entry %d", at, got.Node, ok, want[0].Node)
				}
				want = want[1:]
				continue
			}
			e := Entry{At: time.Duration(rapid.IntRange(0, 10).Draw(t, "at")), Node: i, Peer: -1}
			s.push(e)
			k := len(want)
			for k > 0 && want[k-1].At > e.At {
				k--
			}
			want = slices.Insert(want, k, e)
		}
		for len(want) > 0 {
			got, ok := s.pop(1 << 62)
			if !ok || got.Node != want[0].Node {
				t.Fatalf("draining: pop = entry %d, %v, want entry %d", got.Node, ok, want[0].Node)
			}
			want = want[1:]
		}
		if _, ok := s.pop(1 << 62); ok {
			t.Fatalf("pop of an empty queue found an entry")
		}
	})
}
