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
			want := fullAllocateType(cur, had, typ, c.Hosts[typ.Name], c.Next, budget, &wantMoves)
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
