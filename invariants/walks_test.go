package invariants

import (
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

// TestTombstonedMatchesMap checks step.tombstoned, which compares
// members with a list of few tombstones, or looks few tombstones up among
// sorted members, against a lookup of each member in the tombstone map.
func TestTombstonedMatchesMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := proto.NewState()
		n := rapid.IntRange(0, 40).Draw(t, "members")
		for i := 1; i <= n; i++ {
			if rapid.IntRange(0, 3).Draw(t, "skip") > 0 {
				s.Members = append(s.Members, mem(nd(i), proto.Up))
			}
		}
		for k := rapid.IntRange(0, maxTombList+4).Draw(t, "tombstones"); k > 0; k-- {
			s.Tombstones[nd(rapid.IntRange(1, 45).Draw(t, "tombstone"))] = time.Time{}
		}
		for _, noMemo := range []bool{false, true} {
			c := NewChecker()
			c.noMemo = noMemo
			for _, sorted := range []bool{true, false} {
				r := &step{c: c, h: &history{}, s: s}
				dead := r.tombstoned(sorted)
				for j, m := range s.Members {
					_, want := s.Tombstones[m.Node]
					if got := dead.has(j); got != want {
						t.Fatalf("noMemo=%v sorted=%v members %v tombstones %v: member %d tombstoned = %v, want %v",
							noMemo, sorted, s.Members, s.Tombstones, j, got, want)
					}
					if got := r.isTombstoned(m.Node); got != want {
						t.Fatalf("noMemo=%v members %v tombstones %v: isTombstoned(%v) = %v, want %v",
							noMemo, s.Members, s.Tombstones, m.Node, got, want)
					}
				}
			}
		}
	})
}

// TestMapPointerMatchesReflect: mapPointer names a map as reflect does,
// so that two maps share a pointer exactly when they are the same map.
func TestMapPointerMatchesReflect(t *testing.T) {
	var none proto.VClock
	a, b := proto.VClock{nd(1): 1}, proto.VClock{nd(1): 1}
	c := a
	for i, m := range []proto.VClock{none, {}, a, b, c} {
		if got, want := mapPointer(m), reflect.ValueOf(m).UnsafePointer(); got != want {
			t.Errorf("map %d: mapPointer = %p, reflect says %p", i, got, want)
		}
	}
	if !sameMap(a, c) || sameMap(a, b) || sameMap(a, none) {
		t.Errorf("sameMap(a, a) = %v, sameMap(a, b) = %v, sameMap(a, nil) = %v; want true, false, false",
			sameMap(a, c), sameMap(a, b), sameMap(a, none))
	}
}

// TestEqualTablesMatchesCmp checks equalTables, which epoch-unique uses to
// compare a table with the one remembered for its (type, epoch), against
// cmp.Equal on random pairs of tables: copies, shared copies and copies
// with one field changed.
func TestEqualTablesMatchesCmp(t *testing.T) {
	outcomes := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		node := func(label string) proto.UniqueAddress {
			return nd(rapid.IntRange(1, 4).Draw(t, label))
		}
		n := rapid.IntRange(0, 4).Draw(t, "shards")
		a := proto.TypeAllocation{
			Type:  proto.ShardType{Name: "orders", Shards: n, Replicas: 2},
			Epoch: proto.Epoch(rapid.IntRange(1, 3).Draw(t, "epoch")),
		}
		for i := 0; i < n; i++ {
			sh := proto.ShardAllocation{Primary: node("primary"), Epoch: proto.Epoch(rapid.IntRange(0, 3).Draw(t, "shard epoch"))}
			for k := rapid.IntRange(0, 2).Draw(t, "replicas"); k > 0; k-- {
				sh.Replicas = append(sh.Replicas, node("replica"))
			}
			a.Shards = append(a.Shards, sh)
		}
		b := a
		if !rapid.Bool().Draw(t, "shared") {
			b = a.Clone()
		}
		switch change := rapid.IntRange(0, 9).Draw(t, "change"); {
		case change == 1:
			b.Type.Name = "users"
		case change == 2:
			b.Type.Replicas++
		case change == 3:
			b.Epoch++
		case change == 4 && n > 0:
			b.Shards = b.Shards[:n-1]
		case change >= 5 && n > 0:
			b = a.Clone()
			sh := &b.Shards[rapid.IntRange(0, n-1).Draw(t, "changed shard")]
			switch change {
			case 5:
				sh.Primary = reborn(1)
			case 6:
				sh.Epoch++
			case 7:
				sh.Replicas = append(sh.Replicas, nd(9))
			case 8:
				if len(sh.Replicas) > 0 {
					sh.Replicas[len(sh.Replicas)-1] = nd(9)
				}
			case 9:
				if len(sh.Replicas) == 0 {
					sh.Replicas = []proto.UniqueAddress{} // equal to nil
				}
			}
		}
		want := cmp.Equal(a, b, cmpopts.EquateEmpty())
		if got := equalTables(a, b); got != want {
			t.Fatalf("equalTables = %v, cmp.Equal = %v:\n%+v\n%+v", got, want, a, b)
		}
		outcomes[want]++
	})
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outcomes %v: both equal and different pairs must be tried", outcomes)
	}
}

