package proto

import (
	"errors"
	"fmt"
)

// Limits on what a node accepts from the network. They bound memory and
// work per message; a state over them is dropped and counted.
const (
	MaxMembers      = 100_000
	MaxClockEntries = 2 * MaxMembers
	MaxRoles        = 64
	MaxNameLen      = 256
)

// ErrInvalidState reports a malformed gossip state.
var ErrInvalidState = errors.New("proto: invalid state")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidState}, args...)...)
}

// validateClock checks a vector clock from the network.
func validateClock(v VClock) error {
	if len(v) > MaxClockEntries {
		return invalid("clock has %d entries, limit %d", len(v), MaxClockEntries)
	}
	for k, c := range v {
		if c == 0 || k.UID == 0 {
			return invalid("clock entry %v=%d", k, c)
		}
	}
	return nil
}

// ValidateState checks that a state from the network is well formed: sizes
// within limits, members sorted and unique with valid non-Removed statuses
// and non-zero UIDs, seen set and reachability sorted. It never panics.
func ValidateState(s *State) error { return validateState(s) }

func validateState(s *State) error { return validateStateKnowing(s, nil, false) }

// ValidateStateSince returns what ValidateState(s) returns, given prev, a
// state that passed ValidateState (nil for none): the parts of s that are
// the very parts of prev (the same slice or map, which never change once
// in a state) are not walked again, only held against the parts that
// changed (their lengths against the member count). States that share
// most of their parts with their predecessor cost only what changed.
func ValidateStateSince(s, prev *State) error {
	if prev == nil {
		return validateState(s)
	}
	return validateStateSince(s, prev, nil)
}

// ValidationCache remembers parts of states that passed validation (the
// last few clocks, member lists, seen sets, reachability tables,
// allocation tables, registries and registry rows, by identity), so that
// ValidateStateCached skips the own checks of a part found valid before
// in any state, not only in the predecessor. The zero value is empty and
// ready. It holds the parts it remembers (their memory is not reused
// while remembered); it is not safe for concurrent use: keep one per
// stream of states, such as one per node whose states are checked.
type ValidationCache struct{ memo validMemo }

// ValidateStateCached returns what ValidateState(s) returns, given prev,
// a state that passed ValidateState (nil for none), as ValidateStateSince
// does, and c (nil for none), which it consults and fills: parts of s
// that c holds are only held against the rest of s.
func ValidateStateCached(s, prev *State, c *ValidationCache) error {
	if c == nil {
		return ValidateStateSince(s, prev)
	}
	if prev == nil {
		prev = &State{}
	}
	return validateStateSince(s, prev, &c.memo)
}

// validMemo remembers the last parts of states that passed validation
// (clocks, member lists, seen sets, reachability tables, allocation
// tables, registries): a part's own checks do not depend on the rest of
// the state, so a part found valid needs only the checks that hold it
// against the rest (lengths against the member count, tables' epochs
// against the state's). Parts are named by identity and never change once
// in a state; the memo holds them, so that their memory cannot be reused
// while they are remembered.
type validMemo struct {
	clocks [validClocks]VClock
	next   int

	members  partMemo[Member]
	seen     partMemo[UniqueAddress]
	rows     partMemo[ObserverRow]
	registry partMemo[RegistryRow]
	tables   partMemo[TypeAllocation]
	// tableEpochs[i] is the allocation epoch tables.parts[i] was found
	// valid under; a higher one only relaxes the check.
	tableEpochs [validParts]Epoch
	// The last registry rows (owner and entry list) found valid: a row's
	// checks depend on those alone, and rows travel between registries.
	entries     [validEntryLists]RegistryRow
	entriesNext int
}

// validEntryLists is how many registry rows a validMemo remembers.
const validEntryLists = 16

// entriesValid reports whether the memo holds r's owner with r's very
// entry list.
func (m *validMemo) entriesValid(r *RegistryRow) bool {
	if m == nil || len(r.Entries) == 0 {
		return false
	}
	for i := range m.entries {
		if e := &m.entries[i]; sameEntries(e.Entries, r.Entries) && len(e.Entries) > 0 && e.Owner == r.Owner {
			return true
		}
	}
	return false
}

