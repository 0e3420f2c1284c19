package netsim

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand"
	"time"
	"unsafe"

	"github.com/rumorhq/rumor/proto"
)

// EventKind says what an Event is.
type EventKind uint8

const (
	// Delivery is a message arriving at Event.Msg.To.
	Delivery EventKind = iota + 1
	// Timer is a timer set with ScheduleTimer firing; Event.Timer is its id.
	Timer
)

// String names the kind for traces.
func (k EventKind) String() string {
	switch k {
	case Delivery:
		return "delivery"
	case Timer:
		return "timer"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is what Step returns: a message delivery or a timer firing, at
// simulated instant At (always UTC).
type Event struct {
	Kind EventKind
	At   time.Time

	// Msg is the delivered message (Delivery only). Its Body is the value
	// passed to Send, shared by both copies of a duplicated message.
	Msg proto.Message
	// SentAt is when Msg was sent (Delivery only).
	SentAt time.Time
	// Duplicate marks the extra copy of a duplicated message (Delivery
	// only). Which copy arrives first depends on their latency draws.
	Duplicate bool
	// FromNode and ToNode are the indices (see Network.Node) of
	// Msg.From.Address and Msg.To (Delivery only), so that a caller can
	// find its own record of either end without hashing an address.
	FromNode, ToNode int

	// Timer is the id given to ScheduleTimer (Timer only).
	Timer uint64
}

// noClog is the clog end of a node or path that is not clogged.
const noClog = math.MinInt64

// node is the per-address state, indexed densely in order of first sight.
type node struct {
	addr      proto.Address
	clogUntil int64 // Unix ns; messages from or to the node wait until then
	group     int32 // partition group; 0 is the group of unlisted addresses
	isolated  bool
	down      bool
}

// path is the state of one directed path, created when first used. It
// holds no pointers, so that a million of them cost the garbage collector
// nothing to scan.
type path struct {
	from, to     int32
	inFlight     int32
	link         int32  // 1 + index into Network.links; 0: no override
	nextSeq      uint64 // send sequence of the last message sent (first is 1)
	maxDelivered uint64 // highest send sequence delivered so far
	clogUntil    int64
	cut          bool // one-way cut
}

// link is a LinkConfig override with its latency's sampler.
type link struct {
	cfg LinkConfig
	lat sampler // of cfg.Latency, unused if that is nil
}

// recentAddr is an entry of Network.recent; idx is 1 + the address's
// index, 0 for an empty entry.
type recentAddr struct {
	addr proto.Address
	idx  int32
}

// sendPath is an entry of Network.sends: a message from from to to goes
// on path pi-1 (0: an empty entry).
type sendPath struct {
	from, to proto.Address
	pi       int32
}

// sendSet is a set of Network.sends: the two pairs of addresses most
// recently looked up whose hosts' bytes map to the set, the later first.
type sendSet [2]sendPath

// recentSet is a set of Network.recent: its entries are the two addresses
// most recently numbered or found in the index whose hosts' bytes map to
// the set, the later first.
type recentSet [2]recentAddr

// payload is a message copy in flight.
type payload struct {
	msg     proto.Message
	path    int32
	sentAt  int64
	pathSeq uint64
	size    int
	dup     bool
	held    bool // has been held by a clog at least once
}

// fault is a scheduled clog start (from Swizzle).
type fault struct {
	from, to int32 // to < 0: node clog of from
	until    int64
}

// Network is the simulated network and the simulator's single event queue.
// It is not safe for concurrent use; a simulation drives it from one
// goroutine.
type Network struct {
	rng *rand.Rand
	cfg Config
	lat sampler // of cfg.Latency, or zero delay if it is nil

	q   queue
	seq uint64
	now int64 // the latest instant Step has reached

	nodes []node
	index map[proto.Address]int32
	// paths holds every directed path's state; rows[from][to] is 1 + its
	// index (0: not created yet). The dense rows cost 4 bytes per pair of
	// nodes at worst, and save a hash lookup per message.
	paths []path
	rows  [][]int32
	links []link
	cuts  []int32 // paths with cut set, for Heal
	// anyCut is whether any node is isolated or in a Partition group, or
	// any path is cut one way. Invariant: when it is false, no path is
	// blocked, so Send and Step skip the partition check.
	anyCut bool
	// clogHorizon is the latest end of a clog ever set on a node or path
	// (noClog if none). Invariant: every clogUntil is at most
	// clogHorizon, so no clog holds a copy due at or after it.
	clogHorizon int64
	// downNodes counts the nodes marked down.
	downNodes int

	// recent is a two-way set-associative cache in front of index, keyed
	// by where an address's host bytes live: the addresses in messages
	// are copies of a few strings and share their bytes, so a lookup
	// usually finds its entry by that pointer and confirms it by seeing
	// the same pointer, without hashing or comparing the text. Two ways
	// keep two busy addresses whose pointers collide from evicting each
	// other on every message. It has at least twice as many sets as
	// there are nodes.
	recent      []recentSet
	recentShift uint8 // 64 - log2(len(recent))

	// sends is a two-way set-associative cache in front of recent and
	// rows: the path of a pair of addresses, by where their hosts'
	// bytes live, so that a message on a path sent on lately finds it
	// by one lookup. It has at least twice as many sets as there are
	// paths, up to maxSends.
	sends     []sendSet
	sendShift uint8 // 64 - log2(len(sends))

	payloads    []payload
	freeLoads   []uint32
	pendingMsgs int

	timers      timerSet
	staleTimers int // timer items in q that no longer fire

	faults        []fault
	freeFaults    []uint32
	pendingFaults int

	stats Stats
}

// New returns an empty network drawing every random choice from rng. It
// panics if rng is nil or cfg is invalid (check Config.Validate first).
//
// Give the network its own rng, seeded from the run's master seed: Send
// draws from it, so sharing it with node code would let any change in one
// shift all the other's randomness.
func New(rng *rand.Rand, cfg Config) *Network {
	if rng == nil {
		panic("netsim: New: nil rng")
	}
	n := &Network{
		rng:         rng,
		index:       make(map[proto.Address]int32),
		now:         math.MinInt64,
		clogHorizon: noClog,
		recent:      make([]recentSet, minRecent),
		recentShift: 64 - minRecentBits,
		sends:       make([]sendSet, minSends),
		sendShift:   64 - minSendsBits,
	}
	if err := n.SetConfig(cfg); err != nil {
		panic(err)
	}
	return n
}

// SetConfig replaces the network-wide fault model, for instance to turn
// faults off for a liveness phase. Messages already in flight keep their
// arrival times. It returns cfg.Validate()'s error and changes nothing if
// cfg is invalid.
func (n *Network) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	n.cfg = cfg
	if cfg.Latency == nil {
		n.lat = newSampler(constant{})
	} else {
		n.lat = newSampler(cfg.Latency)
	}
	return nil
}

// Config returns the current network-wide fault model.
func (n *Network) Config() Config { return n.cfg }

func nanos(t time.Time) int64 { return t.UnixNano() }

func instant(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// Node returns addr's index: addresses are numbered 0, 1, 2, ... in the
// order the network first sees them (in Send, Up, Partition, or here).
// Event.FromNode and Event.ToNode carry these indices.
func (n *Network) Node(addr proto.Address) int { return int(n.intern(addr)) }

// The smallest number of sets of Network.recent.
const (
	minRecentBits = 6
	minRecent     = 1 << minRecentBits
)

// The smallest and largest number of sets of Network.sends.
const (
	minSendsBits = 6
	minSends     = 1 << minSendsBits
	maxSends     = 1 << 12
)

// sendAt returns the set of the pair from → to in n.sends.
func (n *Network) sendAt(from, to *proto.Address) *sendSet {
	f := uint64(uintptr(unsafe.Pointer(unsafe.StringData(from.Host))))
	t := uint64(uintptr(unsafe.Pointer(unsafe.StringData(to.Host))))
	return &n.sends[((f^bits.RotateLeft64(t, 32))*0x9e3779b97f4a7c15)>>n.sendShift]
}

// sendPathSlow returns the index of the path from → to, interning the
// addresses and creating the path if needed, and makes it the first
// entry of its set in n.sends.
func (n *Network) sendPathSlow(from, to *proto.Address) int32 {
	// With both addresses in n.recent, holding the very bytes of their
	// hosts, and the path existing, no hashing is needed.
	pi := int32(-1)
	if f, t := n.recentAt(*from).find(*from), n.recentAt(*to).find(*to); f >= 0 && t >= 0 {
		pi = n.findPath(f, t)
	}
	if pi < 0 {
		pi = n.pathIndex(n.intern(*from), n.intern(*to))
		if 2*len(n.paths) > len(n.sends) && len(n.sends) < maxSends {
			n.sends = make([]sendSet, 2*len(n.sends))
			n.sendShift--
		}
	}
	s := n.sendAt(from, to)
	s[1] = s[0]
	s[0] = sendPath{from: *from, to: *to, pi: pi + 1}
	return pi
}

// recentAt returns a's set in n.recent.
func (n *Network) recentAt(a proto.Address) *recentSet {
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(a.Host))))
	return &n.recent[(p*0x9e3779b97f4a7c15)>>n.recentShift]
}

