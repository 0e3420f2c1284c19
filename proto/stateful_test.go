package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// This file drives clusters of 3 to 9 Nodes through random action
// sequences (rapid's t.Repeat) and checks safety invariants after every
// Step and Tick, then heals everything and checks that the survivors agree.
//
// The driver (sfCluster) is event driven: every message gets a latency and
// is delivered when simulated time reaches it, and every node is ticked at
// the deadline its Output asks for. The fault actions (deliver early, drop,
// duplicate, crash, partition) act on top of that network.

const sfMaxNodes = 9

var sfEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sfAddr(i int) Address { return Address{Host: fmt.Sprintf("10.0.1.%d", i+1), Port: 7000} }

// sfObserver follows one incarnation's successive states and outputs and
// reports the invariant violations it sees.
type sfObserver struct {
	self UniqueAddress
	// closed is set when every message comes from a real node of the
	// cluster (the stateful test, not the fuzzer): then no member skips a
	// status (see observe) and vector clock entries name only members and
	// tombstoned incarnations.
	closed  bool
	last    *State
	status  map[UniqueAddress]MemberStatus // status of every member the last state listed
	removed map[UniqueAddress]bool         // incarnations this node saw tombstoned or drop out
	listed  map[UniqueAddress]bool         // incarnations this node ever listed as members
	skips   int                            // exempted skips of Leaving seen so far
}

func newSFObserver(self UniqueAddress, closed bool) *sfObserver {
	return &sfObserver{
		self: self, closed: closed,
		status:  map[UniqueAddress]MemberStatus{},
		removed: map[UniqueAddress]bool{},
		listed:  map[UniqueAddress]bool{},
	}
}

// observe checks the node after one Step or Tick that emitted msgs.
//
// Invariants:
//
//	(a) every status change of a member is allowed by CanTransition, and a
//	    member that drops out of the member list is tombstoned;
//	(b) a node never lists an incarnation it has seen tombstoned or drop
//	    out, and never lists a tombstoned incarnation;
//	(d) the state is well formed (ValidateState), the seen set names only
//	    members, reachability rows name only members or tombstoned
//	    incarnations;
//	(e) the node never sends a message to itself.
//
// One exemption from (a), for exactly one skipped status (X→Exiting
// without Leaving in between), for two kinds of node that may never have
// seen the Leaving record: one that learns in this very step that it is
// itself Down, Exiting or Removed, since the leader's convergence does not
// wait for Down or Exiting members (it stops in the same step); and one
// that was still Joining or WeaklyUp, since a member the leader's side
// could not reach (and downed) may have admitted it with that member's
// older view, while the leader converged without knowing it. An open observer (the fuzzer, whose
// peers may claim any later status) applies the exemption to every step:
// members may skip Leaving but never move backwards.
func (o *sfObserver) observe(n *Node, msgs []Message) []string {
	var bad []string
	for _, m := range msgs {
		if m.From != o.self {
			bad = append(bad, fmt.Sprintf("(e) %v sent %s with From %v", o.self, m.Body.Kind(), m.From))
		}
		if m.To == o.self.Address && (m.ToUID == 0 || m.ToUID == o.self.UID) {
			bad = append(bad, fmt.Sprintf("(e) %v sent %s to itself (ToUID %x)", o.self, m.Body.Kind(), uint64(m.ToUID)))
		}
	}
	st := n.State()
	if st == o.last {
		return bad
	}
	o.last = st
	bad = append(bad, sfStateShape(o.self, st, o.closed)...)

	exempt := !o.closed
	switch st.Status(o.self) {
	case Down, Exiting, Removed:
		exempt = true
	}
	if was, listed := o.status[o.self]; listed && (was == Joining || was == WeaklyUp) {
		exempt = true
	}
	cur := make(map[UniqueAddress]MemberStatus, len(st.Members))
	for _, m := range st.Members {
		cur[m.Node] = m.Status
		o.listed[m.Node] = true
		if o.removed[m.Node] {
			bad = append(bad, fmt.Sprintf("(b) %v lists %v (%v) again after it was removed", o.self, m.Node, m.Status))
		}
		if prev, ok := o.status[m.Node]; ok && !CanTransition(prev, m.Status) {
			if exempt && CanTransition(prev, Leaving) && CanTransition(Leaving, m.Status) {
				o.skips++
			} else {
				bad = append(bad, fmt.Sprintf("(a) %v saw %v go %v -> %v", o.self, m.Node, prev, m.Status))
			}
		}
	}
	for _, u := range sfSortedKeys(o.status) {
		if _, ok := cur[u]; ok {
			continue
		}
		if _, ok := st.Tombstones[u]; !ok {
			bad = append(bad, fmt.Sprintf("(a) %v dropped %v (%v) without a tombstone", o.self, u, o.status[u]))
		}
		o.removed[u] = true
	}
	for u := range st.Tombstones {
		o.removed[u] = true
	}
	o.status = cur
	return bad
}

