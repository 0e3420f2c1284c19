package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// lookupPool is valPool and v4Pool together: IPv4, IPv6 and named hosts,
// several nodes per host, and enough of them that lists drawn from it are
// both shorter and longer than shortList.
var lookupPool = func() []UniqueAddress {
	seen := map[UniqueAddress]bool{}
	var out []UniqueAddress
	for _, u := range append(append([]UniqueAddress(nil), valPool...), v4Pool...) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sortNodes(out)
	return out
}()

// bigV4Pool is v4Pool and enough simulator-style IPv4 nodes that lists
// drawn from it are longer than scanList; bigLookupPool adds the other
// hosts of lookupPool.
var bigV4Pool, bigLookupPool = func() ([]UniqueAddress, []UniqueAddress) {
	v4 := append([]UniqueAddress(nil), v4Pool...)
	for i := 0; i < 2*scanList; i++ {
		v4 = append(v4, UniqueAddress{Address: Address{Host: fmt.Sprintf("10.1.%d.%d", i/200, i%200), Port: 7000}, UID: UID(1 + i%3)})
	}
	sortNodes(v4)
	all := append(append([]UniqueAddress(nil), v4...), lookupPool...)
	sortNodes(all)
	return v4, naiveNodeUnion(all, nil)
}()

// refIndex is where u is or would be inserted in the sorted list, and
// whether it is there, found by a binary search with Compare.
func refIndex(list []UniqueAddress, u UniqueAddress) (int, bool) {
	i := sort.Search(len(list), func(i int) bool { return list[i].Compare(u) >= 0 })
	return i, i < len(list) && list[i] == u
}

// lookupCase is a sorted list and a run of queries against it: mostly in
// list order, members and non-members alike, sometimes out of order.
type lookupCase struct {
	list, queries []UniqueAddress
}

func genLookupCase(rng *rand.Rand) lookupCase {
	var list []UniqueAddress
	pool := lookupPool
	switch rng.Intn(4) {
	case 0: // short: up to a few entries
		list = lawSubset(rng, pool, 1+rng.Intn(len(pool)))
		if len(list) > 8 {
			list = list[:rng.Intn(9)]
		}
	case 1: // around shortList
		list = lawSubset(rng, pool, 1+rng.Intn(3))
		if n := shortList - 2 + rng.Intn(5); len(list) > n {
			list = list[:n]
		}
	case 2: // long, around scanList or not, IPv4 only or mixed
		pool = bigLookupPool
		if rng.Intn(2) == 0 {
			pool = bigV4Pool
		}
		list = lawSubset(rng, pool, 1+rng.Intn(2))
		if n := scanList - 2 + rng.Intn(5); len(list) > n && rng.Intn(2) == 0 {
			list = list[:n]
		} else if len(list) > shortList {
			list = list[:shortList+1+rng.Intn(len(list)-shortList)]
		}
	default: // any
		list = lawSubset(rng, pool, 1+rng.Intn(4))
	}
	queries := lawSubset(rng, pool, 1+rng.Intn(3)+len(pool)/40)
	for n := rng.Intn(4); n > 0 && len(queries) > 1; n-- {
		i, j := rng.Intn(len(queries)), rng.Intn(len(queries))
		queries[i], queries[j] = queries[j], queries[i]
	}
	return lookupCase{list, queries}
}

// membersOf is a state whose members are the nodes of list, Up.
func membersOf(list []UniqueAddress) *State {
	s := NewState()
	for _, u := range list {
		s.Members = append(s.Members, Member{Node: u, Status: Up})
	}
	return s
}

// lookupCheck checks one case, returning "" or what went wrong.
type lookupCheck func(c lookupCase) string

