package proto

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// naiveWithRegistryRow is withRegistryRow as first written: the whole
// registry cloned, then the row set.
func naiveWithRegistryRow(rows []RegistryRow, owner UniqueAddress, version uint64, entries []ServiceEntry) []RegistryRow {
	out := cloneRegistry(rows)
	row := RegistryRow{Owner: owner, Version: version, Entries: append([]ServiceEntry(nil), entries...)}
	for i := range out {
		if out[i].Owner == owner {
			out[i] = row
			return out
		}
	}
	out = append(out, row)
	sortRows(out)
	return out
}

// sortRows sorts registry rows by owner, by insertion.
func sortRows(rows []RegistryRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Owner.Compare(rows[j-1].Owner) < 0; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// TestWithRegistryRowIsClonedRow checks withRegistryRow, which shares the
// other rows' entry lists, against cloning the registry: equal down to
// which lists are nil (empty non-nil ones included), for owners with a row
// and without, nil registries and empty entry lists; the input is left
// as it was.
func TestWithRegistryRowIsClonedRow(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	inserted, replaced, emptied := 0, 0, 0
	for i := 0; i < 5000; i++ {
		rows := lawRandRegistry(rng)
		for k := range rows {
			if len(rows[k].Entries) == 0 && rng.Intn(2) == 0 {
				rows[k].Entries = []ServiceEntry{}
				emptied++
			}
		}
		if len(rows) == 0 && rng.Intn(2) == 0 {
			rows = []RegistryRow{}
		}
		owner := lawUniverse[rng.Intn(len(lawUniverse))]
		var entries []ServiceEntry
		for _, e := range lawEntryPool {
			if rng.Intn(2) == 0 {
				entries = append(entries, ServiceEntry{Key: e[0], Node: owner, Path: e[1]})
			}
		}
		if entries == nil && rng.Intn(2) == 0 {
			entries = []ServiceEntry{}
		}
		before := cloneRegistryExact(rows)
		want := naiveWithRegistryRow(rows, owner, uint64(rng.Intn(5)), entries)
		got := withRegistryRow(rows, owner, want[indexOwner(want, owner)].Version, entries)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("case %d: withRegistryRow (-naive +got):\n%s", i, cmp.Diff(want, got))
		}
		if !reflect.DeepEqual(before, rows) {
			t.Fatalf("case %d: input changed (-before +after):\n%s", i, cmp.Diff(before, rows))
		}
		if len(want) > len(rows) {
			inserted++
		} else {
			replaced++
		}
	}
	if inserted < 500 || replaced < 500 || emptied < 500 {
		t.Fatalf("inserted %d, replaced %d, emptied %d: every case must be exercised", inserted, replaced, emptied)
	}
}

func indexOwner(rows []RegistryRow, owner UniqueAddress) int {
	for i := range rows {
		if rows[i].Owner == owner {
			return i
		}
	}
	return -1
}

// cloneRegistryExact deep-copies rows, keeping which lists are nil.
func cloneRegistryExact(rows []RegistryRow) []RegistryRow {
	if rows == nil {
		return nil
	}
	out := make([]RegistryRow, len(rows))
	for i, r := range rows {
		if r.Entries != nil {
			r.Entries = append(make([]ServiceEntry, 0, len(r.Entries)), r.Entries...)
		}
		out[i] = r
	}
	return out
}
