package proto

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTombstonedIsTheMapLookup: the sender check answers as a lookup in
// the state's tombstones would, across tombstone maps that replace each
// other (fresh ones, the previous one in a new state, an older one again,
// the same state again), short and long, for senders that share a UID or
// an address with a tombstone.
func TestTombstonedIsTheMapLookup(t *testing.T) {
	n := fxOneNode(t)
	rng := rand.New(rand.NewSource(1))
	base := *n.st
	hits, surely := 0, 0
	var maps []map[UniqueAddress]time.Time
	var states []*State
	for round := 0; round < 600; round++ {
		var st *State
		switch r := rng.Intn(10); {
		case r < 2 && len(states) > 0: // a state held before
			st = states[rng.Intn(len(states))]
		case r < 5 && len(maps) > 0: // a new state with a map held before
			s := base
			s.Tombstones = maps[rng.Intn(len(maps))]
			st = &s
		default:
			s := base
			s.Tombstones = map[UniqueAddress]time.Time{}
			size := rng.Intn(9) // mostly short lists, scanned
			if rng.Intn(3) == 0 {
				size = rng.Intn(40) // long ones, searched
			}
			for k := size; k > 0; k-- {
				s.Tombstones[fxNode(1+rng.Intn(30), tombUID(rng))] = time.Time{}
			}
			maps = append(maps, s.Tombstones)
			st = &s
		}
		states = append(states, st)
		n.st = st
		for q := 0; q < 50; q++ {
			u := fxNode(1+rng.Intn(30), tombUID(rng))
			_, want := st.Tombstones[u]
			if n.surelyLive(&u) {
				if want {
					t.Fatalf("round %d: surelyLive(%v), but the map holds it", round, u)
				}
				surely++
			}
			if got := n.tombstoned(&u); got != want {
				t.Fatalf("round %d: tombstoned(%v) = %v, the map says %v", round, u, got, want)
			}
			if want {
				hits++
			}
		}
	}
	if hits < 100 || surely < 1000 {
		t.Fatalf("only %d lookups hit a tombstone and %d were answered inline: the check was barely exercised", hits, surely)
	}
}

// tombUID draws one of 30 UIDs, half of them past 64 (UIDs are mostly
// large; tombstoned keeps a mask of them modulo 64).
func tombUID(rng *rand.Rand) UID {
	u := UID(1 + rng.Intn(30))
	if u%2 == 0 {
		u *= 1_000_003
	}
	return u
}

// TestContainsUIDIsTheSearch: the scan of short lists and the search of
// long ones answer as slices.Contains.
func TestContainsUIDIsTheSearch(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 2000; round++ {
		list := make([]UID, rng.Intn(20))
		for i := range list {
			list[i] = UID(rng.Intn(40))
		}
		slices.Sort(list)
		uid := UID(rng.Intn(42))
		if got, want := containsUID(list, uid), slices.Contains(list, uid); got != want {
			t.Fatalf("containsUID(%v, %d) = %v, want %v", list, uid, got, want)
		}
	}
}

// TestCheckSelfMemoIsTheCheck: over a run of states, new and held before,
// in which this node is Up, Leaving, Down, Exiting or removed, checkSelf
// stops the node exactly as it does with its memo cleared before every
// call.
func TestCheckSelfMemoIsTheCheck(t *testing.T) {
	memo, naive := fxOneNode(t), fxOneNode(t)
	self := memo.self
	rng := rand.New(rand.NewSource(3))
	statuses := []MemberStatus{Up, Up, Up, Leaving, Down, Exiting, Removed}
	var states []*State
	stops := 0
	for round := 0; round < 500; round++ {
		var st *State
		if len(states) > 0 && rng.Intn(2) == 0 {
			st = states[rng.Intn(len(states))]
		} else {
			st = memo.st.Clone()
			m, _ := st.Member(self)
			m.Status = statuses[rng.Intn(len(statuses))]
			if m.Status == Removed {
				st.Members = nil
				st.Tombstones[self] = epoch
			} else {
				st.setMember(m)
			}
			states = append(states, st)
		}
		memo.st, naive.st = st, st
		naive.derived.selfFine = nil
		memo.checkSelf()
		naive.checkSelf()
		if memo.stopping != naive.stopping || len(memo.out.Messages) != len(naive.out.Messages) {
			t.Fatalf("round %d: stopping %q with %d messages, want %q with %d",
				round, memo.stopping, len(memo.out.Messages), naive.stopping, len(naive.out.Messages))
		}
		if memo.stopping != "" {
			stops++
		}
		memo.stopping, naive.stopping = "", ""
		memo.out, naive.out = Output{}, Output{}
	}
	if stops < 100 {
		t.Fatalf("only %d checks stopped the node: the check was barely exercised", stops)
	}
}

