package sim

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rumorhq/rumor/invariants"
	"github.com/rumorhq/rumor/netsim"
	"github.com/rumorhq/rumor/proto"
)

// epoch is simulated time zero. Node clocks start near it (plus their
// offsets).
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// epochNanos is epoch in Unix nanoseconds.
var epochNanos = epoch.UnixNano()

// epochSec is epoch in Unix seconds.
var epochSec = epoch.Unix()

// simTime is epoch.Add(time.Duration(ns)), built without Add's general
// arithmetic: epoch is UTC and has no monotonic reading, so the result is
// the Unix instant epoch+ns in UTC, the same value field for field.
func simTime(ns int64) time.Time {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return time.Unix(epochSec+sec, nsec).UTC()
}

// sinceEpoch is int64(t.Sub(epoch)), without Sub's overflow checks when
// the difference is far from overflowing (always, in a run).
func sinceEpoch(t time.Time) int64 {
	sec := t.Unix() - epochSec
	if sec <= -9e9 || sec >= 9e9 {
		return int64(t.Sub(epoch))
	}
	return sec*1e9 + int64(t.Nanosecond())
}

type uniq = proto.UniqueAddress

// proc is what the process at a slot is doing.
type proc uint8

const (
	procNone    proc = iota // never started
	procRunning             // running (joining, member)
	procPaused              // frozen by the nemesis
	procCrashed             // killed by the nemesis
	procStopped             // the node stopped itself: downed, removed, left
)

var procNames = [...]string{"none", "running", "paused", "crashed", "stopped"}

// fate is how an incarnation ended.
type fate uint8

const (
	fateAlive   fate = iota
	fateCrashed      // crashed (or paused into the liveness phase, never)
	fateDowned       // stopped by the protocol: downed or removed
	fateLeft         // left gracefully (or timed out leaving)
)

// incarnation is one process lifetime at a slot.
type incarnation struct {
	self    uniq
	slot    int
	label   string // "n3/2": slot and incarnation number
	num     int    // incarnation number at the slot, from 1
	leaving bool
	fate    fate
	member  bool
}

// slot is one address: a sequence of incarnations, one clock.
type slot struct {
	idx     int
	name    string
	addr    proto.Address
	initial bool
	seeds   []proto.Address // the seed list of the current incarnation
	billing bool

	node    *proto.Node
	rng     *rand.Rand // node's, reseeded for the next incarnation
	inc     *incarnation
	history []*incarnation // every incarnation, oldest first
	incs    int
	proc    proc
	phase   proto.Phase
	// cold marks an incarnation started as first seed after the whole
	// cluster died: it may form a new cluster.
	cold bool

	clock    lclock
	deadline time.Time // the node's next deadline, in its local time
	timer    int64     // the sim instant its timer is set for; -1: none

	// The second of local time localAt built last: it starts at
	// secStart (ns since epoch) and is Unix second secUnix. Invariant:
	// simTime(secStart) is time.Unix(secUnix, 0) in UTC; secStart is
	// math.MinInt64 before the first.
	secStart, secUnix int64

	// How schedule last mapped the deadline: the local instant, the
	// search's start (lclock.search) and the clock it searched.
	timerLocal int64
	timerStart int64
	timerClock lclock
	// What timerKept needs of that: the last instant the timer holds
	// (lclock.hold), whether the clock must also still read less than
	// timerLocal then, and the clock's generation.
	holdUntil int64
	holdAt    bool
	timerGen  uint64

	topo       proto.TopologySnapshot
	lastState  *proto.State
	observed   observedView // what the safety checker last saw of this slot
	stopReason string
	entries    []proto.ServiceEntry // registered by the workload, for deregistration
	label      string               // timeline lane label
	recvHead   piece                // " n3 recv ": its delivery lines' start
	fromTail   piece                // " from n3": the end of lines of its messages
	tickLine   piece                // " n3 tick": its tick lines after the time
	upCount    int                  // Up initial members in its state (startup figure)
}

// lclock is a slot's clock: local = l0 + (t - t0) × rate, in nanoseconds
// since epoch. It never runs backwards unless stepped. gen counts the
// changes (setRate, step): a clock is set up before it is read and then
// changes only through those.
type lclock struct {
	t0, l0 int64
	rate   float64
	gen    uint64
}

