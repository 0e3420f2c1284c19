package proto

import (
	"testing"
	"time"
)

func TestSmokeThreeJoin(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 1)
	c.start(addr(1), addr(1))
	c.start(addr(2), addr(1))
	c.start(addr(3), addr(1))
	c.run(5*time.Second, 10*time.Millisecond)
	for _, a := range c.liveAddrs() {
		t.Logf("%v: %s conv=%v leader=%v", a, c.view(a), c.nodes[a].State().Converged(), c.nodes[a].topo.Leader)
	}
}

func TestSmokeCrashAndPartition(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 2)
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	c.run(5*time.Second, 10*time.Millisecond)
	c.crashed[addr(3)] = true
	for i := 0; i < 10; i++ {
		c.run(500*time.Millisecond, 10*time.Millisecond)
		t.Logf("t=%v %s unreach=%v", c.now.Sub(epoch), c.view(addr(1)), c.nodes[addr(1)].State().Unreachable())
	}
	c.partition([]Address{addr(1), addr(2)}, []Address{addr(4), addr(5)})
	for i := 0; i < 10; i++ {
		c.run(500*time.Millisecond, 10*time.Millisecond)
		for _, a := range c.order {
			t.Logf("t=%v %v %v %s", c.now.Sub(epoch), a, c.nodes[a].Phase(), c.view(a))
		}
	}
}