// TestNoClockIsAValidClock: onStatus skips the checks of a status without
// a clock, which must be what they answer for it.
func TestNoClockIsAValidClock(t *testing.T) {
	n := fxOneNode(t)
	if err := validateClock(nil); err != nil {
		t.Errorf("validateClock(nil) = %v, want nil", err)
	}
	if !n.ownEntryValid(nil) {
		t.Errorf("ownEntryValid(nil) = false, want true")
	}
}

// TestFlatRegistryMemoIsTheFlattening: over a run of states whose
// registries are new, the very registry held before, a copy of one, or
// the last one with one row changed (in order or not), the memo answers
// as flattenRegistry does.
func TestFlatRegistryMemoIsTheFlattening(t *testing.T) {
	n := fxOneNode(t)
	rng := rand.New(rand.NewSource(4))
	var held [][]RegistryRow
	reused, incremental := 0, 0
	for round := 0; round < 4000; round++ {
		var rows []RegistryRow
		switch r := rng.Intn(5); {
		case r == 0 && len(held) > 0:
			rows = held[rng.Intn(len(held))]
		case r == 1 && len(held) > 0:
			rows = cloneRegistry(held[len(held)-1-rng.Intn(min(2, len(held)))])
		case r >= 2 && len(n.st.Registry) > 0:
			// One row of the current registry changed: new entries,
			// none, or entries that break the row's invariants.
			rows = append([]RegistryRow(nil), n.st.Registry...)
			k := rng.Intn(len(rows))
			var es []ServiceEntry
			for _, e := range lawEntryPool {
				if rng.Intn(2) == 0 {
					es = append(es, ServiceEntry{Key: e[0], Node: rows[k].Owner, Path: e[1]})
				}
			}
			switch {
			case rng.Intn(8) == 0 && len(es) > 1:
				es[0], es[1] = es[1], es[0]
			case rng.Intn(8) == 0 && len(es) > 0:
				es[0].Node = lawUniverse[rng.Intn(len(lawUniverse))]
			}
			rows[k].Entries = es
			rows[k].Version++
			if _, ok := oneRowChanged(n.st.Registry, rows); ok && n.derived.flatRows != nil {
				incremental++
			}
		default:
			rows = lawRandRegistry(rng)
		}
		held = append(held, rows)
		s := *n.st
		s.Registry = rows
		n.st = &s
		before := n.derived.flattened
		got := n.flatRegistry()
		if diff := cmp.Diff(flattenRegistry(rows), got); diff != "" {
			t.Fatalf("round %d: flatRegistry (-flattened +memo):\n%s", round, diff)
		}
		if len(got) > 0 && sameEntries(before, got) {
			reused++
		}
	}
	if reused < 300 || incremental < 500 {
		t.Fatalf("the memo answered %d times, reflattened one row %d times: barely exercised", reused, incremental)
	}
}

// TestOwnRowMemoIsTheLookup: over states whose reachability tables are
// new, held before, or empty, ownUnreachable answers as the table's own Row does.
func TestOwnRowMemoIsTheLookup(t *testing.T) {
	n := fxOneNode(t)
	rng := rand.New(rand.NewSource(5))
	pool := append([]UniqueAddress{n.self}, lawUniverse...)
	sortNodes(pool)
	var held []Reachability
	found := 0
	for round := 0; round < 3000; round++ {
		var r Reachability
		switch k := rng.Intn(4); {
		case k == 0 && len(held) > 0:
			r = held[rng.Intn(len(held))]
		case k == 1:
			r = Reachability{Rows: []ObserverRow{}}
		default:
			r = lawRandReachability(rng, pool, pool)
			held = append(held, r)
		}
		s := *n.st
		s.Reachability = r
		n.st = &s
		row, ok := r.Row(n.self)
		if got := n.ownUnreachable(); !nodesEqual(got, row.Unreachable) || (ok && !sameNodes(got, row.Unreachable)) {
			t.Fatalf("round %d: ownUnreachable %v, the table says %v", round, got, row.Unreachable)
		}
		if ok && len(row.Unreachable) > 0 {
			found++
		}
	}
	if found < 300 {
		t.Fatalf("only %d tables had a row of this node: barely exercised", found)
	}
}