func (c *lclock) at(t int64) int64 {
	if c.rate == 1 {
		return c.l0 + (t - c.t0)
	}
	return c.l0 + int64(float64(t-c.t0)*c.rate)
}

func (c *lclock) setRate(t int64, r float64) {
	c.l0, c.t0, c.rate = c.at(t), t, r
	c.gen++
}

func (c *lclock) step(t int64, d int64) {
	c.l0, c.t0 = c.at(t)+d, t
	c.gen++
}

// hold is, for a search of the clock for local that started from start
// (search's second result), the last instant now up to which the search
// started from the clock alone at or after now and the clock reads less
// than local at now, as timerHolds asks: -1 when no instant from 0 up
// qualifies. When the clock's rate is not 1 (or its figures are far out
// of range) it gives the bound from start alone, and checkAt: the
// reading must still be compared.
func (c *lclock) hold(local, start int64) (until int64, checkAt bool) {
	if start < 0 {
		return -1, false
	}
	const lim = 1 << 61
	if c.rate == 1 && -lim < local && local < lim && -lim < c.l0 && c.l0 < lim && -lim < c.t0 && c.t0 < lim {
		// at(now) < local ⟺ l0 + now - t0 < local ⟺ now < local - l0 + t0.
		return min(start, local-c.l0+c.t0-1), false
	}
	return start, true
}

// simAt returns the first sim instant >= now at which the clock reads at
// least local.
func (c *lclock) simAt(local, now int64) int64 {
	at, _ := c.search(local, now)
	return at
}

// search is simAt, also returning the instant its search started from
// when that instant came from the clock alone, or -1 when it came from
// now (the clock read local already, or its estimate was before now).
// A search that started from the clock alone finds the same instant for
// any now up to its start at which the clock reads less than local.
func (c *lclock) search(local, now int64) (at, start int64) {
	if c.at(now) >= local {
		return now, -1
	}
	t := c.t0 + int64(math.Ceil(float64(local-c.l0)/c.rate))
	start = t
	if t < now {
		t, start = now, -1
	}
	for i := 0; c.at(t) < local; i++ {
		t += 1 + int64(i)*int64(i)
	}
	return t, start
}

// pendingEntry is a schedule entry waiting for its instant.
type pendingEntry struct {
	e   Entry
	at  int64
	seq uint64
}

// sim is one run.
type sim struct {
	opts Options
	p    Params
	out  proto.Output // the buffers every node's OutputTo fills in turn

	net     *netsim.Network
	netCfg  netsim.Config
	sizer   *sizer
	slots   []*slot // by index; nil for gaps
	byAddr  map[proto.Address]*slot
	byNode  []*slot // by netsim node index (netsim.Network.Node); nil: no slot
	incs    map[uniq]*incarnation
	seeds   []proto.Address
	initial int

	now int64 // ns since epoch
	end int64

	tr  *tracer
	chk *invariants.Checker
	// ticking is set while afterStep handles a Tick: the checker's views
	// are then Ticked, which lets it judge a leader's allocations.
	ticking bool
	nem     *nemesis
	wl      *workload
	// pending holds the schedule entries waiting, from phead on, in
	// order of instant (and push); the slots before phead are spent and
	// reused when the slice is full.
	pending []pendingEntry
	phead   int
	pseq    uint64

	executed Schedule
	probes   Probes
	fig      figures
	tl       *Timeline

	unreach, downed, removed, weakly map[uniq]bool

	partitioned bool
	cutsBefore  uint64
	clogLinks   [][2]int
	maxBack     int64 // largest backward clock step so far
	generation  int   // cluster generations: +1 per cold start

	events       uint64
	failed       bool
	livenessNote string
	violations   []Violation
	simErr       error
}

// nodeTimer is the netsim timer id of a slot.
func nodeTimer(idx int) uint64 { return uint64(idx) }

func slotAddr(i int) proto.Address {
	k := i + 1
	return proto.Address{Host: "10.0." + strconv.Itoa(k/256) + "." + strconv.Itoa(k%256), Port: 7000}
}

