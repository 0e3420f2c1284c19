package proto

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Tests of what subscribers see: the snapshots a node publishes and the
// events derived from them, driven through the in-memory testCluster.

// snapIgnoreSeq compares snapshots by content.
var snapIgnoreSeq = []cmp.Option{cmpopts.IgnoreFields(TopologySnapshot{}, "Seq"), cmpopts.EquateEmpty()}

// startWith is start with a per-node configuration (a NodeID, say).
func (c *testCluster) startWith(cfg Config, a Address, seeds ...Address) *Node {
	saved := c.cfg
	c.cfg = cfg
	defer func() { c.cfg = saved }()
	return c.start(a, seeds...)
}

// command steps a local command into the node at a and collects its
// output.
func (c *testCluster) command(a Address, b Body) {
	c.t.Helper()
	if err := c.nodes[a].Step(c.now, Message{Body: b}); err != nil {
		c.t.Fatalf("%s at %v: %v", b.Kind(), a, err)
	}
	c.collect(a)
}

// marks returns how many snapshots and events each node has published.
func (c *testCluster) marks() (snaps, events map[Address]int) {
	snaps, events = map[Address]int{}, map[Address]int{}
	for _, a := range c.order {
		snaps[a], events[a] = len(c.history[a]), len(c.events[a])
	}
	return snaps, events
}

// historyErr checks one node's published snapshots: Seq is 1, 2, 3, ...;
// each differs in content from the one before; the last is what the node
// holds as its topology.
func historyErr(hist []TopologySnapshot, current TopologySnapshot) string {
	for i, s := range hist {
		if s.Seq != uint64(i+1) {
			return fmt.Sprintf("snapshot %d has Seq %d, want %d", i, s.Seq, i+1)
		}
		if i > 0 && cmp.Equal(hist[i-1], s, snapIgnoreSeq...) {
			return fmt.Sprintf("snapshot Seq %d has the same content as Seq %d", s.Seq, s.Seq-1)
		}
	}
	if len(hist) > 0 {
		if diff := cmp.Diff(hist[len(hist)-1], current, cmpopts.EquateEmpty()); diff != "" {
			return "last published snapshot vs the node's topology (-want +got):\n" + diff
		}
	}
	return ""
}

// snapEventKey identifies an event within one snapshot.
type snapEventKey struct {
	Seq   uint64
	Type  EventType
	Node  UniqueAddress
	Shard string
}

