package proto

import "time"

// TopologySnapshot is what subscribers see: casty's TopologySnapshot
// (members, leader, shard allocations, allocation epoch, unreachable,
// registry) plus Seq, which rises by one per published
// change, and Converged. A Node publishes one only when something in it
// changed.
type TopologySnapshot struct {
	// Seq is 1 for the first snapshot a node publishes and rises by one for
	// each later one.
	Seq uint64
	// Members lists every member in address order (Removed ones are gone).
	Members []Member
	// Leader is the leader as this node sees it; HasLeader is false when
	// there is none (before joining, or when every member is unreachable).
	Leader    UniqueAddress
	HasLeader bool
	// Unreachable lists members some observer cannot reach, in address order.
	Unreachable []UniqueAddress
	// Converged reports whether every member that is not Down or Exiting is
	// reachable and has seen the current gossip version.
	Converged bool
	// ShardAllocations holds one table per shard type, sorted by name.
	ShardAllocations []TypeAllocation
	// AllocationEpoch is the cluster-wide allocation epoch.
	AllocationEpoch Epoch
	// Registry lists every service entry, sorted by key, node, path.
	Registry []ServiceEntry
}

// Lookup returns the registry entries under key, sorted by node then path.
func (t TopologySnapshot) Lookup(key string) []ServiceEntry { return Lookup(t.Registry, key) }

// Allocation returns the table of shard type name.
func (t TopologySnapshot) Allocation(name string) (TypeAllocation, bool) {
	for _, a := range t.ShardAllocations {
		if a.Type.Name == name {
			return a, true
		}
	}
	return TypeAllocation{}, false
}

// Clone returns a deep copy.
func (t TopologySnapshot) Clone() TopologySnapshot {
	out := t
	out.Members = make([]Member, len(t.Members))
	for i, m := range t.Members {
		out.Members[i] = m.Clone()
	}
	out.Unreachable = append([]UniqueAddress(nil), t.Unreachable...)
	out.ShardAllocations = cloneAllocations(t.ShardAllocations)
	out.Registry = append([]ServiceEntry(nil), t.Registry...)
	return out
}

// shared returns a snapshot equal to t.Clone() that shares t's slices
// wherever they already have the form Clone gives them, and copies the
// rest. The shared slices are capped at their length, so that an append
// by the caller never writes into them.
func (t TopologySnapshot) shared() TopologySnapshot { return t.sharedWith(nil) }

// sharedWith is shared, asking kc (nil for none) whether the tables have
// cloneAllocations' form.
func (t TopologySnapshot) sharedWith(kc *keyCache) TopologySnapshot {
	out := t
	if len(t.Members) == 0 || !membersNormal(t.Members) {
		out.Members = make([]Member, len(t.Members))
		for i, m := range t.Members {
			out.Members[i] = m.Clone()
		}
	} else {
		out.Members = t.Members[:len(t.Members):len(t.Members)]
	}
	out.Unreachable = nil
	if len(t.Unreachable) > 0 {
		out.Unreachable = t.Unreachable[:len(t.Unreachable):len(t.Unreachable)]
	}
	if kc.allocationsNormal(t.ShardAllocations) {
		out.ShardAllocations = t.ShardAllocations[:len(t.ShardAllocations):len(t.ShardAllocations)]
	} else {
		out.ShardAllocations = cloneAllocations(t.ShardAllocations)
	}
	out.Registry = nil
	if len(t.Registry) > 0 {
		out.Registry = t.Registry[:len(t.Registry):len(t.Registry)]
	}
	return out
}

// allocationsNormal reports whether cloneAllocations(ts) would equal ts:
// every table has a non-nil Shards and no empty non-nil replica list.
func allocationsNormal(ts []TypeAllocation) bool {
	for i := range ts {
		if ts[i].Shards == nil {
			return false
		}
		for j := range ts[i].Shards {
			if r := ts[i].Shards[j].Replicas; r != nil && len(r) == 0 {
				return false
			}
		}
	}
	return true
}

// Member returns the record of incarnation u.
func (t TopologySnapshot) Member(u UniqueAddress) (Member, bool) {
	for _, m := range t.Members {
		if m.Node == u {
			return m, true
		}
	}
	return Member{}, false
}

// sameContent reports whether two snapshots differ only in Seq.
func (t TopologySnapshot) sameContent(o TopologySnapshot) bool {
	if t.Leader != o.Leader || t.HasLeader != o.HasLeader || t.Converged != o.Converged ||
		len(t.Members) != len(o.Members) || !nodesEqual(t.Unreachable, o.Unreachable) ||
		t.AllocationEpoch != o.AllocationEpoch ||
		(!sameAllocations(t.ShardAllocations, o.ShardAllocations) && !allocationsEqual(t.ShardAllocations, o.ShardAllocations)) ||
		(!sameEntries(t.Registry, o.Registry) && !entriesEqual(t.Registry, o.Registry)) {
		return false
	}
	if sameMembers(t.Members, o.Members) {
		return true
	}
	for i := range t.Members {
		if !memberEqual(t.Members[i], o.Members[i]) {
			return false
		}
	}
	return true
}