func (m *validMemo) addEntries(r *RegistryRow) {
	if m == nil || len(r.Entries) == 0 {
		return
	}
	m.entries[m.entriesNext] = RegistryRow{Owner: r.Owner, Entries: r.Entries}
	m.entriesNext = (m.entriesNext + 1) % validEntryLists
}

const (
	validClocks = 4
	validParts  = 4
)

func (m *validMemo) clockValid(v VClock) bool {
	if m == nil || v == nil {
		return false
	}
	for _, c := range m.clocks {
		if c != nil && sameClock(c, v) {
			return true
		}
	}
	return false
}

func (m *validMemo) addClock(v VClock) {
	if m == nil || v == nil {
		return
	}
	m.clocks[m.next] = v
	m.next = (m.next + 1) % validClocks
}

// tablesValid reports whether tables were found valid under an
// allocation epoch no higher than epoch.
func (m *validMemo) tablesValid(tables []TypeAllocation, epoch Epoch) bool {
	if m == nil {
		return false
	}
	i := m.tables.index(tables)
	return i >= 0 && m.tableEpochs[i] <= epoch
}

func (m *validMemo) addTables(tables []TypeAllocation, epoch Epoch) {
	if m == nil || len(tables) == 0 {
		return
	}
	m.tableEpochs[m.tables.next] = epoch
	m.tables.add(tables)
}

// partMemo remembers the last validParts non-empty lists of one kind
// found valid.
type partMemo[E any] struct {
	parts [validParts][]E
	next  int
}

// index is where the memo holds list (the same slice), or -1.
func (m *partMemo[E]) index(list []E) int {
	if len(list) == 0 {
		return -1
	}
	for i, p := range m.parts {
		if len(p) == len(list) && &p[0] == &list[0] {
			return i
		}
	}
	return -1
}

func (m *partMemo[E]) add(list []E) {
	if len(list) == 0 {
		return
	}
	m.parts[m.next] = list
	m.next = (m.next + 1) % validParts
}

// The memo's parts by kind; a nil memo holds none and keeps none.
func (m *validMemo) membersValid(ms []Member) bool {
	return m != nil && m.members.index(ms) >= 0
}

func (m *validMemo) seenValid(seen []UniqueAddress) bool {
	return m != nil && m.seen.index(seen) >= 0
}

func (m *validMemo) rowsValid(rows []ObserverRow) bool {
	return m != nil && m.rows.index(rows) >= 0
}

func (m *validMemo) registryValid(rows []RegistryRow) bool {
	return m != nil && m.registry.index(rows) >= 0
}

func (m *validMemo) addMembers(ms []Member) {
	if m != nil {
		m.members.add(ms)
	}
}

func (m *validMemo) addSeen(seen []UniqueAddress) {
	if m != nil {
		m.seen.add(seen)
	}
}

func (m *validMemo) addRows(rows []ObserverRow) {
	if m != nil {
		m.rows.add(rows)
	}
}

func (m *validMemo) addRegistry(rows []RegistryRow) {
	if m != nil {
		m.registry.add(rows)
	}
}

