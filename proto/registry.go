package proto

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ServiceEntry is one registered service instance: casty's ServiceEntry
// (key, node, path). Node is the owner's incarnation.
type ServiceEntry struct {
	Key  string
	Node UniqueAddress
	Path string
}

// RegistryRow is everything one owner has registered. Only the owner writes
// its row, raising Version on every change, so a deregistration spreads
// exactly like a registration (casty's union-only registry never forgot an
// entry until its node died).
//
// Invariant: Entries are sorted by (Key, Path), unique, and all have
// Node == Owner.
type RegistryRow struct {
	Owner   UniqueAddress
	Version uint64
	Entries []ServiceEntry
}

// Limits on the registry.
const (
	MaxEntriesPerOwner = 4096
)

// ErrBadEntry reports an invalid service entry in a local command.
var ErrBadEntry = errors.New("proto: bad service entry")

func validEntry(key, path string) error {
	if key == "" || len(key) > MaxNameLen {
		return fmt.Errorf("%w: key %q must be 1-%d bytes", ErrBadEntry, key, MaxNameLen)
	}
	if len(path) > 4*MaxNameLen {
		return fmt.Errorf("%w: path of %d bytes, limit %d", ErrBadEntry, len(path), 4*MaxNameLen)
	}
	return nil
}

func entryLess(a, b ServiceEntry) bool {
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	return a.Path < b.Path
}

func cloneRegistry(in []RegistryRow) []RegistryRow {
	if in == nil {
		return nil
	}
	out := make([]RegistryRow, len(in))
	for i, r := range in {
		r.Entries = append([]ServiceEntry(nil), r.Entries...)
		out[i] = r
	}
	return out
}

func registryEqual(a, b []RegistryRow) bool {
	if len(a) != len(b) {
		return false
	}
	if sameRegistry(a, b) {
		return true
	}
	for i := range a {
		if a[i].Owner != b[i].Owner || a[i].Version != b[i].Version || len(a[i].Entries) != len(b[i].Entries) {
			return false
		}
		if sameEntries(a[i].Entries, b[i].Entries) {
			continue
		}
		for j := range a[i].Entries {
			if a[i].Entries[j] != b[i].Entries[j] {
				return false
			}
		}
	}
	return true
}

// mergeRegistry keeps, per owner, the row with the higher version (equal
// versions: the union, for a lattice join even on corrupted input). The
// result is in the form cloneRegistry gives: a or b itself when the join
// equals that list and the list already has that form, otherwise a new
// list whose rows share their entries with the inputs (states never modify
// their rows, so they may share them).
func mergeRegistry(a, b []RegistryRow) []RegistryRow {
	if out, ok := joinAlignedRegistry(a, b); ok {
		return out
	}
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
	// Rows are never written in place (writers copy: withRegistryRow),
	// so the result shares its rows' entries with the inputs.
	for i := range out {
		if out[i].Entries != nil && len(out[i].Entries) == 0 {
			out[i].Entries = nil
		}
	}
	return out
}

// joinAlignedRegistry is mergeRegistry for lists of the same owners in
// the same places, when their join is a or b without being built: row by
// row the join keeps one input's row and it equals that list's. It
// reports false when the join must be built to decide.
func joinAlignedRegistry(a, b []RegistryRow) ([]RegistryRow, bool) {
	if len(a) == 0 || len(a) != len(b) {
		return nil, false
	}
	if sameRegistry(a, b) {
		// The very rows: the join is a, as the walk would find.
		return a, registryNormal(a)
	}
	fromA, fromB := true, true
	for i := range a {
		ra, rb := &a[i], &b[i]
		switch {
		case ra.Owner != rb.Owner:
			return nil, false
		case ra.Version > rb.Version:
			fromB = false
		case rb.Version > ra.Version:
			fromA = false
		case sameEntries(ra.Entries, rb.Entries) || entriesEqual(ra.Entries, rb.Entries):
			// The join keeps ra, which equals both rows.
		default:
			return nil, false // the join is the union of the entries
		}
		if !fromA && !fromB {
			return nil, false
		}
	}
	switch {
	case fromA && registryNormal(a):
		return a, true
	case fromB && registryNormal(b):
		return b, true
	}
	return nil, false
}

// registryRowsEqual reports whether a and b hold equal rows in the same
// order, comparing entries by identity first and by value only when they
// are different slices.
func registryRowsEqual(a, b []RegistryRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Owner != b[i].Owner || a[i].Version != b[i].Version ||
			!(sameEntries(a[i].Entries, b[i].Entries) || entriesEqual(a[i].Entries, b[i].Entries)) {
			return false
		}
	}
	return true
}

// registryNormal reports whether cloneRegistry(rows) would equal rows: no
// row has an empty non-nil Entries.
func registryNormal(rows []RegistryRow) bool {
	for i := range rows {
		if rows[i].Entries != nil && len(rows[i].Entries) == 0 {
			return false
		}
	}
	return true
}

func unionEntries(a, b []ServiceEntry) []ServiceEntry {
	return joinSorted(a, b, compareEntries, same[ServiceEntry], first[ServiceEntry])
}

func compareEntries(x, y ServiceEntry) int {
	switch {
	case entryLess(x, y):
		return -1
	case entryLess(y, x):
		return 1
	}
	return 0
}