func newSim(o Options) (*sim, error) {
	p, err := DrawParams(o)
	if err != nil {
		return nil, err
	}
	s := &sim{
		opts:    o,
		p:       p,
		sizer:   newSizer(),
		byAddr:  map[proto.Address]*slot{},
		incs:    map[uniq]*incarnation{},
		tr:      newTracer(o.Trace),
		chk:     invariants.NewChecker(),
		end:     int64(p.Duration),
		unreach: map[uniq]bool{}, downed: map[uniq]bool{}, removed: map[uniq]bool{}, weakly: map[uniq]bool{},
		initial: p.Nodes,
	}
	s.netCfg = netsim.Config{
		Latency:     netsim.Shifted(p.LatencyMin, netsim.Exponential(p.LatencyMean)),
		Loss:        p.Loss,
		Duplicate:   p.Dup,
		MaxInFlight: p.MaxInFlight,
		Sizer:       s.sizer.measure, // size, less its test hook when unset
	}
	if sizeCheck != nil {
		s.netCfg.Sizer = s.sizer.size
	}
	if p.LatencyMean == 0 {
		s.netCfg.Latency = netsim.Constant(p.LatencyMin)
	}
	if err := s.netCfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: network: %w", ErrBadOptions, err)
	}
	s.net = netsim.New(newRand(o.Seed, streamNet), s.netCfg)
	if o.Timeline {
		s.tl = &Timeline{}
	}
	for i := 0; i < min(3, p.Nodes); i++ {
		s.seeds = append(s.seeds, slotAddr(i))
	}
	if o.Schedule != nil || o.Scripted {
		for _, e := range o.Schedule {
			s.push(e)
		}
	} else if p.FaultEvery > 0 {
		s.nem = newNemesis(o.Seed, &s.p)
	}
	if p.WorkloadEvery > 0 {
		s.wl = newWorkload(o.Seed, p.WorkloadEvery)
	}
	return s, nil
}

// push queues a schedule entry (stable for equal instants).
func (s *sim) push(e Entry) {
	s.pseq++
	pe := pendingEntry{e: e, at: int64(e.At), seq: s.pseq}
	if s.phead > 0 && len(s.pending) == cap(s.pending) {
		n := copy(s.pending, s.pending[s.phead:])
		clear(s.pending[n:])
		s.pending, s.phead = s.pending[:n], 0
	}
	i := len(s.pending)
	s.pending = append(s.pending, pe)
	for i > s.phead && (s.pending[i-1].at > pe.at) {
		s.pending[i] = s.pending[i-1]
		i--
	}
	s.pending[i] = pe
}

// pop removes and returns the first pending entry if its instant is at
// or before t.
func (s *sim) pop(t int64) (Entry, bool) {
	if s.phead == len(s.pending) || s.pending[s.phead].at > t {
		return Entry{}, false
	}
	e := s.pending[s.phead].e
	s.pending[s.phead] = pendingEntry{}
	if s.phead++; s.phead == len(s.pending) {
		s.pending, s.phead = s.pending[:0], 0
	}
	return e, true
}

func (s *sim) setNow(ns int64) {
	if ns > s.now {
		s.now = ns
	}
}

// nowTime is the current simulated instant as a time.
func (s *sim) nowTime() time.Time { return simTime(s.now) }

// unixNanos turns a simulated instant into netsim's Unix nanoseconds,
// saturating instead of overflowing.
func unixNanos(ns int64) int64 {
	if ns > math.MaxInt64-epochNanos {
		return math.MaxInt64
	}
	return epochNanos + ns
}

// local is the slot's local time now.
func (s *sim) local(sl *slot) time.Time { return sl.localAt(s.now) }

// localAt is the slot's local time at sim instant t, simTime of its
// clock's reading, which comes in runs within one second: within the
// second it built last, it takes the second from there and the
// nanoseconds by subtraction. (The readings are above math.MinInt64+1e9.)
func (sl *slot) localAt(t int64) time.Time {
	ns := sl.clock.at(t)
	if d := uint64(ns - sl.secStart); d < 1e9 {
		return time.Unix(sl.secUnix, int64(d)).UTC()
	}
	return sl.newSecond(ns)
}

