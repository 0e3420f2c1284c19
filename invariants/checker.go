package invariants

import (
	"fmt"
	"math/bits"
	"slices"

	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/rumorhq/rumor/proto"
)

// Bounds on what a Checker remembers across nodes. Per-node history is
// bounded by the cluster itself (one record per incarnation observed, one
// set of the incarnations each has seen removed).
const (
	// MaxLeaderVersions bounds the converged versions remembered for
	// one-leader; the oldest is forgotten first.
	MaxLeaderVersions = 4096
	// MaxTableEpochs bounds the (shard type, epoch) tables remembered for
	// epoch-unique; the oldest is forgotten first.
	MaxTableEpochs = 4096
	// maxItems bounds the problems one Detail lists.
	maxItems = 8
	// memberProbe is how many members past the last one found
	// step.member looks at before it asks the member index.
	memberProbe = 8
	// maxTombList bounds the tombstones a step lists to look nodes up by
	// comparison rather than in the map; listMembers bounds the members
	// looked up that way.
	maxTombList = 16
	listMembers = 256
	// maxMemberIndexes bounds the member indexes remembered, and
	// clockMemoBits and shapeMemoBits size the memos (see Checker). The
	// memos serve recent parts: nodes share a clock or a table for a short
	// while, so a small memo finds about as much as a large one, whose
	// slots each cost a fresh page of memory when first touched.
	maxMemberIndexes = 64
	clockMemoBits    = 7
	shapeMemoBits    = 6
	// recentNodes is the size of Checker.recent (a power of two).
	recentNodes = 64
)

// Checker runs the safety invariants incrementally: the simulator calls
// Observe with the view of each node right after that node stepped. It
// keeps, per incarnation, the last state it checked, and across nodes a
// bounded memory of converged versions and allocation tables, and memos
// of what it found about the state parts nodes share.
//
// A Checker is not safe for concurrent use.
type Checker struct {
	nodes map[proto.UniqueAddress]*history
	// recent caches histories of nodes by UID, so that most views find
	// theirs without hashing the address.
	recent  [recentNodes]*history
	leaders fifo[uint64, leaderRecord]
	tables  fifo[tableKey, tableRecord]
	stats   Stats

	// Memos of pure functions of state parts, which are immutable and
	// shared between the states of many nodes: the member index of a
	// member list, the digest of a clock, whether one clock is nowhere
	// below another and which clocks passed validation. Each record holds
	// the part it is keyed by, so that its memory cannot be reused by
	// another part while remembered.
	indexes     fifo[memberList, indexRecord]
	digests     memo[uint64]
	pairs       memo[bool]
	validClocks memo[struct{}]
	// validParts holds the member lists, reachability tables, registries
	// and allocation tables of states that passed validation.
	validParts memo[struct{}]
	// shapes holds the shards of tables that passed tableShape's checks
	// but the tombstones'.
	shapes memo[shapeRecord]
	noMemo bool // tests: compute everything afresh
	// unreach is the list step.unreachable reuses.
	unreach []proto.UniqueAddress
	// holders is the list tableShape collects a table's nodes in.
	holders []proto.UniqueAddress
	// clockList is the list clockNotBelow lists a clock in, its lists
	// traded with the histories'.
	clockList clockList
	// lists points, by clock, at the histories' lists of recent clocks
	// (which may have moved on to list other clocks since).
	lists [1 << listsBits]*clockList
}

// listsBits sizes Checker.lists.
const listsBits = 5

type memberList struct {
	first *proto.Member
	n     int
}

type indexRecord struct {
	members []proto.Member
	index   map[proto.UniqueAddress]int
}

// Stats counts what a Checker did.
type Stats struct {
	// Views counts Observe calls.
	Views uint64
	// Unchanged counts views answered in O(1): a nil state, or the same
	// state pointer and phase as the node's previous view.
	Unchanged uint64
	// Checked counts views whose state was checked.
	Checked uint64
	// Validations counts proto.ValidateStateSince calls (which walk only
	// the parts that differ from the node's previous valid state); a
	// state that differs from that one only in its seen set is validated
	// by a cheaper equivalent walk instead.
	Validations uint64
	// Scanned counts member records visited by the checks, a measure of
	// the work done.
	Scanned uint64
	// LeaderChecks counts judgements of a converged leader's allocations
	// (allocation-valid's leader part), at most one per such state.
	LeaderChecks uint64
	// TableShapes counts tables checked for their shape; a table the
	// node's previous state held too, under the same tombstoned nodes, is
	// not checked again, and one whose shards passed in any view is held
	// only against the tombstones.
	TableShapes uint64
	// RegistryRows counts registry rows whose entries were checked; a row
	// the node's previous state held too, when all of that state's rows
	// held entries of their owners only, is not checked again.
	RegistryRows uint64
	// Violations counts the violations reported.
	Violations uint64
	// Nodes is the number of incarnations with a history.
	Nodes int
	// LeaderVersions and TableEpochs are the sizes of the cross-node
	// memories (at most MaxLeaderVersions and MaxTableEpochs).
	LeaderVersions int
	TableEpochs    int
}

// history is what the Checker keeps about one incarnation.
type history struct {
	self  proto.UniqueAddress
	state *proto.State // last state checked; states are immutable once handed out
	phase proto.Phase
	valid bool // state passed proto.ValidateState
	// removed holds every incarnation this node has seen Removed: a
	// tombstone in one of its states, or a member that left its list with
	// one. Tombstones expire; this memory does not.
	removed map[proto.UniqueAddress]struct{}
	// typeEpochs is the highest table epoch seen per shard type.
	typeEpochs map[string]proto.Epoch
	// shapesOK: every table of state passed tableShape.
	shapesOK bool
	// leaderPending: state is converged with this node as leader and its
	// allocations wait for the node's next Tick to be judged.
	leaderPending bool
	// rowsClean: every reachability list of state names members only.
	rowsClean bool
	// seenSub and liveSeen are step's for state.
	seenSub, liveSeen bool
	// tombsClean: no member of state is tombstoned in it.
	tombsClean bool
	// entriesClean: every registry row of state holds entries of its
	// owner only.
	entriesClean bool
	// tombList holds the keys of state.Tombstones, in no order, when
	// tombListed (at most maxTombList of them).
	tombList   []proto.UniqueAddress
	tombListed bool
	// clock lists the clock of the last move clockNotBelow judged (not
	// necessarily state's: the answer may have been remembered).
	clock clockList
}

type leaderRecord struct {
	version   proto.VClock
	leader    proto.UniqueAddress
	node      *history // the node that saw it (node.self)
	hasLeader bool
}

type tableKey struct {
	name  string
	epoch proto.Epoch
}

type tableRecord struct {
	table proto.TypeAllocation // immutable, shared with the state that held it
	node  *history             // the node that held it (node.self)
}

