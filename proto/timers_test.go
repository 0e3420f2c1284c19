package proto

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// The node keeps memos of its timers and heartbeat monitors (the cached
// deadline, the monitor targets). These tests drive small clusters through
// random faults, one message or tick at a time, and after every Step and
// Tick compare each memo with the computation it replaces.

// shortcutCluster is a random driver: messages in flight are delivered in
// any order, dropped or duplicated, nodes crash and restart, leave and are
// downed, links are cut and healed, and nodes are ticked late, early or
// not at all for a while.
type shortcutCluster struct {
	t      *testing.T
	cfg    Config
	rng    *rand.Rand
	now    time.Time
	nodes  []*Node
	down   []bool // crashed, not ticked or stepped
	twins  []*Node
	flight []Message
	cut    map[[2]Address]bool
	out    Output // the buffers OutputTo trades with every node
	checks int
	// settledChecks counts the checks that found a node settled.
	settledChecks int
	// spares[i] is how many spare histories node i held at its last
	// collect; reused counts the times a node's spares went down, which
	// only resetting one for a new subject does.
	spares []int
	reused int
	// seqHits counts the acks ackedMonitor was checked to find by seq.
	seqHits int
}

func newShortcutCluster(t *testing.T, seed int64) *shortcutCluster {
	rng := rand.New(rand.NewSource(seed))
	cfg := LocalConfig()
	cfg.MonitoredBy = 1 + rng.Intn(5)
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+rng.Intn(hi-lo+1)) * time.Millisecond }
	cfg.HeartbeatInterval = ms(50, 200)
	cfg.AvailabilityInterval = cfg.HeartbeatInterval * time.Duration(1+rng.Intn(2))
	cfg.GossipInterval = cfg.HeartbeatInterval * time.Duration(1+rng.Intn(3))
	cfg.JoinRetryInterval = ms(50, 400)
	cfg.SeedNodeTimeout = ms(50, 1000)
	cfg.LeaveTimeout = ms(200, 3000)
	cfg.TombstoneTTL = 10*cfg.GossipInterval + ms(0, 5000) // short, so tombstones expire
	if rng.Intn(2) == 0 {
		cfg.LeaveTimeout = ms(10, 100) // often due before the other timers
	}
	cfg.Downing.Strategy = DowningStrategy(rng.Intn(5))
	cfg.Downing.AutoDownAfter = time.Second
	cfg.Downing.QuorumSize = 2
	c := &shortcutCluster{t: t, cfg: cfg, rng: rng, now: epoch, cut: map[[2]Address]bool{}}
	size := 3 + rng.Intn(5)
	for i := 0; i < size; i++ {
		c.nodes = append(c.nodes, nil)
		c.twins = append(c.twins, nil)
		c.down = append(c.down, false)
		c.spares = append(c.spares, 0)
		c.start(i)
	}
	return c
}

// start creates (or restarts) node i and its twin, which gets the same
// inputs, takes Step's general path for heartbeats too and is drained
// with Output instead of OutputTo. The node is fed by StepMessage, the
// twin by Step; the twin creates every heartbeat history afresh where the
// node resets spare ones.
func (c *shortcutCluster) start(i int) {
	seed := c.rng.Int63()
	a := Address{Host: fmt.Sprintf("10.0.2.%d", i+1), Port: 7000}
	var err error
	if c.nodes[i], err = New(c.cfg, a, rand.New(rand.NewSource(seed))); err != nil {
		c.t.Fatal(err)
	}
	if c.twins[i], err = New(c.cfg, a, rand.New(rand.NewSource(seed))); err != nil {
		c.t.Fatal(err)
	}
	c.twins[i].slowSteps = true
	c.twins[i].freshMonitors = true
	c.spares[i] = 0
	c.down[i] = false
	var seeds []Address // the first node's address first: it alone may form the cluster
	for j := range c.nodes {
		seeds = append(seeds, Address{Host: fmt.Sprintf("10.0.2.%d", j+1), Port: 7000})
	}
	c.step(i, Message{From: c.nodes[i].Self(), Body: JoinSeeds{Seeds: seeds}})
}

func (c *shortcutCluster) index(a Address) int {
	for i, n := range c.nodes {
		if n.Self().Address == a {
			return i
		}
	}
	return -1
}

