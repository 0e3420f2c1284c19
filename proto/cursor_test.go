package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// naiveIndex is where u is or would be inserted in the sorted list, and
// whether it is there, found by scanning.
func naiveIndex(list []UniqueAddress, u UniqueAddress) (int, bool) {
	for i, x := range list {
		if x == u {
			return i, true
		}
		if x.Compare(u) > 0 {
			return i, false
		}
	}
	return len(list), false
}

// cursorQueries returns a sorted list drawn from valPool and a run of
// queries against it: mostly in order, members and non-members alike,
// sometimes out of order.
func cursorQueries(rng *rand.Rand) ([]UniqueAddress, []UniqueAddress) {
	list := lawSubset(rng, valPool, 1+rng.Intn(3))
	queries := lawSubset(rng, valPool, 1+rng.Intn(2))
	for n := rng.Intn(4); n > 0 && len(queries) > 1; n-- {
		i, j := rng.Intn(len(queries)), rng.Intn(len(queries))
		queries[i], queries[j] = queries[j], queries[i]
	}
	return list, queries
}

// TestCursorsMatchNaive checks nodeCursor.contains and memberCursor.index,
// which try neighbours of their previous answer before searching, against
// a scan of the list for every query of a run.
func TestCursorsMatchNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2][]UniqueAddress {
		list, queries := cursorQueries(rng)
		return [2][]UniqueAddress{list, queries}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("nodeCursor.contains is a scan", prop.ForAll(func(in [2][]UniqueAddress) string {
			list, queries := in[0], in[1]
			if !sort.SliceIsSorted(list, func(i, j int) bool { return list[i].Compare(list[j]) < 0 }) {
				return "generator made an unsorted list"
			}
			c := nodeCursor{list: list}
			for _, u := range queries {
				_, want := naiveIndex(list, u)
				if got := c.contains(u); got != want {
					return fmt.Sprintf("list %v: contains(%v) = %v, want %v", list, u, got, want)
				}
			}
			return ""
		}, gen))
		p.Property("memberCursor.index is a scan", prop.ForAll(func(in [2][]UniqueAddress) string {
			list, queries := in[0], in[1]
			s := NewState()
			for _, u := range list {
				s.Members = append(s.Members, Member{Node: u, Status: Up})
			}
			c := memberCursor{s: s}
			for _, u := range queries {
				wi, wok := naiveIndex(list, u)
				if gi, gok := c.index(u); gi != wi || gok != wok {
					return fmt.Sprintf("members %v: index(%v) = %d, %v; want %d, %v", list, u, gi, gok, wi, wok)
				}
			}
			return ""
		}, gen))
	})
}

// v4Pool holds IPv4 addresses only, several per host (ports, UIDs), so
// that word searches meet ties.
var v4Pool = func() []UniqueAddress {
	var out []UniqueAddress
	for _, h := range []string{"1.2.3.4", "10.0.0.9", "10.0.0.10", "10.0.1.0", "192.168.0.1", "255.255.255.255"} {
		for port := uint16(7000); port <= 7001; port++ {
			for uid := UID(1); uid <= 2; uid++ {
				out = append(out, UniqueAddress{Address: Address{Host: h, Port: port}, UID: uid})
			}
		}
	}
	sortNodes(out)
	return out
}()

// TestSharedKeysMatchNaive checks memberCursor.index with a key cache
// shared by cursors over several lists (IPv4-only and mixed, more lists
// than the cache holds, lists searched again after others) against a scan.
func TestSharedKeysMatchNaive(t *testing.T) {
	type run struct{ list, queries []UniqueAddress }
	gen := lawFrom(func(rng *rand.Rand) []run {
		var lists [][]UniqueAddress
		for n := 1 + rng.Intn(2*keyCacheSize); n > 0; n-- {
			if rng.Intn(3) == 0 {
				list, _ := cursorQueries(rng) // mixed hosts
				lists = append(lists, list)
			} else {
				lists = append(lists, lawSubset(rng, v4Pool, 1+rng.Intn(3)))
			}
		}
		var runs []run
		for n := 1 + rng.Intn(4*keyCacheSize); n > 0; n-- {
			queries := lawSubset(rng, v4Pool, 1+rng.Intn(2))
			if rng.Intn(3) == 0 {
				queries = append(queries, lawSubset(rng, valPool, 3)...)
			}
			for k := rng.Intn(4); k > 0 && len(queries) > 1; k-- {
				i, j := rng.Intn(len(queries)), rng.Intn(len(queries))
				queries[i], queries[j] = queries[j], queries[i]
			}
			runs = append(runs, run{lists[rng.Intn(len(lists))], queries})
		}
		return runs
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("shared keys: memberCursor.index is a scan", prop.ForAll(func(runs []run) string {
			var kc keyCache
			states := map[*UniqueAddress]*State{} // one state (one member list) per list
			for _, r := range runs {
				if len(r.list) == 0 {
					continue
				}
				s, ok := states[&r.list[0]]
				if !ok {
					s = NewState()
					for _, u := range r.list {
						s.Members = append(s.Members, Member{Node: u, Status: Up})
					}
					states[&r.list[0]] = s
				}
				list := r.list
				if k := len(r.queries) % (len(list) + 1); k < len(list) && len(r.queries)%3 == 0 {
					// A prefix of the list: same array, another length.
					s = &State{Members: s.Members[:k]}
					list = list[:k]
				}
				c := memberCursor{s: s, kc: &kc}
				for _, u := range r.queries {
					wi, wok := naiveIndex(list, u)
					if gi, gok := c.index(u); gi != wi || gok != wok {
						return fmt.Sprintf("members %v: index(%v) = %d, %v; want %d, %v", list, u, gi, gok, wi, wok)
					}
				}
			}
			return ""
		}, gen))
	})
}
