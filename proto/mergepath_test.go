package proto

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The merge of a gossip state takes shortcuts (a shared tombstone map, a
// clock left unpruned, remote's contents recognised without pruning a
// copy). These tests hold it against the full computation it replaced,
// kept here as naiveMerge.

// naiveMergeContentClock joins a and b as mergeContentClock did before its
// shortcuts: a fresh tombstone map, and every part pruned.
func naiveMergeContentClock(a, b *State, now time.Time, version VClock, kc *keyCache) *State {
	out := &State{
		Members:    mergeMembers(a.Members, b.Members),
		Version:    version,
		Tombstones: make(map[UniqueAddress]time.Time, len(a.Tombstones)+len(b.Tombstones)),
	}
	for k, t := range a.Tombstones {
		out.Tombstones[k] = t
	}
	for k := range b.Tombstones {
		if _, ok := out.Tombstones[k]; !ok {
			out.Tombstones[k] = now
		}
	}
	out.Reachability = mergeReachability(a.Reachability, b.Reachability)
	out.Allocations = naiveMergeAllocations(a.Allocations, b.Allocations)
	out.AllocationEpoch = a.AllocationEpoch
	if b.AllocationEpoch > out.AllocationEpoch {
		out.AllocationEpoch = b.AllocationEpoch
	}
	out.Registry = naiveMergeRegistry(a.Registry, b.Registry)
	out.pruneTombstonedWith(now, kc)
	return out
}

// naiveMerge is Node.merge as it was before its shortcuts.
func naiveMerge(n *Node, remote *State) Ordering {
	local := n.st
	lv := prunedVersion(local.Version, local.Tombstones, remote.Tombstones)
	rv := prunedVersion(remote.Version, local.Tombstones, remote.Tombstones)
	ord := lv.Compare(rv)
	if ord == After {
		n.stats.NoopMerges++
		return ord
	}
	if ord == Same {
		n.mergeSeen(remote.Seen)
		return ord
	}
	version := remote.Version
	if ord != Before || !sameClock(lv, local.Version) || !sameClock(rv, remote.Version) {
		version = mergeShared(local.Version, remote.Version)
	}
	merged := naiveMergeContentClock(local, remote, n.now, version, &n.keys)
	var self []UniqueAddress
	_, member := merged.Member(n.self)
	if member {
		self = []UniqueAddress{n.self}
	}
	if ord == Before {
		norm := *remote
		norm.Tombstones = merged.Tombstones
		norm.pruneTombstonedWith(n.now, &n.keys)
		if contentEqual(merged, &norm) || !member {
			merged.Seen = filteredUnion(merged, remote.Seen, self, &n.keys)
			n.st = merged
			n.stats.Merges++
			return ord
		}
		merged.Version = merged.Version.Increment(n.self)
	}
	merged.Seen = self
	n.st = merged
	n.stats.Merges++
	return ord
}

// mergeChecker merges remote states into local ones both ways and counts
// the shapes it saw.
type mergeChecker struct {
	t      *testing.T
	orders [Concurrent + 1]int
	shared int // merges whose result shares the local tombstone map
	cases  int
}

// check merges remote into local at self both ways and fails on any
// difference: the ordering, the counters, and the resulting state in full
// (tombstone times included).
func (c *mergeChecker) check(self UniqueAddress, now time.Time, local, remote *State) {
	c.t.Helper()
	fast := &Node{self: self, now: now, st: local}
	naive := &Node{self: self, now: now, st: local}
	got, want := fast.merge(remote), naiveMerge(naive, remote)
	if got != want || fast.stats != naive.stats {
		c.t.Fatalf("merge ordering %v, stats %+v; want %v, %+v\nlocal:  %s\nremote: %s",
			got, fast.stats, want, naive.stats, lawRender(local), lawRender(remote))
	}
	if diff := cmp.Diff(naive.st, fast.st); diff != "" {
		c.t.Fatalf("merged state (-naive +fast):\n%s\nlocal:  %s\nremote: %s", diff, lawRender(local), lawRender(remote))
	}
	if err := ValidateState(fast.st); err != nil && ValidateState(local) == nil && ValidateState(remote) == nil {
		c.t.Fatalf("merged state of valid inputs is invalid: %v", err)
	}
	c.orders[got]++
	c.cases++
	if fast.st != local && len(local.Tombstones) > 0 && sharesTombstoneMap(fast.st.Tombstones, local.Tombstones) {
		c.shared++
	}
}

func sharesTombstoneMap(a, b map[UniqueAddress]time.Time) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// lawStep returns a copy of s that a peer might gossip after s: a member's
// status raised, a tombstone added, a row or clock entry bumped; parts
// it leaves alone are shared with s.
func lawStep(rng *rand.Rand, s *State) *State {
	out := *s
	out.Version = s.Version.Clone()
	for k := 1 + rng.Intn(2); k > 0; k-- {
		switch rng.Intn(5) {
		case 0:
			if len(out.Members) > 0 {
				ms := append([]Member(nil), out.Members...)
				i := rng.Intn(len(ms))
				if ms[i].Status < Down {
					ms[i].Status++
				}
				out.Members = ms
			}
		case 1:
			if len(out.Members) > 0 {
				u := out.Members[rng.Intn(len(out.Members))].Node
				tombs := make(map[UniqueAddress]time.Time, len(out.Tombstones)+1)
				for k, t := range out.Tombstones {
					tombs[k] = t
				}
				tombs[u] = epoch
				out.Tombstones = tombs
				out.pruneTombstoned(epoch)
				out.Version = out.Version.Clone()
			}
		case 2:
			ms := make([]UniqueAddress, 0, len(out.Members))
			for _, m := range out.Members {
				ms = append(ms, m.Node)
			}
			out.Reachability = lawRandReachability(rng, ms, ms)
		case 3:
			out.Seen = lawSubset(rng, out.Seen, 2)
		}
	}
	if len(out.Members) > 0 {
		out.Version[out.Members[rng.Intn(len(out.Members))].Node]++
	}
	return &out
}

// TestMergeIsTheNaiveMergeOnLawStates: random states, and states a step
// or two apart sharing most of their parts (so that one clock mostly
// dominates), merge alike both ways, at a member and at a stranger.
func TestMergeIsTheNaiveMergeOnLawStates(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	c := &mergeChecker{t: t}
	for i := 0; i < 3000; i++ {
		a := lawRandState(rng)
		var b *State
		switch rng.Intn(4) {
		case 0:
			b = lawRandState(rng)
		case 1:
			b = lawStep(rng, a)
		case 2:
			b = lawStep(rng, a)
			a = lawStep(rng, a)
		default:
			b = lawStep(rng, lawStep(rng, a))
		}
		self := lawUniverse[rng.Intn(len(lawUniverse))]
		if len(a.Members) > 0 && rng.Intn(4) != 0 {
			self = a.Members[rng.Intn(len(a.Members))].Node
		}
		c.check(self, lawNow, a, b)
		c.check(self, lawNow, b, a)
	}
	for o, k := range c.orders {
		if k < 100 {
			t.Errorf("only %d merges were %v: the shortcuts were barely exercised", k, Ordering(o))
		}
	}
	if c.shared < 100 {
		t.Errorf("only %d merges shared the local tombstone map", c.shared)
	}
}

// TestMergeIsTheNaiveMergeInACluster: every gossip state a node of a
// small cluster receives (through joins, shard hosting, registrations,
// partitions, a crash, a restart and a leave) merges alike both ways.
func TestMergeIsTheNaiveMergeInACluster(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 7)
	mc := &mergeChecker{t: t}
	check := func(m Message) {
		n, ok := c.nodes[m.To]
		g, isState := m.Body.(GossipState)
		if !ok || !isState || n.Phase() != PhaseMember || c.crashed[m.To] {
			return
		}
		mc.check(n.self, c.now, n.st, g.State)
	}
	step := func(d time.Duration) {
		end := c.now.Add(d)
		for c.now.Before(end) {
			c.now = c.now.Add(50 * time.Millisecond)
			for _, a := range c.order {
				if c.live(a) {
					c.nodes[a].Tick(c.now)
					c.collect(a)
				}
			}
			for i := 0; i < 100000 && len(c.inbox) > 0; i++ {
				m := c.inbox[0]
				c.inbox = c.inbox[1:]
				if c.rng.Intn(10) == 0 {
					continue // lost: peers fall behind and concurrent versions arise
				}
				if !c.cut[[2]Address{m.From.Address, m.To}] {
					check(m)
				}
				c.deliver(m)
			}
		}
	}
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	step(3 * time.Second)
	for i := 1; i <= 5; i++ {
		c.command(addr(i), HostShards{Type: ShardType{Name: "users", Shards: 8, Replicas: 1}})
		c.command(addr(i), Register{Key: "svc", Path: addr(i).String()})
	}
	step(3 * time.Second)
	for round := 0; round < 60; round++ {
		a := addr(1 + c.rng.Intn(5))
		switch c.rng.Intn(6) {
		case 0:
			c.partition([]Address{addr(1), addr(2), addr(3)}, []Address{addr(4), addr(5)})
			step(2 * time.Second)
			c.heal()
		case 1: // a crash, and a restart under a new UID
			if a != addr(1) && c.live(a) {
				c.crashed[a] = true
				step(4 * time.Second)
				c.start(a, addr(1))
			}
		case 2:
			if c.live(a) {
				c.command(a, Register{Key: fmt.Sprintf("svc-%d", round), Path: "/"})
			}
		case 3:
			if c.live(a) {
				c.command(a, Deregister{Key: "svc", Path: a.String()})
			}
		case 4:
			if c.live(a) {
				c.command(a, HostShards{Type: ShardType{Name: fmt.Sprintf("t%d", round%3), Shards: 4, Replicas: 1}})
			}
		case 5:
			if c.live(a) {
				c.command(a, StopHosting{Name: "users"})
			}
		}
		step(2 * time.Second)
	}
	if c.live(addr(3)) {
		c.command(addr(3), Leave{})
	}
	step(5 * time.Second)
	if mc.cases < 300 || mc.orders[Before] < 100 || mc.orders[Concurrent] == 0 || mc.shared < 50 {
		t.Errorf("merges checked %d, by ordering %v, sharing the local tombstones %d: the run was too tame",
			mc.cases, mc.orders, mc.shared)
	}
}

