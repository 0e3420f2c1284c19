package proto

import (
	"math/rand"
	"testing"
)

// naiveSameRing reports whether a and b list the same members that are
// not Down, in the same order, walking both record lists.
func naiveSameRing(a, b []Member) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i].Status == Down {
			i++
		}
		for j < len(b) && b[j].Status == Down {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i].Node != b[j].Node {
			return false
		}
		i++
		j++
	}
}

// TestRingChangedMatchesNaive drives ringChanged through runs of member
// lists (new lists with the same ring, rings that gain or lose a member or
// a Down, lists seen before) and checks every answer against comparing the
// rings of the current list and of the list of its last true answer.
func TestRingChangedMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for run := 0; run < 300; run++ {
		n, err := New(LocalConfig(), Address{Host: "10.0.0.9", Port: 7000}, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		var lists [][]Member
		var last []Member
		haveLast := false
		for step := 0; step < 30; step++ {
			var ms []Member
			switch {
			case len(lists) > 0 && rng.Intn(4) == 0:
				ms = lists[rng.Intn(len(lists))] // a list seen before
			case len(lists) > 0 && rng.Intn(2) == 0:
				prev := lists[len(lists)-1]
				ms = append([]Member(nil), prev...) // a copy, perhaps with statuses changed
				for k := rng.Intn(3); k > 0 && len(ms) > 0; k-- {
					ms[rng.Intn(len(ms))].Status = MemberStatus(1 + rng.Intn(int(Down)))
				}
			default:
				for _, u := range lawSubset(rng, lawUniverse, 1+rng.Intn(2)) {
					st := Up
					if rng.Intn(4) == 0 {
						st = Down
					}
					ms = append(ms, Member{Node: u, Status: st})
				}
			}
			lists = append(lists, ms)
			n.st = &State{Members: ms}
			want := !haveLast || !naiveSameRing(last, ms)
			if got := n.ringChanged(); got != want {
				t.Fatalf("run %d step %d: ringChanged = %v, want %v (last ring list %v, now %v)", run, step, got, want, last, ms)
			}
			if want {
				last, haveLast = ms, true
			}
		}
	}
}
