package proto

import (
	"math/rand"
	"reflect"
	"testing"
	"time"
)

// TestAllocIdleMemo checks the leader's memo of an idle Allocate against
// Allocate itself: after every tick of a cluster whose hosts come and go,
// whenever the memo says Allocate would change nothing for the leader's
// state (allocIdle is the state, or allocIdleFor holds), Allocate, asked afresh, changes nothing. The memo
// is set both when Allocate changed nothing and after the leader wrote
// tables that are Allocate's fixed point.
func TestAllocIdleMemo(t *testing.T) {
	cfg := LocalConfig()
	cfg.RebalanceMaxMoves = 1
	c := newTestCluster(t, cfg, 17)
	claims, seeded := 0, 0
	step := func(d time.Duration) {
		c.runWith(d, 50*time.Millisecond, func(a Address, n *Node) {
			before := n.st
			n.Tick(c.now)
			c.collect(a)
			if n.st != n.allocIdle && !n.allocIdleFor(n.st.Members, n.st.Allocations, n.nextEpoch()) {
				return
			}
			claims++
			if n.st != before && !allocationsEqual(n.st.Allocations, before.Allocations) {
				seeded++ // the memo of tables this tick wrote
			}
			types, hosts := shardInputs(n.st)
			if out, changed := Allocate(n.st.Allocations, types, hosts, n.nextEpoch(), n.cfg.RebalanceMaxMoves); changed {
				t.Fatalf("at %v, %v's memo says Allocate changes nothing, but it gives:\n%s\nfrom:\n%s",
					c.now.Sub(epoch), a, lawRenderTables(out), lawRenderTables(n.st.Allocations))
			}
		})
	}
	c.start(addr(1), addr(1))
	for i := 2; i <= 4; i++ {
		c.start(addr(i), addr(1))
	}
	step(3 * time.Second)
	orders := ShardType{Name: "orders", Shards: 16, Replicas: 1}
	billing := ShardType{Name: "billing", Shards: 8}
	for i := 1; i <= 4; i++ {
		c.command(addr(i), HostShards{Type: orders})
		step(time.Second)
	}
	c.command(addr(2), HostShards{Type: billing})
	step(3 * time.Second)
	c.start(addr(5), addr(1))
	c.start(addr(6), addr(1))
	c.command(addr(5), HostShards{Type: orders})
	c.command(addr(6), HostShards{Type: billing})
	step(5 * time.Second)
	c.command(addr(3), StopHosting{Name: "orders"})
	step(3 * time.Second)
	c.command(addr(4), Leave{})
	step(5 * time.Second)
	c.command(addr(3), HostShards{Type: ShardType{Name: "orders", Shards: 16, Replicas: 2}})
	step(10 * time.Second)
	// A member comes Up in the tick in which the leader promotes the
	// replicas of a host that left the type: the next tables must count
	// the new host.
	for i := 7; i <= 9; i++ {
		c.start(addr(i), addr(1))
		c.command(addr(i), HostShards{Type: orders})
		c.command(addr(i-6), StopHosting{Name: "orders"})
		step(10 * time.Second)
	}
	if claims == 0 || seeded == 0 {
		t.Fatalf("%d memo claims checked, %d of tables just written: the test exercises too little", claims, seeded)
	}
	t.Logf("%d memo claims checked, %d of tables just written", claims, seeded)
}

// TestShardInputsNaive checks shardInputs against the first version,
// which kept the declarations in maps, on member lists where several
// members declare one type differently, at several ages and statuses.
func TestShardInputsNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	names := []string{"orders", "billing", "users", "a"}
	for iter := 0; iter < 3000; iter++ {
		s := randHostingState(rng, names)
		gotTypes, gotHosts := shardInputs(s)
		wantTypes, wantHosts := naiveShardInputs(s)
		if !reflect.DeepEqual(gotTypes, wantTypes) || !reflect.DeepEqual(gotHosts, wantHosts) {
			t.Fatalf("members %+v:\nshardInputs = %v, %v\nnaive       = %v, %v", s.Members, gotTypes, gotHosts, wantTypes, wantHosts)
		}
	}
}

func naiveShardInputs(s *State) ([]ShardType, map[string][]UniqueAddress) {
	decl := map[string]Member{}
	types := map[string]ShardType{}
	hosts := map[string][]UniqueAddress{}
	for _, m := range s.Members {
		for _, t := range m.Hosts {
			if prev, ok := decl[t.Name]; !ok || m.olderThan(prev) {
				decl[t.Name], types[t.Name] = m, t
			}
			if m.Status == Up {
				hosts[t.Name] = append(hosts[t.Name], m.Node)
			}
		}
	}
	out := make([]ShardType, 0, len(types))
	for _, t := range types {
		out = append(out, t)
	}
	sortShardTypes(out)
	return out, hosts
}

// randHostingState is a state of up to six members of random statuses and
// ages, each declaring up to three shard types named from names, which
// several members may declare differently.
func randHostingState(rng *rand.Rand, names []string) *State {
	s := &State{}
	for i, n := 0, rng.Intn(7); i < n; i++ {
		m := Member{Node: UniqueAddress{Address: addr(i + 1), UID: UID(1 + rng.Intn(1000))},
			Status: MemberStatus(rng.Intn(int(Removed) + 1)), UpNumber: int64(rng.Intn(4))}
		for j, k := 0, rng.Intn(4); j < k; j++ {
			m.Hosts = append(m.Hosts, ShardType{Name: names[rng.Intn(len(names))], Shards: 1 + rng.Intn(8), Replicas: rng.Intn(3)})
		}
		s.Members = append(s.Members, m)
	}
	return s
}
