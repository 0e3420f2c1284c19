package proto

import (
	"math/rand"
	"testing"
	"time"
)

// TestTombstonedIsTheMapLookup: the sender check answers as a lookup in
// the state's tombstones would, across tombstone maps that replace each
// other, for senders that share a UID or an address with a tombstone.
func TestTombstonedIsTheMapLookup(t *testing.T) {
	n := fxOneNode(t)
	rng := rand.New(rand.NewSource(1))
	base := *n.st
	hits := 0
	for round := 0; round < 300; round++ {
		s := base
		s.Tombstones = map[UniqueAddress]time.Time{}
		for k := rng.Intn(40); k > 0; k-- {
			s.Tombstones[fxNode(1+rng.Intn(30), UID(1+rng.Intn(30)))] = time.Time{}
		}
		n.st = &s
		for q := 0; q < 50; q++ {
			u := fxNode(1+rng.Intn(30), UID(1+rng.Intn(30)))
			_, want := s.Tombstones[u]
			if got := n.tombstoned(u); got != want {
				t.Fatalf("round %d: tombstoned(%v) = %v, the map says %v", round, u, got, want)
			}
			if want {
				hits++
			}
		}
	}
	if hits < 100 {
		t.Fatalf("only %d lookups hit a tombstone: the check was barely exercised", hits)
	}
}
