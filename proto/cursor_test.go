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