// TestMemberMatchesIndex checks step.member, which looks for each node of
// a list a few members past the previous one found, against a lookup in a
// map of the members, on sorted and unsorted lists with non-members.
func TestMemberMatchesIndex(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := proto.NewState()
		want := map[proto.UniqueAddress]int{}
		n := rapid.IntRange(0, 30).Draw(t, "members")
		for i := 1; i <= n; i++ {
			if rapid.IntRange(0, 3).Draw(t, "skip") > 0 {
				want[nd(i)] = len(s.Members)
				s.Members = append(s.Members, mem(nd(i), proto.Up))
			}
		}
		var list []proto.UniqueAddress
		sorted := rapid.Bool().Draw(t, "sorted")
		for i := 1; i <= n+2; i++ {
			u := nd(i)
			if !sorted {
				u = nd(rapid.IntRange(1, n+2).Draw(t, "node"))
			}
			switch rapid.IntRange(0, 3).Draw(t, "pick") {
			case 0:
				list = append(list, u)
			case 1:
				list = append(list, reborn(i))
			}
		}
		for _, valid := range []bool{true, false} {
			r := &step{c: NewChecker(), s: s, valid: valid}
			at := 0
			for _, u := range list {
				i, ok := r.member(u, &at)
				j, found := want[u]
				if ok != found || (ok && i != j) {
					t.Fatalf("members %v, list %v: member(%v) = %d, %v; want %d, %v", s.Members, list, u, i, ok, j, found)
				}
			}
		}
	})
}

// TestHistoryMatchesMap checks Checker.history, which caches histories by
// UID, against the map of all histories, with nodes whose UIDs collide in
// the cache and nodes that share a UID at different addresses.
func TestHistoryMatchesMap(t *testing.T) {
	nodes := []proto.UniqueAddress{nd(1), nd(2), reborn(1)}
	for _, uid := range []proto.UID{7, 7 + recentNodes, 7 + 2*recentNodes} {
		for i := 1; i <= 2; i++ {
			u := nd(i)
			u.UID = uid
			nodes = append(nodes, u)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		c := NewChecker()
		s := state(mem(nd(1), proto.Up))
		for k := rapid.IntRange(1, 20).Draw(t, "views"); k > 0; k-- {
			u := nodes[rapid.IntRange(0, len(nodes)-1).Draw(t, "node")]
			c.Observe(at(u, s))
			for _, w := range nodes {
				if got, want := c.history(w), c.nodes[w]; got != want {
					t.Fatalf("history(%v) = %p, want %p", w, got, want)
				}
			}
		}
	})
}

