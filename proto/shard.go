package proto

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Epoch is the allocation epoch: a cluster-wide counter the leader raises
// on every allocation change. A ShardAllocation carries the epoch at which
// its primary was assigned, a fencing token: of two nodes that both believe
// they are primary for a shard, the one with the higher epoch is right.
type Epoch uint64

// ShardType is what a node declares it can host: a named set of Shards
// shards, each with one primary and up to Replicas replicas.
type ShardType struct {
	Name     string
	Shards   int
	Replicas int
}

// Limits on shard declarations.
const (
	MaxShardTypes    = 64
	MaxShardsPerType = 65536
	MaxReplicas      = 16
)

// ErrBadShardType reports an invalid shard type declaration.
var ErrBadShardType = errors.New("proto: bad shard type")

// valid reports whether Validate finds nothing wrong, without building
// the errors: validation of gossiped states runs it for every declaration.
func (t ShardType) valid() bool {
	return t.Name != "" && len(t.Name) <= MaxNameLen && t.Shards >= 1 && t.Shards <= MaxShardsPerType &&
		t.Replicas >= 0 && t.Replicas <= MaxReplicas
}

// Validate checks a shard type declaration.
func (t ShardType) Validate() error {
	var errs []error
	if t.Name == "" || len(t.Name) > MaxNameLen {
		errs = append(errs, fmt.Errorf("%w: name %q must be 1-%d bytes", ErrBadShardType, t.Name, MaxNameLen))
	}
	if t.Shards < 1 || t.Shards > MaxShardsPerType {
		errs = append(errs, fmt.Errorf("%w: %q: Shards must be in 1..%d, got %d", ErrBadShardType, t.Name, MaxShardsPerType, t.Shards))
	}
	if t.Replicas < 0 || t.Replicas > MaxReplicas {
		errs = append(errs, fmt.Errorf("%w: %q: Replicas must be in 0..%d, got %d", ErrBadShardType, t.Name, MaxReplicas, t.Replicas))
	}
	return errors.Join(errs...)
}

// ShardAllocation places one shard: its primary, its replicas (distinct,
// never the primary) and the epoch at which the primary was assigned.
type ShardAllocation struct {
	Primary  UniqueAddress
	Replicas []UniqueAddress
	Epoch    Epoch
}

// TypeAllocation is the allocation table of one shard type.
//
// Invariant: len(Shards) == Type.Shards; a shard with a zero Primary is
// unallocated (no eligible member).
type TypeAllocation struct {
	Type ShardType
	// Epoch is the allocation epoch of this table's last change. Tables
	// merge type by type: the higher Epoch wins, so no type's table is ever
	// lost to another type's change (casty's single shared epoch lost them).
	Epoch  Epoch
	Shards []ShardAllocation
}

// Clone returns a deep copy.
func (t TypeAllocation) Clone() TypeAllocation {
	out := t
	out.Shards = make([]ShardAllocation, len(t.Shards))
	for i, a := range t.Shards {
		a.Replicas = append([]UniqueAddress(nil), a.Replicas...)
		out.Shards[i] = a
	}
	return out
}

func cloneAllocations(in []TypeAllocation) []TypeAllocation {
	if in == nil {
		return nil
	}
	out := make([]TypeAllocation, len(in))
	for i, t := range in {
		out[i] = t.Clone()
	}
	return out
}

func allocationEqual(a, b ShardAllocation) bool {
	return a.Primary == b.Primary && a.Epoch == b.Epoch && nodesEqual(a.Replicas, b.Replicas)
}

func typeAllocationEqual(a, b TypeAllocation) bool {
	if a.Type != b.Type || a.Epoch != b.Epoch || len(a.Shards) != len(b.Shards) {
		return false
	}
	for i := range a.Shards {
		if !allocationEqual(a.Shards[i], b.Shards[i]) {
			return false
		}
	}
	return true
}