// find returns a's index if one of the set's entries holds the very bytes
// of a's host, else -1 (an empty entry's idx is 0, and an empty second
// entry comes with an empty first).
func (s *recentSet) find(a proto.Address) int32 {
	if sameBytes(s[0].addr, a) {
		return s[0].idx - 1
	}
	if sameBytes(s[1].addr, a) {
		return s[1].idx - 1
	}
	return -1
}

// sameBytes reports whether a and b are equal because their hosts are the
// same bytes; false says nothing.
func sameBytes(a, b proto.Address) bool {
	return unsafe.StringData(a.Host) == unsafe.StringData(b.Host) && len(a.Host) == len(b.Host) && a.Port == b.Port
}

// intern returns a's index, numbering it if it is new.
func (n *Network) intern(a proto.Address) int32 {
	s := n.recentAt(a)
	for j := range s {
		if e := &s[j]; e.idx > 0 && (sameBytes(e.addr, a) || e.addr == a) {
			return e.idx - 1
		}
	}
	i, ok := n.index[a]
	if !ok {
		i = int32(len(n.nodes))
		n.nodes = append(n.nodes, node{addr: a, clogUntil: noClog})
		n.index[a] = i
		if 2*len(n.nodes) > len(n.recent) {
			n.recent = make([]recentSet, 2*len(n.recent))
			n.recentShift--
			s = n.recentAt(a)
		}
	}
	s[1] = s[0]
	s[0] = recentAddr{addr: a, idx: i + 1}
	return i
}