// newSecond is localAt for a reading, ns, outside the slot's second,
// which becomes the second of ns.
func (sl *slot) newSecond(ns int64) time.Time {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	sl.secStart, sl.secUnix = ns-nsec, epochSec+sec
	return time.Unix(sl.secUnix, nsec).UTC()
}

// label names an incarnation for the trace ("n3/2").
func (s *sim) label(u uniq) string {
	if inc, ok := s.incs[u]; ok {
		return inc.label
	}
	return u.String()
}

// slotFor returns the slot at index i, creating it (not started) if new.
func (s *sim) slotFor(i int) *slot {
	for len(s.slots) <= i {
		s.slots = append(s.slots, nil)
	}
	if s.slots[i] == nil {
		sl := &slot{idx: i, name: slotName(i), addr: slotAddr(i), initial: i < s.initial, timer: -1, holdUntil: -1, secStart: math.MinInt64}
		sl.recvHead, sl.fromTail, sl.tickLine = newPiece(" "+sl.name+" recv "), newPiece(" from "+sl.name), newPiece(" "+sl.name+" tick")
		sl.billing = subSeed(s.opts.Seed, stream(streamBilling, i, 0))%3 == 0 || i == 0
		sl.clock.rate = 1
		if s.p.ClockOffset > 0 {
			r := uint64(subSeed(s.opts.Seed, stream(streamClock, i, 0)))
			o := int64(s.p.ClockOffset.Round(time.Millisecond) / time.Millisecond)
			sl.clock.l0 = (int64(r%uint64(2*o+1)) - o) * int64(time.Millisecond)
		}
		s.slots[i] = sl
		s.byAddr[sl.addr] = sl
		node := s.net.Node(sl.addr)
		for len(s.byNode) <= node {
			s.byNode = append(s.byNode, nil)
		}
		s.byNode[node] = sl
	}
	return s.slots[i]
}

// running reports whether the slot's process is alive and not stopped.
func (sl *slot) running() bool { return sl.proc == procRunning && sl.phase != proto.PhaseStopped }

// shardTypes are what every node hosts: "orders" on every node, "billing"
// on some.
var (
	ordersType  = proto.ShardType{Name: "orders", Shards: 16, Replicas: 1}
	billingType = proto.ShardType{Name: "billing", Shards: 8, Replicas: 0}
)

// start begins a new incarnation at sl.
func (s *sim) start(sl *slot) {
	sl.incs++
	cfg := s.p.Config
	cfg.NodeID = proto.NodeID(sl.name)
	sl.rng = nodeRand(sl.rng, s.opts.Seed, stream(streamNode, sl.idx, sl.incs))
	n, err := proto.New(cfg, sl.addr, sl.rng)
	if err != nil {
		s.fail(Violation{Phase: "sim", Invariant: "sim-error", Node: sl.name, Detail: err.Error()})
		return
	}
	inc := &incarnation{self: n.Self(), slot: sl.idx, num: sl.incs, label: sl.name + "/" + strconv.Itoa(sl.incs)}
	s.incs[n.Self()] = inc
	sl.history = append(sl.history, inc)
	sl.node, sl.inc, sl.proc, sl.phase = n, inc, procRunning, proto.PhaseIdle
	sl.topo, sl.lastState, sl.stopReason, sl.entries, sl.cold = proto.TopologySnapshot{}, nil, "", nil, false
	s.net.Up(sl.addr)
	seeds := s.seedsFor(sl)
	sl.seeds = seeds
	t := s.tr
	t.begin(s.now)
	t.add(sl.name)
	t.add("start")
	t.add(inc.label)
	t.add("seeds")
	var names []string
	for _, a := range seeds {
		if x := s.byAddr[a]; x != nil {
			names = append(names, x.name)
		} else {
			names = append(names, a.String())
		}
	}
	t.add(strings.Join(names, ","))
	t.end()
	s.command(sl, proto.HostShards{Type: ordersType})
	if sl.billing {
		s.command(sl, proto.HostShards{Type: billingType})
	}
	s.command(sl, proto.JoinSeeds{Seeds: seeds})
	if sl.incs > 1 || !sl.initial {
		s.fig.joined(s, inc)
	}
	s.timelineLabel(sl)
}