// step feeds m to node i and its twin at c.now (or, now and then, a
// little earlier: time may go backwards).
func (c *shortcutCluster) step(i int, m Message) {
	now := c.now
	if c.rng.Intn(20) == 0 {
		now = now.Add(-time.Duration(c.rng.Intn(300)) * time.Millisecond)
	}
	held := m // the node gets a pointer to a copy, which must stay as it was
	err := c.nodes[i].StepMessage(now, &held)
	if !reflect.DeepEqual(held, m) {
		c.t.Fatalf("node %d: StepMessage changed %+v into %+v", i, m, held)
	}
	errTwin := c.twins[i].Step(now, m)
	if (err == nil) != (errTwin == nil) {
		c.t.Fatalf("node %d: Step errors differ: %v, %v", i, err, errTwin)
	}
	c.collect(i)
}

func (c *shortcutCluster) tick(i int, now time.Time) {
	c.nodes[i].Tick(now)
	c.twins[i].Tick(now)
	c.collect(i)
}

// collect checks node i's memos, drains it and its twin and compares what
// they said.
func (c *shortcutCluster) collect(i int) {
	n := c.nodes[i]
	c.checkShortcuts(n)
	if k := len(n.spareMonitors); k < c.spares[i] {
		c.reused++
	}
	c.spares[i] = len(n.spareMonitors)
	c.checks++
	n.OutputTo(&c.out)
	for _, m := range n.out.Messages[:cap(n.out.Messages)] {
		if m.Body != nil {
			c.t.Fatalf("node %d: OutputTo took back a buffer that still holds a %s", i, m.Body.Kind())
		}
	}
	want := c.twins[i].Output()
	if !reflect.DeepEqual(want.Messages, nilIfEmpty(c.out.Messages)) || !reflect.DeepEqual(want.Events, nilIfEmpty(c.out.Events)) ||
		!reflect.DeepEqual(want.Snapshots, nilIfEmpty(c.out.Snapshots)) || want.Deadline != c.out.Deadline {
		c.t.Fatalf("node %d: OutputTo gave %+v, Output %+v", i, c.out, want)
	}
	if got, want := n.Stats(), c.twins[i].Stats(); got != want || n.Phase() != c.twins[i].Phase() {
		c.t.Fatalf("node %d: stats %+v in phase %v, twin's %+v in phase %v", i, got, n.Phase(), want, c.twins[i].Phase())
	}
	c.flight = append(c.flight, c.out.Messages...)
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// checkShortcuts compares every memo of n with its naive computation.
func (c *shortcutCluster) checkShortcuts(n *Node) {
	c.t.Helper()
	if got, want := n.deadline(), n.naiveDeadline(); got != want {
		c.t.Fatalf("%v (%v): cached deadline %v, timers say %v", n.Self(), n.Phase(), got, want)
	}
	if got, want := n.selfStatus(), n.st.Status(n.self); got != want {
		c.t.Fatalf("%v: kept own status %v, the state says %v", n.Self(), got, want)
	}
	var own []UniqueAddress
	if row, ok := n.st.Reachability.Row(n.self); ok {
		own = row.Unreachable
	}
	if got := n.ownUnreachable(); !nodesEqual(got, own) {
		c.t.Fatalf("%v: kept own row %v, the state's is %v", n.Self(), got, own)
	}
	if sameTombstones(n.pruneFor, n.st.Tombstones) && n.now.Before(n.pruneAt) {
		for u, at := range n.st.Tombstones {
			if !n.now.Before(at.Add(n.cfg.TombstoneTTL)) {
				c.t.Fatalf("%v: pruneTombstones would skip %v, due at %v, till %v", n.Self(), u, at.Add(n.cfg.TombstoneTTL), n.pruneAt)
			}
		}
	}
	if n.Phase() == PhaseMember && n.ownIdle() && ownNeedsWrite(n) {
		c.t.Fatalf("%v: syncOwn would skip a state that lacks its declarations or entries", n.Self())
	}
	// ackedMonitor answers as monitor for every subject, a stranger and
	// impostors (a subject's UID at another port or host, its address
	// under another UID), for the seqs of the last round and around it.
	froms := append([]UniqueAddress{{Address: Address{Host: "10.9.9.9", Port: 7000}, UID: 99}}, n.monitorList...)
	for _, u := range n.monitorList {
		froms = append(froms, UniqueAddress{Address: Address{Host: u.Host, Port: u.Port + 1}, UID: u.UID},
			UniqueAddress{Address: Address{Host: u.Host + "0", Port: u.Port}, UID: u.UID},
			UniqueAddress{Address: Address{Host: "x" + u.Host[1:], Port: u.Port}, UID: u.UID},
			UniqueAddress{Address: u.Address, UID: u.UID + 1})
	}
	for _, u := range froms {
		wantH, wantOK := n.monitor(&u)
		for seq := n.roundSeq - 1; seq != n.roundSeq+uint64(len(n.monitorList))+2; seq++ {
			if h, ok := n.ackedMonitor(&u, seq); h != wantH || ok != wantOK {
				c.t.Fatalf("%v: ackedMonitor(%v, %d) = %p, %v; monitor finds %p, %v", n.Self(), u, seq, h, ok, wantH, wantOK)
			}
			if i := seq - n.roundSeq - 1; i < uint64(len(n.monitorList)) && n.monitorList[i] == u {
				c.seqHits++ // found by its seq
			}
		}
	}
	if n.isSettled() {
		// afterChange must have nothing to do: run it and look.
		st, phase, out := n.st, n.phase, n.out
		n.afterChange()
		if n.st != st || n.phase != phase || n.stopping != "" || len(n.out.Messages) != len(out.Messages) ||
			len(n.out.Events) != len(out.Events) || len(n.out.Snapshots) != len(out.Snapshots) {
			c.t.Fatalf("%v: afterChange changed a node noted settled", n.Self())
		}
		c.settledChecks++
	}
	if n.Phase() == PhaseMember {
		got, want := n.currentTargets(), naiveMonitorTargets(n.st, n.self, n.cfg.MonitoredBy)
		if !nodesEqual(got, want) {
			c.t.Fatalf("%v: kept monitor targets %v, the state's are %v", n.Self(), got, want)
		}
	}
}

// act takes one random action.
func (c *shortcutCluster) act() {
	r := c.rng.Intn(1000)
	switch {
	case r < 300 && len(c.flight) > 0:
		c.deliver(c.rng.Intn(len(c.flight))) // out of order
	case r < 900:
		// Time passes: what is in flight arrives (some of it late,
		// dropped or twice) and due timers fire.
		c.now = c.now.Add(time.Duration(c.rng.Intn(60)) * time.Millisecond)
		for k := len(c.flight); k > 0 && len(c.flight) > 0; k-- {
			if c.rng.Intn(10) == 0 {
				c.flight = append(c.flight, c.flight[0]) // late
				c.flight = c.flight[1:]
				continue
			}
			c.deliver(0)
		}
		for i, n := range c.nodes {
			if c.down[i] {
				continue
			}
			dl := n.deadline()
			switch {
			case c.rng.Intn(40) == 0:
				// stalled: not ticked this time
			case c.rng.Intn(8) == 0:
				c.tick(i, c.now) // early or late: whatever is due runs
			case !dl.IsZero() && !dl.After(c.now):
				c.tick(i, c.now)
			}
		}
	case r < 903:
		i := c.rng.Intn(len(c.nodes))
		c.down[i] = !c.down[i]
		if !c.down[i] {
			c.start(i)
		}
	case r < 906:
		i := c.rng.Intn(len(c.nodes))
		if !c.down[i] && c.nodes[i].Phase() != PhaseStopped {
			c.step(i, Message{From: c.nodes[i].Self(), Body: Leave{}})
		}
	case r < 909:
		i, j := c.rng.Intn(len(c.nodes)), c.rng.Intn(len(c.nodes))
		if !c.down[i] && c.nodes[i].Phase() == PhaseMember {
			c.step(i, Message{From: c.nodes[i].Self(), Body: DownNode{Address: c.nodes[j].Self().Address}})
		}
	case r < 940:
		a, b := c.nodes[c.rng.Intn(len(c.nodes))].Self().Address, c.nodes[c.rng.Intn(len(c.nodes))].Self().Address
		c.cut[[2]Address{a, b}] = !c.cut[[2]Address{a, b}]
	case r < 960:
		c.cut = map[[2]Address]bool{}
	case r < 963:
		c.now = c.now.Add(time.Duration(1+c.rng.Intn(5)) * time.Second) // everybody paused
	default:
		i := c.rng.Intn(len(c.nodes))
		if c.down[i] || c.nodes[i].Phase() == PhaseStopped {
			return
		}
		path, typ := fmt.Sprintf("/p%d", c.rng.Intn(3)), fmt.Sprintf("t%d", c.rng.Intn(2))
		cmds := []Body{
			Register{Key: "svc", Path: path}, Deregister{Key: "svc", Path: path},
			HostShards{Type: ShardType{Name: typ, Shards: 1 + c.rng.Intn(4), Replicas: 1}}, StopHosting{Name: typ},
		}
		c.step(i, Message{From: c.nodes[i].Self(), Body: cmds[c.rng.Intn(len(cmds))]})
	}
	for i := range c.nodes {
		if !c.down[i] && c.nodes[i].Phase() == PhaseStopped && c.rng.Intn(300) == 0 {
			c.start(i)
		}
	}
}

// deliver takes the k-th message in flight and delivers it, drops it or
// (now and then) delivers it and keeps a copy in flight.
func (c *shortcutCluster) deliver(k int) {
	m := c.flight[k]
	if c.rng.Intn(20) > 0 {
		c.flight = append(c.flight[:k], c.flight[k+1:]...)
	}
	i := c.index(m.To)
	if i < 0 || c.down[i] || c.cut[[2]Address{m.From.Address, m.To}] || c.rng.Intn(50) == 0 {
		return
	}
	c.step(i, m)
}

// TestShortcutsMatchNaive runs random clusters and checks every memo of
// every node after every Step and Tick, and that OutputTo hands out what
// Output does.
func TestShortcutsMatchNaive(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	members, settled, reused, seqHits := 0, 0, 0, 0
	for seed := int64(1); seed <= int64(seeds); seed++ {
		c := newShortcutCluster(t, seed)
		for k := 0; k < 4000; k++ {
			c.act()
		}
		settled += c.settledChecks
		reused += c.reused
		seqHits += c.seqHits
		for _, n := range c.nodes {
			if n.Phase() == PhaseMember {
				members++
			}
		}
	}
	if members == 0 {
		t.Fatal("no node was a member at the end of any run: the runs exercised little")
	}
	if settled == 0 {
		t.Fatal("no node was ever settled: afterChange was never skipped")
	}
	if seqHits == 0 {
		t.Fatal("ackedMonitor never found a subject by its seq")
	}
	if reused == 0 {
		t.Fatal("no node ever reset a spare heartbeat history for a new subject")
	}
}

// ownNeedsWrite is syncOwn's test without its memo: whether the state
// lacks this node's shard declarations or service entries.
func ownNeedsWrite(n *Node) bool {
	m, ok := n.st.Member(n.self)
	if !ok || m.Status >= Exiting {
		return false
	}
	if m.HostsVersion < n.hostsVersion {
		return true
	}
	var row RegistryRow
	for _, r := range n.st.Registry {
		if r.Owner == n.self {
			row = r
		}
	}
	version := max(n.regVersion, row.Version)
	return row.Version < version || (version > 0 && !entriesEqual(row.Entries, n.entries))
}

// TestSelfStatusMemo walks selfStatus through states that share their
// members but not their tombstones, and the other way round, checking
// each answer against State.Status.
func TestSelfStatusMemo(t *testing.T) {
	n, err := New(LocalConfig(), addr(1), rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	other := UniqueAddress{Address: addr(2), UID: 7}
	without := []Member{{Node: other, Status: Up}}
	with := []Member{{Node: n.Self(), Status: Leaving}, {Node: other, Status: Up}}
	if n.Self().Compare(other) > 0 {
		with[0], with[1] = with[1], with[0]
	}
	tombs := map[UniqueAddress]time.Time{n.Self(): epoch}
	steps := []struct {
		name    string
		members []Member
		tombs   map[UniqueAddress]time.Time
		want    MemberStatus
	}{
		{"not a member", without, nil, 0},
		{"same members, now tombstoned", without, tombs, Removed},
		{"same members and tombstones", without, tombs, Removed},
		{"same members, tombstone gone", without, nil, 0},
		{"a member", with, nil, Leaving},
		{"same members, tombstoned too", with, tombs, Leaving},
		{"not a member again", without, tombs, Removed},
	}
	for _, s := range steps {
		st := NewState()
		st.Members, st.Tombstones = s.members, s.tombs
		n.st = st
		if got := n.selfStatus(); got != s.want || got != st.Status(n.Self()) {
			t.Errorf("%s: selfStatus() = %v, want %v (State.Status %v)", s.name, got, s.want, st.Status(n.Self()))
		}
	}
}

// naiveMonitorTargets is monitorTargets by its definition: walk the ring
// from self counting the members self's own row does not list until k are
// found, add the non-Down members that row lists, and sort.
func naiveMonitorTargets(s *State, self UniqueAddress, k int) []UniqueAddress {
	var own []UniqueAddress
	if row, ok := s.Reachability.Row(self); ok {
		own = row.Unreachable
	}
	var entries []ringNode
	selfOnRing := false
	for _, m := range s.Members {
		switch {
		case m.Status == Down:
		case m.Node == self:
			selfOnRing = true
		default:
			entries = append(entries, ringNode{Node: m.Node, Hash: m.Node.Hash()})
		}
	}
	var out []UniqueAddress
	if selfOnRing {
		for reachable, i, ring := 0, 0, naiveRingOrder(self, self.Hash(), entries); reachable < k && i < len(ring); i++ {
			out = append(out, ring[i])
			if !containsNode(own, ring[i]) {
				reachable++
			}
		}
	}
	for _, u := range own {
		if m, ok := s.Member(u); ok && m.Status != Down {
			out = append(out, u)
		}
	}
	sortNodes(out)
	return slices.Compact(out)
}

// TestMonitorTargetsMatchNaive checks monitorTargets, which marks the
// members it picks and reads them in member order, against
// naiveMonitorTargets on random member lists (some Down, self among them
// or not) and own rows (listing members, Down members, self and
// strangers).
func TestMonitorTargetsMatchNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [3][]UniqueAddress {
		members := lawSubset(rng, valPool, 1+rng.Intn(4))
		own := lawSubset(rng, valPool, 1+rng.Intn(8))
		self := valPool[rng.Intn(len(valPool))]
		if len(members) > 0 && rng.Intn(4) > 0 {
			self = members[rng.Intn(len(members))]
		}
		return [3][]UniqueAddress{members, own, {self}}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("monitorTargets is the naive walk", prop.ForAll(func(in [3][]UniqueAddress) string {
			rng := rand.New(rand.NewSource(int64(len(in[0])*131 + len(in[1]))))
			s := NewState()
			for _, u := range in[0] {
				st := Up
				if rng.Intn(4) == 0 {
					st = Down
				}
				s.Members = append(s.Members, Member{Node: u, Status: st})
			}
			self := in[2][0]
			if len(in[1]) > 0 {
				s.Reachability.Rows = []ObserverRow{{Observer: self, Version: 1, Unreachable: in[1]}}
			}
			for k := 0; k <= len(in[0])+1; k++ {
				got, want := monitorTargets(s, self, k), naiveMonitorTargets(s, self, k)
				if !nodesEqual(got, want) {
					return fmt.Sprintf("members %v, self %v, own row %v, k %d: got %v, want %v", s.Members, self, in[1], k, got, want)
				}
			}
			return ""
		}, gen))
	})
}

