package proto

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Regressions found by the table and law tests.

func TestParseAddressRejectsMisplacedIPv4(t *testing.T) {
	for _, in := range []string{"[1.2.3.4::]:80", "[1.2.3.4::5]:80", "[1:1.2.3.4::]:80", "[fe80::1%]:80", "[::1%a%b]:80", "]:80", "a b:80"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseAddress(in); !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseAddress(%q) error = %v, want ErrBadAddress", in, err)
			}
		})
	}
	for _, in := range []string{"[::ffff:1.2.3.4]:80", "[1::1.2.3.4]:80", "[fe80::1%eth0]:80", "node-1.example:80"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseAddress(in); err != nil {
				t.Errorf("ParseAddress(%q) = %v, want success", in, err)
			}
		})
	}
}

func TestMergeMemberRolesCommutative(t *testing.T) {
	u := UniqueAddress{Address: Address{Host: "10.0.0.1", Port: 1}, UID: 1}
	a := Member{Node: u, Status: Up, Roles: []string{"a,b", "c"}}
	b := Member{Node: u, Status: Up, Roles: []string{"a", "b,c"}}
	if diff := cmp.Diff(mergeMember(a, b), mergeMember(b, a)); diff != "" {
		t.Errorf("mergeMember not commutative (-ab +ba):\n%s", diff)
	}
}

// A node that others have cut off (their rows name it) must still count
// itself on its own side: with KeepMajority, alone against two, it downs
// itself instead of downing nobody and running on as a zombie.
func TestDecideDowningCountsSelfOnItsSide(t *testing.T) {
	n := func(i int) UniqueAddress { return UniqueAddress{Address: addr(i), UID: 1} }
	s := NewState()
	for i := 1; i <= 3; i++ {
		s.Members = append(s.Members, Member{Node: n(i), Status: Up, UpNumber: int64(i)})
	}
	s.Reachability = Reachability{Rows: []ObserverRow{
		{Observer: n(1), Version: 1, Unreachable: []UniqueAddress{n(2), n(3)}},
		{Observer: n(2), Version: 1, Unreachable: []UniqueAddress{n(1)}},
	}}
	got := decideDowning(DowningConfig{Strategy: KeepMajority}, s, n(1))
	if diff := cmp.Diff([]UniqueAddress{n(1)}, got); diff != "" {
		t.Errorf("decideDowning from the cut-off node (-want +got):\n%s", diff)
	}
}

// Withdrawing the last declaration of a shard type empties its table, so
// its former holders can leave gracefully.
func TestAllocateEmptiesUndeclaredType(t *testing.T) {
	h := UniqueAddress{Address: addr(3), UID: 1}
	typ := ShardType{Name: "users", Shards: 2}
	cur := []TypeAllocation{{Type: typ, Epoch: 4, Shards: []ShardAllocation{{Primary: h, Epoch: 4}, {Primary: h, Epoch: 4}}}}
	got, changed := Allocate(cur, nil, nil, 5, 3)
	want := []TypeAllocation{{Type: typ, Epoch: 5, Shards: []ShardAllocation{{}, {}}}}
	if diff := cmp.Diff(want, got); diff != "" || !changed || holdsShards(got, h) {
		t.Errorf("Allocate with no declarations: changed=%v (-want +got):\n%s", changed, diff)
	}
}

// A crashed node's stale row (written while it was cut off, naming the
// healthy side unreachable) must not make the healthy nodes down each
// other: downing judges from the decider's own side.
func TestStaleRowOfCrashedNodeDownsOnlyIt(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 1)
	c.start(addr(1), addr(1))
	for i := 2; i <= 4; i++ {
		c.start(addr(i), addr(1))
	}
	c.run(3*time.Second, 10*time.Millisecond)
	c.partition([]Address{addr(1), addr(2)}, []Address{addr(3), addr(4)})
	c.run(800*time.Millisecond, 10*time.Millisecond)
	c.partition([]Address{addr(1), addr(2), addr(4)}, []Address{addr(3)})
	c.run(200*time.Millisecond, 10*time.Millisecond)
	c.crashed[addr(3)] = true
	c.heal()
	c.run(60*time.Second, 10*time.Millisecond)
	var got []string
	for _, a := range c.liveAddrs() {
		got = append(got, a.Host+" "+c.view(a))
	}
	want := []string{
		"10.0.0.1 10.0.0.1:Up 10.0.0.2:Up 10.0.0.4:Up",
		"10.0.0.2 10.0.0.1:Up 10.0.0.2:Up 10.0.0.4:Up",
		"10.0.0.4 10.0.0.1:Up 10.0.0.2:Up 10.0.0.4:Up",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("survivors (-want +got):\n%s", diff)
	}
}