// eventsErr checks one node's events against its snapshots: every event
// but NodeStopped belongs to a published snapshot and says what changed
// between that snapshot and the one before; times and Seqs never go back;
// no event repeats within a snapshot; a member's status events rise
// strictly through the lifecycle; UnreachableMember and ReachableMember
// alternate per member; consecutive LeaderChanged events name different
// leaders; NodeStopped comes at most once, last.
func eventsErr(evs []Event, hist []TopologySnapshot) string {
	seen := map[snapEventKey]bool{}
	status := map[UniqueAddress]EventType{}
	unreachable := map[UniqueAddress]bool{}
	var lastLeader *Event
	for i, e := range evs {
		if i > 0 && (e.Seq < evs[i-1].Seq || e.At.Before(evs[i-1].At)) {
			return fmt.Sprintf("event %d (%v Seq %d at %v) goes back from Seq %d at %v", i, e.Type, e.Seq, e.At, evs[i-1].Seq, evs[i-1].At)
		}
		k := snapEventKey{e.Seq, e.Type, e.Member.Node, e.ShardType}
		if seen[k] {
			return fmt.Sprintf("event %d repeats %+v", i, k)
		}
		seen[k] = true
		if e.Type == NodeStopped {
			if i != len(evs)-1 {
				return fmt.Sprintf("NodeStopped is event %d of %d", i, len(evs))
			}
			continue
		}
		if e.Seq < 1 || int(e.Seq) > len(hist) {
			return fmt.Sprintf("event %d (%v) names snapshot Seq %d of %d", i, e.Type, e.Seq, len(hist))
		}
		next := hist[e.Seq-1]
		var prev TopologySnapshot
		if e.Seq > 1 {
			prev = hist[e.Seq-2]
		}
		m, inNext := next.Member(e.Member.Node)
		old, inPrev := prev.Member(e.Member.Node)
		switch e.Type {
		case MemberJoined, MemberWeaklyUp, MemberUp, MemberLeft, MemberExited, MemberDowned, MemberRemoved:
			if e.Type == MemberRemoved {
				if inNext || !inPrev {
					return fmt.Sprintf("%v %v: in Seq %d %v, in Seq %d %v", e.Type, e.Member.Node, e.Seq-1, inPrev, e.Seq, inNext)
				}
			} else if !inNext || statusEvent[m.Status] != e.Type || (inPrev && old.Status == m.Status) {
				return fmt.Sprintf("%v %v but Seq %d has it %v (was %v)", e.Type, e.Member.Node, e.Seq, m.Status, old.Status)
			}
			if prior, ok := status[e.Member.Node]; ok && prior >= e.Type {
				return fmt.Sprintf("%v %v after %v", e.Type, e.Member.Node, prior)
			}
			status[e.Member.Node] = e.Type
		case UnreachableMember, ReachableMember:
			now := e.Type == UnreachableMember
			if containsNode(next.Unreachable, e.Member.Node) != now || containsNode(prev.Unreachable, e.Member.Node) == now {
				return fmt.Sprintf("%v %v disagrees with snapshots %d and %d", e.Type, e.Member.Node, e.Seq-1, e.Seq)
			}
			if unreachable[e.Member.Node] == now {
				return fmt.Sprintf("%v %v twice in a row", e.Type, e.Member.Node)
			}
			unreachable[e.Member.Node] = now
		case LeaderChanged:
			if e.Leader != next.Leader || e.HasLeader != next.HasLeader || (prev.Leader == next.Leader && prev.HasLeader == next.HasLeader) {
				return fmt.Sprintf("LeaderChanged to %v disagrees with snapshots %d and %d", e.Leader, e.Seq-1, e.Seq)
			}
			if lastLeader != nil && lastLeader.Leader == e.Leader && lastLeader.HasLeader == e.HasLeader {
				return fmt.Sprintf("LeaderChanged to %v twice in a row", e.Leader)
			}
			lastLeader = &evs[i]
		case ShardsMoved:
			t, ok := next.Allocation(e.ShardType)
			if !ok || len(e.Shards) == 0 {
				return fmt.Sprintf("ShardsMoved %s %v but Seq %d has no such table", e.ShardType, e.Shards, e.Seq)
			}
			p, _ := prev.Allocation(e.ShardType)
			for _, id := range e.Shards {
				if id < len(p.Shards) && cmp.Equal(p.Shards[id].Primary, t.Shards[id].Primary) && cmp.Equal(p.Shards[id].Replicas, t.Shards[id].Replicas, cmpopts.EquateEmpty()) {
					return fmt.Sprintf("ShardsMoved %s lists shard %d, which did not move", e.ShardType, id)
				}
			}
		case RegistryChanged:
			for _, key := range e.Keys {
				if cmp.Equal(prev.Lookup(key), next.Lookup(key), cmpopts.EquateEmpty()) {
					return fmt.Sprintf("RegistryChanged lists %q, unchanged between Seq %d and %d", key, e.Seq-1, e.Seq)
				}
			}
		}
	}
	return ""
}

// snapScriptConfig is LocalConfig with StableAfter above WeaklyUpAfter, so
// that a joiner can become WeaklyUp while a member is unreachable and
// before anyone is downed.
func snapScriptConfig() Config {
	cfg := LocalConfig()
	cfg.WeaklyUpAfter = time.Second
	cfg.StableAfter = 4 * time.Second
	return cfg
}