// NewChecker returns a Checker with no history.
func NewChecker() *Checker {
	return &Checker{
		nodes:   map[proto.UniqueAddress]*history{},
		leaders: newFIFO[uint64, leaderRecord](MaxLeaderVersions),
		tables:  newFIFO[tableKey, tableRecord](MaxTableEpochs),
		indexes: newFIFO[memberList, indexRecord](maxMemberIndexes),

		digests:     newMemo[uint64](clockMemoBits),
		pairs:       newMemo[bool](clockMemoBits),
		validClocks: newMemo[struct{}](clockMemoBits),
		validParts:  newMemo[struct{}](clockMemoBits),
		shapes:      newMemo[shapeRecord](shapeMemoBits),
	}
}

// Stats returns the counters.
func (c *Checker) Stats() Stats {
	s := c.stats
	s.Nodes = len(c.nodes)
	s.LeaderVersions = len(c.leaders.m)
	s.TableEpochs = len(c.tables.m)
	return s
}

// Observe checks the view of the node that just stepped and returns the
// violations its state shows, in a fixed order. It is O(1) when v.State is
// the same pointer (and v.Phase the same phase) as at the last Observe for
// v.Self, except once per converged state of a leader: when the state
// survives a Tick unchanged, the leader's allocations are judged,
// O(allocated shards).
// Otherwise it costs O(members) plus the size of the parts of the state
// that changed (allocation tables, registry, clock, tombstones); parts
// that passed validation, and shards that passed the shape checks, in any
// node's view are not walked again for those checks.
//
// A violation is reported when the state (or the changed part of it) that
// shows it is first observed at that node; a part shared unchanged with
// the node's previous state is not checked again. Pass the node's own
// state pointer (proto.Node.State), not a deep copy, or every view costs a
// full check.
func (c *Checker) Observe(v View) []Violation {
	c.stats.Views++
	h := c.history(v.Self)
	if v.State == nil || (h != nil && h.state == v.State && h.phase == v.Phase) {
		c.stats.Unchanged++
		if v.State != nil && v.Ticked && h.leaderPending {
			// The leader ticked and left its converged state as it was.
			h.leaderPending = false
			c.stats.LeaderChecks++
			r := &step{c: c, h: h, self: v.Self, phase: v.Phase, prev: h.state, s: v.State, valid: h.valid}
			r.leaderAllocations()
			c.stats.Violations += uint64(len(r.out))
			return r.out
		}
		return nil
	}
	if h == nil {
		h = &history{self: v.Self, removed: map[proto.UniqueAddress]struct{}{}, typeEpochs: map[string]proto.Epoch{}}
		c.nodes[v.Self] = h
		c.recent[uint64(v.Self.UID)%recentNodes] = h
	}
	c.stats.Checked++
	r := &step{c: c, h: h, self: v.Self, phase: v.Phase, prev: h.state, s: v.State}
	r.seen()
	r.selfConsistent()
	r.membership()
	r.membersOnly()
	r.registry()
	r.version()
	r.allocations()
	r.leadership()
	r.tombKeys()
	h.tombList, h.tombListed = r.tombList, r.tombListed
	h.state, h.phase, h.valid = v.State, v.Phase, r.valid
	h.seenSub, h.liveSeen = r.seenSub, r.liveSeen
	c.stats.Violations += uint64(len(r.out))
	return r.out
}

// history returns the history of u, nil if it has none.
func (c *Checker) history(u proto.UniqueAddress) *history {
	slot := &c.recent[uint64(u.UID)%recentNodes]
	if h := *slot; h != nil && sameNode(&h.self, &u) {
		return h
	}
	h := c.nodes[u]
	if h != nil {
		*slot = h
	}
	return h
}

// step is one Observe of a changed state.
type step struct {
	c     *Checker
	h     *history
	self  proto.UniqueAddress // the observer (View.Self)
	phase proto.Phase
	prev  *proto.State // nil on the node's first view
	s     *proto.State
	valid bool // s passed proto.ValidateState
	// seenSub: s.Seen is a subsequence of the members' nodes; liveSeen
	// (when seenSub): every member not Down or Exiting is in it.
	seenSub, liveSeen bool
	// membersKept: every member of prev is a member of s.
	membersKept bool
	// tombsSame: s tombstones the very nodes prev does; known once
	// tombsKnown.
	tombsSame, tombsKnown bool
	// tombList holds the keys of s.Tombstones when tombListed; known
	// once tombListKnown.
	tombList                  []proto.UniqueAddress
	tombListed, tombListKnown bool
	index                     map[proto.UniqueAddress]int
	out                       []Violation
}

func (r *step) report(invariant, format string, args ...any) {
	r.out = append(r.out, Violation{Invariant: invariant, Node: r.self, Detail: fmt.Sprintf(format, args...)})
}

// seen sets seenSub and liveSeen: the previous state's when s has the
// previous state's seen set and members.
func (r *step) seen() {
	p, s := r.prev, r.s
	if p != nil && !r.c.noMemo && sameSlice(p.Seen, s.Seen) && sameSlice(p.Members, s.Members) {
		r.seenSub, r.liveSeen = r.h.seenSub, r.h.liveSeen
		return
	}
	r.seenSub, r.liveSeen = seenWalk(s.Seen, s.Members)
}

// seenWalk is subsequence(list, members) and, when that holds, whether
// every member that is not Down or Exiting is in list (liveSeen), in one
// walk.
func seenWalk(list []proto.UniqueAddress, members []proto.Member) (sub, live bool) {
	if len(list) > len(members) {
		return false, false
	}
	j := 0
	live = true
	for i := range members {
		m := &members[i]
		if j < len(list) && sameNode(&list[j], &m.Node) {
			j++
			continue
		}
		if m.Status != proto.Down && m.Status != proto.Exiting {
			live = false
		}
	}
	return j == len(list), live
}

// memberIndex maps each member's node to its position, built once per
// member list (and remembered for the lists of recent steps).
func (r *step) memberIndex() map[proto.UniqueAddress]int {
	if r.index != nil {
		return r.index
	}
	ms := r.s.Members
	memo := len(ms) > 0 && !r.c.noMemo
	var k memberList
	if memo {
		k = memberList{&ms[0], len(ms)}
		if rec, ok := r.c.indexes.get(k); ok {
			r.index = rec.index
			return r.index
		}
	}
	r.index = make(map[proto.UniqueAddress]int, len(ms))
	for i, m := range ms {
		r.index[m.Node] = i
	}
	r.c.stats.Scanned += uint64(len(ms))
	if memo {
		r.c.indexes.put(k, indexRecord{members: ms, index: r.index})
	}
	return r.index
}

// member returns the position of u among the members of s. In a valid
// state, whose members are sorted and unique, a list sorted like them
// finds each node a few places after the previous one found (*at
// remembers where, 0 to start); other nodes are looked up in the member
// index.
func (r *step) member(u proto.UniqueAddress, at *int) (int, bool) {
	if r.valid {
		ms := r.s.Members
		for i := *at; i < len(ms) && i < *at+memberProbe; i++ {
			if sameNode(&ms[i].Node, &u) {
				*at = i + 1
				return i, true
			}
		}
	}
	i, ok := r.memberIndex()[u]
	return i, ok
}

