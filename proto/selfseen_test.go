package proto

import (
	"testing"
	"time"
)

// TestLocalChangesShareTheSelfSeenList: a state a node changes itself is
// seen by the node alone, and every such state shares the node's one
// {self} list instead of a copy; states that share it never write to it,
// so at the end of a run with joins, partitions, downing and a leave it
// still holds self alone.
func TestLocalChangesShareTheSelfSeenList(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 7)
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	shared := 0
	check := func(a Address, n *Node) {
		before := n.st
		n.Tick(c.now)
		c.collect(a)
		if n.st == before || n.st.Version[n.self] == before.Version[n.self] {
			return // no local change
		}
		if len(n.st.Seen) != 1 || &n.st.Seen[0] != &n.selfOnly()[0] {
			t.Fatalf("%v changed its state with seen list %v, not its shared {self}", a, n.st.Seen)
		}
		shared++
	}
	c.runWith(3*time.Second, 100*time.Millisecond, check)
	c.partition([]Address{addr(1), addr(2), addr(3)}, []Address{addr(4), addr(5)})
	c.runWith(15*time.Second, 100*time.Millisecond, check)
	c.heal()
	c.command(addr(2), Leave{})
	c.runWith(15*time.Second, 100*time.Millisecond, check)
	if shared < 10 {
		t.Fatalf("%d ticks changed their node's state: the test checks too few", shared)
	}
	for a, n := range c.nodes {
		if self := n.selfOnly(); len(self) != 1 || self[0] != n.Self() {
			t.Fatalf("%v: the shared {self} list holds %v", a, self)
		}
	}
}