// withRegistryRow returns a copy of rows with owner's row set to entries at
// the given version. The other rows share their entry lists with rows
// (rows are never written in place), but for empty ones, which become nil
// as cloneRegistry makes them: the result equals what replacing the row
// in cloneRegistry(rows) gives.
func withRegistryRow(rows []RegistryRow, owner UniqueAddress, version uint64, entries []ServiceEntry) []RegistryRow {
	i := sort.Search(len(rows), func(i int) bool { return rows[i].Owner.Compare(owner) >= 0 })
	row := RegistryRow{Owner: owner, Version: version, Entries: append([]ServiceEntry(nil), entries...)}
	found := i < len(rows) && rows[i].Owner == owner
	n := len(rows)
	if !found {
		n++
	}
	out := make([]RegistryRow, 0, n)
	for _, r := range rows[:i] {
		out = append(out, sharedRow(r))
	}
	out = append(out, row)
	if found {
		i++
	}
	for _, r := range rows[i:] {
		out = append(out, sharedRow(r))
	}
	return out
}

// sharedRow is r as cloneRegistry copies it, sharing its entry list: an
// empty one is nil.
func sharedRow(r RegistryRow) RegistryRow {
	if len(r.Entries) == 0 {
		r.Entries = nil
	}
	return r
}

// Entries returns every service entry of the state, sorted by key, node,
// then path.
func (s *State) Entries() []ServiceEntry { return flattenRegistry(s.Registry) }

// flattenRegistry flattens registry rows into one list sorted by (Key,
// Node, Path).
func flattenRegistry(rows []RegistryRow) []ServiceEntry {
	// Rows are in owner order and a row's entries, all the owner's, in
	// (key, path) order, so ordering by key alone, stably, puts them in
	// order without comparing addresses. A state breaking those
	// invariants takes the full sort.
	total, kept := registryShape(rows)
	if total == 0 {
		return nil
	}
	if kept && len(rows) <= flattenMergeRows {
		return mergeRowsByKey(rows, total)
	}
	out := make([]ServiceEntry, 0, total)
	for _, r := range rows {
		out = append(out, r.Entries...)
	}
	slices.SortStableFunc(out, func(a, b ServiceEntry) int { return strings.Compare(a.Key, b.Key) })
	if kept {
		return out
	}
	for i := 1; i < len(out); i++ {
		if compareFlat(out[i-1], out[i]) >= 0 {
			sort.Slice(out, func(i, j int) bool { return compareFlat(out[i], out[j]) < 0 })
			break
		}
	}
	return out
}

// flattenMergeRows is the most rows flattenRegistry merges by scanning
// every row's next entry; more are sorted.
const flattenMergeRows = 8

// registryShape counts the entries of rows and reports whether the rows
// keep the registry's invariants: owners in strictly increasing order,
// and each row's entries the owner's, in strictly increasing (key, path)
// order.
func registryShape(rows []RegistryRow) (total int, kept bool) {
	kept = true
	for i := range rows {
		r := &rows[i]
		total += len(r.Entries)
		if !kept {
			continue
		}
		if i > 0 && rows[i-1].Owner.Compare(r.Owner) >= 0 {
			kept = false
			continue
		}
		for j := range r.Entries {
			if r.Entries[j].Node != r.Owner || (j > 0 && !entryLess(r.Entries[j-1], r.Entries[j])) {
				kept = false
				break
			}
		}
	}
	return total, kept
}

// mergeRowsByKey is the stable sort by key of the rows' entries, in row
// order, holding total entries: each step takes the first row's next
// entry among those with the least key. The rows are at most
// flattenMergeRows.
func mergeRowsByKey(rows []RegistryRow, total int) []ServiceEntry {
	var next [flattenMergeRows]int
	return mergeByKey(rows, total, next[:len(rows)], nil)
}

// mergeByKey is mergeRowsByKey for any number of rows, next holding a
// zero per row; when from is not nil it also appends to *from the row of
// each entry.
func mergeByKey(rows []RegistryRow, total int, next []int, from *[]int32) []ServiceEntry {
	out := make([]ServiceEntry, 0, total)
	for len(out) < total {
		best := -1
		var key string
		for i := range rows {
			if es := rows[i].Entries; next[i] < len(es) && (best < 0 || es[next[i]].Key < key) {
				best, key = i, es[next[i]].Key
			}
		}
		out = append(out, rows[best].Entries[next[best]])
		if from != nil {
			*from = append(*from, int32(best))
		}
		next[best]++
	}
	return out
}

// compareFlat orders service entries by key, node, then path, the order of
// flattenRegistry.
func compareFlat(a, b ServiceEntry) int {
	if a.Key != b.Key {
		if a.Key < b.Key {
			return -1
		}
		return 1
	}
	if c := a.Node.Compare(b.Node); c != 0 {
		return c
	}
	switch {
	case a.Path < b.Path:
		return -1
	case a.Path > b.Path:
		return 1
	}
	return 0
}

// Lookup returns the entries registered under key, sorted by node then
// path.
func Lookup(entries []ServiceEntry, key string) []ServiceEntry {
	var out []ServiceEntry
	for _, e := range entries {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}
