package proto

import (
	"math/rand"
	"slices"
	"testing"
)

// TestMemberNodes checks keyCache.memberNodes against the members' nodes
// read one by one, for member lists that come back, change status only
// or change nodes, and that the list it shares cannot be grown in place.
func TestMemberNodes(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var kc keyCache
	var lists [][]Member
	shared := 0
	for iter := 0; iter < 3000; iter++ {
		var ms []Member
		switch {
		case len(lists) > 0 && rng.Intn(3) == 0:
			ms = lists[rng.Intn(len(lists))] // a list seen before
		case len(lists) > 0 && rng.Intn(2) == 0:
			ms = append([]Member(nil), lists[rng.Intn(len(lists))]...) // same nodes, other statuses
			for i := range ms {
				ms[i].Status = MemberStatus(rng.Intn(int(Removed) + 1))
			}
		default:
			for i, n := 0, 1+rng.Intn(6); i < n; i++ {
				ms = append(ms, Member{Node: UniqueAddress{Address: addr(1 + rng.Intn(9)), UID: UID(1 + rng.Intn(3))}})
			}
		}
		lists = append(lists, ms)
		if len(lists) > 6 {
			lists = lists[1:]
		}
		want := make([]UniqueAddress, len(ms))
		for i := range ms {
			want[i] = ms[i].Node
		}
		got := kc.memberNodes(ms)
		if !slices.Equal(got, want) {
			t.Fatalf("iteration %d: memberNodes = %v, want %v", iter, got, want)
		}
		if cap(got) != len(got) {
			t.Fatalf("iteration %d: the shared list has room to grow in place: cap %d, len %d", iter, cap(got), len(got))
		}
		if again := kc.memberNodes(ms); &again[0] != &got[0] {
			t.Fatalf("iteration %d: a second call made another list", iter)
		} else if &again[0] != &want[0] {
			shared++
		}
	}
	if shared < 3000 {
		t.Fatalf("only %d shared lists", shared)
	}
}