// snapScript drives five nodes through every kind of change: joins, a
// WeaklyUp joiner while n3 is cut off, reachability lost and regained,
// shards, services, the leader leaving (so the leader changes), a crash,
// a downing and removals. It returns the cluster.
func snapScript(t *testing.T) *testCluster {
	c := newTestCluster(t, snapScriptConfig(), 11)
	step := 10 * time.Millisecond
	c.start(addr(1), addr(1))
	c.start(addr(2), addr(1))
	c.start(addr(3), addr(1))
	c.run(2*time.Second, step)
	orders := ShardType{Name: "orders", Shards: 6, Replicas: 1}
	for i := 1; i <= 3; i++ {
		c.command(addr(i), HostShards{Type: orders})
		c.command(addr(i), Register{Key: "svc", Path: fmt.Sprintf("/user/n%d", i)})
	}
	c.run(2*time.Second, step)
	// n3 is cut off; n4 joins meanwhile and, after WeaklyUpAfter without
	// convergence, becomes WeaklyUp. The cut heals before StableAfter.
	c.partition([]Address{addr(1), addr(2)}, []Address{addr(3)})
	c.run(time.Second, step)
	c.start(addr(4), addr(1))
	c.command(addr(4), HostShards{Type: orders})
	c.run(1500*time.Millisecond, step)
	c.heal()
	c.run(3*time.Second, step)
	// The leader leaves; n2 takes over.
	c.command(addr(1), Leave{})
	c.run(3*time.Second, step)
	c.command(addr(2), Deregister{Key: "svc", Path: "/user/n2"})
	// n3 crashes and is downed and removed.
	c.crashed[addr(3)] = true
	c.run(8*time.Second, step)
	return c
}

// eventOrder is the position of an event type's name in the EventType
// constants (unknown names last).
func eventOrder(name string) int {
	for typ := MemberJoined; typ <= NodeStopped; typ++ {
		if typ.String() == name {
			return int(typ)
		}
	}
	return 1 << 30
}