// fullMergeAllocations is mergeAllocations without its aligned shortcut:
// the join built in full, then held against the inputs.
func fullMergeAllocations(a, b []TypeAllocation) []TypeAllocation {
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
	case len(out) > 0 && sameTables(out, a) && allocationsNormal(a):
		return a
	case len(out) > 0 && sameTables(out, b) && allocationsNormal(b):
		return b
	}
	for i := range out {
		if !allocationsNormal(out[i : i+1]) {
			out[i] = out[i].Clone()
		}
	}
	return out
}

// fullMergeRegistry is mergeRegistry without its aligned shortcut: the
// join built in full, then held against the inputs.
func fullMergeRegistry(a, b []RegistryRow) []RegistryRow {
	out := joinSorted(a, b,
		func(x, y RegistryRow) int {
			if x.Owner == y.Owner {
				return 0
			}
			return x.Owner.Compare(y.Owner)
		},
		same[RegistryRow],
		func(ra, rb RegistryRow) RegistryRow {
			switch {
			case ra.Version > rb.Version:
				return ra
			case rb.Version > ra.Version:
				return rb
			case sameEntries(ra.Entries, rb.Entries) || entriesEqual(ra.Entries, rb.Entries):
				return ra
			}
			ra.Entries = unionEntries(ra.Entries, rb.Entries)
			return ra
		})
	switch {
	case len(out) == 0:
		return out
	case registryRowsEqual(out, a) && registryNormal(a):
		return a
	case registryRowsEqual(out, b) && registryNormal(b):
		return b
	}
	for i := range out {
		if out[i].Entries != nil && len(out[i].Entries) == 0 {
			out[i].Entries = nil
		}
	}
	return out
}