// nodeRand returns newRand(seed, stream) for a new incarnation: old, the
// rng of the slot's previous incarnation (whose node never runs again),
// reseeded, if there was one. Reseeding sets the source's whole state, as
// a new source's seeding does, without a new 4.9 KB source.
func nodeRand(old *rand.Rand, seed int64, stream uint64) *rand.Rand {
	if old == nil {
		return newRand(seed, stream)
	}
	old.Seed(subSeed(seed, stream))
	return old
}

// seedsFor picks the seed list of a starting incarnation: the first
// initial nodes, the first of which forms the cluster. A restart never
// lists itself first (it must not form a second cluster), unless no member
// runs anywhere: then one seed slot cold-starts the cluster.
func (s *sim) seedsFor(sl *slot) []proto.Address {
	if sl.incs == 1 && sl.initial {
		return s.seeds
	}
	var others []proto.Address
	isSeed := false
	for _, a := range s.seeds {
		if a == sl.addr {
			isSeed = true
		} else {
			others = append(others, a)
		}
	}
	if isSeed && !s.anyMemberOrCold() {
		// Every member is dead: this is a new cluster, whose epochs and
		// versions start over, so the cross-node memories of the checker
		// start over too.
		sl.cold = true
		s.generation++
		s.chk = invariants.NewChecker()
		t := s.tr
		t.begin(s.now)
		t.add("cold-start")
		t.add(sl.name)
		t.add("generation")
		t.addInt(int64(s.generation))
		t.end()
		return append([]proto.Address{sl.addr}, others...)
	}
	// An operator restarting a node whose seeds are all gone points it at
	// the running members (as a discovery service would): any one of them
	// may be cut off or about to be downed.
	if !s.memberAt(others) {
		for _, x := range s.slots {
			if x != nil && x != sl && x.running() && x.phase == proto.PhaseMember && !slices.Contains(others, x.addr) {
				others = append(others, x.addr)
			}
		}
	}
	return others
}

// memberAt reports whether a running member listens at one of addrs.
func (s *sim) memberAt(addrs []proto.Address) bool {
	for _, a := range addrs {
		if x := s.byAddr[a]; x != nil && x.node != nil && x.running() && x.phase == proto.PhaseMember {
			return true
		}
	}
	return false
}

// anyMemberOrCold reports whether some member runs or is paused, or a
// cold start is under way.
func (s *sim) anyMemberOrCold() bool {
	for _, sl := range s.slots {
		if sl == nil || sl.node == nil || (sl.proc != procRunning && sl.proc != procPaused) || sl.phase == proto.PhaseStopped {
			continue
		}
		if sl.phase == proto.PhaseMember || sl.cold {
			return true
		}
	}
	return false
}

// command steps a local command into a running node.
func (s *sim) command(sl *slot, b proto.Body) {
	if sl.node == nil || !sl.running() {
		return
	}
	err := sl.node.Step(s.local(sl), proto.Message{From: sl.node.Self(), Body: b})
	if err != nil && err != proto.ErrNotMember && err != proto.ErrAlreadyStarted {
		s.simError(fmt.Errorf("%s: %s: %w", sl.name, b.Kind(), err))
	}
	s.afterStep(sl)
}

func (s *sim) simError(err error) {
	if s.simErr == nil {
		s.simErr = err
	}
}

// slotAt returns the slot listening at netsim node index i, or nil.
func (s *sim) slotAt(i int) *slot {
	if i < len(s.byNode) {
		return s.byNode[i]
	}
	return nil
}