// A member that leaves while still Joining is known to one side of a
// partition only; it must not count there, or both sides win.
func TestKeepMajorityIgnoresLeaverThatWasNeverUp(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 1)
	c.start(addr(1), addr(1))
	c.start(addr(2), addr(1))
	c.run(2*time.Second, 10*time.Millisecond)
	n3 := c.start(addr(3), addr(2))
	c.deliverAll(100)
	if err := n3.Step(c.now, Message{Body: Leave{}}); err != nil {
		t.Fatal(err)
	}
	c.collect(addr(3))
	c.partition([]Address{addr(1)}, []Address{addr(2), addr(3)})
	c.run(10*time.Second, 10*time.Millisecond)
	var running []string
	for _, a := range c.liveAddrs() {
		if c.nodes[a].Phase() == PhaseMember {
			running = append(running, a.Host)
		}
	}
	if diff := cmp.Diff([]string{"10.0.0.1"}, running); diff != "" {
		t.Errorf("members still running after the partition (-want +got):\n%s", diff)
	}
}

// Rebalancing that moves a primary onto one of the shard's replicas must
// count that replica as gone, or the refill breaks the fewest-replicas
// rule.
func TestRebalanceCountsReplicaTurnedPrimary(t *testing.T) {
	h := func(i int) UniqueAddress { return UniqueAddress{Address: addr(i), UID: 1} }
	typ := ShardType{Name: "t", Shards: 2, Replicas: 2}
	cur := []TypeAllocation{{Type: typ, Epoch: 1, Shards: []ShardAllocation{
		{Primary: h(2), Replicas: []UniqueAddress{h(3), h(1)}, Epoch: 1},
		{Primary: h(2), Epoch: 1},
	}}}
	hosts := map[string][]UniqueAddress{"t": {h(1), h(2), h(3), h(4)}}
	got, _ := Allocate(cur, []ShardType{typ}, hosts, 2, 1)
	if diff := cmp.Diff([]UniqueAddress{h(1), h(4)}, got[0].Shards[1].Replicas); diff != "" {
		t.Errorf("shard 1 replicas (-want +got):\n%s", diff)
	}
}

// TestIsolatedNodeDoesNotDownTheClusterLayerByLayer: a node cut off from
// everyone flags only the subjects it monitors, then starts monitoring the
// next ones on the ring, and so on. With a StableAfter shorter than a fresh
// monitor's detection time it used to decide between two layers, find
// itself in the majority of the members it had not flagged yet, down them,
// and end up the leader of a cluster of one that allocated shards next to
// the real cluster. It must instead wait for its monitors to settle, see
// every other member unreachable, and down itself.
func TestIsolatedNodeDoesNotDownTheClusterLayerByLayer(t *testing.T) {
	cfg := LocalConfig()
	cfg.MonitoredBy = 2
	cfg.StableAfter = 300 * time.Millisecond
	if cfg.StableAfter >= cfg.DetectionBound() {
		t.Fatalf("StableAfter %v must be below the detection bound %v for this test to bite", cfg.StableAfter, cfg.DetectionBound())
	}
	c := newTestCluster(t, cfg, 8)
	var all []Address
	for i := 1; i <= 9; i++ {
		all = append(all, addr(i))
		c.start(addr(i), addr(1))
	}
	c.run(8*time.Second, 10*time.Millisecond)
	for _, a := range all {
		if got := c.view(a); strings.Count(got, ":Up") != 9 {
			t.Fatalf("%v before the cut: %s, want nine Up", a, got)
		}
	}
	// The lowest address leads, so it decides for its side of one.
	isolated := addr(1)
	c.partition([]Address{isolated}, all[1:])
	c.run(20*time.Second, 10*time.Millisecond)

	n := c.nodes[isolated]
	downedByIsolated := 0
	for _, m := range n.State().Members {
		if m.Node.Address != isolated && m.Status == Down {
			downedByIsolated++
		}
	}
	if n.Phase() != PhaseStopped || downedByIsolated > 0 {
		t.Errorf("isolated node: phase %v, downed %d of 8 others (%s); want it to find itself a minority and stop",
			n.Phase(), downedByIsolated, c.view(isolated))
	}
	for _, a := range all {
		if a == isolated {
			continue
		}
		if got := c.view(a); strings.Count(got, ":Up") != 8 || strings.Contains(got, isolated.Host+":") {
			t.Errorf("%v after the cut: %s, want the eight others Up and %v removed", a, got, isolated)
		}
	}
}

// TestJoinerRemovedBeforeItsWelcomeStops: a joiner admitted, found
// unreachable (its seed's messages never reached it), downed and removed
// keeps sending Join; the seed answers with its state, which holds the
// joiner's tombstone and no longer lists it. The joiner must stop as
// removed, not drop the answer as malformed and retry for ever.
func TestJoinerRemovedBeforeItsWelcomeStops(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 3)
	c.start(addr(1), addr(1))
	c.run(2*time.Second, 10*time.Millisecond)
	joiner := c.start(addr(2), addr(1))
	c.inbox = nil // the Join is lost; the test plays the seed's answer
	st := c.nodes[addr(1)].State().Clone()
	st.Tombstones[joiner.Self()] = c.now
	if err := joiner.Step(c.now, Message{From: c.nodes[addr(1)].Self(), To: addr(2), Body: Welcome{State: st}}); err != nil {
		t.Fatal(err)
	}
	if joiner.Phase() != PhaseStopped || joiner.Snapshot().Stopped != "removed" {
		t.Errorf("joiner phase %v (%q), stats %+v; want stopped as removed", joiner.Phase(), joiner.Snapshot().Stopped, joiner.Stats())
	}
}