// TestHeartbeatRunsAfterChangeUnlessSettled checks that a heartbeat or
// ack skips afterChange only while the node is settled: after a change
// that no afterChange has seen (the state, a pending stop, own
// declarations), the next heartbeat runs it.
func TestHeartbeatRunsAfterChangeUnlessSettled(t *testing.T) {
	peer := UniqueAddress{Address: addr(2), UID: 99}
	cases := []struct {
		name   string
		change func(n *Node)
		check  func(n *Node) string
	}{
		{"settled", func(*Node) {}, func(n *Node) string {
			if !n.isSettled() || len(n.out.Events) != 0 || len(n.out.Snapshots) != 0 {
				return fmt.Sprintf("settled %v, %d events, %d snapshots", n.isSettled(), len(n.out.Events), len(n.out.Snapshots))
			}
			return ""
		}},
		{"unseen state", func(n *Node) {
			s := n.st.Clone()
			s.Members[0].Roles = []string{"extra"}
			n.st = s
		}, func(n *Node) string {
			if n.processed != n.st {
				return "afterChange did not process the new state"
			}
			return ""
		}},
		{"pending stop", func(n *Node) { n.stopping = "test" }, func(n *Node) string {
			if n.Phase() != PhaseStopped {
				return fmt.Sprintf("phase %v, want stopped", n.Phase())
			}
			return ""
		}},
		{"own declarations", func(n *Node) {
			n.entries = []ServiceEntry{{Key: "k", Node: n.self, Path: "/p"}}
			n.regVersion++
			n.ownDirty = true
		}, func(n *Node) string {
			if n.ownDirty || len(n.st.Registry) != 1 {
				return fmt.Sprintf("own entries not synced: dirty %v, registry %v", n.ownDirty, n.st.Registry)
			}
			return ""
		}},
	}
	for _, tc := range cases {
		for _, body := range []Body{Heartbeat{Seq: 300}, HeartbeatAck{Seq: 300}} {
			t.Run(tc.name+"/"+body.Kind(), func(t *testing.T) {
				n, err := New(LocalConfig(), addr(1), rand.New(rand.NewSource(1)))
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Step(epoch, Message{From: n.Self(), Body: JoinSeeds{}}); err != nil {
					t.Fatal(err)
				}
				if n.Phase() != PhaseMember || !n.isSettled() {
					t.Fatalf("a one-node cluster: phase %v, settled %v", n.Phase(), n.isSettled())
				}
				n.Output()
				tc.change(n)
				if err := n.Step(epoch.Add(time.Millisecond), Message{From: peer, To: n.Self().Address, Body: body}); err != nil {
					t.Fatal(err)
				}
				if msg := tc.check(n); msg != "" {
					t.Error(msg)
				}
			})
		}
	}
}

