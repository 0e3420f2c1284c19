package proto

import (
	"errors"
	"fmt"
	"math/rand"
	"time"
	"unsafe"

	"github.com/rumorhq/rumor/proto/phi"
)

// Errors Step returns for caller misuse. Bad input from the network is never
// an error: it is dropped and counted in Stats.
var (
	ErrNilBody        = errors.New("proto: message has no body")
	ErrNotLocal       = errors.New("proto: local command must come from the node itself")
	ErrAlreadyStarted = errors.New("proto: node already joined")
	ErrStopped        = errors.New("proto: node stopped")
	ErrNotMember      = errors.New("proto: node is not a member yet")
	ErrUnknownBody    = errors.New("proto: unknown message body")
	ErrBadSelf        = errors.New("proto: bad self address")
)

// Phase is where a Node is in its own life.
type Phase uint8

// The phases of a Node.
const (
	// PhaseIdle: created, JoinSeeds not yet given.
	PhaseIdle Phase = iota
	// PhaseJoining: asking seeds to admit it.
	PhaseJoining
	// PhaseMember: part of a cluster.
	PhaseMember
	// PhaseStopped: downed, removed, left or timed out; inert.
	PhaseStopped
)

var phaseNames = [...]string{"idle", "joining", "member", "stopped"}

// String names the phase.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase?"
}

// Output is what a Node wants done: messages to send, events and snapshots
// to publish, and when Tick must next be called. The states and heartbeat
// bodies in messages and the slices of snapshots are shared with the node:
// they must not be modified (Node.Snapshot returns a deep copy).
type Output struct {
	Messages  []Message
	Events    []Event
	Snapshots []TopologySnapshot
	// Deadline is the next time Tick must be called; zero when the node
	// needs no timer (idle or stopped).
	Deadline time.Time
}

// Stats counts what a node did and what it dropped.
type Stats struct {
	Received        uint64
	Sent            uint64
	DroppedAddress  uint64 // addressed to another address or incarnation
	DroppedStale    uint64 // from a removed (tombstoned) incarnation
	DroppedInvalid  uint64 // malformed state or message
	DroppedIgnored  uint64 // valid but meaningless in this phase
	JoinsRefused    uint64 // joins from a duplicate NodeID
	Merges          uint64 // gossip merges that changed the state
	NoopMerges      uint64 // gossip states that changed nothing
	GossipStatesOut uint64 // full states sent
	SeenIgnored     uint64 // seen bitmaps for another version or member list
	LeaderActions   uint64 // leader action rounds that changed the state
	Downings        uint64 // members this node marked Down
	OwnPauses       uint64 // ticks that found this node itself had been frozen
}

// NodeSnapshot is a deep copy of a node's externally visible state, for
// invariant checks and debugging.
type NodeSnapshot struct {
	Self     UniqueAddress
	ID       NodeID
	Phase    Phase
	Stopped  string // reason, when Phase is Stopped
	State    *State
	Topology TopologySnapshot
	Stats    Stats
}

