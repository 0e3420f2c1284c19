package proto

import (
	"math/rand"
	"reflect"
	"testing"
)

// naiveMergeReachability is mergeReachability without its shortcut for
// aligned tables: the join built row by row, then an input shared when
// the join equals it.
func naiveMergeReachability(a, b Reachability) Reachability {
	out := Reachability{Rows: joinSorted(a.Rows, b.Rows,
		func(x, y ObserverRow) int { return compareNodes(x.Observer, y.Observer) },
		same[ObserverRow],
		func(ra, rb ObserverRow) ObserverRow {
			switch {
			case ra.Version > rb.Version:
				return ra
			case rb.Version > ra.Version:
				return rb
			}
			ra.Unreachable = unionNodes(ra.Unreachable, rb.Unreachable)
			return ra
		})}
	switch {
	case a.Rows != nil && reachabilityEqual(out, a):
		return a
	case b.Rows != nil && reachabilityEqual(out, b):
		return b
	}
	return out
}

// TestMergeReachabilityMatchesNaive checks mergeReachability against the
// naive join on tables that share their observers (rows older, newer, the
// same, with the same or other lists, nil or empty) and tables that do
// not, including what it shares: a's rows, b's rows or new ones.
func TestMergeReachabilityMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	which := func(r, a, b Reachability) string {
		switch {
		case r.Rows != nil && a.Rows != nil && sameRows(r.Rows, a.Rows) && (len(r.Rows) > 0 || reflect.ValueOf(r.Rows).Pointer() == reflect.ValueOf(a.Rows).Pointer()):
			return "a"
		case r.Rows != nil && b.Rows != nil && sameRows(r.Rows, b.Rows) && (len(r.Rows) > 0 || reflect.ValueOf(r.Rows).Pointer() == reflect.ValueOf(b.Rows).Pointer()):
			return "b"
		}
		return "new"
	}
	reached := map[string]int{}
	for round := 0; round < 20000; round++ {
		a := lawRandReachability(rng, lawUniverse, lawUniverse)
		var b Reachability
		if rng.Intn(4) == 0 {
			b = lawRandReachability(rng, lawUniverse, lawUniverse)
		} else if a.Rows != nil || rng.Intn(2) == 0 {
			b.Rows = make([]ObserverRow, len(a.Rows))
			for i, row := range a.Rows {
				switch rng.Intn(6) {
				case 0:
					row.Version++
				case 1:
					if row.Version > 1 {
						row.Version--
					}
				case 2:
					row.Unreachable = append([]UniqueAddress(nil), row.Unreachable...) // equal, not shared
				case 3:
					row.Unreachable = lawSubset(rng, lawUniverse, 3) // other subjects
				case 4:
					if len(row.Unreachable) == 0 {
						row.Unreachable = []UniqueAddress{} // empty rather than nil
					}
				}
				b.Rows[i] = row
			}
		}
		if rng.Intn(8) == 0 {
			b = a // the very table
		}
		if rng.Intn(2) == 0 {
			a, b = b, a
		}
		want, got := naiveMergeReachability(a, b), mergeReachability(a, b)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("merge of %v and %v: got %v, want %v", a, b, got, want)
		}
		if w, g := which(want, a, b), which(got, a, b); w != g {
			t.Fatalf("merge of %v and %v: returned %s rows, naive returns %s rows", a, b, g, w)
		}
		reached[which(want, a, b)]++
	}
	for _, w := range []string{"a", "b", "new"} {
		if reached[w] == 0 {
			t.Errorf("no case returned %s rows: %v", w, reached)
		}
	}
}