// TestLookupsMatchNaive checks every lookup of a node in a sorted list
// (which scan short lists by equality and search long ones) against a
// binary search by Compare, on lists shorter and longer than shortList and
// scanList.
func TestLookupsMatchNaive(t *testing.T) {
	checks := map[string]lookupCheck{
		"containsNode": func(c lookupCase) string {
			for _, u := range c.queries {
				if _, want := refIndex(c.list, u); containsNode(c.list, u) != want {
					return fmt.Sprintf("containsNode(%v, %v) = %v, want %v", c.list, u, !want, want)
				}
			}
			return ""
		},
		"nodeCursor.contains": func(c lookupCase) string {
			cur := nodeCursor{list: c.list}
			for _, u := range c.queries {
				wi, want := refIndex(c.list, u)
				if got := cur.contains(u); got != want {
					return fmt.Sprintf("list %v: contains(%v) = %v, want %v", c.list, u, got, want)
				}
				if want && cur.next != wi+1 {
					// Callers read the answer's index as next-1.
					return fmt.Sprintf("list %v: contains(%v) left next %d, want %d", c.list, u, cur.next, wi+1)
				}
			}
			return ""
		},
		"Reachability rows": func(c lookupCase) string {
			r := Reachability{}
			for k, u := range c.list {
				r.Rows = append(r.Rows, ObserverRow{Observer: u, Version: uint64(k + 1)})
			}
			for _, u := range c.queries {
				wi, wok := refIndex(c.list, u)
				if gi, gok := r.rowIndex(u); gi != wi || gok != wok {
					return fmt.Sprintf("rows %v: rowIndex(%v) = %d, %v; want %d, %v", c.list, u, gi, gok, wi, wok)
				}
				if gi, gok := r.lookupRow(u, false); gok != wok || (wok && gi != wi) {
					return fmt.Sprintf("rows %v: lookupRow(%v, false) = %d, %v; want %d, %v", c.list, u, gi, gok, wi, wok)
				}
				row, ok := r.Row(u)
				if ok != wok || (ok && (row.Observer != u || row.Version != uint64(wi+1))) {
					return fmt.Sprintf("rows %v: Row(%v) = %v, %v; want row %d, %v", c.list, u, row, ok, wi, wok)
				}
				w := r.withRow(u, nil)
				if want := len(c.list) + map[bool]int{true: 0, false: 1}[wok]; len(w.Rows) != want ||
					w.Rows[wi].Observer != u || !sort.SliceIsSorted(w.Rows, func(i, j int) bool {
					return w.Rows[i].Observer.Compare(w.Rows[j].Observer) < 0
				}) {
					return fmt.Sprintf("rows %v: withRow(%v) gave %v", c.list, u, w.Rows)
				}
			}
			return ""
		},
		"State lookups": func(c lookupCase) string {
			s := membersOf(c.list)
			for _, u := range c.queries {
				wi, wok := refIndex(c.list, u)
				if gi, gok := s.memberIndex(u); gi != wi || gok != wok {
					return fmt.Sprintf("members %v: memberIndex(%v) = %d, %v; want %d, %v", c.list, u, gi, gok, wi, wok)
				}
				if gi, gok := s.lookupMember(u, false); gok != wok || (wok && gi != wi) {
					return fmt.Sprintf("members %v: lookupMember(%v, false) = %d, %v; want %d, %v", c.list, u, gi, gok, wi, wok)
				}
				if m, ok := s.Member(u); ok != wok || (ok && m.Node != u) {
					return fmt.Sprintf("members %v: Member(%v) = %v, %v; want %v", c.list, u, m.Node, ok, wok)
				}
			}
			// setMember inserts where memberIndex says.
			t := membersOf(c.list)
			for _, u := range c.queries {
				t.setMember(Member{Node: u, Status: Joining})
			}
			want := naiveNodeUnion(c.list, c.queries)
			if len(t.Members) != len(want) {
				return fmt.Sprintf("members %v: setMember of %v gave %d members, want %d", c.list, c.queries, len(t.Members), len(want))
			}
			for i := range want {
				if t.Members[i].Node != want[i] {
					return fmt.Sprintf("members %v: setMember of %v gave %v at %d, want %v", c.list, c.queries, t.Members[i].Node, i, want[i])
				}
			}
			return ""
		},
		"memberCursor": func(c lookupCase) string {
			s := membersOf(c.list)
			var kc keyCache
			for _, withKeys := range []bool{false, true} {
				cur, has := memberCursor{s: s}, memberCursor{s: s}
				if withKeys {
					cur.kc, has.kc = &kc, &kc
				}
				for _, u := range c.queries {
					wi, wok := refIndex(c.list, u)
					if gi, gok := cur.index(u); gi != wi || gok != wok {
						return fmt.Sprintf("members %v (keys %v): index(%v) = %d, %v; want %d, %v", c.list, withKeys, u, gi, gok, wi, wok)
					}
					if got := has.has(u); got != wok {
						return fmt.Sprintf("members %v (keys %v): has(%v) = %v, want %v", c.list, withKeys, u, got, wok)
					}
				}
			}
			return ""
		},
	}
	gen := lawFrom(genLookupCase)
	runLaws(t, func(p *gopter.Properties) {
		for name, check := range checks {
			p.Property(name+" is a scan", prop.ForAll(func(c lookupCase) string {
				if !sort.SliceIsSorted(c.list, func(i, j int) bool { return c.list[i].Compare(c.list[j]) < 0 }) {
					return "generator made an unsorted list"
				}
				return check(c)
			}, gen))
		}
	})
}