// TestMemo checks the direct-mapped memo: a key finds only its own value,
// never another key's, even when all keys share one slot, and nothing is
// found before it is put (a nil key included).
func TestMemo(t *testing.T) {
	parts := make([]*int, 6)
	for i := range parts {
		parts[i] = new(int)
	}
	ptr := func(i int) unsafe.Pointer {
		if i == len(parts) {
			return nil
		}
		return unsafe.Pointer(parts[i])
	}
	for _, bits := range []uint{0, 3, 11} {
		rapid.Check(t, func(t *rapid.T) {
			m := newMemo[int](bits)
			want := map[[2]int]int{}
			// held: the keys no later put can have displaced, since no
			// other key put since theirs maps to their slot.
			held := map[[2]int]bool{}
			for k := rapid.IntRange(0, 20).Draw(t, "ops"); k > 0; k-- {
				a, b := rapid.IntRange(0, len(parts)).Draw(t, "a"), rapid.IntRange(0, len(parts)).Draw(t, "b")
				key := [2]int{a, b}
				if rapid.Bool().Draw(t, "put") {
					v := rapid.IntRange(1, 100).Draw(t, "value")
					m.put(ptr(a), ptr(b), v)
					want[key] = v
					for other := range held {
						if m.slot(ptr(other[0]), ptr(other[1])) == m.slot(ptr(a), ptr(b)) {
							delete(held, other)
						}
					}
					held[key] = true
					continue
				}
				got, ok := m.get(ptr(a), ptr(b))
				if w, put := want[key]; ok && (!put || got != w) {
					t.Fatalf("bits %d: get(%d, %d) = %d, want %d (put %v)", bits, a, b, got, w, put)
				}
				if !ok && held[key] {
					t.Fatalf("bits %d: get(%d, %d) forgot %d, which nothing displaced", bits, a, b, want[key])
				}
			}
		})
	}
}

// TestSeenWalkMatchesNaive checks seenWalk, which Observe runs on every
// changed state, against subsequence and liveSeen.
func TestSeenWalkMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := proto.NewState()
		n := rapid.IntRange(0, 10).Draw(t, "members")
		for i := 1; i <= n; i++ {
			st := proto.MemberStatus(rapid.IntRange(int(proto.Joining), int(proto.Down)).Draw(t, "status"))
			s.Members = append(s.Members, mem(nd(i), st))
		}
		for i := 1; i <= n+2; i++ {
			if rapid.Bool().Draw(t, "seen") {
				s.Seen = append(s.Seen, nd(rapid.IntRange(1, n+2).Draw(t, "node")))
			}
		}
		sub, live := seenWalk(s.Seen, s.Members)
		if want := subsequence(s.Seen, s.Members); sub != want {
			t.Fatalf("members %v seen %v: sub = %v, subsequence says %v", s.Members, s.Seen, sub, want)
		}
		if want := liveSeen(s); sub && live != want {
			t.Fatalf("members %v seen %v: live = %v, liveSeen says %v", s.Members, s.Seen, live, want)
		}
	})
}