// Node is the membership protocol of one process as a pure state machine.
// It is not safe for concurrent use: one goroutine (or the simulator) drives
// it with Step, Tick and Output.
type Node struct {
	cfg  Config
	self UniqueAddress
	rng  *rand.Rand
	// selfSeen is {self}, the seen list of a merge only this node has
	// seen yet, made once: states share it, and seen lists are never
	// modified in place (see selfOnly).
	selfSeen []UniqueAddress

	phase      Phase
	stopReason string
	now        time.Time

	// Invariant: st is never modified in place once assigned; every change
	// builds a new State, so states handed out in messages stay valid.
	st *State

	seeds      []Address
	firstSeed  bool
	nextJoin   time.Time
	seedFormAt time.Time
	leaveAt    time.Time

	nextGossip       time.Time
	nextHeartbeat    time.Time
	nextAvailability time.Time

	// dl is the deadline of the timers above in phase dlFor-1; dlFor is
	// 0 when there is none. Invariant: every write to a timer zeroes
	// dlFor (armed does), so dl is what naiveDeadline would compute.
	dl    time.Time
	dlFor Phase

	// monitors[i] is the heartbeat history of subject monitorList[i].
	// Invariant: monitorList is sorted and as long as monitors.
	monitors    []*phi.History
	monitorList []UniqueAddress
	// spareMonitors are histories of former subjects, which
	// refreshMonitors resets for new ones (at most maxSpareMonitors);
	// freshMonitors makes it create every history instead (tests compare
	// the two).
	spareMonitors []*phi.History
	// flatMax is the most entries of the clocks the node compares
	// flattened (see flattens): flatMax, or lower in tests.
	flatMax       int
	freshMonitors bool
	// beats is the block the heartbeat bodies are taken from, of which
	// beatsUsed are taken (see heartbeat).
	beats     *[heartbeatBlock]Heartbeat
	beatsUsed int
	// roundSeq is hbSeq before the last heartbeat round (see
	// ackedMonitor).
	roundSeq uint64
	targets  targetMemo // see currentTargets
	ownRow   ownRowMemo // see ownUnreachable
	hbSeq    uint64
	lastTick time.Time

	settled settledMemo // see settle
	// slowSteps sends every message through Step's general dispatch and
	// afterChange, which heartbeats otherwise skip (tests compare the
	// two).
	slowSteps bool

	hosts        []ShardType    // declared shard types, sorted by name
	hostsVersion uint64         // raised on every declaration change
	entries      []ServiceEntry // own service entries, sorted
	regVersion   uint64         // raised on every registry change

	// Leadership changes seen since the allocation epoch last changed; see
	// nextEpoch.
	epochSeen     Epoch
	lastLeader    UniqueAddress
	leaderChanges Epoch

	allocIdle *State // a state for which Allocate changed nothing
	digestFor *State // the state digest and vdigest were computed for
	digest    uint64
	vdigest   uint64
	vsum      uint64
	// vdigestOf is the clock vdigest and vsum were computed for: a new
	// state that keeps its clock keeps them.
	vdigestOf    VClock
	vdigestValid bool
	// roundBody is the boxed non-reply status of a gossip round, for the
	// digests it carries (roundFor); see roundBodyFor.
	roundBody Body
	roundFor  GossipStatus
	// pruneFor is the tombstone map (states share it while their
	// tombstones are unchanged) in which pruneTombstones last found none
	// due before pruneAt.
	pruneFor map[UniqueAddress]time.Time
	pruneAt  time.Time
	// The seen bitmap of seenBitsFor, and the digest of the member list it
	// indexes (membersDigestFor); see seenBitmap.
	seenBitsFor        *State
	seenBits           []byte
	membersDigestFor   []Member
	membersDigest      uint64
	membersDigestValid bool
	ownSynced          *State // the state syncOwn last found current
	ownDirty           bool   // own declarations or entries changed since
	// ownIdleMembers and ownIdleRegistry are the members and registry of
	// a state in which syncOwn last found nothing to write (while
	// ownIdleValid): a state that shares both needs nothing either.
	ownIdleMembers  []Member
	ownIdleRegistry []RegistryRow
	ownIdleValid    bool

	processed *State // the state afterChange last published from
	tracked   *State // the state trackUnreachable last read
	// statusOf is the state selfSt was read from (states are never
	// modified once they are n.st, so the pointer identifies the content).
	statusOf *State
	selfSt   MemberStatus
	// statusMembers and statusTombs are the members and tombstones of
	// statusOf, and statusMember whether self is among the members:
	// selfSt depends on nothing else, so a state that shares the members
	// (and, when self is not among them, the tombstones) has the same.
	statusMembers []Member
	statusTombs   map[UniqueAddress]time.Time
	statusMember  bool
	stopping      string // reason, while a stop is pending

	toldRemoved map[UniqueAddress]time.Time // removed incarnations told so, and when

	lastUnreachable  []UniqueAddress
	unreachableSince time.Time
	// monitorsSettled is when the newest monitor history will have had
	// detectionBound (cfg.DetectionBound) to flag its subject.
	monitorsSettled  time.Time
	detectionBound   time.Duration
	firstUnreachable map[UniqueAddress]time.Time
	// joining lists the members that are Joining, in member order, and
	// joiningSince[i] is when joining[i] was first seen Joining.
	joining      []UniqueAddress
	joiningSince []time.Time

	derived derived  // memos of values derived from st
	keys    keyCache // parsed addresses of recent member lists

	topo      TopologySnapshot
	published bool
	out       Output
	stats     Stats
}

// New creates a node at self with a UID drawn from rng. It validates cfg.
func New(cfg Config, self Address, rng *rand.Rand) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if self.Host == "" || self.Port == 0 {
		return nil, fmt.Errorf("%w: %q", ErrBadSelf, self.String())
	}
	if rng == nil {
		return nil, fmt.Errorf("%w: nil rng", ErrBadSelf)
	}
	uid := UID(rng.Uint64())
	for uid == 0 {
		uid = UID(rng.Uint64())
	}
	if cfg.NodeID == "" {
		cfg.NodeID = NodeID(self.String())
	}
	cfg.Roles = sortedStrings(cfg.Roles)
	return &Node{
		cfg:              cfg,
		self:             UniqueAddress{Address: self, UID: uid},
		rng:              rng,
		st:               NewState(),
		firstUnreachable: map[UniqueAddress]time.Time{},
		detectionBound:   cfg.DetectionBound(),
		flatMax:          flatMax,
	}, nil
}

// Self is this incarnation's unique address.
func (n *Node) Self() UniqueAddress { return n.self }

// Phase is where the node is in its life.
func (n *Node) Phase() Phase { return n.phase }

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// State returns the current gossip state. It must not be modified.
func (n *Node) State() *State { return n.st }

// Stats returns the node's counters.
func (n *Node) Stats() Stats { return n.stats }

// ResolveNode maps a NodeID to the unique address of the live member that
// carries it (casty's ResolveNode, which casty never answered).
func (n *Node) ResolveNode(id NodeID) (UniqueAddress, bool) {
	var best Member
	found := false
	for _, m := range n.st.Members {
		if m.ID == id && m.Status != Down && (!found || m.Status < best.Status) {
			best, found = m, true
		}
	}
	return best.Node, found
}

