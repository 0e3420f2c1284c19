package proto

import (
	"fmt"
	"math/rand"
	"testing"
)

// flatRandClock returns a clock over some of pool: counts from 0 (which a
// valid clock never holds) to 4, or near the top of uint64 so that sums
// saturate, and now and then a UID of 0.
func flatRandClock(rng *rand.Rand, pool []UniqueAddress) VClock {
	v := VClock{}
	for _, u := range pool {
		if rng.Intn(2) != 0 {
			continue
		}
		c := uint64(rng.Intn(5))
		if rng.Intn(20) == 0 {
			c = ^uint64(0) - uint64(rng.Intn(3))
		}
		if rng.Intn(40) == 0 {
			u.UID = 0
		}
		v[u] = c
	}
	return v
}

// flatPool returns n addresses whose UIDs and ports coincide often, so
// that the entry order falls through to ports and hosts.
func flatPool(rng *rand.Rand, n int) []UniqueAddress {
	out := make([]UniqueAddress, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, UniqueAddress{
			Address: Address{Host: fmt.Sprintf("10.0.%d.%d", rng.Intn(2), rng.Intn(3)), Port: uint16(7000 + rng.Intn(2))},
			UID:     UID(1 + rng.Intn(4)),
		})
	}
	return out
}

// TestFlatClockMatchesMap checks a flattened clock against the map it
// flattens: the entries are the map's, strictly in entryBefore order;
// get, namesUID, digestAndSum and validity answer as the map's functions;
// and compareFlatClocks is Compare (and the naive comparison). One pair of
// flatClocks is refilled throughout, over small clocks and clocks long
// enough to be sorted by slices.SortFunc, met again and new.
func TestFlatClockMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	var fa, fb flatClock
	var clocks []VClock
	orders := map[Ordering]int{}
	for i := 0; i < 20000; i++ {
		pool := flatPool(rng, 1+rng.Intn(8))
		if rng.Intn(4) == 0 {
			pool = flatPool(rng, 13+rng.Intn(30))
		}
		v := flatRandClock(rng, pool)
		if rng.Intn(8) == 0 {
			v = nil
		}
		w := flatRandClock(rng, pool)
		switch {
		case len(clocks) > 0 && rng.Intn(4) == 0:
			w = clocks[rng.Intn(len(clocks))] // met before: maybe the flattening held
		case rng.Intn(6) == 0:
			w = v.Clone() // equal, another map
		}
		clocks = append(clocks, v, w)
		if len(clocks) > 16 {
			clocks = clocks[2:]
		}
		fa.flatten(v)
		fb.flatten(w)
		for _, pair := range []struct {
			f *flatClock
			v VClock
		}{{&fa, v}, {&fb, w}} {
			f, v := pair.f, pair.v
			if len(f.entries) != len(v) {
				t.Fatalf("case %d: %d entries for %d", i, len(f.entries), len(v))
			}
			for k, e := range f.entries {
				if c, ok := v[e.node]; !ok || c != e.count {
					t.Fatalf("case %d: entry %v=%d, map has %d (%v)", i, e.node, e.count, c, ok)
				}
				if k > 0 && !entryBefore(&f.entries[k-1].node, &e.node) {
					t.Fatalf("case %d: entries out of order at %d: %v", i, k, f.entries)
				}
			}
			var mask uint64
			for k := range v {
				mask |= 1 << (k.UID % 64)
			}
			if f.mask != mask {
				t.Fatalf("case %d: mask %x, want %x", i, f.mask, mask)
			}
			if f.valid != (validateClock(v) == nil) {
				t.Fatalf("case %d: valid %v, validateClock %v", i, f.valid, validateClock(v))
			}
			for _, u := range pool {
				if got, want := f.get(&u), v[u]; got != want {
					t.Fatalf("case %d: get(%v) = %d, want %d", i, u, got, want)
				}
			}
			d, s := f.digestAndSum()
			if wd, ws := v.digestAndSum(); d != wd || s != ws {
				t.Fatalf("case %d: digestAndSum = %x, %d; want %x, %d", i, d, s, wd, ws)
			}
			a := []UID{UID(rng.Intn(6))}
			b := []UID{UID(1 + rng.Intn(3)), UID(4 + rng.Intn(3))}
			if got, want := f.namesUID(a, b), namesUID(v, a, b); got != want {
				t.Fatalf("case %d: namesUID(%v, %v) = %v, want %v", i, a, b, got, want)
			}
		}
		got := compareFlatClocks(fa.entries, fb.entries)
		if want := v.Compare(w); got != want || got != naiveCompare(v, w) {
			t.Fatalf("case %d: compareFlatClocks = %v, Compare %v, naive %v\nv: %v\nw: %v", i, got, want, naiveCompare(v, w), v, w)
		}
		orders[got]++
	}
	for o := Same; o <= Concurrent; o++ {
		if orders[o] < 500 {
			t.Fatalf("only %d comparisons gave %v: %v", orders[o], o, orders)
		}
	}
}

// TestFlatClockDigestZeroNode: digestAndSum's memo of node hashes starts
// with zero nodes in every place, so a clock naming the zero node (an
// invalid clock a peer may send) must still be hashed.
func TestFlatClockDigestZeroNode(t *testing.T) {
	for _, v := range []VClock{
		{UniqueAddress{}: 3},
		{UniqueAddress{}: 1, UniqueAddress{Address: Address{Host: "a", Port: 1}, UID: 2}: 5},
	} {
		var f flatClock
		f.flatten(v)
		d, s := f.digestAndSum()
		if wd, ws := v.digestAndSum(); d != wd || s != ws {
			t.Fatalf("%v: digestAndSum = %x, %d; want %x, %d", v, d, s, wd, ws)
		}
	}
}