// findPath returns the index of the path from → to, or -1.
func (n *Network) findPath(from, to int32) int32 {
	if int(from) < len(n.rows) {
		if row := n.rows[from]; int(to) < len(row) {
			return row[to] - 1
		}
	}
	return -1
}

// pathIndex returns the index of the path from → to, creating it if needed.
func (n *Network) pathIndex(from, to int32) int32 {
	if i := n.findPath(from, to); i >= 0 {
		return i
	}
	if int(from) >= len(n.rows) {
		n.rows = append(n.rows, make([][]int32, len(n.nodes)-len(n.rows))...)
	}
	if row := n.rows[from]; int(to) >= len(row) {
		n.rows[from] = append(row, make([]int32, len(n.nodes)-len(row))...)
	}
	n.paths = append(n.paths, path{from: from, to: to, clogUntil: noClog})
	i := int32(len(n.paths) - 1)
	n.rows[from][to] = i + 1
	return i
}

// path returns the state of the path from → to, creating it if needed. The
// pointer is valid until the next path is created.
func (n *Network) path(from, to int32) *path { return &n.paths[n.pathIndex(from, to)] }

// lookupPath returns the path's state if both ends and the path are known.
func (n *Network) lookupPath(from, to proto.Address) (*path, bool) {
	fi, ok := n.index[from]
	if !ok {
		return nil, false
	}
	ti, ok := n.index[to]
	if !ok {
		return nil, false
	}
	if i := n.findPath(fi, ti); i >= 0 {
		return &n.paths[i], true
	}
	return nil, false
}

func (n *Network) push(at int64, kind itemKind, ref uint64) {
	if at < n.now {
		at = n.now
	}
	n.seq++
	n.q.push(newItem(at, n.seq, kind, ref))
}

// cause is why a partition check stopped a message.
type cause uint8