// sfStateShape checks one node's state for well-formedness (d).
func sfStateShape(self UniqueAddress, st *State, closed bool) []string {
	var bad []string
	if err := ValidateState(st); err != nil {
		return append(bad, fmt.Sprintf("(d) %v: own state invalid: %v", self, err))
	}
	known := func(u UniqueAddress) bool {
		_, member := st.Member(u)
		_, dead := st.Tombstones[u]
		return member || dead
	}
	for _, m := range st.Members {
		if _, dead := st.Tombstones[m.Node]; dead {
			bad = append(bad, fmt.Sprintf("(b) %v lists tombstoned %v", self, m.Node))
		}
	}
	for _, u := range st.Seen {
		if _, ok := st.Member(u); !ok {
			bad = append(bad, fmt.Sprintf("(d) %v: seen set names non-member %v", self, u))
		}
	}
	for _, row := range st.Reachability.Rows {
		if !known(row.Observer) {
			bad = append(bad, fmt.Sprintf("(d) %v: reachability row of unknown observer %v", self, row.Observer))
		}
		for _, u := range row.Unreachable {
			if !known(u) {
				bad = append(bad, fmt.Sprintf("(d) %v: row of %v names unknown subject %v", self, row.Observer, u))
			}
		}
	}
	if closed {
		for _, u := range st.Version.Nodes() {
			if !known(u) {
				bad = append(bad, fmt.Sprintf("(d) %v: clock entry of unknown %v", self, u))
			}
		}
	}
	return bad
}

func sfSortedKeys[V any](m map[UniqueAddress]V) []UniqueAddress {
	out := make([]UniqueAddress, 0, len(m))
	for u := range m {
		out = append(out, u)
	}
	sortNodes(out)
	return out
}

// sfSlot is one address of the cluster and the incarnation running there.
type sfSlot struct {
	addr     Address
	node     *Node // nil until first started
	obs      *sfObserver
	crashed  bool
	leaving  bool // Leave was issued to the current incarnation
	deadline time.Time
}

type sfFlight struct {
	due time.Time
	seq uint64
	msg Message
}

type sfStop struct {
	node   UniqueAddress
	reason string
	at     time.Time
}

// sfCluster is the stateful test's world.
type sfCluster struct {
	cfg    Config
	rng    *rand.Rand // latencies and node RNG seeds
	now    time.Time
	slots  []*sfSlot // index i runs at sfAddr(i); len is the maximum size
	used   int       // slots started so far
	flight []sfFlight
	seq    uint64
	group  map[Address]bool // partition side per address; nil when healed

	firstFault time.Time // first crash, partition or drop; zero if none
	stops      []sfStop
	leavers    map[UniqueAddress]bool // incarnations given Leave
	all        []UniqueAddress        // every incarnation ever started
	bad        []string
	events     int
	trace      []string // the latest state changes, printed on failure
}

func newSFCluster(cfg Config, size int, seed int64) *sfCluster {
	c := &sfCluster{cfg: cfg, rng: rand.New(rand.NewSource(seed)), now: sfEpoch, leavers: map[UniqueAddress]bool{}}
	for i := 0; i < size; i++ {
		c.slots = append(c.slots, &sfSlot{addr: sfAddr(i)})
	}
	return c
}

