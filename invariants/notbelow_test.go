package invariants

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/rumorhq/rumor/proto"
)

// TestListedNotBelowMatchesMap: listedNotBelow and listsNotBelow answer
// as mapNotBelow does, and listDigest as clockDigest, for random clocks, listed in lists that listed
// other clocks before, up to maxListedClock entries, whose nodes may
// share a UID, a port or a host (equal bytes at another address too), and
// whose entries may be zero or missing on either side.
func TestListedNotBelowMatchesMap(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", string([]byte("10.0.0.1")), "10.0.0.10"}
	node := rapid.Custom(func(t *rapid.T) proto.UniqueAddress {
		return proto.UniqueAddress{
			Address: proto.Address{Host: rapid.SampledFrom(hosts).Draw(t, "host"), Port: uint16(rapid.IntRange(7000, 7001).Draw(t, "port"))},
			UID:     proto.UID(rapid.IntRange(1, 3).Draw(t, "uid")),
		}
	})
	clock := func(t *rapid.T, name string, max int) proto.VClock {
		v := proto.VClock{}
		for range rapid.IntRange(0, max).Draw(t, name+" size") {
			v[node.Draw(t, name+" node")] = uint64(rapid.IntRange(0, 3).Draw(t, name+" value"))
		}
		return v
	}
	outcomes := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		a, b := clock(t, "a", maxListedClock), clock(t, "b", maxListedClock)
		if rapid.Bool().Draw(t, "b above a") {
			for u, x := range a {
				b[u] = max(b[u], x+uint64(rapid.IntRange(0, 1).Draw(t, "up")))
				if len(b) > maxListedClock {
					delete(b, u)
				}
			}
		}
		if got, want := listDigest(listOf(b)), clockDigest(b); got != want {
			t.Fatalf("listDigest of %v = %x, want %x", b, got, want)
		}
		want := mapNotBelow(a, b)
		var al, bl clockList
		// Lists reused from other clocks.
		al.list(clock(t, "old a", maxListedClock))
		bl.list(clock(t, "old b", maxListedClock))
		al.list(a)
		bl.list(b)
		if got := listedNotBelow(a, &bl); got != want {
			t.Fatalf("listedNotBelow(%v, %v) = %v, want %v", a, b, got, want)
		}
		if got := listsNotBelow(&al, &bl); got != want {
			t.Fatalf("listsNotBelow(%v, %v) = %v, want %v", a, b, got, want)
		}
		outcomes[want]++
	})
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outcomes %v: clocks below and not below must be tried", outcomes)
	}
}

// listOf returns a list of v.
func listOf(v proto.VClock) *clockList {
	var l clockList
	l.list(v)
	return &l
}

// TestClockNotBelowMoves: clockNotBelow answers as mapNotBelow does, and
// digest as clockDigest, along random moves of a few nodes between clocks of a pool, where a
// node's next move may or may not start at the clock its last ended at,
// pairs repeat, nodes find the next clock listed by another and clocks
// outgrow the lists.
func TestClockNotBelowMoves(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var pool []proto.VClock
		for i := range rapid.IntRange(1, 6).Draw(t, "clocks") {
			v := proto.VClock{}
			for k := range rapid.IntRange(0, maxListedClock+2).Draw(t, "size") {
				v[nd(k%20)] = uint64(rapid.IntRange(0, 3).Draw(t, "value"))
			}
			v[nd(30+i)] = 1 // no two clocks of the pool alike
			pool = append(pool, v)
		}
		c := NewChecker()
		hs := []*history{{}, {}, {}}
		last := make([]int, len(hs))
		for range rapid.IntRange(1, 40).Draw(t, "moves") {
			n := rapid.IntRange(0, len(hs)-1).Draw(t, "node")
			from := last[n]
			if rapid.IntRange(0, 3).Draw(t, "jump") == 0 {
				from = rapid.IntRange(0, len(pool)-1).Draw(t, "from")
			}
			to := rapid.IntRange(0, len(pool)-1).Draw(t, "to")
			a, b := pool[from], pool[to]
			if got, want := c.clockNotBelow(hs[n], a, b), mapNotBelow(a, b); got != want {
				t.Fatalf("node %d moving from clock %d to %d: clockNotBelow = %v, want %v", n, from, to, got, want)
			}
			last[n] = to
			v := pool[rapid.IntRange(0, len(pool)-1).Draw(t, "digested")]
			if got, want := c.digest(v), clockDigest(v); got != want {
				t.Fatalf("digest of clock %v = %x, want %x", v, got, want)
			}
		}
	})
}