func allocationsEqual(a, b []TypeAllocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameTable(a[i], b[i]) && !typeAllocationEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// compareTypeAllocation orders two tables of one type for the merge: by
// Epoch, then (equal epochs with different content, which only a
// misbehaving leader produces) by a content hash, so that the merge stays
// a deterministic lattice join.
func compareTypeAllocation(a, b TypeAllocation) int {
	if a.Epoch != b.Epoch {
		if a.Epoch < b.Epoch {
			return -1
		}
		return 1
	}
	if typeAllocationEqual(a, b) {
		return 0 // equal hashes; checking is cheaper than hashing
	}
	ha, hb := typeAllocationHash(a), typeAllocationHash(b)
	switch {
	case ha < hb:
		return -1
	case ha > hb:
		return 1
	}
	return 0
}

func typeAllocationHash(t TypeAllocation) uint64 {
	h := newHasher()
	h.addString(t.Type.Name)
	h.addUint(uint64(t.Type.Shards))
	h.addUint(uint64(t.Type.Replicas))
	for _, a := range t.Shards {
		h.addNode(a.Primary)
		h.addUint(uint64(a.Epoch))
		h.addUint(uint64(len(a.Replicas)))
		for _, r := range a.Replicas {
			h.addNode(r)
		}
	}
	return h.sum
}

// mergeAllocations joins two allocation lists type by type. The result is
// in the form cloneAllocations gives: a or b itself when the join is that
// list and the list already has that form, otherwise a new list holding the
// inputs' own tables where they have that form (states never modify their
// tables, so they may share them).
func mergeAllocations(a, b []TypeAllocation) []TypeAllocation { return mergeAllocationsWith(a, b, nil) }

// mergeAllocationsWith is mergeAllocations, asking kc (nil for none)
// whether the inputs have cloneAllocations' form.
func mergeAllocationsWith(a, b []TypeAllocation, kc *keyCache) []TypeAllocation {
	if out, ok := joinAlignedTables(a, b, kc); ok {
		return out
	}
	out := joinSorted(a, b,
		func(x, y TypeAllocation) int { return strings.Compare(x.Type.Name, y.Type.Name) },
		same[TypeAllocation],
		func(x, y TypeAllocation) TypeAllocation {
			if sameTable(x, y) || compareTypeAllocation(x, y) >= 0 {
				return x
			}
			return y
		})
	switch {
	case len(out) > 0 && sameTables(out, a) && kc.allocationsNormal(a):
		return a
	case len(out) > 0 && sameTables(out, b) && kc.allocationsNormal(b):
		return b
	}
	// Tables are never written in place (writers clone them first), so
	// the result shares the tables already in cloned form.
	for i := range out {
		if !allocationsNormal(out[i : i+1]) {
			out[i] = out[i].Clone()
		}
	}
	return out
}

// joinAlignedTables is mergeAllocations for lists of the same types in
// the same places, when their join is a or b without being built: table
// by table the one the join keeps is the same table as that list's. It
// reports false when the join must be built to decide.
func joinAlignedTables(a, b []TypeAllocation, kc *keyCache) ([]TypeAllocation, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return nil, false
	}
	fromA, fromB := true, true
	for i := range a {
		x, y := &a[i], &b[i]
		switch {
		case x.Type.Name != y.Type.Name:
			return nil, false
		case sameTable(*x, *y):
			// The join keeps x, the same table as both.
		case compareTypeAllocation(*x, *y) >= 0:
			fromB = false // the join keeps x, which is not b's table
		default:
			fromA = false
		}
		if !fromA && !fromB {
			return nil, false
		}
	}
	switch {
	case fromA && kc.allocationsNormal(a):
		return a, true
	case fromB && kc.allocationsNormal(b):
		return b, true
	}
	return nil, false
}

// sameTable reports whether x and y are the same table: equal type and
// epoch and the same Shards slice, which implies equal contents.
func sameTable(x, y TypeAllocation) bool {
	return x.Type == y.Type && x.Epoch == y.Epoch && len(x.Shards) == len(y.Shards) &&
		(len(x.Shards) == 0 || &x.Shards[0] == &y.Shards[0])
}