const (
	open cause = iota
	cutSymmetric
	cutOneWay
)

func (n *Network) blocked(p *path) cause {
	if !n.anyCut || p.from == p.to {
		return open
	}
	f, t := &n.nodes[p.from], &n.nodes[p.to]
	if f.isolated || t.isolated || f.group != t.group {
		return cutSymmetric
	}
	if p.cut {
		return cutOneWay
	}
	return open
}

func (n *Network) countCut(c cause) {
	if c == cutSymmetric {
		n.stats.Dropped.Partition++
	} else {
		n.stats.Dropped.OneWay++
	}
}

// Send hands m to the network at instant now (clamped up to the latest
// instant Step has reached, so the queue never runs backwards). The path is
// m.From.Address to m.To. In order, Send:
//
//   - drops m if the path is cut now (partition, isolation, one-way cut);
//   - rolls Duplicate once, scheduling a second copy if it hits;
//   - for each copy, rolls Loss, then drops the copy if the path already
//     has MaxInFlight copies in flight, else schedules it at now plus its
//     own latency draw.
//
// Clogs, crashed receivers and cuts that begin while a copy is in flight
// are applied when the copy falls due (see Step). Send never delivers
// synchronously: a copy with zero latency is due at now and is returned by
// a later Step.
func (n *Network) Send(now time.Time, m proto.Message) { n.SendNanos(nanos(now), &m) }

// SendNanos is Send at instant t in Unix nanoseconds, of the message *m,
// which it copies: the caller may reuse *m once it returns.
func (n *Network) SendNanos(t int64, m *proto.Message) {
	if t < n.now {
		t = n.now
	}
	n.stats.Sent++
	size := 0
	if n.cfg.Sizer != nil {
		size = max(n.cfg.Sizer(m), 0)
	}
	n.stats.BytesSent += uint64(size)

	// The path is pathIndex(intern(from), intern(to)), with a fast path
	// for the common case: the pair is in n.sends, holding the very
	// bytes of both hosts.
	var pi int32
	if s := n.sendAt(&m.From.Address, &m.To); s[0].pi > 0 && sameBytes(s[0].from, m.From.Address) && sameBytes(s[0].to, m.To) {
		pi = s[0].pi - 1
	} else if s[1].pi > 0 && sameBytes(s[1].from, m.From.Address) && sameBytes(s[1].to, m.To) {
		pi = s[1].pi - 1
	} else {
		pi = n.sendPathSlow(&m.From.Address, &m.To)
	}
	p := &n.paths[pi]
	if c := n.blocked(p); c != open {
		n.countCut(c)
		return
	}
	lat, loss, dup := &n.lat, n.cfg.Loss, n.cfg.Duplicate
	if p.link != 0 {
		l := &n.links[p.link-1]
		if l.cfg.Latency != nil {
			lat = &l.lat
		}
		loss, dup = l.cfg.Loss, l.cfg.Duplicate
	}
	p.nextSeq++
	copies := 1
	if dup > 0 && n.rng.Float64() < dup {
		copies = 2
		n.stats.Duplicated++
	}
	for c := 0; c < copies; c++ {
		if loss > 0 && n.rng.Float64() < loss {
			n.stats.Dropped.Loss++
			continue
		}
		if n.cfg.MaxInFlight > 0 && int(p.inFlight) >= n.cfg.MaxInFlight {
			n.stats.Dropped.InFlight++
			continue
		}
		var d time.Duration
		if lat.drawsExp() {
			d = lat.fromExp(n.rng.ExpFloat64()) // sample, its common case written out
		} else {
			d = lat.sample(n.rng)
		}
		if d < 0 {
			d = 0
		}
		at := t + int64(d)
		if at < t { // overflow
			at = math.MaxInt64
		}
		ref := n.allocPayload()
		pl := &n.payloads[ref] // field by field spares a temporary
		pl.msg, pl.path, pl.sentAt, pl.pathSeq, pl.size, pl.dup, pl.held = *m, pi, t, p.nextSeq, size, c == 1, false
		p.inFlight++
		n.pendingMsgs++
		n.seq++ // push, written out: at is no earlier than n.now
		n.q.push(newItem(at, n.seq, kindMessage, uint64(ref)))
	}
}