// validateStateSince is validateStateKnowing(s, prev.Members, true),
// given a valid prev whose parts s may share, and what vm (nil for
// nothing) remembers of parts found valid before.
func validateStateSince(s, prev *State, vm *validMemo) error {
	if s == nil {
		return invalid("nil state")
	}
	if len(s.Members) > MaxMembers {
		return invalid("%d members, limit %d", len(s.Members), MaxMembers)
	}
	if !sameClock(s.Version, prev.Version) && !vm.clockValid(s.Version) {
		if err := validateClock(s.Version); err != nil {
			return err
		}
		vm.addClock(s.Version)
	}
	if !sameMembers(prev.Members, s.Members) && !vm.membersValid(s.Members) {
		if err := validateMembersKnowing(s.Members, prev.Members); err != nil {
			return err
		}
		vm.addMembers(s.Members)
	}
	if len(s.Seen) > len(s.Members) {
		return invalid("seen set larger than members")
	}
	if !sameNodes(prev.Seen, s.Seen) && !vm.seenValid(s.Seen) {
		if !strictlySortedAlong(s.Seen, s.Members) {
			return invalid("seen set not sorted")
		}
		vm.addSeen(s.Seen)
	}
	if len(s.Reachability.Rows) > len(s.Members) {
		return invalid("more reachability rows than members")
	}
	if sameRows(prev.Reachability.Rows, s.Reachability.Rows) || vm.rowsValid(s.Reachability.Rows) {
		// Sorted as they were: only their lengths meet a new member
		// count (prev's rows passed against prev's members).
		if len(s.Members) < len(prev.Members) || !sameRows(prev.Reachability.Rows, s.Reachability.Rows) {
			for _, row := range s.Reachability.Rows {
				if len(row.Unreachable) > len(s.Members) {
					return invalid("reachability row too long")
				}
			}
		}
	} else {
		if err := validateRows(s, prev.Reachability.Rows); err != nil {
			return err
		}
		vm.addRows(s.Reachability.Rows)
	}
	if len(s.Tombstones) > MaxMembers {
		return invalid("%d tombstones, limit %d", len(s.Tombstones), MaxMembers)
	}
	// A table's epoch is checked against the state's, which never lowers
	// it when the tables are prev's.
	if (!sameAllocations(prev.Allocations, s.Allocations) || s.AllocationEpoch < prev.AllocationEpoch) &&
		!vm.tablesValid(s.Allocations, s.AllocationEpoch) {
		if err := validateAllocationsKnowing(s, prev.Allocations); err != nil {
			return err
		}
		vm.addTables(s.Allocations, s.AllocationEpoch)
	}
	if sameRegistry(prev.Registry, s.Registry) || vm.registryValid(s.Registry) {
		if len(s.Registry) > len(s.Members) {
			return invalid("more registry rows than members")
		}
		return nil
	}
	if err := validateRegistryWith(s, vm); err != nil {
		return err
	}
	vm.addRegistry(s.Registry)
	return nil
}

// validateStateKnowing is validateState, except that it skips the checks of
// the members when s.Members is the slice known, which has passed them
// before (a slice's contents never change once it is in a state), and
// otherwise uses known to skip the order checks it has already made (see
// validateMembersKnowing). known is ignored unless haveKnown.
func validateStateKnowing(s *State, known []Member, haveKnown bool) error {
	if s == nil {
		return invalid("nil state")
	}
	if len(s.Members) > MaxMembers {
		return invalid("%d members, limit %d", len(s.Members), MaxMembers)
	}
	if err := validateClock(s.Version); err != nil {
		return err
	}
	if !haveKnown {
		known = nil
	}
	if !haveKnown || !sameMembers(known, s.Members) {
		if err := validateMembersKnowing(s.Members, known); err != nil {
			return err
		}
	}
	if len(s.Seen) > len(s.Members) {
		return invalid("seen set larger than members")
	}
	// The members are strictly sorted by now.
	if !strictlySortedAlong(s.Seen, s.Members) {
		return invalid("seen set not sorted")
	}
	if len(s.Reachability.Rows) > len(s.Members) {
		return invalid("more reachability rows than members")
	}
	if err := validateRows(s, nil); err != nil {
		return err
	}
	if len(s.Tombstones) > MaxMembers {
		return invalid("%d tombstones, limit %d", len(s.Tombstones), MaxMembers)
	}
	if err := validateAllocations(s); err != nil {
		return err
	}
	return validateRegistry(s)
}

// validateRows checks the reachability rows of a state whose members have
// passed validation: sorted by observer, each list sorted and no longer
// than the member list. A list that a valid table prev (nil for none)
// holds for the same observer is sorted already.
func validateRows(s *State, prev []ObserverRow) error {
	observers := sortedWalk{ref: s.Members}
	k := 0 // where in prev to look for the next observer
	for _, row := range s.Reachability.Rows {
		if _, sorted := observers.add(row.Observer); !sorted {
			return invalid("reachability rows not sorted")
		}
		if len(row.Unreachable) > len(s.Members) {
			return invalid("reachability row too long")
		}
		if heldList(prev, &k, row) {
			continue
		}
		if !strictlySortedList(row.Unreachable, s.Members) {
			return invalid("reachability row of %v not sorted", row.Observer)
		}
	}
	return nil
}