// whichOf names the input a merge result is: "a", "b" or "new".
func whichOf[T any](got, a, b []T) string {
	same := func(x, y []T) bool { return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0]) }
	switch {
	case len(got) > 0 && same(got, a):
		return "a"
	case len(got) > 0 && same(got, b):
		return "b"
	}
	return "new"
}

// TestMergeTablesAndRegistryAreTheFullJoin: on lists mostly of the same
// types or owners in the same places (shared, cloned, a table or row
// moved on, in cloned form or not), the aligned shortcuts return what the
// full join does, and the same input when it returns one.
func TestMergeTablesAndRegistryAreTheFullJoin(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	counts := map[string]int{}
	for i := 0; i < 5000; i++ {
		ta := lawRandTables(rng)
		tb := cloneAllocations(ta)
		switch rng.Intn(5) {
		case 0:
			tb = ta
		case 1:
			tb = lawRandTables(rng)
		case 2:
			tb = lawDenormal(ta)
		default:
			for k := range tb {
				if rng.Intn(2) == 0 {
					tb[k].Epoch += Epoch(rng.Intn(3)) - 1
				} else if rng.Intn(2) == 0 {
					tb[k] = ta[k] // the very table
				}
			}
		}
		if rng.Intn(2) == 0 {
			ta, tb = tb, ta
		}
		want, got := fullMergeAllocations(ta, tb), mergeAllocations(ta, tb)
		if !reflect.DeepEqual(want, got) || whichOf(want, ta, tb) != whichOf(got, ta, tb) {
			t.Fatalf("mergeAllocations is %s, want %s (-full +got):\n%s", whichOf(got, ta, tb), whichOf(want, ta, tb), cmp.Diff(want, got))
		}
		counts["tables "+whichOf(got, ta, tb)]++

		ra := lawRandRegistry(rng)
		rb := cloneRegistry(ra)
		switch rng.Intn(6) {
		case 0:
			rb = ra
		case 5:
			// The very rows, not in cloned form.
			for k := range ra {
				if ra[k].Entries == nil {
					ra[k].Entries = []ServiceEntry{}
				}
			}
			rb = ra
		case 1:
			rb = lawRandRegistry(rng)
		case 2:
			for k := range rb {
				if rb[k].Entries == nil {
					rb[k].Entries = []ServiceEntry{}
				}
			}
		default:
			for k := range rb {
				switch rng.Intn(3) {
				case 0:
					rb[k].Version += uint64(rng.Intn(3)) - 1
				case 1:
					if len(rb[k].Entries) > 0 {
						rb[k].Entries = rb[k].Entries[1:]
					}
				}
			}
		}
		if rng.Intn(2) == 0 {
			ra, rb = rb, ra
		}
		wantR, gotR := fullMergeRegistry(ra, rb), mergeRegistry(ra, rb)
		if !reflect.DeepEqual(wantR, gotR) || whichOf(wantR, ra, rb) != whichOf(gotR, ra, rb) {
			t.Fatalf("mergeRegistry is %s, want %s (-full +got):\n%s", whichOf(gotR, ra, rb), whichOf(wantR, ra, rb), cmp.Diff(wantR, gotR))
		}
		counts["registry "+whichOf(gotR, ra, rb)]++
	}
	for _, k := range []string{"tables a", "tables b", "tables new", "registry a", "registry b", "registry new"} {
		if counts[k] < 100 {
			t.Errorf("only %d merges returned %q: %v", counts[k], k, counts)
		}
	}
}