// allocPayload returns the index of a free slot of n.payloads, which
// may hold a released copy: the caller sets every field.
func (n *Network) allocPayload() uint32 {
	if k := len(n.freeLoads); k > 0 {
		ref := n.freeLoads[k-1]
		n.freeLoads = n.freeLoads[:k-1]
		return ref
	}
	n.payloads = append(n.payloads, payload{})
	return uint32(len(n.payloads) - 1)
}

// releasePayload frees slot ref of n.payloads, pl, whose copy is on path
// p. The slot keeps its fields until allocPayload hands it out again, so
// that a delivered message can be read in place until the next Send
// (StepUntilNanosMsg); the slab is no longer than the most copies ever in
// flight at once, so what released slots keep alive is bounded too.
func (n *Network) releasePayload(ref uint32, pl *payload, p *path) {
	p.inFlight--
	n.freeLoads = append(n.freeLoads, ref)
	n.pendingMsgs--
}

// ScheduleTimer sets timer id to fire at instant at (clamped up to the
// latest instant Step has reached), replacing any pending firing of the
// same id: the latest call wins. Timers share the queue with deliveries, so
// ties at one instant go in scheduling order.
func (n *Network) ScheduleTimer(at time.Time, id uint64) {
	if _, ok := n.timers.get(id); ok {
		n.staleTimers++
	}
	t := nanos(at)
	if t < n.now {
		t = n.now
	}
	n.push(t, kindTimer, id)
	n.timers.set(id, timerEntry{seq: n.seq, at: t})
	n.maybeCompact()
}

// CancelTimer stops timer id; it reports whether the timer was pending.
func (n *Network) CancelTimer(id uint64) bool {
	if _, ok := n.timers.get(id); !ok {
		return false
	}
	n.timers.remove(id)
	n.staleTimers++
	n.maybeCompact()
	return true
}

// TimerAt returns when timer id will fire, if it is pending.
func (n *Network) TimerAt(id uint64) (time.Time, bool) {
	e, ok := n.timers.get(id)
	if !ok {
		return time.Time{}, false
	}
	return instant(e.at), true
}

func (n *Network) liveTimer(it item) bool {
	e, ok := n.timers.get(it.ref)
	return ok && e.seq == it.seq()
}

// maybeCompact drops stale timer items once they are most of the queue, so
// a timer rescheduled far ahead on every message cannot grow the heap
// without bound. The (at, seq) order is total, so this changes no outcome.
func (n *Network) maybeCompact() {
	if n.staleTimers < 1024 || n.staleTimers*2 < n.q.len() {
		return
	}
	n.q.filter(func(it *item) bool { return it.kind() != kindTimer || n.liveTimer(*it) })
	n.staleTimers = 0
}

// Next returns the instant of the earliest queued entry. The entry may turn
// out to be a message that is dropped or held by a clog when it falls due,
// or an internal clog step, so the next Step can return a later event; use
// StepUntil to stop at a deadline.
func (n *Network) Next() (time.Time, bool) {
	for n.q.len() > 0 {
		it := *n.q.least()
		if it.kind() != kindTimer || n.liveTimer(it) {
			return instant(it.at), true
		}
		n.q.pop() // stale timer: invisible, safe to discard early
		n.staleTimers--
	}
	return time.Time{}, false
}

// Step processes queued entries in (instant, sequence) order until one is
// an event for the caller, and returns it; ok is false when nothing is
// left. On the way it silently applies scheduled clog steps and drops or
// holds messages that fall due:
//
//   - a copy whose sender, receiver or path is clogged is held until the
//     latest of those clogs ends, then checked again (Stats.Clogged);
//   - a copy whose path is cut at that instant is dropped
//     (Stats.Dropped.Partition or OneWay, and Stats.CutInFlight);
//   - a copy whose receiver is down is dropped (Stats.Dropped.Down).
//
// The instants of successive events never decrease.
func (n *Network) Step() (ev Event, ok bool) {
	var m *proto.Message
	m, ok = n.step(math.MaxInt64, &ev, true)
	if m != nil {
		ev.Msg = *m
	}
	return ev, ok
}