// EventType names what changed between two consecutive snapshots.
type EventType uint8

// Event types, derived by diffing consecutive snapshots, plus NodeStopped.
const (
	// MemberJoined: a member appeared as Joining.
	MemberJoined EventType = iota + 1
	// MemberWeaklyUp: a member became WeaklyUp.
	MemberWeaklyUp
	// MemberUp: a member became Up.
	MemberUp
	// MemberLeft: a member started leaving (Leaving).
	MemberLeft
	// MemberExited: a member became Exiting.
	MemberExited
	// MemberDowned: a member was marked Down.
	MemberDowned
	// MemberRemoved: a member was removed (tombstoned).
	MemberRemoved
	// UnreachableMember: some observer can no longer reach a member.
	UnreachableMember
	// ReachableMember: every observer can reach a member again.
	ReachableMember
	// LeaderChanged: the leader this node sees changed.
	LeaderChanged
	// ShardsMoved: the primary or replicas of some shards of one type
	// changed (Shards lists them).
	ShardsMoved
	// RegistryChanged: entries under some keys (Keys lists them) changed.
	RegistryChanged
	// NodeStopped: this node stopped (downed, removed, left or timed out);
	// it sends nothing more. Reason says why.
	NodeStopped
)

var eventNames = [...]string{"", "MemberJoined", "MemberWeaklyUp", "MemberUp", "MemberLeft", "MemberExited",
	"MemberDowned", "MemberRemoved", "UnreachableMember", "ReachableMember", "LeaderChanged", "ShardsMoved", "RegistryChanged", "NodeStopped"}

// String names the event type.
func (e EventType) String() string {
	if int(e) < len(eventNames) && e != 0 {
		return eventNames[e]
	}
	return "EventType(?)"
}

// Event is one change a node observed. Member is set for member events,
// Leader/HasLeader for LeaderChanged, ShardType/Shards for ShardsMoved,
// Keys for RegistryChanged, Reason for NodeStopped. Seq is the snapshot
// that carried the change.
type Event struct {
	Type      EventType
	At        time.Time
	Seq       uint64
	Member    Member
	Leader    UniqueAddress
	HasLeader bool
	ShardType string
	Shards    []int
	Keys      []string
	Reason    string
}

var statusEvent = [...]EventType{
	Joining:  MemberJoined,
	WeaklyUp: MemberWeaklyUp,
	Up:       MemberUp,
	Leaving:  MemberLeft,
	Exiting:  MemberExited,
	Down:     MemberDowned,
	Removed:  MemberRemoved,
}

// diffSnapshots returns the events that turn prev into next, in a fixed
// order: member events in address order, then reachability, then leader.
func diffSnapshots(prev, next TopologySnapshot, at time.Time) []Event {
	return appendDiff(nil, prev, next, at)
}

