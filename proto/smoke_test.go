package proto

import (
	"fmt"
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

func TestSmokeShards(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 3)
	orders := ShardType{Name: "orders", Shards: 12, Replicas: 1}
	for i := 1; i <= 3; i++ {
		n := c.start(addr(i), addr(1))
		if err := n.Step(c.now, Message{Body: HostShards{Type: orders}}); err != nil {
			t.Fatal(err)
		}
		if err := n.Step(c.now, Message{Body: Register{Key: "svc", Path: "/user/" + addr(i).Host}}); err != nil {
			t.Fatal(err)
		}
	}
	c.run(5*time.Second, 10*time.Millisecond)
	show := func() {
		for _, a := range c.liveAddrs() {
			n := c.nodes[a]
			tab, _ := n.topo.Allocation("orders")
			s := ""
			for i, al := range tab.Shards {
				s += fmt.Sprintf(" %d:%s/%v@%d", i, al.Primary.Host, len(al.Replicas), al.Epoch)
			}
			t.Logf("%v epoch=%d reg=%d %s", a, n.topo.AllocationEpoch, len(n.Lookup("svc")), s)
		}
	}
	show()
	c.crashed[addr(2)] = true
	c.run(10*time.Second, 10*time.Millisecond)
	show()
	n := c.start(addr(4), addr(1))
	n.Step(c.now, Message{Body: HostShards{Type: orders}})
	c.run(10*time.Second, 10*time.Millisecond)
	show()
}