// lawRenamed returns s with every UID u replaced by uids[u] (drawn at
// random the first time), so that UIDs no longer coincide across
// addresses. Parts without UIDs are shared.
func lawRenamed(rng *rand.Rand, s *State, uids map[UniqueAddress]UID) *State {
	re := func(u UniqueAddress) UniqueAddress {
		if _, ok := uids[u]; !ok {
			uids[u] = UID(rng.Uint64() | 1)
		}
		u.UID = uids[u]
		return u
	}
	out := *s
	out.Version = VClock{}
	for k, c := range s.Version {
		out.Version[re(k)] = c
	}
	out.Tombstones = map[UniqueAddress]time.Time{}
	for k, at := range s.Tombstones {
		out.Tombstones[re(k)] = at
	}
	return &out
}

// TestPrunedVersionsIsPrunedVersion: the UID check before pruning answers
// as prunedVersion does for both clocks, the clocks themselves when it
// prunes nothing, over tombstone maps met again and new ones, with UIDs
// that coincide across addresses and UIDs that do not, and clocks that
// name their own state's tombstones.
func TestPrunedVersionsIsPrunedVersion(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	n := &Node{}
	var pool []*State
	kept, pruned := 0, 0
	for i := 0; i < 20000; i++ {
		var s *State
		if len(pool) > 0 && rng.Intn(2) == 0 {
			s = pool[rng.Intn(len(pool))]
		} else {
			s = lawRandState(rng)
			if rng.Intn(2) == 0 {
				s = lawRenamed(rng, s, map[UniqueAddress]UID{})
			}
			if rng.Intn(4) == 0 {
				// A clock naming one of its own tombstones, as a
				// malformed peer's may.
				for k := range s.Version {
					s.Tombstones[k] = epoch
					break
				}
			}
			pool = append(pool, s)
			if len(pool) > 8 {
				pool = pool[1:]
			}
		}
		local, remote := s, pool[rng.Intn(len(pool))]
		if rng.Intn(4) == 0 {
			remote = &State{Version: local.Version, Tombstones: remote.Tombstones} // the same clock
		}
		if rng.Intn(2) == 0 {
			// As in Step: the sender check runs first on the state
			// the merge starts from, or on an older one.
			n.st = local
			if rng.Intn(4) == 0 {
				n.st = pool[rng.Intn(len(pool))]
			}
			n.tombstoned(&lawUniverse[rng.Intn(len(lawUniverse))])
			n.st = local
		}
		lv, rv := n.prunedVersions(local, remote)
		wl := prunedVersion(local.Version, local.Tombstones, remote.Tombstones)
		wr := prunedVersion(remote.Version, local.Tombstones, remote.Tombstones)
		if d := lawDiff("local", wl, lv) + lawDiff("remote", wr, rv); d != "" {
			t.Fatalf("case %d: %s", i, d)
		}
		if sameClock(wl, local.Version) != sameClock(lv, local.Version) || sameClock(wr, remote.Version) != sameClock(rv, remote.Version) {
			t.Fatalf("case %d: pruned a clock prunedVersion leaves alone, or the other way round", i)
		}
		if sameClock(lv, local.Version) && sameClock(rv, remote.Version) {
			kept++
		} else {
			pruned++
		}
		// clockOrder, which compares the flattened clocks unless a
		// tombstone's UID is named, answers as the pruned clocks do;
		// clean matters unless they are the same.
		n.st = local
		ord, clean := n.clockOrder(local, remote)
		wantClean := sameClock(wl, local.Version) && sameClock(wr, remote.Version)
		if want := wl.Compare(wr); ord != want || (ord != Same && clean != wantClean) {
			t.Fatalf("case %d: clockOrder = %v, clean %v; want %v, %v\nlocal:  %s\nremote: %s",
				i, ord, clean, want, wantClean, lawRender(local), lawRender(remote))
		}
		if rng.Intn(3) == 0 {
			n.st = remote // adopted: the remote flattening becomes the local one
		}
		u := lawUniverse[rng.Intn(len(lawUniverse))]
		if got, want := n.localFlat().get(&u), n.st.Version[u]; got != want {
			t.Fatalf("case %d: localFlat().get = %d, want %d", i, got, want)
		}
	}
	if kept < 2000 || pruned < 2000 {
		t.Fatalf("clocks kept %d, pruned %d: both paths must be exercised", kept, pruned)
	}
}