// selfConsistent: proto.ValidateState passes. When the previous state was
// valid and only the seen set changed (every other part is the same slice
// or map), it is enough that the seen set is a subsequence of the sorted
// member list: that makes it sorted, unique and no longer than the list,
// which is all ValidateState asks of it. Otherwise a valid previous state
// spares the walk of the parts the new one shares with it, or with any
// state that passed before (proto.ValidateStateSince against a composite,
// which gives ValidateState's verdict).
func (r *step) selfConsistent() {
	p, s := r.prev, r.s
	if p != nil && r.h.valid && r.seenSub && onlySeenChanged(p, s) {
		r.valid = true
		return
	}
	r.c.stats.Validations++
	since := p
	if !r.h.valid || r.c.noMemo {
		since = nil
	}
	var composite proto.State
	clockKnown := false
	if since != nil {
		since, clockKnown = r.composite(since, &composite)
	}
	if err := proto.ValidateStateSince(s, since); err != nil {
		r.report(SelfConsistent, "%v", err)
		return
	}
	r.valid = true
	if !r.c.noMemo {
		if len(s.Version) > 0 && !clockKnown {
			r.c.validClocks.put(mapPointer(s.Version), nil, struct{}{})
		}
		putValidPart(r.c, s.Members)
		putValidPart(r.c, s.Reachability.Rows)
		putValidPart(r.c, s.Registry)
		putValidPart(r.c, s.Allocations)
	}
}

// composite returns a state that passes validation as since does and
// holds every part of s found valid before, in any node's state (and its
// seen set when that is a subsequence of members known valid), so that
// ValidateStateSince walks only the parts of s never validated. A part's
// own checks (order, sizes, fields) do not depend on the rest of the
// state; the checks across parts (the seen set, row and registry counts
// and row lengths against the member count, table epochs against the
// allocation epoch) are made here on the composite, which keeps only
// since's parts (and s's clock) when they fail. clockKnown reports that
// the composite holds s's clock. c is where the composite is built.
func (r *step) composite(since, c *proto.State) (_ *proto.State, clockKnown bool) {
	s := r.s
	if len(s.Version) > 0 && !sameMap(since.Version, s.Version) {
		_, clockKnown = r.c.validClocks.get(mapPointer(s.Version), nil)
	}
	*c = *since
	if clockKnown {
		// A clock is valid or not on its own: since with s's clock is
		// as valid as since.
		c.Version = s.Version
	}
	parts := 0
	if !sameSlice(c.Members, s.Members) && validPart(r.c, s.Members) {
		c.Members = s.Members
		parts++
	}
	if !sameSlice(c.Seen, s.Seen) && r.seenSub && sameSlice(c.Members, s.Members) {
		// A subsequence of a valid member list is sorted.
		c.Seen = s.Seen
		parts++
	}
	if !sameSlice(c.Reachability.Rows, s.Reachability.Rows) && validPart(r.c, s.Reachability.Rows) {
		c.Reachability.Rows = s.Reachability.Rows
		parts++
	}
	if !sameSlice(c.Registry, s.Registry) && validPart(r.c, s.Registry) {
		c.Registry = s.Registry
		parts++
	}
	if (!sameSlice(c.Allocations, s.Allocations) || c.AllocationEpoch != s.AllocationEpoch) && validPart(r.c, s.Allocations) {
		c.Allocations, c.AllocationEpoch = s.Allocations, s.AllocationEpoch
		parts++
	}
	if parts > 0 && !partsAgree(c) {
		*c = *since
		if clockKnown {
			c.Version = s.Version
		}
		parts = 0
	}
	if parts == 0 && !clockKnown {
		return since, false
	}
	return c, clockKnown
}

// partsAgree makes the checks of proto.ValidateState that hold one part
// of a state against another, given parts that each passed it in some
// state: the seen set, the reachability rows and each of their lists and
// the registry rows number at most the members, and no table's epoch is
// above the allocation epoch. (ValidateStateSince checks the counts of
// the seen set, rows and registry of any state itself; they are checked
// here too so that the composite is a state that passes validation, as it
// requires of prev.)
func partsAgree(s *proto.State) bool {
	n := len(s.Members)
	if len(s.Seen) > n || len(s.Reachability.Rows) > n || len(s.Registry) > n {
		return false
	}
	for i := range s.Reachability.Rows {
		if len(s.Reachability.Rows[i].Unreachable) > n {
			return false
		}
	}
	for i := range s.Allocations {
		if s.Allocations[i].Epoch > s.AllocationEpoch {
			return false
		}
	}
	return true
}

// validPart reports whether x, a part of some state (its members,
// reachability rows, registry or allocation tables), was part of a state
// that passed validation.
func validPart[T any](c *Checker, x []T) bool {
	if len(x) == 0 || c.noMemo {
		return false
	}
	_, ok := c.validParts.get(unsafe.Pointer(&x[0]), unsafe.Pointer(&x[len(x)-1]))
	return ok
}

// putValidPart remembers x as part of a state that passed validation. A
// slice is named by its first and last elements.
func putValidPart[T any](c *Checker, x []T) {
	if len(x) > 0 {
		c.validParts.put(unsafe.Pointer(&x[0]), unsafe.Pointer(&x[len(x)-1]), struct{}{})
	}
}

func onlySeenChanged(p, s *proto.State) bool {
	return sameSlice(p.Members, s.Members) && sameSlice(p.Reachability.Rows, s.Reachability.Rows) &&
		sameMap(p.Version, s.Version) && sameSlice(p.Allocations, s.Allocations) &&
		p.AllocationEpoch == s.AllocationEpoch && sameSlice(p.Registry, s.Registry) &&
		len(s.Tombstones) <= proto.MaxMembers
}

// tombsKept reports whether s tombstones the very nodes prev does (proto
// builds a new map on every merge, mostly with the same keys). prev's
// keys are compared as the list the node's history keeps, if any.
func (r *step) tombsKept() bool {
	if !r.tombsKnown {
		r.tombsKnown = true
		p, s := r.prev, r.s
		switch {
		case p == nil:
		case r.h.tombListed && !r.c.noMemo:
			r.tombsSame = len(p.Tombstones) == len(s.Tombstones) && (len(s.Tombstones) == 0 || keysListed(s.Tombstones, r.h.tombList))
		default:
			r.tombsSame = sameKeys(p.Tombstones, s.Tombstones)
		}
	}
	return r.tombsSame
}

