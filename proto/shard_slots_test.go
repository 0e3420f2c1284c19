package proto

import (
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

// TestAllocateTypeSlots checks allocateType, which keeps every shard's
// replicas in a slot of one array, against the straightforward version
// that gives each shard a list of its own: the same tables down to which
// lists are nil, the same move count, and no list that reaches into
// another's slot (appending to one leaves every other unchanged).
func TestAllocateTypeSlots(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for iter := 0; iter < 3000; iter++ {
		c := lawRandAlloc(rng)
		byName := map[string]TypeAllocation{}
		for _, tab := range c.Current {
			byName[tab.Type.Name] = tab
		}
		for _, typ := range c.Types {
			cur, had := byName[typ.Name]
			budget := rng.Intn(4)
			if rng.Intn(4) == 0 && had {
				typ = cur.Type // the table's own declaration: its shards are kept
			}
			var gotMoves, wantMoves int
			got := allocateType(cur, had, typ, c.Hosts[typ.Name], c.Next, budget, &gotMoves)
			want := naiveAllocateType(cur, had, typ, c.Hosts[typ.Name], c.Next, budget, &wantMoves)
			if !reflect.DeepEqual(got, want) || gotMoves != wantMoves {
				t.Fatalf("iteration %d, type %q: allocateType = %+v, %d moves; naive %+v, %d moves", iter, typ.Name, got, gotMoves, want, wantMoves)
			}
			before := got
			before.Shards = append([]ShardAllocation(nil), got.Shards...)
			for i, a := range got.Shards {
				if a.Replicas != nil {
					before.Shards[i].Replicas = append([]UniqueAddress{}, a.Replicas...)
				}
			}
			for i := range got.Shards {
				_ = append(got.Shards[i].Replicas, UniqueAddress{Address: Address{Host: "intruder", Port: 1}, UID: 1})
				if !reflect.DeepEqual(got, before) {
					t.Fatalf("iteration %d, type %q: appending to shard %d's replicas changed the table: %+v, was %+v", iter, typ.Name, i, got, before)
				}
			}
		}
	}
}

func naiveAllocateType(cur TypeAllocation, had bool, typ ShardType, hosts []UniqueAddress, next Epoch, budget int, moves *int) TypeAllocation {
	t := TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: make([]ShardAllocation, typ.Shards)}
	if had && cur.Type == typ {
		for i, a := range cur.Shards {
			a.Replicas = append([]UniqueAddress(nil), a.Replicas...)
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
	primaries, replicas := newHostCounts(hosts, byScan), newHostCounts(hosts, byScan)
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
			replicas.add(r, 1)
		}
		if len(a.Replicas) > want {
			for _, r := range a.Replicas[want:] {
				replicas.add(r, -1)
			}
			a.Replicas = a.Replicas[:want]
		}
	}
	if !had || !typeAllocationEqual(TypeAllocation{Type: typ, Epoch: cur.Epoch, Shards: t.Shards}, cur) {
		t.Epoch = next
	}
	return t
}

// TestShardNodeScans checks the scans allocateType makes with sameNode
// (containsNodeUnsorted, removeNode, hostCounts.add) against plain ==,
// over nodes that share UIDs, hosts or ports with each other.
func TestShardNodeScans(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	node := func() UniqueAddress {
		return UniqueAddress{Address: Address{Host: []string{"a", "b", "10.0.0.1"}[rng.Intn(3)], Port: uint16(7000 + rng.Intn(2))}, UID: UID(1 + rng.Intn(3))}
	}
	for iter := 0; iter < 5000; iter++ {
		list := make([]UniqueAddress, rng.Intn(6))
		for i := range list {
			list[i] = node()
		}
		u := node()
		want := false
		var kept []UniqueAddress
		for _, x := range list {
			if x == u {
				want = true
			} else {
				kept = append(kept, x)
			}
		}
		if got := containsNodeUnsorted(list, u); got != want {
			t.Fatalf("containsNodeUnsorted(%v, %v) = %v, want %v", list, u, got, want)
		}
		if got := removeNode(append([]UniqueAddress(nil), list...), u); !nodesEqual(got, kept) {
			t.Fatalf("removeNode(%v, %v) = %v, want %v", list, u, got, kept)
		}
		if !want {
			continue
		}
		c := newHostCounts(list, true)
		c.add(u, 1)
		for i, x := range list {
			first := x == u && !containsNodeUnsorted(list[:i], u)
			if got := c.at(i); got != map[bool]int{true: 1}[first] {
				t.Fatalf("hostCounts over %v after add(%v): count %d at %d", list, u, got, i)
			}
		}
	}
}

// TestAllocateFixedPoint checks the fixed point allocate reports: given
// its own result, with the same types, hosts and budget and any epoch,
// Allocate changes nothing.
func TestAllocateFixedPoint(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	fixed := 0
	for iter := 0; iter < 20000; iter++ {
		c := lawRandAlloc(rng)
		if rng.Intn(3) == 0 {
			c.MaxMoves = rng.Intn(2)
		}
		out, _, fix := allocate(c.Current, c.Types, c.Hosts, c.Next, c.MaxMoves)
		if !fix {
			continue
		}
		fixed++
		next := c.Next + Epoch(rng.Intn(3))
		if again, changed := Allocate(out, c.Types, c.Hosts, next, c.MaxMoves); changed {
			t.Fatalf("iteration %d: Allocate of allocate's fixed point %s changed it to %s", iter, lawRenderTables(out), lawRenderTables(again))
		}
	}
	if fixed == 0 {
		t.Fatal("no call reported a fixed point")
	}
}

// TestAllocateSortsAsSortSlice checks the insertion sorts Allocate uses
// for short lists against the sort.Slice calls they stand for, on lists
// up to sortInsertionMax long with repeated names (whose order the sort
// leaves as sort.Slice does, not merely sorted).
func TestAllocateSortsAsSortSlice(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for iter := 0; iter < 5000; iter++ {
		n := rng.Intn(sortInsertionMax + 1)
		types := make([]ShardType, n)
		tables := make([]TypeAllocation, n)
		for i := range types {
			types[i] = ShardType{Name: string(rune('a' + rng.Intn(4))), Shards: i}
			tables[i] = TypeAllocation{Type: types[i], Epoch: Epoch(i)}
		}
		wantTypes := append(make([]ShardType, 0, n), types...)
		sort.Slice(wantTypes, func(i, j int) bool { return wantTypes[i].Name < wantTypes[j].Name })
		sortShardTypes(types)
		if !reflect.DeepEqual(types, wantTypes) {
			t.Fatalf("sortShardTypes = %v, sort.Slice %v", types, wantTypes)
		}
		wantTables := append(make([]TypeAllocation, 0, n), tables...)
		sort.Slice(wantTables, func(i, j int) bool { return wantTables[i].Type.Name < wantTables[j].Type.Name })
		sortTablesByName(tables)
		if !reflect.DeepEqual(tables, wantTables) {
			t.Fatalf("sortTablesByName = %v, sort.Slice %v", tables, wantTables)
		}
	}
}