// naiveNodeUnion is the sorted union of two lists of nodes (b need not be
// sorted), by comparisons.
func naiveNodeUnion(a, b []UniqueAddress) []UniqueAddress {
	seen := map[UniqueAddress]bool{}
	var out []UniqueAddress
	for _, l := range [][]UniqueAddress{a, b} {
		for _, u := range l {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}

// TestLookupCasesCoverBothPaths checks that the generator of
// TestLookupsMatchNaive makes lists on both sides of shortList and of
// scanList and queries that hit and miss, so that the laws test every way
// of looking up.
func TestLookupCasesCoverBothPaths(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var short, medium, long, v4, hits, misses int
	for i := 0; i < 2000; i++ {
		c := genLookupCase(rng)
		switch {
		case len(c.list) <= shortList:
			short++
		case len(c.list) <= scanList:
			medium++
		default:
			long++
		}
		if _, none := new(keyCache).words(membersOf(c.list).Members); !none && len(c.list) > shortList {
			v4++ // a cursor with a key cache searches its words
		}
		for _, u := range c.queries {
			if _, ok := naiveIndex(c.list, u); ok {
				hits++
			} else {
				misses++
			}
		}
	}
	if short < 200 || medium < 200 || long < 100 || v4 < 100 || hits < 1000 || misses < 1000 {
		t.Fatalf("short lists %d, medium %d, long %d, long IPv4 %d, hits %d, misses %d: want each well represented",
			short, medium, long, v4, hits, misses)
	}
}

// TestSortNodesMatchesCompare checks sortNodes (which sorts short IPv4
// lists by parsed words) against a sort by Compare, on shuffled lists
// with repeats, IPv4-only and mixed, shorter and longer than
// sortByWordsMax.
func TestSortNodesMatchesCompare(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) []UniqueAddress {
		pool := lookupPool
		if rng.Intn(2) == 0 {
			pool = v4Pool
		}
		out := make([]UniqueAddress, rng.Intn(sortByWordsMax+4))
		for i := range out {
			out[i] = pool[rng.Intn(len(pool))]
		}
		return out
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("sortNodes sorts by Compare", prop.ForAll(func(list []UniqueAddress) string {
			want := append([]UniqueAddress(nil), list...)
			sort.SliceStable(want, func(i, j int) bool { return want[i].Compare(want[j]) < 0 })
			got := append([]UniqueAddress(nil), list...)
			sortNodes(got)
			if !nodesEqual(got, want) {
				return fmt.Sprintf("sortNodes(%v) = %v, want %v", list, got, want)
			}
			return ""
		}, gen))
	})
}