// tombKeys lists the keys of s.Tombstones, unless there are more than
// maxTombList: the list of prev when s tombstones the same nodes, else a
// new one.
func (r *step) tombKeys() ([]proto.UniqueAddress, bool) {
	if !r.tombListKnown {
		r.tombListKnown = true
		p, tombs := r.prev, r.s.Tombstones
		switch {
		case p != nil && r.h.tombListed && (sameMap(p.Tombstones, tombs) || (r.tombsKnown && r.tombsSame)):
			r.tombList, r.tombListed = r.h.tombList, true
		case len(tombs) <= maxTombList:
			r.tombList, r.tombListed = make([]proto.UniqueAddress, 0, len(tombs)), true
			for u := range tombs {
				r.tombList = append(r.tombList, u)
			}
		}
	}
	return r.tombList, r.tombListed
}

// isTombstoned reports whether s tombstones u.
func (r *step) isTombstoned(u proto.UniqueAddress) bool {
	if list, ok := r.tombKeys(); ok && !r.c.noMemo {
		return containsNode(list, u)
	}
	_, dead := r.s.Tombstones[u]
	return dead
}

// keysListed reports whether every key of m is in list.
func keysListed[V any](m map[proto.UniqueAddress]V, list []proto.UniqueAddress) bool {
	for u := range m {
		if !containsNode(list, u) {
			return false
		}
	}
	return true
}

// membership: allowed-transition and no-resurrection, by pairing the
// previous member list with the new one. Only the tombstones' keys
// matter here: when s tombstones the nodes prev did and no member of prev
// was tombstoned in it, the members s keeps from prev are not tombstoned
// in s either, and every tombstone is in h.removed already, so only fresh
// members are looked up, as if the map were prev's.
func (r *step) membership() {
	p, s := r.prev, r.s
	tombsChanged := p == nil || !sameMap(p.Tombstones, s.Tombstones)
	if tombsChanged && !r.c.noMemo && r.h.tombsClean && r.tombsKept() {
		tombsChanged = false
	}
	r.membersKept = p != nil
	if p != nil && sameSlice(p.Members, s.Members) && !tombsChanged {
		return
	}
	// Members that were checked against the tombstones before and kept
	// their tombstone status are clean if they were.
	clean := tombsChanged || r.h.tombsClean
	var old []proto.Member
	if p != nil {
		old = p.Members
	}
	r.c.stats.Scanned += uint64(len(s.Members))
	sorted := r.valid && (p == nil || r.h.valid)
	dead := r.tombstoned(sorted)
	pair := func(was, now *proto.Member, j int) {
		if now != nil {
			u := now.Node
			if was == nil || tombsChanged {
				if dead.has(j) {
					clean = false
					r.report(NoResurrection, "lists %v (%v) although it holds a tombstone for it", u, now.Status)
					return
				}
			}
			if was == nil {
				if _, gone := r.h.removed[u]; gone {
					r.report(NoResurrection, "lists %v (%v) again after it saw it Removed", u, now.Status)
				}
				return
			}
			if !proto.CanTransition(was.Status, now.Status) && !(skipsLeaving(was.Status, now.Status) && r.composed()) {
				r.report(AllowedTransition, "%v went %v -> %v", u, was.Status, now.Status)
			}
			return
		}
		r.membersKept = false
		u := was.Node
		if _, dead := s.Tombstones[u]; !dead {
			r.report(AllowedTransition, "%v (%v) left the member list without a tombstone", u, was.Status)
			return
		}
		if !proto.CanTransition(was.Status, proto.Removed) {
			r.report(AllowedTransition, "%v went %v -> Removed", u, was.Status)
		}
		r.h.removed[u] = struct{}{}
	}
	if sorted {
		mergeWalk(old, s.Members, pair)
	} else {
		mapWalk(old, s.Members, pair)
	}
	if tombsChanged {
		for u := range s.Tombstones {
			r.h.removed[u] = struct{}{}
		}
	}
	r.h.tombsClean = clean
}

// skipsLeaving reports whether from -> to is a forward move that
// proto.CanTransition rejects: {Joining, WeaklyUp, Up} -> Exiting. Every
// other move it rejects goes backwards.
func skipsLeaving(from, to proto.MemberStatus) bool {
	return to == proto.Exiting && from >= proto.Joining && from <= proto.Up
}

// composed reports whether this node may legitimately have missed the
// Leaving step, because the leader did not wait for it to see Leaving
// before moving the member to Exiting:
//   - its seen mark does not count towards convergence (it is Down,
//     Exiting or gone in the new state); or
//   - it was still Joining or WeaklyUp in its previous state: a node
//     admitted by a member the leader's side could not reach (and then
//     downed) holds that member's older view, and the leader converged
//     without knowing the joiner at all.
//
// Every other node is in the seen set of a version with the member
// Leaving, and proto's leader acts only in Tick, never in the Step that
// merged gossip, so each state a node holds is one merge or one change of
// its own.
func (r *step) composed() bool {
	i, ok := r.memberIndex()[r.self]
	if !ok || r.s.Members[i].Status == proto.Down || r.s.Members[i].Status == proto.Exiting {
		return true
	}
	if r.prev == nil {
		return false
	}
	was, listed := r.prev.Member(r.self)
	return listed && (was.Status == proto.Joining || was.Status == proto.WeaklyUp)
}

// tombstoned returns whether s.Members[j] is tombstoned in s. Given the
// tombstones listed (few, see tombKeys) and not too many members, it
// compares each member with the list; otherwise, given a sorted member
// list and fewer tombstones than it would take map lookups of the
// members, it looks the tombstones up among the members once.
func (r *step) tombstoned(sorted bool) deadSet {
	ms, tombs := r.s.Members, r.s.Tombstones
	if list, ok := r.tombKeys(); ok && !r.c.noMemo && len(ms) <= listMembers {
		return deadSet{ms: ms, list: list, how: deadListed}
	}
	if !sorted || len(tombs)*bits.Len(uint(len(ms))) >= len(ms) {
		return deadSet{ms: ms, tombs: tombs, how: deadMapped}
	}
	marked := make([]bool, len(ms))
	for u := range tombs {
		i := sort.Search(len(ms), func(i int) bool { return ms[i].Node.Compare(u) >= 0 })
		if i < len(ms) && ms[i].Node == u {
			marked[i] = true
		}
	}
	return deadSet{marked: marked, how: deadMarked}
}

// deadSet answers which members of a state are tombstoned in it, by one
// of three means (see step.tombstoned).
type deadSet struct {
	how    int
	ms     []proto.Member
	list   []proto.UniqueAddress // deadListed: the tombstones
	tombs  map[proto.UniqueAddress]time.Time
	marked []bool // deadMarked: by member position
}

const (
	deadListed = iota
	deadMapped
	deadMarked
)

// has reports whether member j is tombstoned.
func (d *deadSet) has(j int) bool {
	switch d.how {
	case deadListed:
		return containsNode(d.list, d.ms[j].Node)
	case deadMapped:
		_, dead := d.tombs[d.ms[j].Node]
		return dead
	}
	return d.marked[j]
}

