package proto

import (
	"math/rand"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

// naiveWithRegistryRow is withRegistryRow as first written: the whole
// registry cloned, then the row set.
func naiveWithRegistryRow(rows []RegistryRow, owner UniqueAddress, version uint64, entries []ServiceEntry) []RegistryRow {
	out := cloneRegistry(rows)
	row := RegistryRow{Owner: owner, Version: version, Entries: append([]ServiceEntry(nil), entries...)}
	for i := range out {
		if out[i].Owner == owner {
			out[i] = row
			return out
		}
	}
	out = append(out, row)
	sortRows(out)
	return out
}

// sortRows sorts registry rows by owner, by insertion.
func sortRows(rows []RegistryRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Owner.Compare(rows[j-1].Owner) < 0; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// TestWithRegistryRowIsClonedRow checks withRegistryRow, which shares the
// other rows' entry lists, against cloning the registry: equal down to
// which lists are nil (empty non-nil ones included), for owners with a row
// and without, nil registries and empty entry lists; the input is left
// as it was.
func TestWithRegistryRowIsClonedRow(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	inserted, replaced, emptied := 0, 0, 0
	for i := 0; i < 5000; i++ {
		rows := lawRandRegistry(rng)
		for k := range rows {
			if len(rows[k].Entries) == 0 && rng.Intn(2) == 0 {
				rows[k].Entries = []ServiceEntry{}
				emptied++
			}
		}
		if len(rows) == 0 && rng.Intn(2) == 0 {
			rows = []RegistryRow{}
		}
		owner := lawUniverse[rng.Intn(len(lawUniverse))]
		var entries []ServiceEntry
		for _, e := range lawEntryPool {
			if rng.Intn(2) == 0 {
				entries = append(entries, ServiceEntry{Key: e[0], Node: owner, Path: e[1]})
			}
		}
		if entries == nil && rng.Intn(2) == 0 {
			entries = []ServiceEntry{}
		}
		before := cloneRegistryExact(rows)
		want := naiveWithRegistryRow(rows, owner, uint64(rng.Intn(5)), entries)
		got := withRegistryRow(rows, owner, want[indexOwner(want, owner)].Version, entries)
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("case %d: withRegistryRow (-naive +got):\n%s", i, cmp.Diff(want, got))
		}
		if !reflect.DeepEqual(before, rows) {
			t.Fatalf("case %d: input changed (-before +after):\n%s", i, cmp.Diff(before, rows))
		}
		if len(want) > len(rows) {
			inserted++
		} else {
			replaced++
		}
	}
	if inserted < 500 || replaced < 500 || emptied < 500 {
		t.Fatalf("inserted %d, replaced %d, emptied %d: every case must be exercised", inserted, replaced, emptied)
	}
}

func indexOwner(rows []RegistryRow, owner UniqueAddress) int {
	for i := range rows {
		if rows[i].Owner == owner {
			return i
		}
	}
	return -1
}

// cloneRegistryExact deep-copies rows, keeping which lists are nil.
func cloneRegistryExact(rows []RegistryRow) []RegistryRow {
	if rows == nil {
		return nil
	}
	out := make([]RegistryRow, len(rows))
	for i, r := range rows {
		if r.Entries != nil {
			r.Entries = append(make([]ServiceEntry, 0, len(r.Entries)), r.Entries...)
		}
		out[i] = r
	}
	return out
}

// naiveDiffReachability is the reachability part of diffSnapshots as
// first written: a node of next's list not in prev's is unreachable, and
// one of prev's not in next's reachable again, if it is a member of next
// that is not Down.
func naiveDiffReachability(prev, next TopologySnapshot, at time.Time) []Event {
	var out []Event
	live := func(u UniqueAddress) (Member, bool) {
		for _, m := range next.Members {
			if m.Node == u {
				return m, m.Status != Down
			}
		}
		return Member{}, false
	}
	for _, u := range next.Unreachable {
		if m, ok := live(u); ok && !containsNodeUnsorted(prev.Unreachable, u) {
			out = append(out, Event{Type: UnreachableMember, At: at, Seq: next.Seq, Member: m.Clone()})
		}
	}
	for _, u := range prev.Unreachable {
		if m, ok := live(u); ok && !containsNodeUnsorted(next.Unreachable, u) {
			out = append(out, Event{Type: ReachableMember, At: at, Seq: next.Seq, Member: m.Clone()})
		}
	}
	return out
}

// TestAppendDiffSharedLists checks appendDiff, which skips the member and
// reachability walks for lists the snapshots share, against the naive
// walks: next shares prev's members, prev's unreachable list, both or
// neither, the other parts drawn afresh.
func TestAppendDiffSharedLists(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	at := epoch.Add(time.Minute)
	snap := func(s *State, seq uint64) TopologySnapshot {
		return TopologySnapshot{Seq: seq, Members: s.Members, Unreachable: s.Unreachable()}
	}
	events := 0
	for i := 0; i < 5000; i++ {
		prev, next := snap(lawRandState(rng), 1), snap(lawRandState(rng), 2)
		if rng.Intn(2) == 0 {
			next.Members = prev.Members
		}
		if rng.Intn(2) == 0 {
			next.Unreachable = prev.Unreachable
		}
		want := append(naiveDiffMembers(prev, next, at), naiveDiffReachability(prev, next, at)...)
		got := diffSnapshots(prev, next, at)
		if len(want) != len(got) || (len(got) > 0 && !reflect.DeepEqual(want, got)) {
			t.Fatalf("case %d: diffSnapshots (-naive +got):\n%s", i, cmp.Diff(want, got))
		}
		events += len(want)
	}
	if events < 5000 {
		t.Fatalf("only %d events: the cases must differ", events)
	}
}

// TestPruneUpdateIsPrune checks pruneUpdate, which takes the current
// state's clock as clean and its tombstones' UIDs as known while the
// state built keeps both, against pruneTombstoned, on the changes update
// makes (a Removed member with its tombstone among them) to pruned states.
func TestPruneUpdateIsPrune(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	fast, removed := 0, 0
	for i := 0; i < 5000; i++ {
		st := lawRandState(rng)
		if rng.Intn(2) == 0 {
			st = lawRenamed(rng, st, map[UniqueAddress]UID{})
		}
		st.pruneTombstoned(lawNow) // as every assigned state is
		n := &Node{now: lawNow, st: st}
		if rng.Intn(2) == 0 {
			n.tombstoned(&lawUniverse[0]) // the UIDs collected, as the sender check does
		}
		s := st.cloneForUpdate()
		for k := rng.Intn(3); k > 0; k-- {
			updateRandChange(rng, st)(s)
		}
		if rng.Intn(8) == 0 && len(s.Members) > 0 {
			// A Removed member whose tombstone prune adds.
			m := s.Members[rng.Intn(len(s.Members))]
			m.Status = Removed
			s.setMember(m)
			removed++
		}
		if len(s.Tombstones) > 0 && sameClock(s.Version, st.Version) && sameTombstones(s.Tombstones, st.Tombstones) {
			fast++
		}
		want, got := *s, *s
		want.pruneTombstoned(lawNow)
		n.pruneUpdate(&got)
		if !reflect.DeepEqual(&want, &got) {
			t.Fatalf("case %d: pruneUpdate (-pruneTombstoned +got):\n%s\nstate: %s", i, cmp.Diff(&want, &got), lawRender(s))
		}
	}
	if fast < 1000 || removed < 200 {
		t.Fatalf("fast path taken %d times, %d removals: both must be exercised", fast, removed)
	}
}

// TestSeenBitmapDigestIsTheMembers checks the member digest seenBitmap
// keeps, which a new list of the same nodes does not recompute, against
// membersDigestOf over states whose member lists are the last one, a
// copy with statuses changed, or another list.
func TestSeenBitmapDigestIsTheMembers(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	n := &Node{st: lawRandState(rng)}
	kept, redone := 0, 0
	for i := 0; i < 5000; i++ {
		s := *n.st
		switch rng.Intn(3) {
		case 0:
			ms := append([]Member(nil), s.Members...)
			if len(ms) > 0 {
				ms[rng.Intn(len(ms))].Status = MemberStatus(1 + rng.Intn(6))
			}
			s.Members = ms
			kept++
		case 1:
			s.Members = lawRandState(rng).Members
			redone++
		}
		n.st = &s
		n.seenBitmap()
		if want := membersDigestOf(s.Members); n.membersDigest != want {
			t.Fatalf("case %d: members digest %x, want %x", i, n.membersDigest, want)
		}
		if want := seenBits(s.Members, s.Seen); !reflect.DeepEqual(n.seenBits, want) {
			t.Fatalf("case %d: seen bits %v, want %v", i, n.seenBits, want)
		}
	}
	if kept < 1000 || redone < 1000 {
		t.Fatalf("same nodes %d, other lists %d: both must be exercised", kept, redone)
	}
}

// TestSendStateBody checks sendState, which boxes one body per state and
// reply flag, against the body it stands for, over states met again and
// new, both flags: every message carries the current state and its flag.
func TestSendStateBody(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	n := &Node{self: lawUniverse[0]}
	var states []*State
	shared := 0
	var last [2]Body
	for i := 0; i < 3000; i++ {
		switch {
		case n.st != nil && rng.Intn(2) == 0:
			// The same state again: mostly a status answered twice.
		case len(states) > 0 && rng.Intn(2) == 0:
			n.st = states[rng.Intn(len(states))]
		default:
			n.st = lawRandState(rng)
			states = append(states, n.st)
		}
		reply := rng.Intn(2) == 0
		n.out.Messages = n.out.Messages[:0]
		n.sendState(lawUniverse[1], reply)
		got := n.out.Messages[0].Body
		if want := (GossipState{State: n.st, Reply: reply}); !reflect.DeepEqual(got, Body(want)) || got.(GossipState).State != n.st {
			t.Fatalf("case %d: body %+v, want %+v", i, got, want)
		}
		k := 0
		if reply {
			k = 1
		}
		if last[k] != nil && bodyData(got) == bodyData(last[k]) {
			shared++
		}
		last[k] = got
	}
	if shared < 300 {
		t.Fatalf("only %d bodies shared: the box is barely reused", shared)
	}
}

// bodyData is the data word of a boxed body: the box's identity.
func bodyData(b Body) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&b))[1] }

