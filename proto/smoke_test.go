package proto

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Smoke tests: whole clusters driven by the small in-test driver, the way
// a user would drive proto. The scenario files tell the same stories in
// more detail.

func TestSmokeThreeJoin(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 1)
	c.start(addr(1), addr(1))
	c.start(addr(2), addr(1))
	c.start(addr(3), addr(1))
	c.run(5*time.Second, 10*time.Millisecond)
	for _, a := range c.liveAddrs() {
		n := c.nodes[a]
		if diff := cmp.Diff("10.0.0.1:Up 10.0.0.2:Up 10.0.0.3:Up", c.view(a)); diff != "" {
			t.Errorf("%v members (-want +got):\n%s", a, diff)
		}
		if !n.State().Converged() || n.topo.Leader.Address != addr(1) {
			t.Errorf("%v: converged=%v leader=%v, want converged with leader %v", a, n.State().Converged(), n.topo.Leader, addr(1))
		}
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
	c.run(5*time.Second, 10*time.Millisecond)
	for _, a := range c.liveAddrs() {
		if diff := cmp.Diff("10.0.0.1:Up 10.0.0.2:Up 10.0.0.4:Up 10.0.0.5:Up", c.view(a)); diff != "" {
			t.Errorf("after the crash, %v members (-want +got):\n%s", a, diff)
		}
	}
	// 2|2: the tie goes to the side holding the lowest address.
	c.partition([]Address{addr(1), addr(2)}, []Address{addr(4), addr(5)})
	c.run(5*time.Second, 10*time.Millisecond)
	var running []string
	for _, a := range c.liveAddrs() {
		running = append(running, a.Host+" "+c.view(a))
	}
	want := []string{"10.0.0.1 10.0.0.1:Up 10.0.0.2:Up", "10.0.0.2 10.0.0.1:Up 10.0.0.2:Up"}
	if diff := cmp.Diff(want, running); diff != "" {
		t.Errorf("after the partition, running nodes (-want +got):\n%s", diff)
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
	// primaries counts each live node's primaries in node 1's view and
	// checks every shard has an Up primary and a distinct replica.
	primaries := func(stage string) (map[string]int, Epoch) {
		n := c.nodes[addr(1)]
		tab, ok := n.topo.Allocation("orders")
		if !ok || len(tab.Shards) != 12 {
			t.Fatalf("%s: no table of 12 shards: %+v", stage, tab)
		}
		count := map[string]int{}
		for i, a := range tab.Shards {
			if m, ok := n.State().Member(a.Primary); !ok || m.Status != Up {
				t.Errorf("%s: shard %d primary %v is not an Up member", stage, i, a.Primary)
			}
			if len(a.Replicas) != 1 || a.Replicas[0] == a.Primary {
				t.Errorf("%s: shard %d replicas %v", stage, i, a.Replicas)
			}
			count[a.Primary.Host]++
		}
		return count, n.topo.AllocationEpoch
	}
	before, e1 := primaries("formed")
	if diff := cmp.Diff(map[string]int{"10.0.0.1": 4, "10.0.0.2": 4, "10.0.0.3": 4}, before); diff != "" {
		t.Errorf("balanced primaries (-want +got):\n%s", diff)
	}
	if got := len(c.nodes[addr(1)].Lookup("svc")); got != 3 {
		t.Errorf("Lookup(svc) has %d entries, want 3", got)
	}
	c.crashed[addr(2)] = true
	c.run(10*time.Second, 10*time.Millisecond)
	after, e2 := primaries("after the crash")
	if diff := cmp.Diff(map[string]int{"10.0.0.1": 6, "10.0.0.3": 6}, after); diff != "" {
		t.Errorf("primaries after the crash (-want +got):\n%s", diff)
	}
	if e2 <= e1 {
		t.Errorf("allocation epoch %d after the crash, want above %d", e2, e1)
	}
	if got := len(c.nodes[addr(1)].Lookup("svc")); got != 2 {
		t.Errorf("Lookup(svc) after the crash has %d entries, want 2", got)
	}
}