// copyTablesExact deep-copies tables, keeping which lists are nil.
func copyTablesExact(in []TypeAllocation) []TypeAllocation {
	if in == nil {
		return nil
	}
	out := make([]TypeAllocation, len(in))
	for i, t := range in {
		if t.Shards != nil {
			t.Shards = append(make([]ShardAllocation, 0, len(t.Shards)), t.Shards...)
			for k := range t.Shards {
				if r := t.Shards[k].Replicas; r != nil {
					t.Shards[k].Replicas = append(make([]UniqueAddress, 0, len(r)), r...)
				}
			}
		}
		out[i] = t
	}
	return out
}

// TestReuseTablesChangesNothingButIdentity: the tables of an allocation
// with those unchanged taken from the current ones are exactly the
// allocation (nil lists included), on random calls and on calls repeated
// on their own output, in cloned form or not; only tables equal in form
// are taken, and the current ones are left alone.
func TestReuseTablesChangesNothingButIdentity(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	shared := 0
	for i := 0; i < 3000; i++ {
		c := lawRandAlloc(rng)
		for round := 0; round < 3; round++ {
			if rng.Intn(3) == 0 {
				c.Current = lawDenormal(c.Current)
			}
			current := copyTablesExact(c.Current)
			next, _ := c.run()
			want := copyTablesExact(next)
			got := reuseTables(next, c.Current)
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("case %d round %d (%s) (-allocated +reused):\n%s", i, round, c.Origin, cmp.Diff(want, got))
			}
			if !reflect.DeepEqual(current, c.Current) {
				t.Fatalf("case %d: reuseTables changed the current tables", i)
			}
			for _, g := range got {
				for _, in := range c.Current {
					if sameTable(g, in) && len(g.Shards) > 0 {
						shared++
					}
				}
			}
			c.Current, c.Next = got, c.Next+1
		}
	}
	if shared < 1000 {
		t.Fatalf("only %d tables were taken from the current ones: barely exercised", shared)
	}
}