// TestLivenessKeysMatchFields checks the keys Liveness groups views by:
// two states get the same key exactly when the fields the key stands for
// are equal, on random states over nodes and names whose plain
// concatenations would collide.
func TestLivenessKeysMatchFields(t *testing.T) {
	tricky := []proto.UniqueAddress{
		{Address: proto.Address{Host: "a", Port: 12}, UID: 1},
		{Address: proto.Address{Host: "a1", Port: 2}, UID: 1},
		{Address: proto.Address{Host: "a", Port: 1}, UID: 21},
		nd(1),
	}
	outcomes := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		node := func(label string) proto.UniqueAddress { return tricky[rapid.IntRange(0, len(tricky)-1).Draw(t, label)] }
		name := func(label string) string { return rapid.SampledFrom([]string{"x", "x1", "1", ""}).Draw(t, label) }
		gen := func() View {
			s := proto.NewState()
			for i := rapid.IntRange(0, 2).Draw(t, "members"); i > 0; i-- {
				s.Members = append(s.Members, mem(node("member"), proto.MemberStatus(rapid.IntRange(1, 3).Draw(t, "status"))))
			}
			s.AllocationEpoch = proto.Epoch(rapid.IntRange(1, 2).Draw(t, "allocation epoch"))
			for i := rapid.IntRange(0, 2).Draw(t, "tables"); i > 0; i-- {
				tb := proto.TypeAllocation{Type: proto.ShardType{Name: name("type"), Shards: 1, Replicas: rapid.IntRange(1, 2).Draw(t, "type replicas")}, Epoch: 1}
				for j := rapid.IntRange(0, 2).Draw(t, "shards"); j > 0; j-- {
					sh := proto.ShardAllocation{Primary: node("primary"), Epoch: proto.Epoch(rapid.IntRange(1, 2).Draw(t, "shard epoch"))}
					for k := rapid.IntRange(0, 2).Draw(t, "replicas"); k > 0; k-- {
						sh.Replicas = append(sh.Replicas, node("replica"))
					}
					tb.Shards = append(tb.Shards, sh)
				}
				s.Allocations = append(s.Allocations, tb)
			}
			for i := rapid.IntRange(0, 2).Draw(t, "rows"); i > 0; i-- {
				owner := node("owner")
				r := proto.RegistryRow{Owner: owner, Version: 1}
				for j := rapid.IntRange(0, 2).Draw(t, "entries"); j > 0; j-- {
					r.Entries = append(r.Entries, proto.ServiceEntry{Key: name("key"), Node: owner, Path: name("path")})
				}
				s.Registry = append(s.Registry, r)
			}
			return View{State: s}
		}
		a, b := gen(), gen()
		type statusOf struct {
			node   proto.UniqueAddress
			status proto.MemberStatus
		}
		statuses := func(v View) []statusOf {
			var out []statusOf
			for _, m := range v.State.Members {
				out = append(out, statusOf{m.Node, m.Status})
			}
			return out
		}
		eq := cmp.AllowUnexported(statusOf{})
		for _, c := range []struct {
			name string
			key  func(View) string
			same bool
		}{
			{"members", membersKey, cmp.Equal(statuses(a), statuses(b), eq)},
			{"allocations", allocationsKey, a.State.AllocationEpoch == b.State.AllocationEpoch &&
				cmp.Equal(a.State.Allocations, b.State.Allocations, cmpopts.EquateEmpty())},
			{"registry", registryKey, cmp.Equal(entries(a.State), entries(b.State), cmpopts.EquateEmpty())},
		} {
			if got := c.key(a) == c.key(b); got != c.same {
				t.Fatalf("%s: same key = %v, same fields = %v:\n%+v\n%+v", c.name, got, c.same, a.State, b.State)
			}
			outcomes[c.same]++
		}
	})
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outcomes %v: both equal and different states must be tried", outcomes)
	}
}

// TestSameNodeMatchesEquality checks sameNode against ==, on addresses
// whose hosts are the same string, equal strings apart, or different.
func TestSameNodeMatchesEquality(t *testing.T) {
	hosts := []string{"10.0.0.1", string([]byte("10.0.0.1")), "10.0.0.2", "10.0.0.10", ""}
	rapid.Check(t, func(t *rapid.T) {
		node := func(label string) proto.UniqueAddress {
			return proto.UniqueAddress{
				Address: proto.Address{Host: rapid.SampledFrom(hosts).Draw(t, label+" host"), Port: uint16(rapid.IntRange(7000, 7001).Draw(t, label+" port"))},
				UID:     proto.UID(rapid.IntRange(1, 2).Draw(t, label+" uid")),
			}
		}
		a, b := node("a"), node("b")
		if got, want := sameNode(&a, &b), a == b; got != want {
			t.Fatalf("sameNode(%v, %v) = %v, want %v", a, b, got, want)
		}
	})
}