// TestGossipRoundBodiesAreTheStatus: the targets of a round share one
// boxed status, which is the round's status.
func TestGossipRoundBodiesAreTheStatus(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 3)
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	c.run(3*time.Second, 50*time.Millisecond)
	n := c.nodes[addr(1)]
	n.Output()
	n.gossipRound()
	want := n.roundStatus(false)
	sent := 0
	for _, m := range n.Output().Messages {
		if g, ok := m.Body.(GossipStatus); ok {
			sent++
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("status to %v (-want +got):\n%s", m.To, diff)
			}
		}
	}
	if sent < 2 {
		t.Fatalf("the round sent %d statuses, want several", sent)
	}
}

// TestStatusWithIsStatus: the status and the record looked up through a
// key cache shared over many states (IPv4 hosts and others, members and
// tombstones) are Status and Member.
func TestStatusWithIsStatus(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	var kc keyCache
	var held []*State
	statuses := map[MemberStatus]int{}
	for round := 0; round < 3000; round++ {
		var s *State
		if len(held) > 0 && rng.Intn(2) == 0 {
			s = held[rng.Intn(len(held))]
		} else {
			s = lawRandState(rng)
			if rng.Intn(2) == 0 {
				var ms []Member
				for i := 1 + rng.Intn(30); i > 0; i-- {
					ms = append(ms, fxMember(1+rng.Intn(60), Up, 1))
				}
				s = fxState(ms, nil)
			}
			held = append(held, s)
		}
		for q := 0; q < 5; q++ {
			u := lawUniverse[rng.Intn(len(lawUniverse))]
			if len(s.Members) > 0 && rng.Intn(2) == 0 {
				u = s.Members[rng.Intn(len(s.Members))].Node
			} else if rng.Intn(3) == 0 {
				u = fxNode(1+rng.Intn(60), 1)
			}
			want := s.Status(u)
			if got := s.statusWith(u, &kc); got != want {
				t.Fatalf("round %d: statusWith(%v) = %v, Status says %v", round, u, got, want)
			}
			wm, wok := s.Member(u)
			if gm, gok := s.memberWith(u, &kc); gok != wok || !memberEqual(gm, wm) {
				t.Fatalf("round %d: memberWith(%v) = %+v, %v; Member says %+v, %v", round, u, gm, gok, wm, wok)
			}
			statuses[want]++
		}
	}
	if statuses[0] < 100 || statuses[Removed] < 100 || statuses[Up] < 100 {
		t.Fatalf("statuses reached: %v", statuses)
	}
}

// TestCoverMemoIsTheWalk: the remembered tombstonesCover answers are the
// walk's, for maps asked about again and again among new ones.
func TestCoverMemoIsTheWalk(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	var kc keyCache
	var maps []map[UniqueAddress]time.Time
	answers := map[bool]int{}
	for round := 0; round < 3000; round++ {
		if len(maps) < 2 || rng.Intn(8) == 0 {
			m := map[UniqueAddress]time.Time{}
			for k := rng.Intn(6); k > 0; k-- {
				m[fxNode(1+rng.Intn(8), UID(1+rng.Intn(8)))] = time.Time{}
			}
			maps = append(maps, m)
		}
		// Mostly the newest few maps, as a node meets its peers' maps.
		pick := func() map[UniqueAddress]time.Time {
			return maps[len(maps)-1-rng.Intn(min(len(maps), 5))]
		}
		a, b := pick(), pick()
		want := tombstonesCover(a, b)
		if got := kc.tombstonesCover(a, b); got != want {
			t.Fatalf("round %d: remembered cover of %v by %v = %v, the walk says %v", round, b, a, got, want)
		}
		answers[want]++
	}
	if answers[true] < 300 || answers[false] < 300 {
		t.Fatalf("answers %v: both were not exercised", answers)
	}
	var none *keyCache
	if a := maps[0]; none.tombstonesCover(a, a) != true {
		t.Fatalf("a nil cache does not compute the cover")
	}
}