// Snapshot returns a deep copy of the node's visible state.
func (n *Node) Snapshot() NodeSnapshot {
	return NodeSnapshot{
		Self:     n.self,
		ID:       n.cfg.NodeID,
		Phase:    n.phase,
		Stopped:  n.stopReason,
		State:    n.st.Clone(),
		Topology: n.topo.Clone(),
		Stats:    n.stats,
	}
}

// Output drains what the node wants done since the last call.
func (n *Node) Output() Output {
	o := n.out
	o.Deadline = n.deadline()
	n.out = Output{}
	return o
}

// OutputTo is Output without allocating: it hands the node's buffers to o
// and takes o's old ones (cleared) to fill next. A driver that keeps one
// Output and calls OutputTo after every Step and Tick reuses the same few
// slices for ever; what o held before the call is gone, so copy out what
// must outlive it.
func (n *Node) OutputTo(o *Output) {
	if spent, fill := o.Messages, n.out.Messages; len(spent)|len(fill) != 0 {
		// Dropping the bodies releases what a spent message holds (states);
		// its addresses are small and shared. This costs less than clearing
		// the whole message.
		for i := range spent {
			spent[i].Body = nil
		}
		o.Messages, n.out.Messages = fill, spent[:0]
	}
	if len(o.Events)|len(n.out.Events)|len(o.Snapshots)|len(n.out.Snapshots) != 0 {
		trade(&o.Events, &n.out.Events)
		trade(&o.Snapshots, &n.out.Snapshots)
	}
	o.Deadline = n.deadline()
}

// trade hands the node's buffer *fill to the driver's *dst and takes
// *dst's old one, cleared, to fill next. When both are empty there is
// nothing to hand over and the buffers stay where they are.
func trade[T any](dst, fill *[]T) {
	if len(*dst) == 0 && len(*fill) == 0 {
		return
	}
	clear(*dst)
	*dst, *fill = *fill, (*dst)[:0]
}

// Step feeds one message or local command at time now. It returns an error
// only for caller misuse; bad network input is dropped and counted.
func (n *Node) Step(now time.Time, m Message) error {
	return n.StepMessage(now, &m)
}

// StepMessage is Step with the message passed by pointer, which spares a
// driver that holds the message (the simulator's network slot) copying it.
// The node reads *m during the call only: it neither keeps the pointer nor
// modifies the message (the body's contents it may keep, as Step does).
func (n *Node) StepMessage(now time.Time, m *Message) error {
	// Heartbeats and their acks are most of the traffic: they skip the
	// dispatch below (stepBeat does what it would, in the same order).
	switch b := m.Body.(type) {
	case *Heartbeat:
		if !n.slowSteps && b != nil {
			n.stepBeat(now, m, b, 0, false)
			return nil
		}
	case *HeartbeatAck:
		if !n.slowSteps {
			var seq uint64
			if b != nil {
				seq = b.Seq
			}
			n.stepBeat(now, m, nil, seq, true)
			return nil
		}
	case Heartbeat:
		if !n.slowSteps {
			n.stepBeat(now, m, nil, b.Seq, false)
			return nil
		}
	case HeartbeatAck:
		if !n.slowSteps {
			n.stepBeat(now, m, nil, b.Seq, true)
			return nil
		}
	}
	n.settled.valid = false
	if m.Body == nil {
		return ErrNilBody
	}
	n.advance(now)
	if isCommand(m.Body) {
		if m.From != n.self && m.From != (UniqueAddress{}) {
			return ErrNotLocal
		}
		if n.phase == PhaseStopped {
			return ErrStopped
		}
		err := n.command(m.Body)
		n.settle()
		return err
	}
	n.stats.Received++
	if n.phase == PhaseStopped {
		n.stats.DroppedIgnored++
		return nil
	}
	if !n.fromPeer(m) {
		n.stats.DroppedAddress++
		return nil
	}
	if !n.surelyLive(&m.From) && n.tombstoned(&m.From) {
		n.stats.DroppedStale++
		n.tellRemoved(m)
		return nil
	}
	if err := n.receive(m); err != nil {
		return err
	}
	n.settle()
	return nil
}

// stepBeat is Step for a Heartbeat (beat, or the value with sequence
// number seq when beat is nil), or for a HeartbeatAck (ack) with sequence
// number seq (0 for a nil *HeartbeatAck). Neither
// changes anything afterChange reads, so when the last Step or Tick left
// the node settled, afterChange, which would find nothing to do, is
// skipped.
func (n *Node) stepBeat(now time.Time, m *Message, beat *Heartbeat, seq uint64, ack bool) {
	n.advance(now)
	n.stats.Received++
	if n.phase == PhaseStopped {
		n.stats.DroppedIgnored++
		return
	}
	if !n.fromPeer(m) {
		n.stats.DroppedAddress++
		return
	}
	if !n.surelyLive(&m.From) && n.tombstoned(&m.From) {
		n.stats.DroppedStale++
		n.tellRemoved(m)
		return
	}
	if ack {
		n.onHeartbeatAck(&m.From, seq)
	} else {
		n.send(m.From, ackOf(beat, seq))
	}
	if !n.isSettled() {
		n.settle()
	}
}