func (c *sfCluster) live(s *sfSlot) bool {
	return s.node != nil && !s.crashed && s.node.Phase() != PhaseStopped
}

func (c *sfCluster) member(s *sfSlot) bool { return c.live(s) && s.node.Phase() == PhaseMember }

func (c *sfCluster) fault() {
	if c.firstFault.IsZero() {
		c.firstFault = c.now
	}
}

// start runs a new incarnation at slot i. The very first node seeds itself
// and forms the cluster; every other start (restarts included) joins
// through all other addresses, so it never forms a second cluster.
func (c *sfCluster) start(i int) {
	s := c.slots[i]
	n, err := New(c.cfg, s.addr, rand.New(rand.NewSource(c.rng.Int63())))
	if err != nil {
		c.bad = append(c.bad, fmt.Sprintf("New(%v): %v", s.addr, err))
		return
	}
	var seeds []Address
	if c.used == 0 {
		seeds = []Address{s.addr}
	} else {
		for _, o := range c.slots {
			if o != s {
				seeds = append(seeds, o.addr)
			}
		}
	}
	if i >= c.used {
		c.used = i + 1
	}
	s.node, s.crashed, s.leaving = n, false, false
	c.all = append(c.all, n.Self())
	s.obs = newSFObserver(n.Self(), true)
	if err := n.Step(c.now, Message{From: n.Self(), Body: JoinSeeds{Seeds: seeds}}); err != nil {
		c.bad = append(c.bad, fmt.Sprintf("JoinSeeds at %v: %v", s.addr, err))
	}
	c.collect(s)
}

// collect drains a node's output after one Step or Tick and checks it.
func (c *sfCluster) collect(s *sfSlot) {
	before := s.obs.last
	out := s.node.Output()
	s.deadline = out.Deadline
	for _, m := range out.Messages {
		c.seq++
		c.insert(sfFlight{due: c.now.Add(c.latency()), seq: c.seq, msg: m})
	}
	for _, e := range out.Events {
		if e.Type == NodeStopped {
			c.stops = append(c.stops, sfStop{node: s.node.Self(), reason: e.Reason, at: c.now})
		}
	}
	if st := s.node.State(); st != before {
		c.log("%v %v: %s", s.addr, s.node.Phase(), sfRender(st))
	}
	for _, v := range s.obs.observe(s.node, out.Messages) {
		c.bad = append(c.bad, fmt.Sprintf("t=%v %s", c.now.Sub(sfEpoch), v))
	}
	if s.obs.last != before {
		c.checkLeaders()
	}
}

// sfTraceLen is how many state changes a failure prints.
const sfTraceLen = 200

// log keeps the last sfTraceLen lines of trace.
func (c *sfCluster) log(format string, args ...any) {
	line := fmt.Sprintf("t=%v ", c.now.Sub(sfEpoch)) + fmt.Sprintf(format, args...)
	if len(c.trace) == sfTraceLen {
		c.trace = append(c.trace[:0], c.trace[1:]...)
	}
	c.trace = append(c.trace, line)
}

// dump renders every slot's node: phase, stop reason, state.
func (c *sfCluster) dump() string {
	var b strings.Builder
	for _, s := range c.slots {
		if s.node == nil {
			continue
		}
		snap := s.node.Snapshot()
		fmt.Fprintf(&b, "%v %v crashed=%v leaving=%v stopped=%q: %s\n",
			s.node.Self(), snap.Phase, s.crashed, s.leaving, snap.Stopped, sfRender(s.node.State()))
	}
	return b.String()
}