// StepUntil is Step restricted to entries due at or before limit: it
// returns ok false, leaving later entries queued, when the next event would
// come after limit. It is the "deliver everything due by now" primitive.
func (n *Network) StepUntil(limit time.Time) (ev Event, ok bool) {
	var m *proto.Message
	m, ok = n.step(nanos(limit), &ev, true)
	if m != nil {
		ev.Msg = *m
	}
	return ev, ok
}

// StepUntilNanos is StepUntil for an event loop that keeps its own clock in
// Unix nanoseconds: limit is one, and the event's instant is NowNanos
// afterwards. It overwrites *ev, leaving its At and SentAt zero, and
// reports whether there was an event. It does what StepUntil does, without
// building times or copying the event out.
func (n *Network) StepUntilNanos(limit int64, ev *Event) bool {
	m, ok := n.step(limit, ev, false)
	if m != nil {
		ev.Msg = *m
		ev.At, ev.SentAt, ev.Timer = time.Time{}, time.Time{}, 0
	}
	return ok
}

// StepUntilNanosMsg is StepUntilNanos that does not copy a delivered
// message into ev.Msg: it returns the message where the network holds it
// instead (nil for a timer). For a delivery it sets only Kind, Duplicate,
// FromNode and ToNode, leaving Msg, At, SentAt and Timer as they were
// (zero, for an event loop that has only ever called it). The
// message stays there, unchanged, until the next Send, SendNanos or step
// of the network; a caller that hands it on by value, as Step does, reads
// it once.
func (n *Network) StepUntilNanosMsg(limit int64, ev *Event) (*proto.Message, bool) {
	return n.step(limit, ev, false)
}

// NowNanos is Now in Unix nanoseconds (math.MinInt64 before the first
// event).
func (n *Network) NowNanos() int64 { return n.now }

// step is Step and StepUntil: it overwrites every field of *ev but a
// delivery's Msg, which it returns (in its released slot, see
// releasePayload) for the caller to copy, and reports whether there was an
// event (*ev is the zero Event if not). Unless times is set, it leaves a
// timer's At zero and a delivery's At, SentAt and Timer as they were.
func (n *Network) step(limit int64, ev *Event, times bool) (*proto.Message, bool) {
	for {
		// The queue's pop, with the sorted layout's case written out.
		q, k := &n.q, len(n.q.items)-1
		if k < 0 || !q.heap && q.items[k].at > limit || q.heap && q.items[0].at > limit {
			*ev = Event{}
			return nil, false
		}
		var it item
		if !q.heap {
			it = q.items[k]
			q.items = q.items[:k]
		} else {
			it = q.pop()
		}
		if it.at > n.now {
			n.now = it.at
		}
		switch it.kind() {
		case kindTimer:
			if !n.liveTimer(it) {
				n.staleTimers--
				continue
			}
			n.timers.remove(it.ref)
			n.stats.Timers++
			*ev = Event{Kind: Timer, Timer: it.ref}
			if times {
				ev.At = instant(it.at)
			}
			return nil, true
		case kindFault:
			n.applyFault(uint32(it.ref))
		case kindMessage:
			ref := uint32(it.ref)
			pl := &n.payloads[ref]
			p := &n.paths[pl.path]
			if n.anyCut || n.downNodes > 0 || it.at < n.clogHorizon {
				if !n.mayDeliver(it) {
					continue
				}
			}
			if pl.pathSeq < p.maxDelivered {
				n.stats.Reordered++
			} else {
				p.maxDelivered = pl.pathSeq
			}
			n.stats.Delivered++
			n.stats.BytesDelivered += uint64(pl.size)
			ev.Kind = Delivery
			ev.Duplicate = pl.dup
			if times {
				ev.At, ev.SentAt, ev.Timer = instant(it.at), instant(pl.sentAt), 0
			}
			ev.FromNode, ev.ToNode = int(p.from), int(p.to)
			n.releasePayload(ref, pl, p)
			return &pl.msg, true
		}
	}
}