// selfOnly returns the list {n.self}; it must not be modified.
func (n *Node) selfOnly() []UniqueAddress {
	if n.selfSeen == nil {
		n.selfSeen = []UniqueAddress{n.self}
	}
	return n.selfSeen
}

// fromPeer reports whether m is addressed to this incarnation and comes
// from a valid sender at another address.
func (n *Node) fromPeer(m *Message) bool {
	self, f := &n.self, &m.From
	// The integer checks first; the hosts are compared last.
	if (m.ToUID != 0 && m.ToUID != self.UID) || m.To.Port != self.Port || len(m.To.Host) != len(self.Host) ||
		f.UID == 0 || f.Port == 0 || f.Host == "" || len(f.Host) > MaxNameLen {
		return false
	}
	return !sameAddress(&f.Address, &self.Address) && sameString(m.To.Host, self.Host)
}

// sameString is a == b for strings of the same length, answered without
// reading the bytes when both share their bytes, as the hosts of
// addresses copied from one another do.
func sameString(a, b string) bool {
	return unsafe.StringData(a) == unsafe.StringData(b) || a == b
}

// sameAddress is *a == *b, reading the last byte of the hosts first:
// hosts of one cluster mostly differ there (10.0.0.1, 10.0.0.2) and share
// their length.
func sameAddress(a, b *Address) bool {
	if a.Port != b.Port || len(a.Host) != len(b.Host) {
		return false
	}
	if k := len(a.Host) - 1; k >= 0 && a.Host[k] != b.Host[k] {
		return false
	}
	return a.Host == b.Host
}

// settledMemo notes that the last Step or Tick ended with afterChange and
// left the node with state st in phase, no stop pending and its own
// declarations synced. afterChange reads nothing else that a heartbeat
// changes (it reads the time only for a new state), and running it twice
// does nothing the second time, so until the state or phase changes it
// has nothing to do.
type settledMemo struct {
	st    *State
	phase Phase
	valid bool
}

// settle runs afterChange and notes whether it left the node settled.
func (n *Node) settle() {
	n.afterChange()
	n.settled = settledMemo{st: n.st, phase: n.phase, valid: n.stopping == "" && !n.ownDirty}
}

// isSettled reports whether afterChange would find nothing to do.
func (n *Node) isSettled() bool {
	s := &n.settled
	return s.valid && s.st == n.st && s.phase == n.phase && n.stopping == "" && !n.ownDirty
}

// Tick runs every timer due at or before now.
func (n *Node) Tick(now time.Time) {
	was := n.isSettled()
	n.settled.valid = false
	n.advance(now)
	if n.phase == PhaseStopped || n.phase == PhaseIdle {
		return
	}
	if due(n.leaveAt, n.now) {
		n.stop("leave timeout")
		n.settle()
		return
	}
	if n.phase == PhaseJoining {
		if due(n.seedFormAt, n.now) {
			n.formCluster()
		} else if due(n.nextJoin, n.now) {
			n.sendJoins()
			n.nextJoin = n.now.Add(n.cfg.JoinRetryInterval)
			n.armed()
		}
	}
	if n.phase == PhaseMember {
		n.detectOwnPause()
		// Timers due within a quarter of a heartbeat interval fire in this
		// tick: re-armed from the same instant, the three periodic timers
		// fall into step, so a member ticks once per heartbeat interval
		// instead of at three unrelated phases.
		soon := n.now.Add(n.cfg.HeartbeatInterval / 4)
		// Which timers fire is decided up front (the rounds below move
		// none but their own), and timers re-armed from one instant
		// are often equal: equal ones share the heartbeat's answer.
		beatDue := due(n.nextHeartbeat, soon)
		availDue, gossipDue := beatDue, beatDue
		if n.nextAvailability != n.nextHeartbeat {
			availDue = due(n.nextAvailability, soon)
		}
		if n.nextGossip != n.nextHeartbeat {
			gossipDue = due(n.nextGossip, soon)
		}
		var nextBeat time.Time // n.now + HeartbeatInterval, once computed
		if beatDue {
			n.heartbeatRound()
			nextBeat = n.now.Add(n.cfg.HeartbeatInterval)
			n.nextHeartbeat = nextBeat
			n.armed()
		}
		if availDue {
			n.checkAvailability()
			if n.cfg.AvailabilityInterval == n.cfg.HeartbeatInterval && !nextBeat.IsZero() {
				n.nextAvailability = nextBeat // the profiles' intervals: the same sum
			} else {
				n.nextAvailability = n.now.Add(n.cfg.AvailabilityInterval)
			}
			n.armed()
		}
		if gossipDue {
			n.pruneTombstones()
			n.gossipRound()
			n.nextGossip = n.now.Add(n.cfg.GossipInterval)
			n.armed()
		}
		// The leader acts on ticks only, never in the Step that merged
		// gossip: every state a node holds is then either a merge or its
		// own change, so observers see each lifecycle step (Leaving before
		// Exiting) and the author check in update sees exactly its own
		// transitions. A tick comes at least every HeartbeatInterval.
		n.trackUnreachable()
		n.leaderActions()
	}
	if was && n.st == n.settled.st && n.phase == n.settled.phase && n.stopping == "" && !n.ownDirty {
		// The timers left the state as settled before: afterChange
		// would find nothing to do.
		n.settled.valid = true
		return
	}
	n.settle()
}