// sfRender renders a state compactly: members (last octet and UID prefix),
// unreachable members, seen set and version.
func sfRender(st *State) string {
	short := func(u UniqueAddress) string {
		h := u.Host
		if i := strings.LastIndexByte(h, '.'); i >= 0 {
			h = h[i+1:]
		}
		return fmt.Sprintf("%s#%04x", h, uint64(u.UID)>>48)
	}
	var b strings.Builder
	for _, m := range st.Members {
		fmt.Fprintf(&b, "%s:%s ", short(m.Node), m.Status)
	}
	b.WriteString("| rows")
	for _, row := range st.Reachability.Rows {
		if len(row.Unreachable) == 0 {
			continue
		}
		b.WriteString(" " + short(row.Observer) + "->")
		for i, u := range row.Unreachable {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(short(u))
		}
	}
	b.WriteString(" | seen")
	for _, u := range st.Seen {
		b.WriteString(" " + short(u))
	}
	b.WriteString(" | v")
	for _, u := range st.Version.Nodes() {
		fmt.Fprintf(&b, " %s=%d", short(u), st.Version[u])
	}
	fmt.Fprintf(&b, " | %d tomb", len(st.Tombstones))
	return b.String()
}

func (c *sfCluster) latency() time.Duration {
	return time.Duration(1+c.rng.Intn(20)) * time.Millisecond
}

func (c *sfCluster) insert(f sfFlight) {
	i := sort.Search(len(c.flight), func(i int) bool {
		g := c.flight[i]
		return g.due.After(f.due) || (g.due.Equal(f.due) && g.seq > f.seq)
	})
	c.flight = append(c.flight, sfFlight{})
	copy(c.flight[i+1:], c.flight[i:])
	c.flight[i] = f
}

func (c *sfCluster) take(i int) Message {
	m := c.flight[i].msg
	c.flight = append(c.flight[:i], c.flight[i+1:]...)
	return m
}

func (c *sfCluster) slotAt(a Address) *sfSlot {
	for _, s := range c.slots {
		if s.addr == a {
			return s
		}
	}
	return nil
}

func (c *sfCluster) deliver(m Message) {
	s := c.slotAt(m.To)
	if s == nil || s.node == nil || s.crashed {
		return
	}
	if c.group != nil && c.group[m.From.Address] != c.group[m.To] {
		return
	}
	if err := s.node.Step(c.now, m); err != nil {
		c.bad = append(c.bad, fmt.Sprintf("t=%v Step(%v <- %v %s) = %v", c.now.Sub(sfEpoch), m.To, m.From, m.Body.Kind(), err))
	}
	c.collect(s)
}

// advance runs every delivery and timer due up to to, in time order.
func (c *sfCluster) advance(to time.Time) {
	for {
		var next time.Time
		var timer *sfSlot
		if len(c.flight) > 0 {
			next = c.flight[0].due
		}
		for _, s := range c.slots {
			if c.live(s) && !s.deadline.IsZero() && (next.IsZero() || s.deadline.Before(next)) {
				next, timer = s.deadline, s
			}
		}
		if next.IsZero() || next.After(to) {
			break
		}
		if c.events++; c.events > 50_000_000 {
			c.bad = append(c.bad, "driver: event budget exhausted (a node's deadline never moves on)")
			return
		}
		if next.After(c.now) {
			c.now = next
		}
		if timer == nil {
			c.deliver(c.take(0))
			continue
		}
		timer.node.Tick(c.now)
		c.collect(timer)
		if !timer.deadline.IsZero() && !timer.deadline.After(c.now) {
			c.bad = append(c.bad, fmt.Sprintf("t=%v %v (%v): Tick left its Deadline at %v",
				c.now.Sub(sfEpoch), timer.node.Self(), timer.node.Phase(), timer.deadline.Sub(sfEpoch)))
			return
		}
	}
	if to.After(c.now) {
		c.now = to
	}
}

func (c *sfCluster) tickAll() {
	for _, s := range c.slots {
		if c.live(s) {
			s.node.Tick(c.now)
			c.collect(s)
		}
	}
}

