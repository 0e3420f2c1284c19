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

// TestSeenBodyFor checks that seenBodyFor returns a body holding exactly
// the status asked for, sharing a box only for the same digests, reply
// flag and bitmap.
func TestSeenBodyFor(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	var d derived
	bitmaps := [][]byte{nil, {1}, {1}, {3, 0}, {3, 0}}
	shared := 0
	var last [2]Body
	var prev GossipSeen
	for iter := 0; iter < 3000; iter++ {
		g := GossipSeen{VersionDigest: uint64(rng.Intn(3)), MembersDigest: uint64(rng.Intn(2)), Seen: bitmaps[rng.Intn(len(bitmaps))], Reply: rng.Intn(2) == 0}
		if iter > 0 && rng.Intn(2) == 0 {
			g = prev // the same status again, as to the next peer
		}
		prev = g
		b := d.seenBodyFor(g)
		got, ok := b.(GossipSeen)
		if !ok || got.VersionDigest != g.VersionDigest || got.MembersDigest != g.MembersDigest || got.Reply != g.Reply ||
			len(got.Seen) != len(g.Seen) || (len(g.Seen) > 0 && &got.Seen[0] != &g.Seen[0]) {
			t.Fatalf("iteration %d: seenBodyFor(%+v) = %+v", iter, g, b)
		}
		i := 0
		if g.Reply {
			i = 1
		}
		if last[i] != nil && bodyData(b) == bodyData(last[i]) {
			shared++
		}
		last[i] = b
	}
	if shared < 100 {
		t.Fatalf("only %d shared boxes", shared)
	}
}