// advance moves the node's notion of time forward; time never goes back,
// so a clock stepped backwards freezes the node until it catches up.
func (n *Node) advance(now time.Time) {
	if now.After(n.now) {
		n.now = now
	}
}

func due(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

// deadline is the next time Tick must be called: the earliest timer of
// the phase, or zero. It is recomputed only after a timer or the phase
// changed.
func (n *Node) deadline() time.Time {
	if n.dlFor != n.phase+1 {
		n.dl, n.dlFor = n.naiveDeadline(), n.phase+1
	}
	return n.dl
}

// armed notes that a timer changed.
func (n *Node) armed() { n.dlFor = 0 }

// naiveDeadline computes deadline from the timers.
func (n *Node) naiveDeadline() time.Time {
	switch n.phase {
	case PhaseJoining:
		return earliest(earliest(n.nextJoin, n.seedFormAt), n.leaveAt)
	case PhaseMember:
		return earliest(earliest(n.nextGossip, n.nextHeartbeat), earliest(n.nextAvailability, n.leaveAt))
	}
	return time.Time{}
}

// earliest returns the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a == b {
		return a // timers re-armed from one instant are often equal
	}
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (n *Node) send(to UniqueAddress, b Body) {
	n.out.Messages = append(n.out.Messages, Message{From: n.self, To: to.Address, ToUID: to.UID, Body: b})
	n.stats.Sent++
}

func (n *Node) sendAddr(to Address, b Body) {
	n.out.Messages = append(n.out.Messages, Message{From: n.self, To: to, Body: b})
	n.stats.Sent++
}

// jitter returns a random duration in [0, d) from the node's rng.
func (n *Node) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(n.rng.Int63n(int64(d)))
}

// command handles a local command.
func (n *Node) command(b Body) error {
	switch c := b.(type) {
	case JoinSeeds:
		return n.joinSeeds(c.Seeds)
	case *JoinSeeds:
		return n.joinSeeds(c.Seeds)
	case Leave, *Leave:
		return n.leave()
	case DownNode:
		return n.downAddress(c.Address)
	case *DownNode:
		return n.downAddress(c.Address)
	case HostShards:
		n.ownDirty = true
		return n.hostShards(c.Type)
	case StopHosting:
		n.ownDirty = true
		return n.stopHosting(c.Name)
	case Register:
		n.ownDirty = true
		return n.register(c.Key, c.Path)
	case Deregister:
		n.ownDirty = true
		return n.deregister(c.Key, c.Path)
	}
	return ErrUnknownBody
}

func (n *Node) hostShards(t ShardType) error {
	if err := t.Validate(); err != nil {
		return err
	}
	for i, h := range n.hosts {
		if h.Name == t.Name {
			if h == t {
				return nil
			}
			n.hosts[i] = t
			n.hostsVersion++
			return nil
		}
	}
	if len(n.hosts) >= MaxShardTypes {
		return fmt.Errorf("%w: more than %d shard types", ErrBadShardType, MaxShardTypes)
	}
	n.hosts = append(n.hosts, t)
	sortShardTypes(n.hosts)
	n.hostsVersion++
	return nil
}

func (n *Node) stopHosting(name string) error {
	for i, h := range n.hosts {
		if h.Name == name {
			n.hosts = append(n.hosts[:i:i], n.hosts[i+1:]...)
			n.hostsVersion++
			return nil
		}
	}
	return nil
}

func (n *Node) register(key, path string) error {
	if err := validEntry(key, path); err != nil {
		return err
	}
	e := ServiceEntry{Key: key, Node: n.self, Path: path}
	for _, x := range n.entries {
		if x == e {
			return nil
		}
	}
	if len(n.entries) >= MaxEntriesPerOwner {
		return fmt.Errorf("%w: more than %d entries", ErrBadEntry, MaxEntriesPerOwner)
	}
	n.entries = append(n.entries, e)
	sortEntries(n.entries)
	n.regVersion++
	return nil
}

func (n *Node) deregister(key, path string) error {
	for i, x := range n.entries {
		if x.Key == key && x.Path == path {
			n.entries = append(n.entries[:i:i], n.entries[i+1:]...)
			n.regVersion++
			return nil
		}
	}
	return nil
}

// syncOwn writes this node's shard declarations and service entries into
// the gossip state when they differ from what it holds.
func (n *Node) syncOwn() {
	if n.st != n.ownSynced || n.ownDirty {
		n.syncOwnState()
	}
}