// checkLeaders checks (c): live member nodes whose states are converged at
// the same version agree on the members and on the leader.
func (c *sfCluster) checkLeaders() {
	type view struct {
		self UniqueAddress
		st   *State
	}
	var views []view
	for _, s := range c.slots {
		if c.member(s) && s.node.State().Converged() {
			views = append(views, view{s.node.Self(), s.node.State()})
		}
	}
	for i := 0; i < len(views); i++ {
		for j := i + 1; j < len(views); j++ {
			a, b := views[i], views[j]
			if a.st.Version.Compare(b.st.Version) != Same {
				continue
			}
			la, oka := a.st.Leader(a.self)
			lb, okb := b.st.Leader(b.self)
			if la != lb || oka != okb {
				c.bad = append(c.bad, fmt.Sprintf("t=%v (c) converged at the same version, %v sees leader %v (%v) but %v sees %v (%v)",
					c.now.Sub(sfEpoch), a.self, la, oka, b.self, lb, okb))
			}
			if d := cmp.Diff(sfMembers(a.st), sfMembers(b.st)); d != "" {
				c.bad = append(c.bad, fmt.Sprintf("t=%v (c) same version, different members at %v and %v (-want +got):\n%s",
					c.now.Sub(sfEpoch), a.self, b.self, d))
			}
		}
	}
}

// sfMember is what the liveness check compares: identity and status.
type sfMember struct {
	Node   UniqueAddress
	Status MemberStatus
}

func sfMembers(st *State) []sfMember {
	out := make([]sfMember, 0, len(st.Members))
	for _, m := range st.Members {
		out = append(out, sfMember{m.Node, m.Status})
	}
	return out
}

func (c *sfCluster) flush(t *rapid.T) {
	if len(c.bad) == 0 {
		return
	}
	bad := c.bad
	if len(bad) > 10 {
		bad = append(bad[:10:10], fmt.Sprintf("... and %d more", len(c.bad)-10))
	}
	t.Fatalf("invariant violated:\n%s\ntrace:\n%s", strings.Join(bad, "\n"), strings.Join(c.trace, "\n"))
}

// pick draws one slot satisfying ok, or skips the action when none does.
func (c *sfCluster) pick(t *rapid.T, label string, ok func(*sfSlot) bool) (int, *sfSlot) {
	var idx []int
	for i, s := range c.slots {
		if ok(s) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		t.Skip("no slot for " + label)
	}
	i := rapid.SampledFrom(idx).Draw(t, label)
	return i, c.slots[i]
}

// liveness is the bound for the final phase: time for every remaining
// failure to be detected (first-heartbeat estimate plus acceptable pause
// plus ten standard deviations plus a check), stay stable, be downed and
// removed; for a leave to time out; for a joiner to be admitted and
// promoted through WeaklyUp; and fifty gossip rounds for news to spread.
// Every stage is counted twice since one failure can surface only after
// another is cleared. With LocalConfig it is about 30 s.
func sfLivenessBound(cfg Config) time.Duration {
	fd := cfg.FailureDetector
	detect := fd.FirstHeartbeatEstimate + fd.AcceptableHeartbeatPause + 10*fd.MinStdDeviation + cfg.AvailabilityInterval
	stage := detect + cfg.StableAfter + cfg.LeaveTimeout + cfg.JoinRetryInterval + cfg.WeaklyUpAfter
	return 2*stage + 50*cfg.GossipInterval
}