// mayDeliver applies the clogs, cuts and crashes that concern a message
// copy falling due, and reports whether it is to be delivered now (if not,
// it is held or dropped).
func (n *Network) mayDeliver(it item) bool {
	ref := uint32(it.ref)
	pl := &n.payloads[ref]
	p := &n.paths[pl.path]
	to := &n.nodes[p.to]
	hold := max(n.nodes[p.from].clogUntil, to.clogUntil, p.clogUntil)
	if hold > it.at {
		if !pl.held {
			pl.held = true
			n.stats.Clogged++
		}
		n.push(hold, kindMessage, it.ref)
		return false
	}
	if c := n.blocked(p); c != open {
		n.countCut(c)
		n.stats.CutInFlight++
		n.releasePayload(ref, pl, p)
		return false
	}
	if to.down {
		n.stats.Dropped.Down++
		n.releasePayload(ref, pl, p)
		return false
	}
	return true
}

// Now returns the latest instant Step has reached (the zero Time before
// the first event).
func (n *Network) Now() time.Time {
	if n.now == math.MinInt64 {
		return time.Time{}
	}
	return instant(n.now)
}

// Pending returns how many entries Step may still process: message copies
// in flight, pending timers and scheduled clog steps.
func (n *Network) Pending() int { return n.pendingMsgs + n.timers.len() + n.pendingFaults }

// InFlight returns how many message copies are in flight, held ones
// included.
func (n *Network) InFlight() int { return n.pendingMsgs }

// Stats returns the counters so far.
func (n *Network) Stats() Stats { return n.stats }

// SetLink overrides the fault model of the directed path from → to (see
// LinkConfig). It applies to copies sent afterwards and returns lc's
// validation error, changing nothing, if lc is invalid.
func (n *Network) SetLink(from, to proto.Address, lc LinkConfig) error {
	if err := lc.Validate(); err != nil {
		return err
	}
	l := link{cfg: lc}
	if lc.Latency != nil {
		l.lat = newSampler(lc.Latency)
	}
	p := n.path(n.intern(from), n.intern(to))
	if p.link == 0 {
		n.links = append(n.links, l)
		p.link = int32(len(n.links))
	} else {
		n.links[p.link-1] = l
	}
	return nil
}

// ClearLink removes the override of the path from → to, if any.
func (n *Network) ClearLink(from, to proto.Address) {
	if p, ok := n.lookupPath(from, to); ok {
		p.link = 0 // its slot in n.links stays behind; overrides are few
	}
}

// Partition splits the addresses into groups that can talk only within
// themselves, replacing any previous Partition (Isolate and CutOneWay
// stand). Addresses listed in no group, including ones first seen later,
// form one more group together: Partition(a) cuts a off from everyone, and
// Partition() with no groups undoes the previous Partition. It panics if an
// address is listed twice.
//
// Cuts are checked when a message is sent and again when it falls due: a
// copy in flight when its path is cut is lost (Stats.CutInFlight), as on a
// real network. A cut that starts and ends entirely while a copy is in
// flight does not touch it.
func (n *Network) Partition(groups ...[]proto.Address) {
	for i := range n.nodes {
		n.nodes[i].group = 0
	}
	n.anyCut = true // until updateAnyCut, in case of the panic below
	for g, addrs := range groups {
		for _, a := range addrs {
			i := n.intern(a)
			nd := &n.nodes[i]
			if nd.group != 0 {
				panic(fmt.Sprintf("netsim: Partition: %v is listed in groups %d and %d", a, nd.group-1, g))
			}
			nd.group = int32(g + 1)
		}
	}
	n.updateAnyCut()
}

// updateAnyCut recomputes n.anyCut from the nodes and n.cuts.
func (n *Network) updateAnyCut() {
	n.anyCut = len(n.cuts) > 0
	for i := range n.nodes {
		if nd := &n.nodes[i]; nd.isolated || nd.group != 0 {
			n.anyCut = true
		}
	}
}

// Isolate cuts addr off from every other address in both directions, on
// top of any Partition, until Heal.
func (n *Network) Isolate(addr proto.Address) {
	i := n.intern(addr)
	n.nodes[i].isolated = true
	n.anyCut = true
}

// CutOneWay drops traffic from → to (but not to → from) until Heal: an
// asymmetric partition.
func (n *Network) CutOneWay(from, to proto.Address) {
	pi := n.pathIndex(n.intern(from), n.intern(to))
	if p := &n.paths[pi]; !p.cut {
		p.cut = true
		n.cuts = append(n.cuts, pi)
	}
	n.anyCut = true
}