func validateMembers(members []Member) error { return validateMembersKnowing(members, nil) }

// validateMembersKnowing is validateMembers given a strictly sorted member
// list known (nil for none). Two consecutive members whose nodes stand in
// known in the same order are in order, since known is: their addresses
// need no parsing. Successive states mostly share their members, so the
// order checks left are those around members that changed place.
func validateMembersKnowing(members, known []Member) error {
	order := sortedWalk{ref: known}
	for i := range members {
		m := &members[i]
		if m.Node.UID == 0 || m.Node.Host == "" || len(m.Node.Host) > MaxNameLen {
			return invalid("member %d has a bad address %v", i, m.Node)
		}
		if !m.Status.Valid() || m.Status == Removed {
			return invalid("member %v has status %v", m.Node, m.Status)
		}
		at, sorted := order.add(m.Node)
		if !sorted {
			return invalid("members not sorted at %v", m.Node)
		}
		if len(m.ID) > MaxNameLen || len(m.Roles) > MaxRoles || m.UpNumber < 0 {
			return invalid("member %v has a bad id, roles or up number", m.Node)
		}
		if at >= 0 && sameStrings(m.Roles, known[at].Roles) && sameShardTypes(m.Hosts, known[at].Hosts) {
			continue // the lists known[at] holds, checked before
		}
		for j, r := range m.Roles {
			if r == "" || len(r) > MaxNameLen || (j > 0 && m.Roles[j-1] >= r) {
				return invalid("member %v has bad roles", m.Node)
			}
		}
		if len(m.Hosts) > MaxShardTypes {
			return invalid("member %v hosts %d types, limit %d", m.Node, len(m.Hosts), MaxShardTypes)
		}
		for j, t := range m.Hosts {
			if !t.valid() || (j > 0 && m.Hosts[j-1].Name >= t.Name) {
				return invalid("member %v has bad shard declarations", m.Node)
			}
		}
	}
	return nil
}

// sortedWalk checks, one node at a time, that a list is strictly sorted.
// Two neighbours that stand in ref, a strictly sorted member list, in the
// same order are in order without comparing (and so parsing) their
// addresses: lists in successive states mostly share their nodes.
type sortedWalk struct {
	ref        []Member
	next       int           // where in ref to look for the next node
	prevAt     int           // index in ref of the previous node, or -1
	prevNode   UniqueAddress // the previous node
	prev       nodeKey       // keyOf(prevNode), when prevParsed
	prevParsed bool
	started    bool
}

// add takes the next node of the list and reports whether it sorts after
// the previous one, and where it stands in ref (-1 if it was not found
// among the few nodes after the previous one found).
func (w *sortedWalk) add(u UniqueAddress) (at int, sorted bool) {
	at = -1
	for j := w.next; j < len(w.ref) && j < w.next+cursorProbe; j++ {
		if w.ref[j].Node.UID == u.UID && w.ref[j].Node == u {
			at, w.next = j, j+1
			break
		}
	}
	switch {
	case !w.started:
		w.started, w.prevParsed = true, false
	case w.prevAt >= 0 && at >= 0:
		// prevAt < at: at is searched after prevAt.
		w.prevParsed = false
	default:
		if !w.prevParsed {
			w.prev = keyOf(w.prevNode)
		}
		k := keyOf(u)
		if compareKeys(&w.prev, &k) >= 0 {
			return at, false
		}
		w.prev, w.prevParsed = k, true
	}
	w.prevAt, w.prevNode = at, u
	return at, true
}

// heldList reports whether prev, a table in observer order, holds row's
// very list for its observer, looking from prev[*k] on for a few rows.
func heldList(prev []ObserverRow, k *int, row ObserverRow) bool {
	for j := *k; j < len(prev) && j < *k+cursorProbe; j++ {
		if prev[j].Observer == row.Observer {
			*k = j + 1
			return sameNodes(prev[j].Unreachable, row.Unreachable)
		}
	}
	return false
}