// syncOwnState is syncOwn for a state it has not checked yet.
func (n *Node) syncOwnState() {
	if !n.ownDirty && n.ownIdle() {
		n.ownSynced = n.st
		return
	}
	defer func() { n.ownSynced, n.ownDirty = n.st, false }()
	n.ownIdleValid = false
	idle := func() {
		n.ownIdleMembers, n.ownIdleRegistry, n.ownIdleValid = n.st.Members, n.st.Registry, true
	}
	m, ok := n.st.Member(n.self)
	if !ok || m.Status >= Exiting {
		idle()
		return
	}
	hostsStale := m.HostsVersion < n.hostsVersion
	var row RegistryRow
	for _, r := range n.st.Registry {
		if r.Owner == n.self {
			row = r
		}
	}
	if row.Version > n.regVersion {
		// Gossip remembers a newer row of ours (a state from before a
		// restart of the driver cannot exist: UIDs are fresh), so catch up.
		n.regVersion = row.Version
	}
	regStale := row.Version < n.regVersion || (n.regVersion > 0 && !entriesEqual(row.Entries, n.entries))
	if !hostsStale && !regStale {
		idle()
		return
	}
	n.update(func(s *State) {
		if hostsStale {
			m.Hosts = append([]ShardType(nil), n.hosts...)
			m.HostsVersion = n.hostsVersion
			s.setMember(m)
		}
		if regStale {
			if row.Version >= n.regVersion {
				n.regVersion = row.Version + 1
			}
			s.Registry = withRegistryRow(s.Registry, n.self, n.regVersion, n.entries)
		}
	})
}

// ownIdle reports whether the state shares its members and registry with
// one in which syncOwn found nothing to write.
func (n *Node) ownIdle() bool {
	return n.ownIdleValid && sameMembers(n.ownIdleMembers, n.st.Members) && sameRegistry(n.ownIdleRegistry, n.st.Registry)
}