// Heal removes every Partition group, isolation and one-way cut. It does
// not touch clogs, crashed nodes or link overrides.
func (n *Network) Heal() {
	for i := range n.nodes {
		n.nodes[i].group = 0
		n.nodes[i].isolated = false
	}
	for _, pi := range n.cuts {
		n.paths[pi].cut = false
	}
	n.cuts = n.cuts[:0]
	n.anyCut = false
}

// Blocked reports whether a message from → to would be cut right now.
func (n *Network) Blocked(from, to proto.Address) bool {
	fi, ok1 := n.index[from]
	ti, ok2 := n.index[to]
	if !ok1 || !ok2 {
		return false // an unseen address is in the unlisted group, uncut
	}
	if pi := n.findPath(fi, ti); pi >= 0 {
		return n.blocked(&n.paths[pi]) != open
	}
	p := path{from: fi, to: ti}
	return n.blocked(&p) != open
}

// Down marks addr as crashed: copies falling due for it are dropped
// (Stats.Dropped.Down) until Up. Sending is not checked; a crashed node
// does not send.
func (n *Network) Down(addr proto.Address) {
	i := n.intern(addr)
	if nd := &n.nodes[i]; !nd.down {
		nd.down = true
		n.downNodes++
	}
}

// Up undoes Down. Copies still in flight to addr are delivered again; a
// restarted process tells its predecessor's traffic apart by Message.ToUID.
func (n *Network) Up(addr proto.Address) {
	i := n.intern(addr)
	if nd := &n.nodes[i]; nd.down {
		nd.down = false
		n.downNodes--
	}
}

// IsDown reports whether addr is marked down.
func (n *Network) IsDown(addr proto.Address) bool {
	i, ok := n.index[addr]
	return ok && n.nodes[i].down
}

// Clog delays every message from or to addr that falls due before until:
// it is held, not dropped, and delivered at until (or later, if another
// clog also applies), as FoundationDB's clogInterface. Clogs only extend:
// a clog ending earlier than the current one changes nothing.
func (n *Network) Clog(addr proto.Address, until time.Time) {
	i := n.intern(addr)
	nd := &n.nodes[i]
	nd.clogUntil = max(nd.clogUntil, nanos(until))
	n.clogHorizon = max(n.clogHorizon, nd.clogUntil)
}

// Unclog ends addr's clog. Messages already held keep the instant they
// were held until.
func (n *Network) Unclog(addr proto.Address) {
	if i, ok := n.index[addr]; ok {
		n.nodes[i].clogUntil = noClog
	}
}

// ClogLink is Clog for the directed path from → to only.
func (n *Network) ClogLink(from, to proto.Address, until time.Time) {
	p := n.path(n.intern(from), n.intern(to))
	p.clogUntil = max(p.clogUntil, nanos(until))
	n.clogHorizon = max(n.clogHorizon, p.clogUntil)
}

// UnclogLink ends the clog of the path from → to, like Unclog.
func (n *Network) UnclogLink(from, to proto.Address) {
	if p, ok := n.lookupPath(from, to); ok {
		p.clogUntil = noClog
	}
}

func (n *Network) scheduleFault(at int64, f fault) {
	var ref uint32
	if k := len(n.freeFaults); k > 0 {
		ref = n.freeFaults[k-1]
		n.freeFaults = n.freeFaults[:k-1]
		n.faults[ref] = f
	} else {
		n.faults = append(n.faults, f)
		ref = uint32(len(n.faults) - 1)
	}
	n.pendingFaults++
	n.push(at, kindFault, uint64(ref))
}

func (n *Network) applyFault(ref uint32) {
	f := n.faults[ref]
	n.freeFaults = append(n.freeFaults, ref)
	n.pendingFaults--
	if f.to < 0 {
		nd := &n.nodes[f.from]
		nd.clogUntil = max(nd.clogUntil, f.until)
		n.clogHorizon = max(n.clogHorizon, nd.clogUntil)
		return
	}
	p := n.path(f.from, f.to)
	p.clogUntil = max(p.clogUntil, f.until)
	n.clogHorizon = max(n.clogHorizon, p.clogUntil)
}