// deliver hands a delivered message, m, to its node. m is where the
// network holds it (netsim.Network.StepUntilNanosMsg): it is read before
// the node's outputs are sent.
func (s *sim) deliver(ev *netsim.Event, m *proto.Message) {
	sl := s.slotAt(ev.ToNode)
	if sl == nil || sl.node == nil {
		s.probes.DroppedStopped++
		return
	}
	switch {
	case sl.proc == procPaused:
		s.probes.DroppedPaused++
		return
	case sl.proc != procRunning || sl.phase == proto.PhaseStopped:
		s.probes.DroppedStopped++
		return
	}
	s.events++
	kind := m.Body.Kind()
	t := s.tr
	if fsl := s.slotAt(ev.FromNode); fsl == nil {
		t.begin(s.now)
		t.recvText(&sl.recvHead, kind, " from "+m.From.Address.String(), ev.Duplicate)
		t.end()
	} else if t.recvLine(s.now, &sl.recvHead, kind, &fsl.fromTail, ev.Duplicate) {
		t.endFlush()
	} else {
		t.begin(s.now)
		t.recvMiss(&sl.recvHead, kind, &fsl.fromTail, ev.Duplicate)
		t.end()
	}
	if s.tl != nil {
		s.tl.message(s, ev, kind)
	}
	if err := sl.node.StepMessage(s.local(sl), m); err != nil {
		s.simError(fmt.Errorf("%s: step %s: %w", sl.name, kind, err))
	}
	s.afterStep(sl)
}

// tick fires a node's timer.
func (s *sim) tick(idx int) {
	sl := s.slots[idx]
	sl.timer = -1
	if !sl.running() {
		return
	}
	s.events++
	if t := s.tr; t.pieceLine(s.now, &sl.tickLine) {
		t.endFlush()
	} else {
		t.begin(s.now)
		t.put(&sl.tickLine)
		t.end()
	}
	sl.node.Tick(s.local(sl))
	s.ticking = true
	s.afterStep(sl)
	s.ticking = false
}

// afterStep sends what a node wants sent, records its events and phase,
// resets its timer and runs the safety checks.
func (s *sim) afterStep(sl *slot) {
	sl.node.OutputTo(&s.out)
	out := &s.out
	if msgs := out.Messages; len(msgs) > 0 {
		now := unixNanos(s.now)
		for i := range msgs {
			s.net.SendNanos(now, &msgs[i])
		}
	}
	for i := range out.Events {
		s.onEvent(sl, &out.Events[i])
	}
	if n := len(out.Snapshots); n > 0 {
		sl.topo = out.Snapshots[n-1]
	}
	if ph := sl.node.Phase(); ph != sl.phase {
		s.onPhase(sl, ph)
	}
	// A running node whose deadline did not move keeps its pending timer
	// when the deadline maps to the same instant (timerHolds).
	if !(out.Deadline == sl.deadline && sl.timer >= 0 && sl.running() && sl.timerKept(s.now)) {
		if checkShortcuts && out.Deadline == sl.deadline && sl.timer >= 0 && sl.running() && sl.timerHolds(s.now) {
			panic(fmt.Sprintf("sim: %s resets a timer timerHolds keeps", sl.name))
		}
		sl.deadline = out.Deadline
		s.schedule(sl)
	} else if checkShortcuts {
		if !sl.timerHolds(s.now) {
			panic(fmt.Sprintf("sim: %s keeps a timer timerHolds does not", sl.name))
		}
		if at := sl.clock.simAt(sinceEpoch(sl.deadline), s.now); at != sl.timer {
			panic(fmt.Sprintf("sim: %s keeps its timer at %d, its deadline maps to %d", sl.name, sl.timer, at))
		}
	}
	st := sl.node.State()
	if st != sl.lastState {
		sl.lastState = st
		s.fig.stateChanged(s, sl)
		if s.tl != nil {
			s.timelineLabel(sl)
		}
	}
	// observe returns at once for a view the checker has seen, as most
	// are: that is checked here, field by field.
	if o := &sl.observed; o.state != st || o.node != sl.node || o.phase != sl.phase || o.chk != s.chk || s.ticking {
		s.observe(sl)
	} else if checkShortcuts {
		if s.seenView(sl) != *o {
			panic(fmt.Sprintf("sim: afterStep skips a view of %s the checker has not seen", sl.name))
		}
		s.observe(sl)
	}
}