// TestKeyCacheAllocationsNormal checks the remembered allocationsNormal
// against the walk, over lists met again and new, in cloned form and not
// (nil shards, empty non-nil replica lists), sub-slices of held lists
// among them.
func TestKeyCacheAllocationsNormal(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	var kc keyCache
	var pool [][]TypeAllocation
	normal, not := 0, 0
	for i := 0; i < 5000; i++ {
		var ts []TypeAllocation
		switch {
		case len(pool) > 0 && rng.Intn(2) == 0:
			ts = pool[rng.Intn(len(pool))]
			if len(ts) > 1 && rng.Intn(4) == 0 {
				ts = ts[:len(ts)-1] // the same array, fewer tables
			}
		default:
			ts = lawRandTables(rng)
			if len(ts) > 0 && rng.Intn(3) == 0 {
				switch k := rng.Intn(len(ts)); {
				case rng.Intn(2) == 0:
					ts[k].Shards = nil
				case len(ts[k].Shards) > 0:
					ts[k].Shards[0].Replicas = []UniqueAddress{}
				}
			}
			pool = append(pool, ts)
		}
		want := allocationsNormal(ts)
		if got := kc.allocationsNormal(ts); got != want {
			t.Fatalf("case %d: allocationsNormal %v, want %v: %+v", i, got, want, ts)
		}
		if want {
			normal++
		} else {
			not++
		}
	}
	if normal < 1000 || not < 500 {
		t.Fatalf("normal %d, not %d: both must be exercised", normal, not)
	}
}