// mergeWalk pairs the records of two member lists sorted by node. Equal
// positions are matched by ==; proto.UniqueAddress.Compare (which parses
// hosts) runs only where the lists differ.
func mergeWalk(a, b []proto.Member, fn func(was, now *proto.Member, j int)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && sameNode(&a[i].Node, &b[j].Node):
			fn(&a[i], &b[j], j)
			i++
			j++
		case j == len(b):
			fn(&a[i], nil, -1)
			i++
		case i == len(a):
			fn(nil, &b[j], j)
			j++
		case a[i].Node.Compare(b[j].Node) < 0:
			fn(&a[i], nil, -1)
			i++
		default:
			fn(nil, &b[j], j)
			j++
		}
	}
}

// mapWalk pairs the records of two member lists in any order (for states
// that failed validation).
func mapWalk(a, b []proto.Member, fn func(was, now *proto.Member, j int)) {
	idx := make(map[proto.UniqueAddress]int, len(a))
	for i := range a {
		if _, dup := idx[a[i].Node]; !dup {
			idx[a[i].Node] = i
		}
	}
	used := make([]bool, len(a))
	for j := range b {
		if i, ok := idx[b[j].Node]; ok && !used[i] {
			used[i] = true
			fn(&a[i], &b[j], j)
		} else {
			fn(nil, &b[j], j)
		}
	}
	for i := range a {
		if !used[i] {
			fn(&a[i], nil, -1)
		}
	}
}

// membersOnly: the seen set and the reachability table name only members.
func (r *step) membersOnly() {
	p, s := r.prev, r.s
	sameMembers := p != nil && sameSlice(p.Members, s.Members)
	sameRows := p != nil && sameSlice(p.Reachability.Rows, s.Reachability.Rows)
	if sameMembers && sameRows && sameSlice(p.Seen, s.Seen) {
		return
	}
	if !r.seenSub {
		if bad := r.nonMembers(s.Seen); len(bad) > 0 {
			r.report(MembersOnly, "seen set names non-members %s", nodeList(bad))
		}
	}
	if sameMembers && sameRows {
		return
	}
	rows := s.Reachability.Rows
	observers := make([]proto.UniqueAddress, 0, 4)
	j := 0
	for i := range s.Members {
		m := &s.Members[i]
		if j < len(rows) && sameNode(&rows[j].Observer, &m.Node) {
			j++
		}
	}
	if j < len(rows) {
		for _, row := range rows {
			observers = append(observers, row.Observer)
		}
		if bad := r.nonMembers(observers); len(bad) > 0 {
			r.report(MembersOnly, "reachability table has rows of non-members %s", nodeList(bad))
		}
	}
	// A list the previous state held, clean, names members still when
	// none has left: only the other lists are looked up.
	var prevRows []proto.ObserverRow
	if p != nil && r.membersKept && r.h.rowsClean && !r.c.noMemo {
		prevRows = p.Reachability.Rows
	}
	clean, k := true, 0
	for _, row := range rows {
		if len(row.Unreachable) == 0 {
			continue
		}
		if heldClean(prevRows, &k, row) {
			continue
		}
		if bad := r.nonMembers(row.Unreachable); len(bad) > 0 {
			clean = false
			r.report(MembersOnly, "observer %v marks non-members %s unreachable", row.Observer, nodeList(bad))
		}
	}
	r.h.rowsClean = clean
}

// heldClean reports whether prev, a table in observer order, holds row's
// very list for its observer, looking from prev[*k] on for a few rows.
func heldClean(prev []proto.ObserverRow, k *int, row proto.ObserverRow) bool {
	for j := *k; j < len(prev) && j < *k+8; j++ {
		if sameNode(&prev[j].Observer, &row.Observer) {
			*k = j + 1
			return sameSlice(prev[j].Unreachable, row.Unreachable)
		}
	}
	return false
}

// nonMembers returns the entries of list that are not members, sorted.
func (r *step) nonMembers(list []proto.UniqueAddress) []proto.UniqueAddress {
	var bad []proto.UniqueAddress
	at := 0
	for _, u := range list {
		if _, ok := r.member(u, &at); !ok {
			bad = append(bad, u)
		}
	}
	if len(bad) > 1 {
		sortNodes(bad)
	}
	return bad
}

// registry: registry-live. A row the previous state held too (the same
// owner and entries), when every row of that state held entries of its
// owner only, still does: only its owner is looked up again.
func (r *step) registry() {
	p, s := r.prev, r.s
	if len(s.Registry) == 0 {
		r.h.entriesClean = true
		return
	}
	if p != nil && sameSlice(p.Registry, s.Registry) && sameSlice(p.Members, s.Members) {
		return
	}
	var prevRows []proto.RegistryRow
	if p != nil && r.h.entriesClean && !r.c.noMemo {
		prevRows = p.Registry
	}
	clean, k, at := true, 0, 0
	for _, row := range s.Registry {
		i, ok := r.member(row.Owner, &at)
		switch {
		case !ok:
			r.report(RegistryLive, "registry row (version %d, %d entries) of %v, which is not a member", row.Version, len(row.Entries), row.Owner)
		case s.Members[i].Status == proto.Down:
			r.report(RegistryLive, "registry row (version %d, %d entries) of %v, which is Down", row.Version, len(row.Entries), row.Owner)
		}
		if heldRow(prevRows, &k, row) {
			continue
		}
		r.c.stats.RegistryRows++
		var bad []string
		for _, e := range row.Entries {
			if !sameNode(&e.Node, &row.Owner) {
				bad = append(bad, fmt.Sprintf("{%s %v %s}", e.Key, e.Node, e.Path))
			}
		}
		if len(bad) > 0 {
			clean = false
			r.report(RegistryLive, "registry row of %v holds entries of other nodes: %s", row.Owner, itemList(bad))
		}
	}
	r.h.entriesClean = clean
}

// heldRow reports whether prev, a registry in owner order, holds row's
// very entries for its owner, looking from prev[*k] on for a few rows.
func heldRow(prev []proto.RegistryRow, k *int, row proto.RegistryRow) bool {
	for j := *k; j < len(prev) && j < *k+8; j++ {
		if sameNode(&prev[j].Owner, &row.Owner) {
			*k = j + 1
			return sameSlice(prev[j].Entries, row.Entries)
		}
	}
	return false
}

// version: version-monotone. Entries of incarnations the new state has
// tombstoned are left out on both sides, as proto compares clocks: a
// removal prunes its clock entry.
func (r *step) version() {
	p, s := r.prev, r.s
	if p == nil || sameMap(p.Version, s.Version) {
		return
	}
	if r.c.clockNotBelow(r.h, p.Version, s.Version) {
		return // no entry went back, tombstoned or not
	}
	less, more := false, false
	var back []string
	for k, a := range p.Version {
		if _, dead := s.Tombstones[k]; dead {
			continue
		}
		b := s.Version[k]
		switch {
		case b < a:
			less = true
			back = append(back, fmt.Sprintf("%v %d->%d", k, a, b))
		case b > a:
			more = true
		}
	}
	if !less {
		return
	}
	if !more {
		for k, b := range s.Version {
			if _, dead := s.Tombstones[k]; dead {
				continue
			}
			if _, ok := p.Version[k]; !ok && b > 0 {
				more = true
				break
			}
		}
	}
	if !more {
		sort.Strings(back)
		r.report(VersionMonotone, "version went back: %s", itemList(back))
	}
}