func TestEveryEventTypeIsProduced(t *testing.T) {
	c := snapScript(t)
	seen := map[EventType]bool{}
	for _, a := range c.order {
		for _, e := range c.events[a] {
			seen[e.Type] = true
		}
	}
	var want, got []string
	for typ := MemberJoined; typ <= NodeStopped; typ++ {
		want = append(want, typ.String())
	}
	for typ := range seen {
		got = append(got, typ.String())
	}
	sort.Slice(got, func(i, j int) bool { return eventOrder(got[i]) < eventOrder(got[j]) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event types produced by the script (-want +got):\n%s", diff)
	}
	// The script did what it meant to: n2, the survivor that saw it all,
	// saw n4 pass through WeaklyUp, n1 leave, n3 lost, regained, lost and
	// downed. (While cut off, n3's own row named n1 and n2, so n2 also saw
	// n1 unreachable for a while: any observer's word counts.)
	wantLife := map[string][]string{
		"10.0.0.1": {"MemberUp", "MemberLeft", "MemberExited", "MemberRemoved"},
		"10.0.0.3": {"MemberJoined", "MemberUp", "UnreachableMember", "ReachableMember", "UnreachableMember", "MemberDowned", "MemberRemoved"},
		"10.0.0.4": {"MemberJoined", "MemberWeaklyUp", "MemberUp"},
	}
	gotLife := map[string][]string{}
	var leaders []string
	for _, e := range c.events[addr(2)] {
		h := e.Member.Node.Host
		reach := e.Type == UnreachableMember || e.Type == ReachableMember
		if wantLife[h] != nil && (!reach || h == "10.0.0.3") {
			gotLife[h] = append(gotLife[h], e.Type.String())
		}
		if e.Type == LeaderChanged {
			leaders = append(leaders, e.Leader.Host)
		}
	}
	if diff := cmp.Diff(wantLife, gotLife); diff != "" {
		t.Errorf("lifecycles seen by n2 (-want +got):\n%s", diff)
	}
	// n1 leads until it leaves, then n2. While the cut heals, each side's
	// rows mark the other unreachable and the leader may flip for a
	// moment; it never goes to n4, which joined during the cut.
	if len(leaders) < 2 || leaders[0] != "10.0.0.1" || leaders[len(leaders)-1] != "10.0.0.2" || slices.Contains(leaders, "10.0.0.4") {
		t.Errorf("leaders seen by n2: %v, want 10.0.0.1 first and 10.0.0.2 last, never 10.0.0.4", leaders)
	}
	if st := c.nodes[addr(1)].Snapshot().Stopped; st != "left" {
		t.Errorf("n1 stopped %q, want \"left\"", st)
	}
}

func TestSnapshotsAndEventsPerNode(t *testing.T) {
	c := snapScript(t)
	for _, a := range c.order {
		t.Run(a.Host, func(t *testing.T) {
			hist := c.history[a]
			if len(hist) < 5 {
				t.Fatalf("only %d snapshots published", len(hist))
			}
			if msg := historyErr(hist, c.nodes[a].Snapshot().Topology); msg != "" {
				t.Error(msg)
			}
			if msg := eventsErr(c.events[a], hist); msg != "" {
				t.Error(msg)
			}
			// A snapshot without events changed only what no event
			// reports: Converged, up numbers, shard declarations, epochs,
			// and the reachability of Down members (they are not coming
			// back, so no ReachableMember).
			bySeq := map[uint64]bool{}
			for _, e := range c.events[a] {
				bySeq[e.Seq] = true
			}
			live := func(s TopologySnapshot, ref TopologySnapshot) TopologySnapshot {
				var u []UniqueAddress
				for _, x := range s.Unreachable {
					if m, ok := ref.Member(x); ok && m.Status != Down {
						u = append(u, x)
					}
				}
				s.Unreachable = u
				return s
			}
			quiet := append([]cmp.Option{
				cmpopts.IgnoreFields(TopologySnapshot{}, "Converged", "AllocationEpoch"),
				cmpopts.IgnoreFields(Member{}, "UpNumber", "Hosts", "HostsVersion"),
				cmpopts.IgnoreFields(TypeAllocation{}, "Epoch"),
				cmpopts.IgnoreFields(ShardAllocation{}, "Epoch"),
			}, snapIgnoreSeq...)
			for i := 1; i < len(hist); i++ {
				prev, next := live(hist[i-1], hist[i]), live(hist[i], hist[i])
				if !bySeq[next.Seq] && !cmp.Equal(prev, next, quiet...) {
					t.Errorf("Seq %d has no event but changed (-prev +next):\n%s", next.Seq, cmp.Diff(prev, next, quiet...))
				}
			}
		})
	}
}

// TestEventsErrCatches feeds eventsErr broken streams, so that its passes
// above mean something.
func TestEventsErrCatches(t *testing.T) {
	u := fxNode(2, 1)
	s1 := fxSnap(1, []Member{fxMember(1, Up, 1)}, nil, 1)
	s2 := fxSnap(2, []Member{fxMember(1, Up, 1), fxMember(2, Joining, 0)}, nil, 1)
	s3 := fxWith(fxSnap(3, []Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{2}, 2),
		[]TypeAllocation{fxTable("t", 1, 1, 2)}, fxEntry("svc", 1, "/a"))
	hist := []TopologySnapshot{s1, s2, s3}
	// back comes back after its removal: Up, gone, Joining.
	back := []TopologySnapshot{s1, fxSnap(2, []Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, nil, 1), fxSnap(3, []Member{fxMember(1, Up, 1)}, nil, 1),
		fxSnap(4, []Member{fxMember(1, Up, 1), fxMember(2, Joining, 0)}, nil, 1)}
	joined := Event{Type: MemberJoined, Seq: 2, Member: fxMember(2, Joining, 0)}
	up := Event{Type: MemberUp, Seq: 3, Member: fxMember(2, Up, 2)}
	unreach := Event{Type: UnreachableMember, Seq: 3, Member: fxMember(2, Up, 2)}
	leader := Event{Type: LeaderChanged, Seq: 3, Leader: u, HasLeader: true}
	moved := Event{Type: ShardsMoved, Seq: 3, ShardType: "t", Shards: []int{0}}
	registry := Event{Type: RegistryChanged, Seq: 3, Keys: []string{"svc"}}
	cases := []struct {
		name string
		hist []TopologySnapshot
		evs  []Event
		want string // fragment of the complaint; "" for a good stream
	}{
		{"good", hist, []Event{joined, up, unreach, leader, moved, registry, {Type: NodeStopped, Seq: 3}}, ""},
		{"duplicate", hist, []Event{joined, joined}, "repeats"},
		{"backwards", hist, []Event{up, joined}, "goes back"},
		{"wrong status", hist, []Event{{Type: MemberUp, Seq: 2, Member: Member{Node: u}}}, "has it"},
		{"status goes back", back, []Event{{Type: MemberUp, Seq: 2, Member: Member{Node: u}},
			{Type: MemberRemoved, Seq: 3, Member: Member{Node: u}}, {Type: MemberJoined, Seq: 4, Member: Member{Node: u}}}, "after"},
		{"unknown snapshot", hist, []Event{{Type: MemberUp, Seq: 9, Member: Member{Node: u}}}, "names snapshot"},
		{"reachability not in the snapshot", hist, []Event{{Type: UnreachableMember, Seq: 2, Member: Member{Node: u}}}, "disagrees"},
		{"leader not in the snapshot", hist, []Event{{Type: LeaderChanged, Seq: 2, Leader: u, HasLeader: true}}, "disagrees"},
		{"shard that did not move", hist, []Event{{Type: ShardsMoved, Seq: 2, ShardType: "t", Shards: []int{0}}}, "no such table"},
		{"key that did not change", hist, []Event{{Type: RegistryChanged, Seq: 2, Keys: []string{"svc"}}}, "unchanged"},
		{"stopped before the end", hist, []Event{{Type: NodeStopped, Seq: 3}, up}, "NodeStopped is event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := eventsErr(tc.evs, tc.hist)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("eventsErr = %q, want a complaint containing %q", got, tc.want)
			}
		})
	}
}

