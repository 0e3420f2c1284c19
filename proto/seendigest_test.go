package proto

import (
	"math/rand"
	"testing"
)

// TestSeenDigestMemo checks derived.seenDigestOf and seenTermOf, which
// remember node hashes by UID and the last seen list digested, against
// SeenDigest and seenTerm, over lists that come back, nodes that share a
// UID or a slot, and the zero node.
func TestSeenDigestMemo(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	pool := []UniqueAddress{{}}
	for i := 0; i < 12; i++ {
		pool = append(pool, UniqueAddress{Address: Address{Host: []string{"a", "b", "10.0.0.1"}[rng.Intn(3)], Port: uint16(1 + rng.Intn(2))}, UID: UID(rng.Intn(3) * nodeHashSlots)})
		pool = append(pool, UniqueAddress{Address: addr(1 + rng.Intn(5)), UID: UID(1 + rng.Intn(40))})
	}
	var fresh derived // every slot empty, holding the zero node
	if got, want := fresh.seenTermOf(&UniqueAddress{}), seenTerm(UniqueAddress{}); got != want {
		t.Fatalf("seenTermOf(zero node) = %x on an empty memo, seenTerm %x", got, want)
	}
	var d derived
	var lists [][]UniqueAddress
	for iter := 0; iter < 5000; iter++ {
		var seen []UniqueAddress
		if len(lists) > 0 && rng.Intn(3) == 0 {
			seen = lists[rng.Intn(len(lists))]
		} else {
			for i, n := 0, rng.Intn(6); i < n; i++ {
				seen = append(seen, pool[rng.Intn(len(pool))])
			}
			lists = append(lists, seen)
			if len(lists) > 5 {
				lists = lists[1:]
			}
		}
		s := &State{Seen: seen}
		if got, want := d.seenDigestOf(s), s.SeenDigest(); got != want {
			t.Fatalf("iteration %d: seenDigestOf(%v) = %x, SeenDigest %x", iter, seen, got, want)
		}
		u := pool[rng.Intn(len(pool))]
		if got, want := d.seenTermOf(&u), seenTerm(u); got != want {
			t.Fatalf("iteration %d: seenTermOf(%v) = %x, seenTerm %x", iter, u, got, want)
		}
	}
}
