package proto

import (
	"reflect"
	"testing"
	"time"
)

// TestTickSkipsSettled checks the shortcut by which a Tick that leaves a
// settled node's state alone skips afterChange: a twin cluster whose
// nodes are made unsettled before every tick (so that each runs
// afterChange) puts out the same messages, events and snapshots, through
// joins, shard hosting, a partition, its healing and a leave.
func TestTickSkipsSettled(t *testing.T) {
	type output struct {
		From      Address
		Messages  []Message
		Events    []Event
		Snapshots []TopologySnapshot
	}
	run := func(naive bool) ([]output, int) {
		c := newTestCluster(t, LocalConfig(), 23)
		var log []output
		skipped := 0
		step := func(d time.Duration) {
			c.runWith(d, 50*time.Millisecond, func(a Address, n *Node) {
				if naive {
					n.settled.valid = false
				}
				settled, st := n.isSettled(), n.st
				n.Tick(c.now)
				if settled && n.st == st {
					skipped++
				}
				out := n.Output()
				log = append(log, output{a, out.Messages, out.Events, out.Snapshots})
				c.inbox = append(c.inbox, out.Messages...)
			})
		}
		c.start(addr(1), addr(1))
		for i := 2; i <= 5; i++ {
			c.start(addr(i), addr(1))
		}
		step(3 * time.Second)
		for i := 1; i <= 5; i++ {
			c.command(addr(i), HostShards{Type: ShardType{Name: "users", Shards: 8, Replicas: 1}})
		}
		step(3 * time.Second)
		c.partition([]Address{addr(1), addr(2), addr(3)}, []Address{addr(4), addr(5)})
		step(8 * time.Second)
		c.heal()
		step(5 * time.Second)
		c.command(addr(2), Leave{})
		step(8 * time.Second)
		return log, skipped
	}
	want, _ := run(true)
	got, skipped := run(false)
	if skipped == 0 {
		t.Fatal("no tick found its node settled and left the state alone: the test exercises nothing")
	}
	sameLog(t, "tick output", got, want)
}

// sameLog fails t unless the twin runs' logs hold equal entries, naming
// the first that differs.
func sameLog[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries of %s, want %d", len(got), what, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s %d differs:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}