// snapSettled returns a converged four-node cluster hosting a type and
// holding a few services.
func snapSettled(t *testing.T, seed int64) *testCluster {
	c := newTestCluster(t, LocalConfig(), seed)
	c.start(addr(1), addr(1))
	for i := 2; i <= 4; i++ {
		c.start(addr(i), addr(1))
	}
	for i := 1; i <= 4; i++ {
		c.command(addr(i), HostShards{Type: ShardType{Name: "orders", Shards: 8, Replicas: 1}})
		c.command(addr(i), Register{Key: "svc", Path: "/user/a"})
	}
	c.run(5*time.Second, 10*time.Millisecond)
	for _, a := range c.order {
		if top := c.nodes[a].Snapshot().Topology; !top.Converged || len(top.Members) != 4 || len(top.Registry) != 4 || top.AllocationEpoch == 0 {
			t.Fatalf("%v not settled: converged %v, %d members, %d entries, epoch %d", a, top.Converged, len(top.Members), len(top.Registry), top.AllocationEpoch)
		}
	}
	return c
}

func TestSteadyClusterPublishesNothing(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			c := snapSettled(t, seed)
			snaps, events := c.marks()
			c.run(30*time.Second, 10*time.Millisecond)
			zero := map[Address]int{}
			gotSnaps, gotEvents := map[Address]int{}, map[Address]int{}
			for _, a := range c.order {
				zero[a] = 0
				gotSnaps[a] = len(c.history[a]) - snaps[a]
				gotEvents[a] = len(c.events[a]) - events[a]
			}
			if diff := cmp.Diff(zero, gotSnaps); diff != "" {
				t.Errorf("snapshots published in 30 s of steady state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(zero, gotEvents); diff != "" {
				t.Errorf("events in 30 s of steady state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOneRealChangePublishes is the counterpart of the steady-state test:
// the same cluster does publish when something changes. A Register at n2
// gives every node exactly one snapshot carrying the new entry (with one
// RegistryChanged event), and at most one more in which only Converged
// turns true again, as the other nodes confirm they have seen it.
func TestOneRealChangePublishes(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			c := snapSettled(t, seed)
			c.run(2*time.Second, 10*time.Millisecond)
			snaps, events := c.marks()
			c.command(addr(2), Register{Key: "late", Path: "/user/late"})
			c.run(3*time.Second, 10*time.Millisecond)
			wantEntry := []ServiceEntry{{Key: "late", Node: c.nodes[addr(2)].Self(), Path: "/user/late"}}
			for _, a := range c.order {
				hist := c.history[a]
				fresh := hist[snaps[a]:]
				if len(fresh) == 0 || len(fresh) > 2 {
					t.Errorf("%v published %d snapshots for one Register, want 1 or 2", a, len(fresh))
					continue
				}
				prev := hist[snaps[a]-1]
				withEntry := prev // "late" sorts before every "svc" entry
				withEntry.Registry = append(append([]ServiceEntry(nil), wantEntry...), prev.Registry...)
				withEntry.Converged = fresh[0].Converged
				if diff := cmp.Diff(withEntry, fresh[0], snapIgnoreSeq...); diff != "" {
					t.Errorf("%v: first snapshot after the Register (-want +got):\n%s", a, diff)
				}
				if len(fresh) == 2 {
					if fresh[0].Converged {
						t.Errorf("%v: a second snapshot after a converged first one", a)
					}
					settled := fresh[0]
					settled.Converged = true
					if diff := cmp.Diff(settled, fresh[1], snapIgnoreSeq...); diff != "" {
						t.Errorf("%v: second snapshot differs in more than Converged (-want +got):\n%s", a, diff)
					}
				}
				if last := fresh[len(fresh)-1]; !last.Converged {
					t.Errorf("%v: not converged again after the Register", a)
				}
				wantEvents := []Event{{Type: RegistryChanged, Keys: []string{"late"}, Seq: fresh[0].Seq}}
				gotEvents := c.events[a][events[a]:]
				if diff := cmp.Diff(wantEvents, gotEvents, cmpopts.IgnoreFields(Event{}, "At")); diff != "" {
					t.Errorf("%v: events after the Register (-want +got):\n%s", a, diff)
				}
			}
		})
	}
}

func TestResolveNode(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 5)
	named := func(id NodeID) Config { cfg := LocalConfig(); cfg.NodeID = id; return cfg }
	c.startWith(named("alpha"), addr(1), addr(1))
	c.startWith(named("beta"), addr(2), addr(1))
	c.startWith(named("gamma"), addr(3), addr(1))
	c.start(addr(4), addr(1)) // no NodeID: its address
	c.run(3*time.Second, 10*time.Millisecond)
	first := map[string]UniqueAddress{}
	for i := 1; i <= 4; i++ {
		first[addr(i).Host] = c.nodes[addr(i)].Self()
	}
	type query struct {
		id   NodeID
		want string // host of the expected incarnation, "" for not found
	}
	check := func(t *testing.T, queries []query, incarnations map[string]UniqueAddress) {
		for _, a := range c.liveAddrs() {
			for _, q := range queries {
				got, ok := c.nodes[a].ResolveNode(q.id)
				want, wantOK := incarnations[q.want], q.want != ""
				if ok != wantOK || got != want {
					t.Errorf("at %v: ResolveNode(%q) = %v, %v; want %v, %v", a, q.id, got, ok, want, wantOK)
				}
			}
		}
	}
	t.Run("members by id", func(t *testing.T) {
		check(t, []query{
			{"alpha", "10.0.0.1"}, {"beta", "10.0.0.2"}, {"gamma", "10.0.0.3"}, {"10.0.0.4:7000", "10.0.0.4"},
			{"delta", ""}, {"", ""}, {"Alpha", ""}, {"10.0.0.1:7000", ""},
		}, first)
	})
	t.Run("an id taken at another address is refused", func(t *testing.T) {
		c.startWith(named("alpha"), addr(5), addr(1))
		c.run(time.Second, 10*time.Millisecond)
		if p := c.nodes[addr(5)].Phase(); p != PhaseJoining {
			t.Errorf("impostor is %v, want still joining", p)
		}
		if c.nodes[addr(1)].Stats().JoinsRefused == 0 {
			t.Error("the seed refused no join")
		}
		c.crashed[addr(5)] = true
		check(t, []query{{"alpha", "10.0.0.1"}}, first)
	})
	t.Run("a restarted process resolves to its new incarnation", func(t *testing.T) {
		c.crashed[addr(2)] = true
		c.run(200*time.Millisecond, 10*time.Millisecond)
		fresh := c.startWith(named("beta"), addr(2), addr(1))
		c.run(3*time.Second, 10*time.Millisecond)
		if fresh.Self() == first["10.0.0.2"] {
			t.Fatal("the restart kept its UID")
		}
		now := map[string]UniqueAddress{}
		for k, v := range first {
			now[k] = v
		}
		now["10.0.0.2"] = fresh.Self()
		check(t, []query{{"beta", "10.0.0.2"}, {"alpha", "10.0.0.1"}}, now)
	})
	t.Run("a crashed member resolves until it is Down, then not", func(t *testing.T) {
		c.crashed[addr(3)] = true
		c.run(600*time.Millisecond, 10*time.Millisecond)
		check(t, []query{{"gamma", "10.0.0.3"}}, first)
		c.run(5*time.Second, 10*time.Millisecond)
		for _, a := range c.liveAddrs() {
			if st := c.statusAt(a, addr(3)); st != 0 {
				t.Fatalf("%v still lists gamma as %v", a, st)
			}
		}
		check(t, []query{{"gamma", ""}, {"alpha", "10.0.0.1"}}, first)
	})
}

