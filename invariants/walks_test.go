package invariants

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rumorhq/rumor/proto"
)

// TestLiveSeenMatchesNaive checks liveSeen, which leadership runs before
// building the unreachable set, against the definition: every member that
// is not Down or Exiting is in the seen set.
func TestLiveSeenMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := proto.NewState()
		var seen []proto.UniqueAddress
		n := rapid.IntRange(0, 12).Draw(t, "members")
		for i := 1; i <= n; i++ {
			st := proto.MemberStatus(rapid.IntRange(int(proto.Joining), int(proto.Down)).Draw(t, "status"))
			s.Members = append(s.Members, mem(nd(i), st))
			if rapid.Bool().Draw(t, "seen") {
				seen = append(seen, nd(i))
			}
		}
		s.Seen = seen
		want := true
		for _, m := range s.Members {
			if m.Status != proto.Down && m.Status != proto.Exiting && !containsNode(seen, m.Node) {
				want = false
			}
		}
		if got := liveSeen(s); got != want {
			t.Fatalf("members %v seen %v: liveSeen = %v, want %v", s.Members, seen, got, want)
		}
	})
}

// TestTombstonedMatchesMap checks step.tombstoned, which looks few
// tombstones up among sorted members, against a lookup of each member in
// the tombstone map.
func TestTombstonedMatchesMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := proto.NewState()
		n := rapid.IntRange(0, 40).Draw(t, "members")
		for i := 1; i <= n; i++ {
			if rapid.IntRange(0, 3).Draw(t, "skip") > 0 {
				s.Members = append(s.Members, mem(nd(i), proto.Up))
			}
		}
		for k := rapid.IntRange(0, 6).Draw(t, "tombstones"); k > 0; k-- {
			s.Tombstones[nd(rapid.IntRange(1, 45).Draw(t, "tombstone"))] = time.Time{}
		}
		r := &step{s: s}
		for _, sorted := range []bool{true, false} {
			dead := r.tombstoned(sorted)
			for j, m := range s.Members {
				_, want := s.Tombstones[m.Node]
				if got := dead(j); got != want {
					t.Fatalf("sorted=%v members %v tombstones %v: member %d tombstoned = %v, want %v", sorted, s.Members, s.Tombstones, j, got, want)
				}
			}
		}
	})
}
