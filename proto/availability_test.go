package proto

import (
	"slices"
	"testing"
	"time"
)

// TestVerdictsAreTheNaiveList checks verdictsAre, which compares the
// detector's verdicts with a list as it goes, against building the list
// of unavailable subjects and comparing with nodesEqual: on the node's own
// row, on that list itself and on lists one change away from it, at every
// tick of a cluster that is partitioned and healed.
func TestVerdictsAreTheNaiveList(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 5)
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	checked, unavailable := 0, 0
	check := func(a Address, n *Node) {
		n.Tick(c.now)
		c.collect(a)
		if n.Phase() != PhaseMember {
			return
		}
		var naive []UniqueAddress
		for i, h := range n.monitors {
			if !h.Available(n.now) {
				naive = append(naive, n.monitorList[i])
			}
		}
		unavailable += len(naive)
		own := n.ownUnreachable()
		lists := [][]UniqueAddress{own, naive, nil, append(slices.Clone(naive), n.self)}
		if len(naive) > 0 {
			lists = append(lists, naive[1:], naive[:len(naive)-1])
			swapped := slices.Clone(naive)
			swapped[0] = n.self
			lists = append(lists, swapped)
		}
		if len(naive) > 1 {
			lists = append(lists, slices.Concat(naive[1:], naive[:1]))
		}
		for _, list := range lists {
			if got, want := n.verdictsAre(list), nodesEqual(naive, list); got != want {
				t.Fatalf("%v at %v: verdictsAre(%v) = %v, want %v (unavailable: %v)", a, c.now, list, got, want, naive)
			}
			checked++
		}
	}
	step := func(d time.Duration) { c.runWith(d, 100*time.Millisecond, check) }
	step(5 * time.Second)
	c.partition([]Address{addr(1), addr(2), addr(3)}, []Address{addr(4), addr(5)})
	step(15 * time.Second)
	c.heal()
	step(10 * time.Second)
	if checked < 1000 || unavailable < 100 {
		t.Fatalf("%d checks, %d unavailable verdicts: too few", checked, unavailable)
	}
}