// TestResolveNodeBeforeJoining: a node that is not yet a member knows no
// one, itself included.
func TestResolveNodeBeforeJoining(t *testing.T) {
	cfg := LocalConfig()
	cfg.NodeID = "alpha"
	n, err := New(cfg, addr(1), rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		step func()
		want bool
	}{
		{"idle", func() {}, false},
		{"joining", func() { n.Step(epoch, Message{Body: JoinSeeds{Seeds: []Address{addr(2)}}}) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.step()
			if _, ok := n.ResolveNode("alpha"); ok != tc.want {
				t.Errorf("ResolveNode(alpha) found = %v, want %v", ok, tc.want)
			}
		})
	}
}

// TestResolveNodeByStatus reads ResolveNode against member sets built by
// hand: every status but Down resolves, and of two incarnations carrying
// one id (a restart) the earlier in the lifecycle wins.
func TestResolveNodeByStatus(t *testing.T) {
	named := func(i int, uid UID, id NodeID, st MemberStatus) Member {
		return Member{Node: fxNode(i, uid), ID: id, Status: st}
	}
	self := named(1, 1, "self", Up)
	cases := []struct {
		name    string
		members []Member
		id      NodeID
		want    UniqueAddress // zero: not found
	}{
		{"joining", []Member{self, named(2, 1, "x", Joining)}, "x", fxNode(2, 1)},
		{"weakly up", []Member{self, named(2, 1, "x", WeaklyUp)}, "x", fxNode(2, 1)},
		{"up", []Member{self, named(2, 1, "x", Up)}, "x", fxNode(2, 1)},
		{"leaving", []Member{self, named(2, 1, "x", Leaving)}, "x", fxNode(2, 1)},
		{"exiting", []Member{self, named(2, 1, "x", Exiting)}, "x", fxNode(2, 1)},
		{"down", []Member{self, named(2, 1, "x", Down)}, "x", UniqueAddress{}},
		{"itself", []Member{self, named(2, 1, "x", Up)}, "self", fxNode(1, 1)},
		{"unknown", []Member{self, named(2, 1, "x", Up)}, "y", UniqueAddress{}},
		{"restart: the new incarnation, old one Down", []Member{self, named(2, 1, "x", Down), named(2, 2, "x", Joining)}, "x", fxNode(2, 2)},
		{"restart: the new incarnation, old one leaving", []Member{self, named(2, 1, "x", Leaving), named(2, 2, "x", Joining)}, "x", fxNode(2, 2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(LocalConfig(), self.Node.Address, rand.New(rand.NewSource(1)))
			if err != nil {
				t.Fatal(err)
			}
			n.st = fxState(tc.members, nil)
			got, ok := n.ResolveNode(tc.id)
			if got != tc.want || ok != (tc.want != UniqueAddress{}) {
				t.Errorf("ResolveNode(%q) = %v, %v; want %v", tc.id, got, ok, tc.want)
			}
		})
	}
}