// TestClusterStateful forms a cluster of 3 to 9 nodes with LocalConfig and
// runs a random sequence of actions on it: deliver one message early, drop
// or duplicate one, let time pass (tick, run), crash, restart, partition in
// two, heal, join a new node, leave gracefully. Safety invariants are
// checked after every Step and Tick (sfObserver, checkLeaders) and
// reported after every action. Then everything heals and nothing fails
// any more, and within sfLivenessBound the survivors must settle on one
// view (livenessErr) and every stop must be explained (stopsErr).
func TestClusterStateful(t *testing.T) {
	cfg := LocalConfig()
	bound := sfLivenessBound(cfg)
	// Once the survivors agree they must keep agreeing through a downing
	// decision and a few gossip rounds.
	hold := cfg.StableAfter + 5*cfg.GossipInterval
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.IntRange(3, sfMaxNodes).Draw(t, "initial")
		maxSize := rapid.IntRange(size, sfMaxNodes).Draw(t, "max")
		c := newSFCluster(cfg, maxSize, rapid.Int64().Draw(t, "seed"))
		c.start(0)
		for i := 1; i < size; i++ {
			c.start(i)
		}
		formed := c.settle(5*time.Second, 100*time.Millisecond, 0, func() string { return c.formedErr(size) })
		c.flush(t)
		if formed != "" {
			t.Fatalf("%s", formed)
		}

		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) { c.flush(t) },
			"deliver": func(t *rapid.T) {
				if len(c.flight) == 0 {
					t.Skip("nothing in flight")
				}
				c.deliver(c.take(rapid.IntRange(0, len(c.flight)-1).Draw(t, "msg")))
			},
			"drop": func(t *rapid.T) {
				if len(c.flight) == 0 {
					t.Skip("nothing in flight")
				}
				c.take(rapid.IntRange(0, len(c.flight)-1).Draw(t, "msg"))
				c.fault()
			},
			"duplicate": func(t *rapid.T) {
				if len(c.flight) == 0 {
					t.Skip("nothing in flight")
				}
				f := c.flight[rapid.IntRange(0, len(c.flight)-1).Draw(t, "msg")]
				c.seq++
				c.insert(sfFlight{due: c.now.Add(c.latency()), seq: c.seq, msg: f.msg})
			},
			"tick": func(t *rapid.T) {
				step := rapid.IntRange(1, 250).Draw(t, "ms")
				c.advance(c.now.Add(time.Duration(step) * time.Millisecond))
				c.tickAll()
			},
			"crash": func(t *rapid.T) {
				_, s := c.pick(t, "crash", c.live)
				s.crashed = true
				c.fault()
			},
			"restart": func(t *rapid.T) {
				i, _ := c.pick(t, "restart", func(s *sfSlot) bool { return s.node != nil && !c.live(s) })
				c.start(i)
			},
			"partition": func(t *rapid.T) {
				side := rapid.SliceOfN(rapid.Bool(), maxSize, maxSize).Draw(t, "side")
				split := false
				for _, b := range side {
					split = split || b != side[0]
				}
				if !split {
					side[0] = !side[0]
				}
				c.group = map[Address]bool{}
				for i, s := range c.slots {
					c.group[s.addr] = side[i]
				}
				c.fault()
			},
			"heal": func(t *rapid.T) { c.group = nil },
			"join": func(t *rapid.T) {
				if c.used == len(c.slots) {
					t.Skip("cluster at its maximum size")
				}
				c.start(c.used)
			},
			"leave": func(t *rapid.T) {
				_, s := c.pick(t, "leave", func(s *sfSlot) bool { return c.live(s) && !s.leaving })
				s.leaving = true
				c.leavers[s.node.Self()] = true
				if err := s.node.Step(c.now, Message{From: s.node.Self(), Body: Leave{}}); err != nil {
					c.bad = append(c.bad, fmt.Sprintf("Leave at %v: %v", s.addr, err))
				}
				c.collect(s)
			},
			"run": func(t *rapid.T) {
				ms := rapid.IntRange(100, 3000).Draw(t, "ms")
				c.advance(c.now.Add(time.Duration(ms) * time.Millisecond))
			},
		})

		c.group = nil
		final := c.settle(bound, 250*time.Millisecond, hold, c.livenessErr)
		c.flush(t)
		if final != "" {
			t.Fatalf("%s\ntrace:\n%s\nfinal:\n%s", final, strings.Join(c.trace, "\n"), c.dump())
		}
		if msg := c.stopsErr(); msg != "" {
			t.Fatalf("%s", msg)
		}
	})
}

// formedErr reports how the first size nodes, started without faults,
// fall short of one converged cluster with every member Up.
func (c *sfCluster) formedErr(size int) string {
	var want []sfMember
	for _, s := range c.slots[:size] {
		want = append(want, sfMember{s.node.Self(), Up})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Node.Compare(want[j].Node) < 0 })
	for _, s := range c.slots[:size] {
		st := s.node.State()
		if d := cmp.Diff(want, sfMembers(st)); d != "" || !st.Converged() {
			return fmt.Sprintf("after forming, %v (converged %v) members (-want +got):\n%s", s.addr, st.Converged(), d)
		}
	}
	return ""
}