// appendDiff appends diffSnapshots(prev, next, at) to out: the events go
// straight into the caller's buffer.
func appendDiff(out []Event, prev, next TopologySnapshot, at time.Time) []Event {
	i, j := 0, 0
	if sameMembers(prev.Members, next.Members) {
		i, j = len(prev.Members), len(next.Members) // the very list: no member changed
	}
	for i < len(prev.Members) || j < len(next.Members) {
		// c orders prev.Members[i] against next.Members[j]; lists that
		// share most members mostly hold the same node at both.
		var c int
		switch {
		case j == len(next.Members):
			c = -1
		case i == len(prev.Members):
			c = 1
		case prev.Members[i].Node == next.Members[j].Node:
		default:
			c = prev.Members[i].Node.Compare(next.Members[j].Node)
		}
		switch {
		case c < 0:
			m := prev.Members[i].Clone()
			m.Status = Removed
			out = append(out, Event{Type: MemberRemoved, At: at, Seq: next.Seq, Member: m})
			i++
		case c > 0:
			m := &next.Members[j]
			out = append(out, Event{Type: statusEvent[m.Status], At: at, Seq: next.Seq, Member: m.Clone()})
			j++
		default:
			if a, b := &prev.Members[i], &next.Members[j]; a.Status != b.Status {
				out = append(out, Event{Type: statusEvent[b.Status], At: at, Seq: next.Seq, Member: b.Clone()})
			}
			i++
			j++
		}
	}
	// The unreachable lists are sorted like the members, so cursors walk
	// them in step instead of scanning per node.
	nextMembers := &State{Members: next.Members}
	members, was := memberCursor{s: nextMembers}, nodeCursor{list: prev.Unreachable}
	if sameNodes(prev.Unreachable, next.Unreachable) {
		// The very list: no node became unreachable or reachable.
		next.Unreachable, prev.Unreachable = nil, nil
	}
	for _, u := range next.Unreachable {
		// A Down member's reachability no longer matters: its observers
		// drop it at different times, and it would flicker in and out.
		i, ok := members.index(u)
		if ok && nextMembers.Members[i].Status != Down && !was.contains(u) {
			out = append(out, Event{Type: UnreachableMember, At: at, Seq: next.Seq, Member: nextMembers.Members[i].Clone()})
		}
	}
	members, is := memberCursor{s: nextMembers}, nodeCursor{list: next.Unreachable}
	for _, u := range prev.Unreachable {
		if !is.contains(u) {
			if i, ok := members.index(u); ok && nextMembers.Members[i].Status != Down {
				out = append(out, Event{Type: ReachableMember, At: at, Seq: next.Seq, Member: nextMembers.Members[i].Clone()})
			}
		}
	}
	if prev.Leader != next.Leader || prev.HasLeader != next.HasLeader {
		out = append(out, Event{Type: LeaderChanged, At: at, Seq: next.Seq, Leader: next.Leader, HasLeader: next.HasLeader})
	}
	if !sameAllocations(prev.ShardAllocations, next.ShardAllocations) {
		out = appendAllocationDiff(out, prev.ShardAllocations, next.ShardAllocations, at, next.Seq)
	}
	if sameEntries(prev.Registry, next.Registry) {
		return out
	}
	if keys := changedKeys(prev.Registry, next.Registry); len(keys) > 0 {
		out = append(out, Event{Type: RegistryChanged, At: at, Seq: next.Seq, Keys: keys})
	}
	return out
}

// diffAllocations emits one ShardsMoved per type whose placements changed,
// in type order, listing the changed shard ids.
func diffAllocations(prev, next []TypeAllocation, at time.Time, seq uint64) []Event {
	return appendAllocationDiff(nil, prev, next, at, seq)
}

// appendAllocationDiff appends diffAllocations(prev, next, at, seq) to out.
func appendAllocationDiff(out []Event, prev, next []TypeAllocation, at time.Time, seq uint64) []Event {
	// Tables are sorted by type name: one walk finds prev's table of
	// each type of next. Only lists out of order are looked up by name.
	var old map[string]TypeAllocation
	if !strictlySortedTables(prev) || !strictlySortedTables(next) {
		old = map[string]TypeAllocation{}
		for _, t := range prev {
			old[t.Type.Name] = t
		}
	}
	k := 0 // where in prev the next type's table is, if it has one
	for _, t := range next {
		var p TypeAllocation
		if old != nil {
			p = old[t.Type.Name]
		} else {
			for k < len(prev) && prev[k].Type.Name < t.Type.Name {
				k++
			}
			if k < len(prev) && prev[k].Type.Name == t.Type.Name {
				p = prev[k]
			}
		}
		if sameTable(p, t) {
			continue // the very table: nothing moved
		}
		var moved []int
		for i, a := range t.Shards {
			if i >= len(p.Shards) || p.Shards[i].Primary != a.Primary || !nodesEqual(p.Shards[i].Replicas, a.Replicas) {
				if moved == nil {
					moved = make([]int, 0, len(t.Shards)-i) // room for the rest: one allocation
				}
				moved = append(moved, i)
			}
		}
		if len(moved) > 0 {
			out = append(out, Event{Type: ShardsMoved, At: at, Seq: seq, ShardType: t.Type.Name, Shards: moved})
		}
	}
	return out
}

// strictlySortedTables reports whether tables are in strictly increasing
// type name order.
func strictlySortedTables(tables []TypeAllocation) bool {
	for i := 1; i < len(tables); i++ {
		if tables[i-1].Type.Name >= tables[i].Type.Name {
			return false
		}
	}
	return true
}

// changedKeys lists, sorted, the keys whose entries differ between two
// registries sorted as flattenRegistry sorts them (by key, node, path). It
// walks both at once: an entry only one side has changes its key.
func changedKeys(prev, next []ServiceEntry) []string {
	out := []string{}
	changed := func(key string) {
		if len(out) == 0 || out[len(out)-1] != key {
			out = append(out, key)
		}
	}
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next):
			changed(prev[i].Key)
			i++
		case i == len(prev):
			changed(next[j].Key)
			j++
		case prev[i] == next[j]:
			i++
			j++
		case compareFlat(prev[i], next[j]) < 0:
			changed(prev[i].Key)
			i++
		default:
			changed(next[j].Key)
			j++
		}
	}
	return out
}
