package proto

import (
	"math/rand"
	"reflect"
	"sort"
	"testing"
)

// mapAllocate is allocate as it was before it found tables by a scan and
// took scratch: tables found by name in a map, every table new.
func mapAllocate(current []TypeAllocation, types []ShardType, hosts map[string][]UniqueAddress, next Epoch, maxMoves int) ([]TypeAllocation, bool, bool) {
	byName := map[string]TypeAllocation{}
	for _, t := range current {
		byName[t.Type.Name] = t
	}
	sorted := append([]ShardType(nil), types...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var out []TypeAllocation
	changed := false
	moves := 0
	for _, typ := range sorted {
		cur, had := byName[typ.Name]
		delete(byName, typ.Name)
		t := allocateType(cur, had, typ, hosts[typ.Name], next, maxMoves-moves, &moves)
		if !had || !typeAllocationEqual(t, cur) {
			changed = true
		}
		out = append(out, t)
	}
	for _, t := range current {
		if _, left := byName[t.Type.Name]; !left {
			continue
		}
		t = t.Clone()
		cleared := false
		for i := range t.Shards {
			if t.Shards[i].Primary != (UniqueAddress{}) || len(t.Shards[i].Replicas) > 0 {
				t.Shards[i] = ShardAllocation{}
				cleared = true
			}
		}
		if cleared {
			t.Epoch = next
			changed = true
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type.Name < out[j].Type.Name })
	return out, changed, moves < maxMoves
}

// scratchRandAlloc is lawRandAlloc with, now and then, a current table
// twice, a declaration twice, an empty non-nil replica list or a table
// no type declares.
func scratchRandAlloc(rng *rand.Rand) lawAlloc {
	c := lawRandAlloc(rng)
	if rng.Intn(6) == 0 && len(c.Current) > 0 {
		d := c.Current[rng.Intn(len(c.Current))].Clone()
		if rng.Intn(2) == 0 && len(d.Shards) > 0 {
			d.Shards[0].Primary = UniqueAddress{}
		}
		c.Current = append(c.Current, d)
	}
	if rng.Intn(3) == 0 {
		// An empty replica list that is not nil, in a table that may
		// otherwise stay as it is.
		for i := range c.Current {
			c.Current[i] = c.Current[i].Clone()
			for k := range c.Current[i].Shards {
				if c.Current[i].Shards[k].Replicas == nil && rng.Intn(3) == 0 {
					c.Current[i].Shards[k].Replicas = []UniqueAddress{}
				}
			}
		}
	}
	if rng.Intn(6) == 0 && len(c.Types) > 0 {
		c.Types = append(c.Types, c.Types[rng.Intn(len(c.Types))])
	}
	if rng.Intn(4) == 0 && len(c.Types) > 0 {
		c.Types = c.Types[1:]
	}
	if rng.Intn(4) == 0 && len(c.Current) > 0 {
		t := c.Current[rng.Intn(len(c.Current))].Clone()
		if len(t.Shards) > 0 {
			i := rng.Intn(len(t.Shards))
			t.Shards[i].Replicas = []UniqueAddress{}
			if rng.Intn(2) == 0 {
				t.Shards[i].Primary = UniqueAddress{}
			}
		}
		t.Type.Name = "zz-left"
		c.Current = append(c.Current, t)
	}
	return c
}

// deepCopyTables copies tables down to their lists, keeping which are nil.
func deepCopyTables(ts []TypeAllocation) []TypeAllocation {
	if ts == nil {
		return nil
	}
	out := make([]TypeAllocation, len(ts))
	for i, t := range ts {
		out[i] = t
		if t.Shards != nil {
			out[i].Shards = make([]ShardAllocation, len(t.Shards))
			for k, a := range t.Shards {
				if a.Replicas != nil {
					a.Replicas = append([]UniqueAddress{}, a.Replicas...)
				}
				out[i].Shards[k] = a
			}
		}
	}
	return out
}

// TestAllocateScratch checks allocate, which finds the current tables by
// a scan, against the map-based version, and allocateSorted with one
// scratch kept over all calls (as a leader keeps it) against that too:
// the same answer, no tables when nothing changed, after reuseTables the
// very tables the old path gives, and tables that later calls, which
// reuse the scratch, leave alone.
func TestAllocateScratch(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var sc allocScratch
	var kept [][]TypeAllocation // earlier results and deep copies of them
	shared := 0
	for iter := 0; iter < 4000; iter++ {
		c := scratchRandAlloc(rng)
		want, wantChanged, wantFix := mapAllocate(c.Current, c.Types, c.Hosts, c.Next, c.MaxMoves)
		got, gotChanged, gotFix := allocate(c.Current, c.Types, c.Hosts, c.Next, c.MaxMoves)
		if !reflect.DeepEqual(got, want) || gotChanged != wantChanged || gotFix != wantFix {
			t.Fatalf("iteration %d, %v:\nallocate = %v %v\n%s\nmap-based = %v %v\n%s", iter, c, gotChanged, gotFix, lawRenderTables(got), wantChanged, wantFix, lawRenderTables(want))
		}

		got2, sh, ok := checkScratchCall(t, &sc, c)
		if !ok {
			continue
		}
		shared += sh
		kept = append(kept, got2, deepCopyTables(got2))
	}
	for i := 0; i < len(kept); i += 2 {
		if !reflect.DeepEqual(kept[i], kept[i+1]) {
			t.Fatalf("result %d changed after later calls or appends:\n%s\nwas:\n%s", i/2, lawRenderTables(kept[i]), lawRenderTables(kept[i+1]))
		}
	}
	if len(kept) < 1000 || shared < 500 {
		t.Fatalf("only %d changing calls and %d shared tables: the cases miss the paths", len(kept)/2, shared)
	}
}

// checkScratchCall runs allocateSorted with scratch on the leader's form
// of c's inputs (types unique by name, sorted) and checks it against
// mapAllocate followed by reuseTables; it returns the tables when they
// changed (ok), and how many of them are tables of c.Current.
func checkScratchCall(t *testing.T, sc *allocScratch, c lawAlloc) (got []TypeAllocation, shared int, ok bool) {
	t.Helper()
	var types []ShardType
	for _, typ := range c.Types {
		dup := false
		for _, u := range types {
			dup = dup || u.Name == typ.Name
		}
		if !dup {
			types = append(types, typ)
		}
	}
	sortShardTypes(types)
	lists := make([][]UniqueAddress, len(types))
	for i, typ := range types {
		lists[i] = c.Hosts[typ.Name]
	}
	want, wantChanged, wantFix := mapAllocate(c.Current, types, c.Hosts, c.Next, c.MaxMoves)
	got, gotChanged, gotFix := allocateSorted(sc, c.Current, types, lists, c.Next, c.MaxMoves)
	if gotChanged != wantChanged || gotFix != wantFix || (!gotChanged && got != nil) {
		t.Fatalf("%v:\nwith scratch = %v %v %v\nmap-based = %v %v\n%s", c, gotChanged, gotFix, got, wantChanged, wantFix, lawRenderTables(want))
	}
	if !gotChanged {
		return nil, 0, false
	}
	got, want = reuseTables(got, c.Current), reuseTables(want, c.Current)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v:\nwith scratch:\n%s\nmap-based:\n%s", c, lawRenderTables(got), lawRenderTables(want))
	}
	for i := range got {
		if sameTable(got[i], want[i]) {
			shared++ // both took the current table
		}
	}
	// Appending to a list must not reach another's.
	for _, tab := range got {
		for i := range tab.Shards {
			_ = append(tab.Shards[i].Replicas, UniqueAddress{Address: Address{Host: "intruder", Port: 1}, UID: 1})
		}
	}
	return got, shared, true
}