// timerHolds reports whether the slot's deadline, unchanged since
// schedule last mapped it, maps to the same instant at now: when the
// clock is the one searched, the search started from the clock alone at
// or after now, and the clock reads less than the deadline at now
// (lclock.search). (An undrifted clock is no exception: beyond 2^53 ns
// its float estimate rounds too.)
func (sl *slot) timerHolds(now int64) bool {
	return sl.timerStart >= now && sl.clock == sl.timerClock && sl.clock.at(now) < sl.timerLocal
}

// timerKept is timerHolds from what schedule worked out (lclock.hold),
// with the clock's generation standing for the clock.
func (sl *slot) timerKept(now int64) bool {
	return now <= sl.holdUntil && sl.clock.gen == sl.timerGen && (!sl.holdAt || sl.clock.at(now) < sl.timerLocal)
}

// schedule sets the slot's netsim timer for its node's deadline.
func (s *sim) schedule(sl *slot) {
	if !sl.running() || sl.deadline.IsZero() {
		if sl.timer >= 0 {
			s.net.CancelTimer(nodeTimer(sl.idx))
			sl.timer = -1
		}
		return
	}
	local := sinceEpoch(sl.deadline)
	at, start := sl.clock.search(local, s.now)
	sl.timerLocal, sl.timerStart, sl.timerClock = local, start, sl.clock
	sl.holdUntil, sl.holdAt = sl.clock.hold(local, start)
	sl.timerGen = sl.clock.gen
	if at != sl.timer {
		s.net.ScheduleTimer(simTime(at), nodeTimer(sl.idx))
		sl.timer = at
	}
}

func (s *sim) view(sl *slot) invariants.View {
	return invariants.View{
		Addr:     sl.addr,
		Self:     sl.node.Self(),
		Live:     sl.running(),
		Phase:    sl.phase,
		State:    sl.node.State(),
		Topology: sl.topo,
		Ticked:   s.ticking,
	}
}

// observedView is the part of a view that decides whether the checker
// has anything to check: invariants.Checker.Observe reports nothing for a
// view whose node, state pointer and phase it has already seen, unless
// the view is Ticked (a tick may let the leader's allocation check run), whatever the rest of the view holds.
type observedView struct {
	chk   *invariants.Checker
	node  *proto.Node
	state *proto.State
	phase proto.Phase
}

// seenView is the observedView of the slot's current view.
func (s *sim) seenView(sl *slot) observedView {
	return observedView{chk: s.chk, node: sl.node, state: sl.node.State(), phase: sl.phase}
}

// checkShortcuts, when set (by tests), makes the simulator redo the work
// its shortcuts skip and panic if the result differs: observe checks the
// views it skips as unchanged, afterStep makes sure the views it skips
// are those and maps the deadlines it keeps, the startup figure recounts
// the member lists it remembers, and run recomputes after every event the
// next action it holds.
var checkShortcuts bool

// observe runs the safety checker on a slot's current view, unless the
// checker has seen it already.
func (s *sim) observe(sl *slot) {
	if s.failed || sl.node == nil {
		return
	}
	seen := s.seenView(sl)
	if seen == sl.observed && !s.ticking {
		if checkShortcuts {
			if vs := s.chk.Observe(s.view(sl)); len(vs) > 0 {
				panic(fmt.Sprintf("sim: an unchanged view of %s shows violations: %v", sl.name, vs))
			}
		}
		return
	}
	sl.observed = seen
	if vs := s.chk.Observe(s.view(sl)); len(vs) > 0 {
		for _, v := range vs {
			s.fail(Violation{Phase: "safety", Invariant: v.Invariant, Node: s.label(v.Node), NodeAddr: v.Node.String(), Detail: v.Detail})
		}
	}
}

// fail records a violation and stops the run.
func (s *sim) fail(v Violation) {
	v.At = time.Duration(s.now).Seconds()
	s.violations = append(s.violations, v)
	s.failed = true
	t := s.tr
	t.begin(s.now)
	t.add("VIOLATION")
	t.add(v.Invariant)
	t.add(v.Node)
	t.end()
}

