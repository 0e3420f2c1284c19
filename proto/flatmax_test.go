package proto

import (
	"testing"
	"time"
)

// TestFlatAndMapClocksAgree: a cluster whose nodes compare every clock
// through its map (flatMax 0, the path of clocks larger than flatMax)
// sends, emits and publishes exactly what the same cluster comparing
// flattened clocks does, through joins, shard hosting, a partition, a
// heal and a leave.
func TestFlatAndMapClocksAgree(t *testing.T) {
	type output struct {
		a         Address
		msgs      []Message
		events    []Event
		snapshots []TopologySnapshot
	}
	run := func(max int) ([]output, int) {
		c := newTestCluster(t, LocalConfig(), 31)
		var log []output
		flat := 0
		step := func(d time.Duration) {
			c.runWith(d, 50*time.Millisecond, func(a Address, n *Node) {
				n.flatMax = max
				before := n.derived.remoteClock.of
				n.Tick(c.now)
				out := n.Output()
				log = append(log, output{a, out.Messages, out.Events, out.Snapshots})
				c.inbox = append(c.inbox, out.Messages...)
				if n.derived.remoteClock.filled && !sameClock(before, n.derived.remoteClock.of) {
					flat++
				}
			})
		}
		c.start(addr(1), addr(1))
		for i := 2; i <= 6; i++ {
			c.start(addr(i), addr(1))
		}
		step(3 * time.Second)
		for i := 1; i <= 6; i++ {
			c.command(addr(i), HostShards{Type: ShardType{Name: "users", Shards: 8, Replicas: 1}})
		}
		step(3 * time.Second)
		c.partition([]Address{addr(1), addr(2), addr(3), addr(4)}, []Address{addr(5), addr(6)})
		step(8 * time.Second)
		c.heal()
		step(5 * time.Second)
		c.command(addr(2), Leave{})
		step(8 * time.Second)
		for _, n := range c.nodes {
			if n.derived.remoteClock.filled {
				flat++
			}
		}
		return log, flat
	}
	want, flatWant := run(0)
	got, flatGot := run(flatMax)
	if flatWant != 0 {
		t.Fatalf("with flatMax 0 the nodes flattened %d clocks", flatWant)
	}
	if flatGot == 0 {
		t.Fatal("no node flattened a clock: the test compares the map path with itself")
	}
	sameLog(t, "output", got, want)
}