// fullAllocateType is allocateType before it counted by host position:
// counts in maps, hosts searched by address.
func fullAllocateType(cur TypeAllocation, had bool, typ ShardType, hosts []UniqueAddress, next Epoch, budget int, moves *int) TypeAllocation {
	t := TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: make([]ShardAllocation, typ.Shards)}
	if had && cur.Type == typ {
		for i, a := range cur.Shards {
			a.Replicas = append([]UniqueAddress(nil), a.Replicas...)
			t.Shards[i] = a
		}
	}
	eligible := func(u UniqueAddress) bool { return containsNode(hosts, u) }
	primaries := map[UniqueAddress]int{}
	replicas := map[UniqueAddress]int{}
	for _, h := range hosts {
		primaries[h], replicas[h] = 0, 0
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
			primaries[a.Primary]++
		}
		for _, r := range a.Replicas {
			replicas[r]++
		}
	}
	least := func(count map[UniqueAddress]int, skip func(UniqueAddress) bool) (UniqueAddress, bool) {
		var best UniqueAddress
		found := false
		for _, h := range hosts { // address order: ties go to the lowest
			if skip(h) {
				continue
			}
			if !found || count[h] < count[best] {
				best, found = h, true
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
		primaries[p]++
	}
	for budget > 0 && len(hosts) > 1 {
		most, fewest := hosts[0], hosts[0]
		for _, h := range hosts {
			if primaries[h] > primaries[most] {
				most = h
			}
			if primaries[h] < primaries[fewest] {
				fewest = h
			}
		}
		if primaries[most]-primaries[fewest] <= 1 {
			break
		}
		for i := range t.Shards {
			a := &t.Shards[i]
			if a.Primary != most {
				continue
			}
			if containsNodeUnsorted(a.Replicas, fewest) {
				replicas[fewest]--
			}
			a.Replicas = removeNode(a.Replicas, fewest)
			a.Primary, a.Epoch = fewest, next
			primaries[most]--
			primaries[fewest]++
			break
		}
		*moves++
		budget--
	}
	want := typ.Replicas
	if len(hosts)-1 < want {
		want = len(hosts) - 1
	}
	for i := range t.Shards {
		a := &t.Shards[i]
		if a.Primary == (UniqueAddress{}) {
			continue
		}
		for len(a.Replicas) < want {
			r, ok := least(replicas, func(u UniqueAddress) bool { return u == a.Primary || containsNodeUnsorted(a.Replicas, u) })
			if !ok {
				break
			}
			a.Replicas = append(a.Replicas, r)
			replicas[r]++
		}
		if len(a.Replicas) > want {
			for _, r := range a.Replicas[want:] {
				replicas[r]--
			}
			a.Replicas = a.Replicas[:want]
		}
	}
	if !had || !typeAllocationEqual(TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: t.Shards}, cur) {
		t.Epoch = next
	}
	return t
}