// strictlySortedList is strictlySortedAlong(list, members), comparing
// neighbours by their parsed addresses when list is sparse among the
// members: probing the members after each node would mostly miss.
func strictlySortedList(list []UniqueAddress, members []Member) bool {
	if len(list)*cursorProbe >= len(members) {
		return strictlySortedAlong(list, members)
	}
	var prev nodeKey
	for i := range list {
		k := keyOf(list[i])
		if i > 0 && compareKeys(&prev, &k) >= 0 {
			return false
		}
		prev = k
	}
	return true
}

// strictlySortedAlong reports whether list is sorted in address order
// without duplicates, given a strictly sorted member list that list's nodes
// mostly come from.
func strictlySortedAlong(list []UniqueAddress, members []Member) bool {
	w := sortedWalk{ref: members}
	for _, u := range list {
		if _, ok := w.add(u); !ok {
			return false
		}
	}
	return true
}

func validateAllocations(s *State) error { return validateAllocationsKnowing(s, nil) }

// validateAllocationsKnowing is validateAllocations given the tables of a
// valid state (known, nil for none): a table that is the very table known
// holds (the same type, epoch and shards) passed every check of its own
// and meets only those against the rest of s.
func validateAllocationsKnowing(s *State, known []TypeAllocation) error {
	if len(s.Allocations) > MaxShardTypes {
		return invalid("%d shard types, limit %d", len(s.Allocations), MaxShardTypes)
	}
	for i, t := range s.Allocations {
		held := i < len(known) && sameTable(known[i], t)
		if !held {
			if err := t.Type.Validate(); err != nil {
				return invalid("allocation table %d: %v", i, err)
			}
		}
		if i > 0 && s.Allocations[i-1].Type.Name >= t.Type.Name {
			return invalid("allocation tables not sorted at %q", t.Type.Name)
		}
		if len(t.Shards) != t.Type.Shards || t.Epoch > s.AllocationEpoch {
			return invalid("allocation table %q has %d shards (want %d) or epoch %d above %d",
				t.Type.Name, len(t.Shards), t.Type.Shards, t.Epoch, s.AllocationEpoch)
		}
		if held {
			continue
		}
		for id, a := range t.Shards {
			if len(a.Replicas) > MaxReplicas || a.Epoch > t.Epoch {
				return invalid("shard %q/%d has too many replicas or a future epoch", t.Type.Name, id)
			}
			if a.Primary == (UniqueAddress{}) && len(a.Replicas) > 0 {
				return invalid("shard %q/%d has replicas but no primary", t.Type.Name, id)
			}
			for k, r := range a.Replicas {
				if r == a.Primary || r.UID == 0 || containsNodeUnsorted(a.Replicas[:k], r) {
					return invalid("shard %q/%d has a bad replica %v", t.Type.Name, id, r)
				}
			}
		}
	}
	return nil
}

// validateRegistry checks the registry of a state whose members have
// passed validation (their order vouches for the owners' order).
func validateRegistry(s *State) error { return validateRegistryWith(s, nil) }

// validateRegistryWith is validateRegistry, skipping the entry checks of
// rows vm (nil for none) found valid before and remembering the rows it
// finds valid.
func validateRegistryWith(s *State, vm *validMemo) error {
	if len(s.Registry) > len(s.Members) {
		return invalid("more registry rows than members")
	}
	owners := sortedWalk{ref: s.Members}
	for k := range s.Registry {
		r := &s.Registry[k]
		if _, sorted := owners.add(r.Owner); !sorted {
			return invalid("registry rows not sorted at %v", r.Owner)
		}
		if len(r.Entries) > MaxEntriesPerOwner {
			return invalid("owner %v has %d entries, limit %d", r.Owner, len(r.Entries), MaxEntriesPerOwner)
		}
		if vm.entriesValid(r) {
			continue
		}
		for j, e := range r.Entries {
			if e.Node != r.Owner || validEntry(e.Key, e.Path) != nil || (j > 0 && !entryLess(r.Entries[j-1], e)) {
				return invalid("owner %v has a bad entry %q", r.Owner, e.Key)
			}
		}
		vm.addEntries(r)
	}
	return nil
}