// TestAllocateStableMemo checks allocateSorted's memo of stable tables:
// calls on the same current tables, with other epochs, budgets (none
// included) and now and then other hosts or declarations, as a leader
// makes them, give what the map-based path gives.
func TestAllocateStableMemo(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	var sc allocScratch
	hits := 0
	for iter := 0; iter < 1500; iter++ {
		c := scratchRandAlloc(rng)
		for call := 0; call < 6; call++ {
			c.Next += Epoch(rng.Intn(2))
			c.MaxMoves = rng.Intn(4)
			switch rng.Intn(6) {
			case 0:
				c.Hosts = lawRandHosts(rng, c.Types)
			case 1:
				if len(c.Types) > 0 {
					i := rng.Intn(len(c.Types))
					c.Types = append([]ShardType(nil), c.Types...)
					c.Types[i] = lawRandType(rng, c.Types[i].Name)
				}
			}
			for _, typ := range c.Types {
				for _, cur := range c.Current {
					if cur.Type.Name == typ.Name && sc.stableFor(cur, typ, c.Hosts[typ.Name]) {
						hits++
					}
				}
			}
			if got, _, ok := checkScratchCall(t, &sc, c); ok && rng.Intn(3) == 0 {
				c.Current = got // the leader's next state
			}
		}
	}
	if hits < 1000 {
		t.Fatalf("only %d calls found a stable table: the cases miss the memo", hits)
	}
}

// TestShardInputsScratch checks shardInputsInto with one scratch kept
// over all calls against the naive derivation.
func TestShardInputsScratch(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	names := []string{"a", "b", "c"}
	var sc allocScratch
	for iter := 0; iter < 3000; iter++ {
		s := randHostingState(rng, names)
		gotTypes, lists := shardInputsInto(s, &sc)
		wantTypes, wantHosts := naiveShardInputs(s)
		if len(gotTypes) != len(wantTypes) || (len(gotTypes) > 0 && !reflect.DeepEqual(gotTypes, wantTypes)) || len(lists) != len(gotTypes) {
			t.Fatalf("members %+v:\ntypes %v, naive %v", s.Members, gotTypes, wantTypes)
		}
		for i, typ := range gotTypes {
			if !reflect.DeepEqual(lists[i], wantHosts[typ.Name]) {
				t.Fatalf("members %+v:\nhosts of %s = %v, naive %v", s.Members, typ.Name, lists[i], wantHosts[typ.Name])
			}
		}
	}
}