// TestElapsedAtMostIsSub checks elapsedAtMost, which subtracts UTC wall
// times itself, against time.Time.Sub on instants near each other and far
// apart, at the ends of time.Time's range, with monotonic readings and in
// other locations, for bounds on both sides of the difference.
func TestElapsedAtMostIsSub(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	mono := time.Now()
	zone := time.FixedZone("x", 3600)
	// Unix times past maxInternal wrap round time.Time's internal seconds
	// to the bottom of their range.
	const maxInternal = math.MaxInt64 - 62135596800
	extremes := []int64{math.MinInt64, math.MinInt64 / 2, -1 << 62, -9e9, -1, 0, 1, 9e9, 1 << 62, math.MaxInt64 / 2, maxInternal, math.MaxInt64}
	instant := func() time.Time {
		var at time.Time
		switch rng.Intn(5) {
		case 0:
			at = time.Unix(extremes[rng.Intn(len(extremes))]+rng.Int63n(3)-1, rng.Int63n(1e9)).UTC()
		case 1:
			at = time.Unix(rng.Int63()-rng.Int63(), rng.Int63n(1e9)).UTC()
		case 2:
			at = mono.Add(time.Duration(rng.Int63n(int64(2*time.Hour)) - int64(time.Hour))) // monotonic
			if rng.Intn(2) == 0 {
				at = stepWallClock(at, time.Duration(rng.Int63n(int64(time.Hour))))
			}
		default:
			at = epoch.Add(time.Duration(rng.Int63n(int64(time.Hour))))
		}
		if rng.Intn(8) == 0 {
			at = at.In(zone)
		}
		return at
	}
	fast := 0
	for i := 0; i < 200000; i++ {
		now, last := instant(), instant()
		if rng.Intn(2) == 0 {
			last = now.Add(-time.Duration(rng.Int63n(int64(time.Minute))) + time.Duration(rng.Int63n(int64(time.Second))))
		}
		sub := now.Sub(last)
		for _, d := range []time.Duration{sub - 1, sub, sub + 1, time.Duration(rng.Int63n(int64(time.Minute))), 0, math.MaxInt64} {
			if got, want := elapsedAtMost(now, last, d), sub <= d; got != want {
				t.Fatalf("elapsedAtMost(%v, %v, %v) = %v, want %v (Sub %v)", now, last, d, got, want, sub)
			}
		}
		if now == now.UTC() && last == last.UTC() && sub < time.Hour && sub > -time.Hour {
			fast++
		}
	}
	if fast < 10000 {
		t.Fatalf("only %d pairs took the fast path", fast)
	}
}

// stepWallClock returns t, which must have a monotonic clock reading, with
// its wall time moved by d and the reading kept: two instants read across
// a step of the wall clock.
func stepWallClock(t time.Time, d time.Duration) time.Time {
	type layout struct { // time.Time's
		wall uint64
		ext  int64
		loc  *time.Location
	}
	mono := (*layout)(unsafe.Pointer(&t)).ext
	moved := t.Add(d)
	(*layout)(unsafe.Pointer(&moved)).ext = mono
	return moved
}