func (s *sim) onEvent(sl *slot, e *proto.Event) {
	t := s.tr
	t.begin(s.now)
	t.add(sl.name)
	t.add("event")
	t.add(e.Type.String())
	switch e.Type {
	case proto.LeaderChanged:
		if e.HasLeader {
			t.add(s.label(e.Leader))
		} else {
			t.add("none")
		}
		s.probes.LeaderChanges++
	case proto.ShardsMoved:
		t.add(e.ShardType)
		t.addInt(int64(len(e.Shards)))
		s.probes.Rebalances++
	case proto.RegistryChanged:
		t.add(strings.Join(e.Keys, ","))
		s.probes.RegistryChanges++
	case proto.NodeStopped:
		t.add(e.Reason)
		sl.stopReason = e.Reason
	default:
		u := e.Member.Node
		t.add(s.label(u))
		switch e.Type {
		case proto.UnreachableMember:
			countOnce(s.unreach, u, &s.probes.Unreachable)
		case proto.MemberDowned:
			countOnce(s.downed, u, &s.probes.Downed)
		case proto.MemberRemoved:
			countOnce(s.removed, u, &s.probes.Removed)
		case proto.MemberWeaklyUp:
			countOnce(s.weakly, u, &s.probes.WeaklyUp)
		}
	}
	t.end()
}

func countOnce(seen map[uniq]bool, u uniq, n *uint64) {
	if !seen[u] {
		seen[u] = true
		*n++
	}
}

func (s *sim) onPhase(sl *slot, ph proto.Phase) {
	sl.phase = ph
	t := s.tr
	t.begin(s.now)
	t.add(sl.name)
	t.add("phase")
	t.add(ph.String())
	if ph == proto.PhaseStopped {
		t.add(sl.stopReason)
	}
	t.end()
	switch ph {
	case proto.PhaseMember:
		sl.inc.member = true
		sl.cold = false
		if sl.incs > 1 {
			s.probes.RestartsRejoined++
		}
	case proto.PhaseStopped:
		sl.proc = procStopped
		if sl.inc.leaving {
			sl.inc.fate = fateLeft
		} else {
			sl.inc.fate = fateDowned
		}
		if sl.stopReason == "downed" {
			s.probes.DownedStops++
		}
		s.timelineLabel(sl)
	}
}

// liveInitial counts the initial slots whose process is running.
func (s *sim) liveInitial() int {
	n := 0
	for _, sl := range s.slots[:min(s.initial, len(s.slots))] {
		if sl != nil && sl.running() {
			n++
		}
	}
	return n
}

// run drives the event queue until end (exclusive for schedule entries),
// applying schedule entries, nemesis actions and workload commands at
// their instants. It returns early when the run failed.
func (s *sim) run(end int64) {
	var ev netsim.Event
	for !s.failed {
		// Deliveries and ticks never queue schedule entries nor move the
		// nemesis or the workload (only exec and act do), so next holds
		// until the network has no event before it.
		next := s.nextAction(end)
		until := unixNanos(next)
		for {
			m, ok := s.net.StepUntilNanosMsg(until, &ev)
			if !ok {
				break
			}
			s.setNow(s.net.NowNanos() - epochNanos)
			switch ev.Kind {
			case netsim.Delivery:
				s.deliver(&ev, m)
			case netsim.Timer:
				s.tick(int(ev.Timer))
			}
			if s.failed {
				return
			}
			if checkShortcuts && s.nextAction(end) != next {
				panic(fmt.Sprintf("sim: an event at %d moved the next action from %d to %d", s.now, next, s.nextAction(end)))
			}
		}
		s.setNow(next)
		if next >= end {
			return
		}
		for !s.failed {
			e, ok := s.pop(next)
			if !ok {
				break
			}
			s.exec(e)
		}
		if s.nem != nil && s.nem.next <= next && !s.failed {
			s.nem.act(s)
		}
		if s.wl != nil && s.wl.next <= next && !s.failed {
			s.wl.act(s)
		}
	}
}

// nextAction is the instant of the next schedule entry, nemesis action
// or workload command, or end if none comes sooner.
func (s *sim) nextAction(end int64) int64 {
	next := end
	if s.phead < len(s.pending) && s.pending[s.phead].at < next {
		next = s.pending[s.phead].at
	}
	if s.nem != nil && s.nem.next < next {
		next = s.nem.next
	}
	if s.wl != nil && s.wl.next < next {
		next = s.wl.next
	}
	return next
}