func entriesEqual(a, b []ServiceEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortEntries(es []ServiceEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && entryLess(es[j], es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func sortShardTypes(ts []ShardType) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Name < ts[j-1].Name; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// Lookup returns the service entries registered under key in this node's
// view, sorted by node then path.
func (n *Node) Lookup(key string) []ServiceEntry {
	return Lookup(flattenRegistry(n.st.Registry), key)
}

func (n *Node) joinSeeds(seeds []Address) error {
	if n.phase != PhaseIdle {
		return ErrAlreadyStarted
	}
	n.firstSeed = len(seeds) > 0 && seeds[0] == n.self.Address
	n.seeds = nil
	for _, s := range seeds {
		if s != n.self.Address && !containsAddress(n.seeds, s) {
			n.seeds = append(n.seeds, s)
		}
	}
	if len(n.seeds) == 0 {
		n.formCluster()
		return nil
	}
	n.phase = PhaseJoining
	if n.firstSeed {
		n.seedFormAt = n.now.Add(n.cfg.SeedNodeTimeout)
	}
	n.sendJoins()
	n.nextJoin = n.now.Add(n.cfg.JoinRetryInterval)
	n.armed()
	return nil
}

func containsAddress(list []Address, a Address) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// sendJoins asks every seed to admit this node. The first seed probes with
// InitJoin instead, so that it joins a running cluster rather than forming
// a second one.
func (n *Node) sendJoins() {
	for _, s := range n.seeds {
		if n.firstSeed {
			n.sendAddr(s, InitJoin{})
		} else {
			n.sendAddr(s, Join{ID: n.cfg.NodeID, Roles: n.cfg.Roles})
		}
	}
}

// formCluster makes this node a one-node cluster, Up and leader.
func (n *Node) formCluster() {
	s := NewState()
	s.Members = []Member{{Node: n.self, ID: n.cfg.NodeID, Status: Up, Roles: n.cfg.Roles, UpNumber: 1}}
	s.Version = VClock{n.self: 1}
	s.Seen = []UniqueAddress{n.self}
	n.st = s
	n.becomeMember()
}

func (n *Node) becomeMember() {
	n.phase = PhaseMember
	n.nextJoin, n.seedFormAt = time.Time{}, time.Time{}
	// One random phase per node keeps nodes out of step with each other;
	// the node's own timers share it, so with intervals that are multiples
	// of each other (the profiles' are) they fire in the same ticks.
	first := n.now.Add(n.jitter(n.cfg.HeartbeatInterval))
	n.nextHeartbeat, n.nextGossip = first, first
	n.nextAvailability = first.Add(n.cfg.AvailabilityInterval)
	n.armed()
}

func (n *Node) leave() error {
	if n.phase != PhaseMember {
		if n.phase == PhaseJoining {
			n.stop("left before joining")
			return nil
		}
		return ErrNotMember
	}
	m, ok := n.st.Member(n.self)
	if !ok || m.Status >= Leaving {
		return nil
	}
	n.update(func(s *State) {
		m.Status = Leaving
		s.setMember(m)
	})
	n.leaveAt = n.now.Add(n.cfg.LeaveTimeout)
	n.armed()
	return nil
}

func (n *Node) downAddress(a Address) error {
	if n.phase != PhaseMember {
		return ErrNotMember
	}
	var targets []Member
	for _, m := range n.st.Members {
		if m.Node.Address == a && m.Status != Down {
			targets = append(targets, m)
		}
	}
	n.markDown(targets)
	return nil
}

func (n *Node) markDown(ms []Member) {
	if len(ms) == 0 {
		return
	}
	n.update(func(s *State) {
		for _, m := range ms {
			if cur, ok := s.Member(m.Node); ok && cur.Status != Down {
				cur.Status = Down
				s.setMember(cur)
				n.stats.Downings++
			}
		}
	})
}

// update applies a local change to a copy of the state; if the content
// changed it bumps this node's clock entry and resets the seen set.
func (n *Node) update(f func(s *State)) {
	s := n.st.cloneForUpdate()
	f(s)
	n.pruneUpdate(s) // f is done moving members
	if contentEqual(s, n.st) {
		return
	}
	checkAuthored(n.st, s)
	s.Version = s.Version.Increment(n.self)
	s.Seen = n.selfOnly()
	n.st = s
}

// checkAuthored enforces the lifecycle at the one place statuses are
// written: every status this node changes must be an allowed transition.
// Merges cannot break it (they only join); a local change that does is a
// bug in this package, so it panics with the invariant's name.
func checkAuthored(old, next *State) {
	cur := memberCursor{s: old}
	for _, m := range next.Members {
		if i, ok := cur.index(m.Node); ok && !CanTransition(old.Members[i].Status, m.Status) {
			prev := old.Members[i]
			panic(fmt.Sprintf("proto: invariant allowed-transition broken: %v %v -> %v", m.Node, prev.Status, m.Status))
		}
	}
}

// receive dispatches one protocol message.
func (n *Node) receive(m *Message) error {
	switch b := m.Body.(type) {
	case Join:
		n.onJoin(m.From, b)
	case *Join:
		n.onJoin(m.From, *b)
	case Welcome:
		n.onWelcome(m.From, b.State)
	case *Welcome:
		n.onWelcome(m.From, b.State)
	case InitJoin, *InitJoin:
		if n.phase == PhaseMember && n.selfStatus() < Leaving {
			n.send(m.From, InitJoinAck{})
		} else {
			n.stats.DroppedIgnored++
		}
	case InitJoinAck, *InitJoinAck:
		if n.phase == PhaseJoining && n.firstSeed {
			n.seedFormAt = time.Time{} // a cluster exists: never form a second one
			n.armed()
			n.send(m.From, Join{ID: n.cfg.NodeID, Roles: n.cfg.Roles})
		} else {
			n.stats.DroppedIgnored++
		}
	case GossipStatus:
		n.onStatus(m.From, b)
	case *GossipStatus:
		n.onStatus(m.From, *b)
	case GossipState:
		n.onState(m.From, b)
	case *GossipState:
		n.onState(m.From, *b)
	case GossipSeen:
		n.onSeen(m.From, b)
	case *GossipSeen:
		n.onSeen(m.From, *b)
	case Heartbeat:
		n.send(m.From, HeartbeatAck(b))
	case *Heartbeat:
		if b == nil {
			n.stats.DroppedInvalid++
			break
		}
		n.send(m.From, ackOf(b, 0))
	case HeartbeatAck:
		n.onHeartbeatAck(&m.From, b.Seq)
	case *HeartbeatAck:
		var seq uint64
		if b != nil {
			seq = b.Seq
		}
		n.onHeartbeatAck(&m.From, seq)
	default:
		return fmt.Errorf("%w: %T", ErrUnknownBody, m.Body)
	}
	return nil
}

func (n *Node) selfStatus() MemberStatus {
	if n.st == n.statusOf && n.st != nil {
		return n.selfSt
	}
	return n.readSelfStatus()
}

// readSelfStatus is selfStatus for a state it has not read yet.
func (n *Node) readSelfStatus() MemberStatus {
	s := n.st
	if s == nil || n.statusOf == nil || !sameMembers(n.statusMembers, s.Members) ||
		(!n.statusMember && !sameTombstones(n.statusTombs, s.Tombstones)) {
		m, ok := s.Member(n.self)
		if ok {
			n.selfSt = m.Status
		} else {
			n.selfSt = s.Status(n.self)
		}
		n.statusMember = ok
	}
	n.statusOf = s
	if s != nil {
		n.statusMembers, n.statusTombs = s.Members, s.Tombstones
	}
	return n.selfSt
}

func (n *Node) onJoin(from UniqueAddress, j Join) {
	if n.phase != PhaseMember || n.selfStatus() >= Leaving {
		n.stats.DroppedIgnored++
		return
	}
	if _, ok := n.st.Member(from); ok {
		n.send(from, Welcome{State: n.st})
		return
	}
	roles := sortedStrings(j.Roles)
	if err := validJoin(j.ID, roles); err != nil || from.Address == n.self.Address {
		n.stats.DroppedInvalid++
		return
	}
	id := j.ID
	if id == "" {
		id = NodeID(from.Address.String())
	}
	for _, m := range n.st.Members {
		if m.ID == id && m.Node.Address != from.Address && m.Status < Down {
			n.stats.JoinsRefused++
			return
		}
	}
	// Another incarnation at the same address: either this joiner is a
	// restarted process and that one is dead, or this Join is a stale one
	// from a dead process and that one is its successor. UIDs cannot tell
	// which; reachability can. Only an incarnation the cluster already
	// finds unreachable (or Down) gives way; otherwise the joiner retries.
	for _, m := range n.st.Members {
		if m.Node.Address == from.Address && m.Status < Down && !n.st.IsUnreachable(m.Node) {
			n.stats.JoinsRefused++
			return
		}
	}
	n.update(func(s *State) {
		// The old incarnation is gone for good: it is downed now rather
		// than left to the downing strategy.
		for _, m := range s.Members {
			if m.Node.Address == from.Address && m.Status != Down {
				m.Status = Down
				s.setMember(m)
				n.stats.Downings++
			}
		}
		s.setMember(Member{Node: from, ID: id, Status: Joining, Roles: roles})
	})
	n.send(from, Welcome{State: n.st})
}

// validJoin bounds what a joiner may claim about itself.
func validJoin(id NodeID, roles []string) error {
	if len(id) > 256 {
		return errors.New("node id too long")
	}
	if len(roles) > 64 {
		return errors.New("too many roles")
	}
	for i, r := range roles {
		if r == "" || len(r) > 256 || (i > 0 && roles[i-1] == r) {
			return errors.New("bad role")
		}
	}
	return nil
}

func (n *Node) onWelcome(from UniqueAddress, remote *State) {
	if n.phase != PhaseJoining {
		n.stats.DroppedIgnored++
		return
	}
	if err := validateState(remote); err != nil {
		n.stats.DroppedInvalid++
		return
	}
	// A tombstone first: a Welcome that tells a joiner it was admitted
	// and removed again (before it heard it was admitted) no longer lists
	// it as a member.
	if _, dead := remote.Tombstones[n.self]; dead {
		n.stop("removed")
		return
	}
	if m, ok := remote.Member(n.self); !ok || m.Status != Joining {
		n.stats.DroppedInvalid++
		return
	}
	if remote.Version[n.self] != 0 {
		n.stats.DroppedInvalid++ // nobody but this node writes its clock entry
		return
	}
	s := remote.Clone()
	for k := range s.Tombstones {
		s.Tombstones[k] = n.now
	}
	s.Seen = unionNodes(s.Seen, []UniqueAddress{n.self})
	s.pruneTombstoned(n.now)
	n.st = s
	n.becomeMember()
}

// validSender checks the identity a message claims to come from.
func validSender(u UniqueAddress) bool {
	return u.UID != 0 && u.Port != 0 && u.Host != "" && len(u.Host) <= MaxNameLen
}

// tellRemoved answers traffic from a removed incarnation that does not
// know it is removed (it missed its own removal, or was removed before it
// heard its Welcome): it gets this node's state, which carries its
// tombstone, and stops. At most once per GossipInterval per incarnation.
func (n *Node) tellRemoved(m *Message) {
	if n.phase != PhaseMember {
		return
	}
	if last, ok := n.toldRemoved[m.From]; ok && n.now.Sub(last) < n.cfg.GossipInterval {
		return
	}
	if n.toldRemoved == nil || len(n.toldRemoved) > 1024 {
		n.toldRemoved = map[UniqueAddress]time.Time{}
	}
	n.toldRemoved[m.From] = n.now
	switch m.Body.(type) {
	case Join, *Join, InitJoin, *InitJoin:
		n.send(m.From, Welcome{State: n.st})
	default:
		n.send(m.From, GossipState{State: n.st, Reply: true})
	}
}

// ownEntryValid reports whether a remote clock's entry for this node is
// one this node wrote: only it increments its entry, so a peer can never
// hold a higher one.
func (n *Node) ownEntryValid(v VClock) bool { return v[n.self] <= n.st.Version[n.self] }

func (n *Node) pruneTombstones() {
	if len(n.st.Tombstones) == 0 {
		return // nothing to expire
	}
	if sameTombstones(n.pruneFor, n.st.Tombstones) && n.now.Before(n.pruneAt) {
		return // these tombstones were checked and none is due yet
	}
	var expired []UniqueAddress
	first := time.Time{}
	for u, t := range n.st.Tombstones {
		at := t.Add(n.cfg.TombstoneTTL)
		if !n.now.Before(at) {
			expired = append(expired, u)
		} else if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	if len(expired) == 0 {
		n.pruneFor, n.pruneAt = n.st.Tombstones, first
		if first.IsZero() {
			n.pruneAt = n.now.Add(n.cfg.TombstoneTTL) // none can be due before then
		}
		return
	}
	// Tombstone expiry is local housekeeping: it changes no member and so
	// bumps no clock.
	s := *n.st
	s.Tombstones = make(map[UniqueAddress]time.Time, len(n.st.Tombstones))
	for u, t := range n.st.Tombstones {
		s.Tombstones[u] = t
	}
	for _, u := range expired {
		delete(s.Tombstones, u)
	}
	n.st = &s
}

// sameTombstones reports whether a and b are the same map.
func sameTombstones(a, b map[UniqueAddress]time.Time) bool {
	return mapPointer(a) == mapPointer(b)
}

func sortedStrings(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// regress is the BugStatusRegress planted bug: every member takes the lower
// of its two statuses.
func regress(merged, a, b *State) {
	merged.Members = append(make([]Member, 0, len(merged.Members)), merged.Members...) // may be shared
	for i, m := range merged.Members {
		x, okA := a.Member(m.Node)
		y, okB := b.Member(m.Node)
		if okA && okB {
			if x.Status < y.Status {
				merged.Members[i].Status = x.Status
			} else {
				merged.Members[i].Status = y.Status
			}
		}
	}
}