// stopsErr checks that every stop is explained: a node that was not told
// to leave stops only because it was downed or removed, and only after a
// fault (a crash, a partition or a dropped message) happened.
func (c *sfCluster) stopsErr() string {
	for _, st := range c.stops {
		if c.leavers[st.node] {
			continue
		}
		if st.reason != "downed" && st.reason != "removed" {
			return fmt.Sprintf("%v stopped (%q) without being told to leave", st.node, st.reason)
		}
		if c.firstFault.IsZero() || c.firstFault.After(st.at) {
			return fmt.Sprintf("%v stopped (%q) at t=%v before any fault (first fault at t=%v)",
				st.node, st.reason, st.at.Sub(sfEpoch), c.firstFault.Sub(sfEpoch))
		}
	}
	return ""
}

// livenessErr is the final verdict once everything has healed.
//
// If any live node is a member, every live node is one, and all of them
// hold the same converged view: exactly the live nodes, all Up, with the
// lowest address as leader and nobody unreachable. Every other incarnation
// any of them ever listed is tombstoned there (crashed and left nodes are
// Removed), and every node that was told to leave has stopped.
//
// If no live node is a member (KeepMajority downs every side that is not a
// majority, so crashes and partitions can leave no side standing), the
// remaining live nodes are joiners with no cluster to admit them; stopsErr
// then says why every member stopped.
func (c *sfCluster) livenessErr() string {
	var members, joiners []*sfSlot
	for _, s := range c.slots {
		switch {
		case c.member(s):
			members = append(members, s)
		case c.live(s):
			joiners = append(joiners, s)
		}
	}
	if len(members) == 0 {
		return ""
	}
	if len(joiners) > 0 {
		s := joiners[0]
		return fmt.Sprintf("%v is still %v although %d members are live", s.node.Self(), s.node.Phase(), len(members))
	}
	var want []sfMember
	for _, s := range members {
		want = append(want, sfMember{s.node.Self(), Up})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Node.Compare(want[j].Node) < 0 })
	type verdict struct {
		Leader      UniqueAddress
		HasLeader   bool
		Converged   bool
		Unreachable []UniqueAddress
	}
	wantVerdict := verdict{Leader: want[0].Node, HasLeader: true, Converged: true}
	for _, s := range members {
		st := s.node.State()
		if d := cmp.Diff(want, sfMembers(st)); d != "" {
			return fmt.Sprintf("after healing, members at %v (-want +got):\n%s", s.node.Self(), d)
		}
		got := verdict{Converged: st.Converged()}
		if u := st.Unreachable(); len(u) > 0 {
			got.Unreachable = u
		}
		got.Leader, got.HasLeader = st.Leader(s.node.Self())
		if d := cmp.Diff(wantVerdict, got); d != "" {
			return fmt.Sprintf("after healing, view of %v (-want +got):\n%s", s.node.Self(), d)
		}
		for _, u := range c.all {
			if _, live := st.Member(u); live {
				continue
			}
			if _, dead := st.Tombstones[u]; s.obs.listed[u] && !dead {
				return fmt.Sprintf("after healing, %v once listed %v but has no tombstone for it", s.node.Self(), u)
			}
		}
	}
	for _, s := range c.slots {
		if s.node != nil && s.leaving && !s.crashed && s.node.Phase() != PhaseStopped {
			return fmt.Sprintf("%v was told to leave but is still %v", s.node.Self(), s.node.Phase())
		}
	}
	return ""
}

// settle advances in steps of poll until verdict has reported nothing for
// hold without a break, and returns ""; if that does not happen within
// bound it returns what verdict last reported.
func (c *sfCluster) settle(bound, poll, hold time.Duration, verdict func() string) string {
	end := c.now.Add(bound)
	var since time.Time
	last := ""
	for {
		if msg := verdict(); msg != "" {
			since, last = time.Time{}, msg
		} else if since.IsZero() {
			since = c.now
		}
		if !since.IsZero() && c.now.Sub(since) >= hold {
			return ""
		}
		if !c.now.Before(end) {
			if last == "" {
				last = "the verdict kept changing"
			}
			return fmt.Sprintf("not settled for %v within %v: %s", hold, bound, last)
		}
		c.advance(c.now.Add(poll))
	}
}