// sameTables reports whether a and b hold the same tables (sameTable)
// in the same order.
func sameTables(a, b []TypeAllocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameTable(a[i], b[i]) {
			return false
		}
	}
	return true
}

// ShardOf maps an entity id to a shard in [0, shards). The hash is 64-bit
// FNV-1a over the id's bytes, finished with MurmurHash3's fmix64 so that
// short ids that differ in one byte spread over all shards, then reduced
// with Lemire's multiply-shift (no modulo bias worth the name). Every step
// is defined on bytes and fixed-width integers, so the mapping is the same
// on every platform and must never change between versions: a change would
// move every entity. It returns 0 when shards < 1.
func ShardOf(entityID string, shards int) int {
	if shards < 1 {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(entityID); i++ {
		h ^= uint64(entityID[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	hi, _ := mul64(h, uint64(shards))
	return int(hi)
}

// mul64 returns the 128-bit product of x and y as (hi, lo).
func mul64(x, y uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	x0, x1 := x&mask32, x>>32
	y0, y1 := y&mask32, y>>32
	w0 := x0 * y0
	t := x1*y0 + w0>>32
	w1 := t & mask32
	w2 := t >> 32
	w1 += x0 * y1
	hi = x1*y1 + w2 + w1>>32
	lo = x * y
	return
}

// Allocate computes the next allocation tables, a pure function of its
// inputs: the current tables, the declared types, the eligible hosts of
// each type in address order, the next epoch and the move budget. It
// returns the new tables and whether anything changed.
//
// Per type, in order: (1) a shard whose primary is no longer eligible gets
// its first eligible replica promoted, or else a new primary; (2) replicas
// that are no longer eligible are dropped; (3) unallocated shards get a
// primary; (4) primaries move from the most to the least loaded host, at
// most maxMoves per call over all types, until counts differ by at most
// one; (5) replicas are refilled up to min(Replicas, hosts-1). Choices go
// to the fewest primaries (for primaries) or fewest replicas (for replicas),
// ties to the lowest address. Every shard whose primary changes takes the
// new epoch.
func Allocate(current []TypeAllocation, types []ShardType, hosts map[string][]UniqueAddress, next Epoch, maxMoves int) ([]TypeAllocation, bool) {
	out, changed, _ := allocate(current, types, hosts, next, maxMoves)
	return out, changed
}

// allocate is Allocate that also reports whether the result is a fixed
// point: whether Allocate, given the result as the current tables and the
// same types, hosts and move budget, changes nothing (with any epoch).
// That is so when this call did not use up its move budget: every type
// then ends balanced, every shard with hosts has a primary and as many
// replicas as it can, all of them eligible, and nothing is left to clear.
func allocate(current []TypeAllocation, types []ShardType, hosts map[string][]UniqueAddress, next Epoch, maxMoves int) ([]TypeAllocation, bool, bool) {
	sorted := append([]ShardType(nil), types...)
	if len(sorted) <= sortInsertionMax {
		sortShardTypes(sorted)
	} else {
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	}
	lists := make([][]UniqueAddress, len(sorted))
	for i, t := range sorted {
		lists[i] = hosts[t.Name]
	}
	return allocateSorted(nil, current, sorted, lists, next, maxMoves)
}

// allocScratch is the working memory a node lends allocateSorted and
// shardInputsInto between calls, so that a leader that allocates on every
// change of its converged state builds its tables in place and allocates
// only the tables that change.
type allocScratch struct {
	types []ShardType
	decl  []int
	nodes []UniqueAddress   // the host lists' array
	lists [][]UniqueAddress // per type of types, its hosts

	gone   []bool           // per current table: its type was seen
	out    []TypeAllocation // the tables before they are copied out
	shards []ShardAllocation
	back   []UniqueAddress
	counts []int

	// stable holds, per type, the last current table allocateTypeIn
	// found stable and the hosts it was given then: for that table,
	// those hosts and the table's own type, it returns the table with
	// any next epoch and budget, moving nothing. Tables are never
	// modified, so one with the same Shards array is that table.
	stable []stableTable
}

type stableTable struct {
	table TypeAllocation
	hosts []UniqueAddress // own copy
}

// stableFor reports whether cur, with typ and hosts, is the table of its
// type found stable last.
func (sc *allocScratch) stableFor(cur TypeAllocation, typ ShardType, hosts []UniqueAddress) bool {
	for i := range sc.stable {
		st := &sc.stable[i]
		if st.table.Type.Name == typ.Name {
			return st.table.Type == typ && sameTable(st.table, cur) && len(cur.Shards) > 0 && nodesEqual(st.hosts, hosts)
		}
	}
	return false
}

// rememberStable records that allocateTypeIn found t stable for hosts.
func (sc *allocScratch) rememberStable(t TypeAllocation, hosts []UniqueAddress) {
	i := 0
	for i < len(sc.stable) && sc.stable[i].table.Type.Name != t.Type.Name {
		i++
	}
	if i == len(sc.stable) {
		sc.stable = append(sc.stable, stableTable{})
	}
	st := &sc.stable[i]
	st.table, st.hosts = t, append(st.hosts[:0], hosts...)
}

// allocateSorted is allocate for types sorted by name, hosts[i] being the
// hosts of types[i]. Given scratch (sc), it builds the tables in it and
// returns a table of current in place of an equal one it computed, and
// no tables at all when nothing changed (the caller needs none then);
// without scratch, every table it returns is new.
func allocateSorted(sc *allocScratch, current []TypeAllocation, sorted []ShardType, hosts [][]UniqueAddress, next Epoch, maxMoves int) ([]TypeAllocation, bool, bool) {
	// gone[j] is set once current[j]'s type was allocated: a later
	// declaration of that name finds no table, and the table is not left
	// over. A name's last table is its current one.
	var gone []bool
	var out []TypeAllocation
	if sc != nil {
		gone = growSlice(sc.gone, len(current))
		clear(gone)
		sc.gone = gone
		out = sc.out[:0]
	} else {
		gone = make([]bool, len(current))
	}
	changed := false
	moves := 0
	for i, typ := range sorted {
		var cur TypeAllocation
		had := false
		for j := range current {
			if current[j].Type.Name == typ.Name {
				if !gone[j] {
					cur, had = current[j], true
				}
				gone[j] = true
			}
		}
		var t TypeAllocation
		var same bool
		if sc != nil && had && sc.stableFor(cur, typ, hosts[i]) {
			t, same = cur, true // allocateTypeIn would return cur, moving nothing
		} else {
			var stable bool
			t, same, stable = allocateTypeIn(sc, cur, had, typ, hosts[i], next, maxMoves-moves, &moves)
			if sc != nil && stable && sameTable(t, cur) {
				sc.rememberStable(cur, hosts[i])
			}
		}
		if !same {
			changed = true
		}
		out = append(out, t)
	}
	// A type no member declares any more keeps its table, emptied: tables
	// merge type by type and cannot be deleted (a stale state would bring
	// them back), and a table naming holders that no longer host the type
	// would block their graceful leave for ever.
	for j, t := range current {
		if gone[j] {
			continue
		}
		// The table is cloned (which turns empty replica lists into nil
		// ones) unless scratch was given and the clone would equal it in
		// form.
		cleared, clone := false, sc == nil
		for i := range t.Shards {
			if t.Shards[i].Primary != (UniqueAddress{}) || len(t.Shards[i].Replicas) > 0 {
				cleared = true
			} else if t.Shards[i].Replicas != nil {
				clone = true
			}
		}
		if cleared || clone {
			t = t.Clone()
			for i := range t.Shards {
				if t.Shards[i].Primary != (UniqueAddress{}) || len(t.Shards[i].Replicas) > 0 {
					t.Shards[i] = ShardAllocation{}
				}
			}
		}
		if cleared {
			t.Epoch = next
			changed = true
		}
		out = append(out, t)
	}
	if len(out) <= sortInsertionMax {
		sortTablesByName(out)
	} else {
		sort.Slice(out, func(i, j int) bool { return out[i].Type.Name < out[j].Type.Name })
	}
	if sc != nil {
		sc.out = out
		if !changed {
			return nil, false, moves < maxMoves
		}
		out = append([]TypeAllocation(nil), out...)
		clear(sc.out) // keeps no table alive
	}
	return out, changed, moves < maxMoves
}

// growSlice returns s with length n, reusing its array when it has room.
func growSlice[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// sortInsertionMax is the longest list sort.Slice orders by insertion
// sort: up to this length, an insertion sort with the same comparison
// leaves any list (equal keys included) as sort.Slice does, without the
// reflection and allocation it costs.
const sortInsertionMax = 12

// sortTablesByName is sort.Slice of tables by type name, by insertion,
// for at most sortInsertionMax tables.
func sortTablesByName(ts []TypeAllocation) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Type.Name < ts[j-1].Type.Name; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// sameTableForm reports whether two tables are equal down to which of
// their lists are nil, so that one may stand for the other.
func sameTableForm(a, b TypeAllocation) bool {
	return typeAllocationEqual(a, b) && sameNilForm(a, b)
}

// sameNilForm reports whether two tables of as many shards have the same
// lists nil.
func sameNilForm(a, b TypeAllocation) bool {
	if (a.Shards == nil) != (b.Shards == nil) {
		return false
	}
	for i := range a.Shards {
		if (a.Shards[i].Replicas == nil) != (b.Shards[i].Replicas == nil) {
			return false
		}
	}
	return true
}

// reuseTables replaces, in next (the caller's own, sorted by type name),
// every table that equals the table of its type in current (sorted too)
// in form by that table itself, and returns next. States never modify
// their tables, so the next state may share the unchanged ones: states
// that share a table compare it in O(1).
func reuseTables(next, current []TypeAllocation) []TypeAllocation {
	j := 0
	for i := range next {
		for j < len(current) && current[j].Type.Name < next[i].Type.Name {
			j++
		}
		if j < len(current) && current[j].Type.Name == next[i].Type.Name && !sameTable(next[i], current[j]) && sameTableForm(next[i], current[j]) {
			next[i] = current[j]
		}
	}
	return next
}

func allocateType(cur TypeAllocation, had bool, typ ShardType, hosts []UniqueAddress, next Epoch, budget int, moves *int) TypeAllocation {
	t, _, _ := allocateTypeIn(nil, cur, had, typ, hosts, next, budget, moves)
	return t
}

// allocateTypeIn is allocateType that also reports whether the table
// equals cur (same: cur's type's table changes not) and whether it would
// with any next epoch and move budget (stable: it is the same, no
// primary moved and the budget allowed a move). Given scratch, it
// works in the scratch's arrays and then returns cur itself when the
// table equals it in form (sameTableForm), else a copy of the table that
// gives each shard's replicas exactly their length of one new array.
func allocateTypeIn(sc *allocScratch, cur TypeAllocation, had bool, typ ShardType, hosts []UniqueAddress, next Epoch, budget int, moves *int) (t TypeAllocation, same, stable bool) {
	var shards []ShardAllocation
	if sc != nil {
		shards = growSlice(sc.shards, typ.Shards)
		clear(shards)
		sc.shards = shards
	} else {
		shards = make([]ShardAllocation, typ.Shards)
	}
	t = TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: shards}
	movesBefore := *moves
	want := min(typ.Replicas, len(hosts)-1)
	kept := had && cur.Type == typ
	// Every shard's replicas live in its own slot of one array, room for
	// the replicas it has and for want: slot(i) is the slot's size. The
	// slices are capped at their slot's end, so no append reaches the
	// next one. A shard without replicas keeps a nil list until its
	// first replica is added.
	slot := func(i int) int {
		n := max(want, 0)
		if kept && i < len(cur.Shards) {
			n = max(n, len(cur.Shards[i].Replicas))
		}
		return n
	}
	total := 0
	for i := range t.Shards {
		total += slot(i)
	}
	var back []UniqueAddress
	if total > 0 && sc != nil {
		back = growSlice(sc.back, total)
		sc.back = back
	} else if total > 0 {
		back = make([]UniqueAddress, total)
	}
	if kept {
		off := 0
		for i, a := range cur.Shards {
			n := slot(i)
			if len(a.Replicas) > 0 {
				a.Replicas = back[off : off+copy(back[off:off+n], a.Replicas) : off+n]
			} else {
				a.Replicas = nil
			}
			off += n
			t.Shards[i] = a
		}
	}
	// Hosts come in address order: a short list without duplicates is
	// searched by equality (no address parsed), and counts are kept by
	// host position.
	byScan := len(hosts) <= hostScanMax && strictlySortedNodes(hosts)
	eligible := func(u UniqueAddress) bool {
		if byScan {
			return containsNodeUnsorted(hosts, u)
		}
		return containsNode(hosts, u)
	}
	var primaries, replicas *hostCounts
	if sc != nil && byScan {
		counts := growSlice(sc.counts, 2*len(hosts))
		clear(counts)
		sc.counts = counts
		primaries = &hostCounts{hosts: hosts, pos: counts[:len(hosts)]}
		replicas = &hostCounts{hosts: hosts, pos: counts[len(hosts):]}
	} else {
		primaries, replicas = newHostCounts(hosts, byScan), newHostCounts(hosts, byScan)
	}
	for i := range t.Shards {
		a := &t.Shards[i]
		kept := a.Replicas[:0]
		for _, r := range a.Replicas {
			if eligible(r) && r != a.Primary {
				kept = append(kept, r)
			}
		}
		a.Replicas = kept
		if a.Primary != (UniqueAddress{}) && !eligible(a.Primary) {
			a.Primary = UniqueAddress{}
			if len(a.Replicas) > 0 {
				a.Primary = a.Replicas[0]
				a.Replicas = a.Replicas[1:]
				a.Epoch = next
			}
		}
		if a.Primary != (UniqueAddress{}) {
			primaries.add(a.Primary, 1)
		}
		for _, r := range a.Replicas {
			replicas.add(r, 1)
		}
	}
	least := func(count *hostCounts, skip func(UniqueAddress) bool) (UniqueAddress, bool) {
		var best UniqueAddress
		found, bestCount := false, 0
		for i, h := range hosts { // address order: ties go to the lowest
			if skip(h) {
				continue
			}
			if c := count.at(i); !found || c < bestCount {
				best, found, bestCount = h, true, c
			}
		}
		return best, found
	}
	for i := range t.Shards {
		a := &t.Shards[i]
		if a.Primary != (UniqueAddress{}) {
			continue
		}
		p, ok := least(primaries, func(u UniqueAddress) bool { return false })
		if !ok {
			a.Replicas, a.Epoch = nil, 0
			continue
		}
		a.Primary, a.Epoch = p, next
		a.Replicas = removeNode(a.Replicas, p)
		primaries.add(p, 1)
	}
	for budget > 0 && len(hosts) > 1 {
		most, fewest := hosts[0], hosts[0]
		mostCount, fewestCount := primaries.at(0), primaries.at(0)
		for i, h := range hosts {
			if c := primaries.at(i); c > mostCount {
				most, mostCount = h, c
			}
			if c := primaries.at(i); c < fewestCount {
				fewest, fewestCount = h, c
			}
		}
		if mostCount-fewestCount <= 1 {
			break
		}
		for i := range t.Shards {
			a := &t.Shards[i]
			if a.Primary != most {
				continue
			}
			if containsNodeUnsorted(a.Replicas, fewest) {
				replicas.add(fewest, -1)
			}
			a.Replicas = removeNode(a.Replicas, fewest)
			a.Primary, a.Epoch = fewest, next
			primaries.add(most, -1)
			primaries.add(fewest, 1)
			break
		}
		*moves++
		budget--
	}
	off := 0
	for i := range t.Shards {
		a := &t.Shards[i]
		n := slot(i)
		off += n
		if a.Primary == (UniqueAddress{}) {
			continue
		}
		for len(a.Replicas) < want {
			r, ok := least(replicas, func(u UniqueAddress) bool { return u == a.Primary || containsNodeUnsorted(a.Replicas, u) })
			if !ok {
				break
			}
			if a.Replicas == nil {
				a.Replicas = back[off-n : off-n : off]
			}
			a.Replicas = append(a.Replicas, r)
			replicas.add(r, 1)
		}
		if len(a.Replicas) > want {
			for _, r := range a.Replicas[want:] {
				replicas.add(r, -1)
			}
			a.Replicas = a.Replicas[:want]
		}
	}
	same = had && typeAllocationEqual(TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: t.Shards}, cur)
	if !same {
		t.Epoch = next
	}
	// A table equal to cur took the next epoch only through moves: a
	// shard that gets a new primary in the first passes had none or an
	// ineligible one, so it differs from cur's. Without moves and with
	// budget left, the balancing stopped because the primaries were
	// balanced, as it then does with any budget.
	stable = same && budget > 0 && *moves == movesBefore
	if sc == nil {
		return t, same, stable
	}
	if same && sameNilForm(t, cur) {
		return cur, true, stable
	}
	return copyTable(t), same, stable
}

// copyTable is a copy of t (down to which lists are nil) whose shards'
// replicas lie in one new array, each list exactly as long as it is.
func copyTable(t TypeAllocation) TypeAllocation {
	shards := make([]ShardAllocation, len(t.Shards))
	copy(shards, t.Shards)
	total := 0
	for i := range shards {
		total += len(shards[i].Replicas)
	}
	var back []UniqueAddress
	if total > 0 {
		back = make([]UniqueAddress, total)
	}
	off := 0
	for i := range shards {
		switch r := shards[i].Replicas; {
		case r == nil:
		case len(r) == 0:
			shards[i].Replicas = []UniqueAddress{}
		default:
			shards[i].Replicas = back[off : off+copy(back[off:], r) : off+len(r)]
			off += len(r)
		}
	}
	t.Shards = shards
	return t
}

// hostScanMax is the most hosts allocateType searches by equality.
const hostScanMax = 16

// strictlySortedNodes reports whether list is in strictly increasing
// address order.
func strictlySortedNodes(list []UniqueAddress) bool {
	for i := 1; i < len(list); i++ {
		if list[i-1].Compare(list[i]) >= 0 {
			return false
		}
	}
	return true
}

// hostCounts counts shards per host of a list: by position when the
// hosts are distinct (byPos), else in a map. Every node counted is one of
// the hosts.
type hostCounts struct {
	hosts []UniqueAddress
	pos   []int
	m     map[UniqueAddress]int
}

func newHostCounts(hosts []UniqueAddress, byPos bool) *hostCounts {
	c := &hostCounts{hosts: hosts}
	if byPos {
		c.pos = make([]int, len(hosts))
		return c
	}
	c.m = make(map[UniqueAddress]int, len(hosts))
	for _, h := range hosts {
		c.m[h] = 0
	}
	return c
}

// at is the count of hosts[i].
func (c *hostCounts) at(i int) int {
	if c.m != nil {
		return c.m[c.hosts[i]]
	}
	return c.pos[i]
}

// add adds d to u's count.
func (c *hostCounts) add(u UniqueAddress, d int) {
	if c.m != nil {
		c.m[u] += d
		return
	}
	for i := range c.hosts {
		if sameNode(&c.hosts[i], &u) { // the UID rules most out cheaply
			c.pos[i] += d
			return
		}
	}
	panic("proto: invariant host-counts broken: a count for a node that is not a host")
}

func removeNode(list []UniqueAddress, u UniqueAddress) []UniqueAddress {
	out := list[:0]
	for i := range list {
		if !sameNode(&list[i], &u) {
			out = append(out, list[i])
		}
	}
	return out
}

// containsNodeUnsorted is containsNode for short lists kept in placement
// order (replica lists are ordered by promotion preference, not address).
func containsNodeUnsorted(list []UniqueAddress, u UniqueAddress) bool {
	for i := range list {
		if sameNode(&list[i], &u) { // the UID rules most out cheaply
			return true
		}
	}
	return false
}