// clockNotBelow reports whether every entry of a is at most b's. The
// answer is remembered per pair of clocks (clocks are immutable and
// shared, so the nodes that hold one clock mostly move on to the same
// next one). h, the node whose clock moves from a to b, keeps b listed
// (clockList) for its next move: its clock is then listed already, and
// the two lists are compared without hashing a key. b is listed by copying
// another node's list of it, and a taken from another node's list, when
// one is found in c.lists.
func (c *Checker) clockNotBelow(h *history, a, b proto.VClock) bool {
	pa, pb := mapPointer(a), mapPointer(b)
	if !c.noMemo {
		if notBelow, ok := c.pairs.get(pa, pb); ok {
			return notBelow
		}
	}
	if c.noMemo || len(b) > maxListedClock {
		return mapNotBelow(a, b)
	}
	bl := &c.clockList
	listed := c.listOf(pb)
	if l := *listed; l != nil {
		bl.copyList(l)
	} else {
		bl.list(b)
	}
	var notBelow bool
	if al := &h.clock; al.listed && mapPointer(al.of) == pa {
		notBelow = listsNotBelow(al, bl)
	} else if al := *c.listOf(pa); al != nil {
		notBelow = listsNotBelow(al, bl)
	} else {
		notBelow = listedNotBelow(a, bl)
	}
	h.clock, c.clockList = c.clockList, h.clock
	*listed = &h.clock
	c.pairs.put(pa, pb, notBelow)
	return notBelow
}

// listOf returns c.lists' slot for the clock at p, which holds nil unless
// it points at a list of that clock.
func (c *Checker) listOf(p unsafe.Pointer) **clockList {
	slot := &c.lists[uint64(uintptr(p))*0x9e3779b97f4a7c15>>(64-listsBits)]
	if l := *slot; l != nil && !(l.listed && mapPointer(l.of) == p) {
		*slot = nil
	}
	return slot
}

// mapNotBelow reports whether every entry of a is at most b's, looking
// each up in b.
func mapNotBelow(a, b proto.VClock) bool {
	for u, x := range a {
		if b[u] < x {
			return false
		}
	}
	return true
}

// maxListedClock is the largest clock a clockList lists.
const maxListedClock = 16

// clockList lists the entries of a clock, of, of at most maxListedClock
// entries, in map order, when listed. Its slice is reused.
type clockList struct {
	of      proto.VClock // held, so that its memory is not reused while listed
	entries []clockEntry
	listed  bool
}

type clockEntry struct {
	u proto.UniqueAddress
	x uint64
}

// list makes l the listing of v.
func (l *clockList) list(v proto.VClock) {
	if cap(l.entries) < len(v) {
		l.entries = make([]clockEntry, 0, maxListedClock)
	}
	l.of, l.entries, l.listed = v, l.entries[:0], true
	for u, x := range v {
		l.entries = append(l.entries, clockEntry{u, x})
	}
}

// copyList makes l a copy of the list m.
func (l *clockList) copyList(m *clockList) {
	if cap(l.entries) < len(m.entries) {
		l.entries = make([]clockEntry, 0, maxListedClock)
	}
	l.of, l.entries, l.listed = m.of, append(l.entries[:0], m.entries...), true
}

// get is the clock's entry for u, 0 if it has none.
func (l *clockList) get(u *proto.UniqueAddress) uint64 {
	for i := range l.entries {
		if e := &l.entries[i]; sameNode(&e.u, u) {
			return e.x
		}
	}
	return 0
}

// listedNotBelow is mapNotBelow for b listed: a's entries are found in the
// list by sameNode instead of hashing each key.
func listedNotBelow(a proto.VClock, b *clockList) bool {
	for u, x := range a {
		if x != 0 && b.get(&u) < x {
			return false
		}
	}
	return true
}

// listsNotBelow is mapNotBelow for a and b listed.
func listsNotBelow(a, b *clockList) bool {
	for i := range a.entries {
		if e := &a.entries[i]; e.x != 0 && b.get(&e.u) < e.x {
			return false
		}
	}
	return true
}

// allocations: the per-view part of allocation-valid, epoch-monotone and
// epoch-unique.
func (r *step) allocations() {
	p, s := r.prev, r.s
	same := p != nil && sameSlice(p.Allocations, s.Allocations) && p.AllocationEpoch == s.AllocationEpoch
	if same && sameMap(p.Tombstones, s.Tombstones) {
		return
	}
	// A table's shape depends on the table and the tombstoned nodes only:
	// a table the previous state held too, under the same tombstones,
	// passed already.
	reuse := p != nil && r.h.shapesOK && !r.c.noMemo && len(s.Allocations) > 0 && r.tombsKept()
	if reuse && same {
		return // every table is one prev held
	}
	ok := true
	for _, t := range s.Allocations {
		if reuse && holdsTable(p.Allocations, t) {
			continue
		}
		ok = r.tableShape(t) && ok
	}
	r.h.shapesOK = ok
	if same {
		return
	}
	if p != nil && s.AllocationEpoch < p.AllocationEpoch {
		r.report(EpochMonotone, "allocation epoch went back %d -> %d", p.AllocationEpoch, s.AllocationEpoch)
	}
	for _, t := range s.Allocations {
		max, known := r.h.typeEpochs[t.Type.Name]
		switch {
		case known && t.Epoch < max:
			r.report(EpochMonotone, "table %q epoch went back %d -> %d", t.Type.Name, max, t.Epoch)
		case !known || t.Epoch > max:
			r.h.typeEpochs[t.Type.Name] = t.Epoch
			r.registerTable(t)
		}
	}
}

// holdsTable reports whether tables holds t itself: the same type and
// epoch and the same Shards slice.
func holdsTable(tables []proto.TypeAllocation, t proto.TypeAllocation) bool {
	for i := range tables {
		if x := &tables[i]; x.Type == t.Type && x.Epoch == t.Epoch && sameSlice(x.Shards, t.Shards) {
			return true
		}
	}
	return false
}

// sameKeys reports whether two maps have the same keys.
func sameKeys[K comparable, V any](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	if len(b) == 0 || sameMap(a, b) {
		return true
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return false
		}
	}
	return true
}