// TestAllocateTypeIsTheFullAllocation: counting by host position and
// searching hosts by equality allocates exactly as counting in maps and
// searching by address did, for hosts in address order, shuffled, with
// duplicates, and more than are searched by equality.
func TestAllocateTypeIsTheFullAllocation(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	var many []UniqueAddress // more hosts than hostScanMax, sorted
	for i := 1; i <= hostScanMax+4; i++ {
		many = append(many, fxNode(i, 1))
	}
	sortNodes(many)
	shapes := map[string]int{}
	for i := 0; i < 5000; i++ {
		c := lawRandAlloc(rng)
		for _, typ := range c.Types {
			hosts := append([]UniqueAddress(nil), c.Hosts[typ.Name]...)
			shape := "sorted"
			switch rng.Intn(5) {
			case 0:
				rng.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
				shape = "shuffled"
			case 1:
				if len(hosts) > 0 {
					hosts = append(hosts, hosts[rng.Intn(len(hosts))])
					sortNodes(hosts)
					shape = "duplicated"
				}
			case 2:
				hosts = lawSubset(rng, many, 1)
				shape = "many"
			}
			var cur TypeAllocation
			had := false
			for _, ct := range c.Current {
				if ct.Type.Name == typ.Name {
					cur, had = ct, true
				}
			}
			budget := rng.Intn(4)
			movesWant, movesGot := rng.Intn(3), 0
			movesGot = movesWant
			want := fullAllocateType(cur, had, typ, hosts, c.Next, budget, &movesWant)
			got := allocateType(cur, had, typ, hosts, c.Next, budget, &movesGot)
			if !reflect.DeepEqual(want, got) || movesWant != movesGot {
				t.Fatalf("case %d (%s hosts %v): moves %d, want %d (-full +got):\n%s", i, shape, hosts, movesGot, movesWant, cmp.Diff(want, got))
			}
			shapes[shape]++
		}
	}
	for _, s := range []string{"sorted", "shuffled", "duplicated", "many"} {
		if shapes[s] < 500 {
			t.Errorf("only %d allocations over %s hosts: %v", shapes[s], s, shapes)
		}
	}
}

// fullDiffAllocations is diffAllocations before it walked sorted tables
// together: prev's tables looked up by name, every shard compared.
func fullDiffAllocations(prev, next []TypeAllocation, at time.Time, seq uint64) []Event {
	var out []Event
	old := map[string]TypeAllocation{}
	for _, t := range prev {
		old[t.Type.Name] = t
	}
	for _, t := range next {
		p := old[t.Type.Name]
		var moved []int
		for i, a := range t.Shards {
			if i >= len(p.Shards) || p.Shards[i].Primary != a.Primary || !nodesEqual(p.Shards[i].Replicas, a.Replicas) {
				moved = append(moved, i)
			}
		}
		if len(moved) > 0 {
			out = append(out, Event{Type: ShardsMoved, At: at, Seq: seq, ShardType: t.Type.Name, Shards: moved})
		}
	}
	return out
}

// TestDiffAllocationsIsTheFullDiff: on successive allocations (sharing
// unchanged tables), unrelated ones, and lists out of order or with a
// type twice, the walk emits exactly the events the lookup by name did.
func TestDiffAllocationsIsTheFullDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	shapes := map[string]int{}
	for i := 0; i < 5000; i++ {
		c := lawRandAlloc(rng)
		prev := c.Current
		next, _ := c.run()
		next = reuseTables(next, prev)
		shape := "successive"
		switch rng.Intn(4) {
		case 0:
			next = lawRandTables(rng)
			shape = "unrelated"
		case 1:
			if len(next) > 1 {
				next = append([]TypeAllocation(nil), next...)
				j := rng.Intn(len(next) - 1)
				if rng.Intn(2) == 0 {
					next[j], next[j+1] = next[j+1], next[j]
				} else {
					next[j+1] = next[j]
				}
				shape = "disordered"
			}
		}
		if rng.Intn(2) == 0 {
			prev, next = next, prev
		}
		want, got := fullDiffAllocations(prev, next, epoch, 7), diffAllocations(prev, next, epoch, 7)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("case %d (%s) (-full +got):\n%s", i, shape, cmp.Diff(want, got))
		}
		shapes[shape]++
	}
	for _, s := range []string{"successive", "unrelated", "disordered"} {
		if shapes[s] < 500 {
			t.Errorf("only %d %s cases: %v", shapes[s], s, shapes)
		}
	}
}