// tableShape checks one table in any view: Type.Shards allocations,
// replicas distinct and never the primary, no tombstoned holder. It
// reports whether the table passed. Shards that passed every check but
// the tombstones' in some view, under the same type (shards are immutable
// and shared by the views of many nodes), are only held against the
// tombstones, through the nodes they were found to name.
func (r *step) tableShape(t proto.TypeAllocation) bool {
	memo := !r.c.noMemo && len(t.Shards) > 0
	if memo {
		if list, ok := r.tombKeys(); ok {
			rec, found := r.c.shapes.get(unsafe.Pointer(&t.Shards[0]), unsafe.Pointer(&t.Shards[len(t.Shards)-1]))
			if found && rec.typ == t.Type && !anyListed(rec.holders, list) {
				return true
			}
		}
	}
	r.c.stats.TableShapes++
	var bad []string
	if len(t.Shards) != t.Type.Shards {
		bad = append(bad, fmt.Sprintf("%d shards allocated, type declares %d", len(t.Shards), t.Type.Shards))
	}
	shaped := len(bad) == 0    // the checks but the tombstones' passed
	holders := r.c.holders[:0] // copied out for the memo
	tombs := r.s.Tombstones
	dead := r.isTombstoned
	if list, ok := r.tombKeys(); ok && !r.c.noMemo {
		dead = func(u proto.UniqueAddress) bool { return containsNode(list, u) }
	}
	for i, a := range t.Shards {
		if len(tombs) > 0 && a.Primary != (proto.UniqueAddress{}) {
			if dead(a.Primary) {
				bad = append(bad, fmt.Sprintf("shard %d: primary %v is tombstoned", i, a.Primary))
			}
		}
		if memo && a.Primary != (proto.UniqueAddress{}) && !containsNode(holders, a.Primary) {
			holders = append(holders, a.Primary)
		}
		for k, rep := range a.Replicas {
			switch {
			case rep == a.Primary:
				shaped = false
				bad = append(bad, fmt.Sprintf("shard %d: replica %v is the primary", i, rep))
			case containsNode(a.Replicas[:k], rep):
				shaped = false
				bad = append(bad, fmt.Sprintf("shard %d: replica %v listed twice", i, rep))
			}
			if memo && !containsNode(holders, rep) {
				holders = append(holders, rep)
			}
			if len(tombs) > 0 {
				if dead(rep) {
					bad = append(bad, fmt.Sprintf("shard %d: replica %v is tombstoned", i, rep))
				}
			}
		}
	}
	r.c.holders = holders
	if memo && shaped {
		r.c.shapes.put(unsafe.Pointer(&t.Shards[0]), unsafe.Pointer(&t.Shards[len(t.Shards)-1]), shapeRecord{typ: t.Type, holders: slices.Clone(holders)})
	}
	if len(bad) > 0 {
		r.report(AllocationValid, "table %q (epoch %d): %s", t.Type.Name, t.Epoch, itemList(bad))
		return false
	}
	return true
}

// shapeRecord remembers shards that passed tableShape's checks but the
// tombstones' under typ, and the nodes they name.
type shapeRecord struct {
	typ     proto.ShardType
	holders []proto.UniqueAddress
}

// anyListed reports whether some node of a is in list.
func anyListed(a, list []proto.UniqueAddress) bool {
	for _, u := range a {
		if containsNode(list, u) {
			return true
		}
	}
	return false
}

// registerTable remembers the table of a (type, epoch) pair this node holds
// for the first time and compares it with the one remembered from any node.
func (r *step) registerTable(t proto.TypeAllocation) {
	key := tableKey{name: t.Type.Name, epoch: t.Epoch}
	if rec, ok := r.c.tables.get(key); ok {
		if !equalTables(rec.table, t) {
			r.report(EpochUnique, "table %q at epoch %d differs from the one %v held: %s",
				t.Type.Name, t.Epoch, rec.node.self, tableDiff(t, rec.table, "here", "there"))
		}
		return
	}
	r.c.tables.put(key, tableRecord{table: t, node: r.h})
}

// equalTables reports whether two tables are equal: the same type and
// epoch and, shard by shard, the same primary, epoch and replicas (a nil
// replica list equals an empty one). Tables that share their Shards slice,
// as the copies of one table gossiped between nodes do, are equal without
// a walk.
func equalTables(a, b proto.TypeAllocation) bool {
	if a.Type != b.Type || a.Epoch != b.Epoch || len(a.Shards) != len(b.Shards) {
		return false
	}
	if sameSlice(a.Shards, b.Shards) {
		return true
	}
	for i := range a.Shards {
		x, y := &a.Shards[i], &b.Shards[i]
		if x.Primary != y.Primary || x.Epoch != y.Epoch || len(x.Replicas) != len(y.Replicas) {
			return false
		}
		for k := range x.Replicas {
			if x.Replicas[k] != y.Replicas[k] {
				return false
			}
		}
	}
	return true
}

// leadership: one-leader for converged views of member nodes, and the
// leader's part of allocation-valid, which is judged only once the leader
// has had the state in hand at a Tick (proto's leader acts in Tick, never
// in the Step that merged gossip, and a state its own Tick just produced,
// for instance by downing a member, waits for the next Tick): a converged
// state of its own leader is marked pending here and judged at the node's
// next Ticked view if the state is still the same pointer.
func (r *step) leadership() {
	r.h.leaderPending = false
	if r.phase != proto.PhaseMember {
		return
	}
	s := r.s
	var leader proto.UniqueAddress
	var hasLeader bool
	if r.valid && r.seenSub {
		if len(s.Members) == 0 || !r.liveSeen {
			return // not converged, whoever is unreachable
		}
		unreachable := r.unreachable()
		if !liveReachable(s, &unreachable) {
			return
		}
		leader, hasLeader = fastLeader(s, r.self, &unreachable)
	} else {
		if !s.Converged() {
			return
		}
		leader, hasLeader = s.Leader(r.self)
	}
	r.oneLeader(leader, hasLeader)
	r.h.leaderPending = hasLeader && leader == r.self && len(r.s.Allocations) > 0
}

// unreachable is proto.State.Unreachable as a set, built without
// UniqueAddress.Compare; empty when nobody is unreachable. It lists the
// nodes in r.c.unreach, which it reuses: the set lasts until the next
// step's.
func (r *step) unreachable() nodeSet {
	out := nodeSet{list: r.c.unreach[:0]}
	at := 0
	for _, row := range r.s.Reachability.Rows {
		if len(row.Unreachable) == 0 {
			continue
		}
		i, ok := r.member(row.Observer, &at)
		if !ok || r.s.Members[i].Status == proto.Down || r.s.Members[i].Status == proto.Exiting {
			continue
		}
		for _, u := range row.Unreachable {
			out.add(u)
		}
	}
	if out.m == nil {
		r.c.unreach = out.list
	}
	return out
}

// nodeSet is a set of nodes: a list, compared with sameNode, while it
// holds at most nodeSetList nodes; a map beyond.
type nodeSet struct {
	list []proto.UniqueAddress
	m    map[proto.UniqueAddress]struct{}
}

const nodeSetList = 16

func (n *nodeSet) add(u proto.UniqueAddress) {
	switch {
	case n.m != nil:
		n.m[u] = struct{}{}
	case containsNode(n.list, u):
	case len(n.list) < nodeSetList:
		n.list = append(n.list, u)
	default:
		n.m = make(map[proto.UniqueAddress]struct{}, 2*nodeSetList)
		for _, x := range n.list {
			n.m[x] = struct{}{}
		}
		n.m[u] = struct{}{}
		n.list = nil
	}
}

func (n *nodeSet) has(u proto.UniqueAddress) bool {
	if n.m != nil {
		_, ok := n.m[u]
		return ok
	}
	return containsNode(n.list, u)
}

func (n *nodeSet) empty() bool { return len(n.list) == 0 && len(n.m) == 0 }

// fastConverged is proto.State.Converged for a valid state whose seen set
// is a subsequence of its members, given its unreachable set.
func fastConverged(s *proto.State, unreachable *nodeSet) bool {
	return len(s.Members) > 0 && liveSeen(s) && liveReachable(s, unreachable)
}

// liveReachable reports whether no member that is not Down or Exiting is
// in the unreachable set: the part of fastConverged that needs it.
func liveReachable(s *proto.State, unreachable *nodeSet) bool {
	if unreachable.empty() {
		return true
	}
	for i := range s.Members {
		m := &s.Members[i]
		if m.Status == proto.Down || m.Status == proto.Exiting {
			continue
		}
		if unreachable.has(m.Node) {
			return false
		}
	}
	return true
}

// liveSeen reports whether every member that is not Down or Exiting is
// in the seen set, which must be a subsequence of the members: the part
// of fastConverged that needs no unreachable set.
func liveSeen(s *proto.State) bool {
	j := 0
	for i := range s.Members {
		m := &s.Members[i]
		seen := j < len(s.Seen) && s.Seen[j] == m.Node
		if seen {
			j++
		}
		if !seen && m.Status != proto.Down && m.Status != proto.Exiting {
			return false
		}
	}
	return true
}

// fastLeader is proto.State.Leader given the state's unreachable set: its
// first rule without UniqueAddress.Compare, the rare fallback by proto.
func fastLeader(s *proto.State, self proto.UniqueAddress, unreachable *nodeSet) (proto.UniqueAddress, bool) {
	for i := range s.Members {
		m := &s.Members[i]
		if m.Status == proto.Up || m.Status == proto.Leaving {
			if !unreachable.has(m.Node) {
				return m.Node, true
			}
		}
	}
	return s.Leader(self)
}

// oneLeader compares the leader of this converged view with the one
// remembered for the same version.
func (r *step) oneLeader(leader proto.UniqueAddress, hasLeader bool) {
	s := r.s
	d := r.c.digest(s.Version)
	if rec, ok := r.c.leaders.get(d); ok && (sameMap(rec.version, s.Version) || rec.version.Compare(s.Version) == proto.Same) {
		if rec.leader != leader || rec.hasLeader != hasLeader {
			r.report(OneLeader, "converged at version %016x (%d entries) with leader %s, but %v saw leader %s at the same version",
				d, len(s.Version), leaderName(leader, hasLeader), rec.node.self, leaderName(rec.leader, rec.hasLeader))
		}
		return
	}
	r.c.leaders.put(d, leaderRecord{version: s.Version, leader: leader, hasLeader: hasLeader, node: r.h})
}

// leaderAllocations: in a converged view held by its leader, every
// allocated primary and replica is an Up member hosting the type.
func (r *step) leaderAllocations() {
	s := r.s
	if len(s.Allocations) == 0 {
		return
	}
	idx := r.memberIndex()
	for _, t := range s.Allocations {
		var bad []string
		check := func(shard int, role string, u proto.UniqueAddress) {
			i, ok := idx[u]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("shard %d: %s %v is not a member", shard, role, u))
			case s.Members[i].Status != proto.Up:
				bad = append(bad, fmt.Sprintf("shard %d: %s %v is %v", shard, role, u, s.Members[i].Status))
			default:
				if _, ok := s.Members[i].Hosting(t.Type.Name); !ok {
					bad = append(bad, fmt.Sprintf("shard %d: %s %v does not host %q", shard, role, u, t.Type.Name))
				}
			}
		}
		for i, a := range t.Shards {
			if a.Primary != (proto.UniqueAddress{}) {
				check(i, "primary", a.Primary)
			}
			for _, rep := range a.Replicas {
				check(i, "replica", rep)
			}
		}
		if len(bad) > 0 {
			r.report(AllocationValid, "converged leader's table %q (epoch %d): %s", t.Type.Name, t.Epoch, itemList(bad))
		}
	}
}

// sameSlice reports whether a and b are the same slice (same first
// element and length): parts of immutable states are shared this way.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameMap reports whether a and b are the same map.
func sameMap[K comparable, V any](a, b map[K]V) bool { return mapPointer(a) == mapPointer(b) }

// mapPointer identifies a map (nil for a nil map): a map value is a
// pointer to the map's header, read here without reflect's checks.
func mapPointer[K comparable, V any](m map[K]V) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

// digest is clockDigest(v), remembered for recent clocks, and taken from
// a node's list of v when c.lists has one.
func (c *Checker) digest(v proto.VClock) uint64 {
	p := mapPointer(v)
	if d, ok := c.digests.get(p, nil); ok {
		return d
	}
	if c.noMemo {
		return clockDigest(v)
	}
	var d uint64
	if l := *c.listOf(p); l != nil {
		d = listDigest(l)
	} else {
		d = clockDigest(v)
	}
	c.digests.put(p, nil, d)
	return d
}

// subsequence reports whether list is a subsequence of the members' nodes,
// compared with == only. For a valid state this is exactly "sorted, unique
// and all members".
func subsequence(list []proto.UniqueAddress, members []proto.Member) bool {
	if len(list) > len(members) {
		return false
	}
	j := 0
	for i := range members {
		if j == len(list) {
			break
		}
		if list[j] == members[i].Node {
			j++
		}
	}
	return j == len(list)
}

// sameNode is *a == *b, comparing the cheap fields first and the hosts'
// bytes only when they are not the very same string, as they mostly are
// (a node's address is shared by every state that names it).
func sameNode(a, b *proto.UniqueAddress) bool {
	return a.UID == b.UID && a.Port == b.Port && len(a.Host) == len(b.Host) &&
		(unsafe.StringData(a.Host) == unsafe.StringData(b.Host) || a.Host == b.Host)
}

func containsNode(list []proto.UniqueAddress, u proto.UniqueAddress) bool {
	for i := range list {
		if sameNode(&list[i], &u) {
			return true
		}
	}
	return false
}

func sortNodes(list []proto.UniqueAddress) {
	sort.Slice(list, func(i, j int) bool { return list[i].Compare(list[j]) < 0 })
}

func nodeList(list []proto.UniqueAddress) string {
	parts := make([]string, len(list))
	for i, u := range list {
		parts[i] = u.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// itemList joins up to maxItems items and says how many more there were.
func itemList(items []string) string {
	if len(items) <= maxItems {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:maxItems], "; ") + fmt.Sprintf("; and %d more", len(items)-maxItems)
}

func leaderName(u proto.UniqueAddress, ok bool) string {
	if !ok {
		return "none"
	}
	return u.String()
}
