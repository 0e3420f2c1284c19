package proto

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// fxRow is observer i's reachability row (UID 1) listing subjects (UID 1).
type fxRow struct {
	observer int
	subjects []int
}

// fxState builds a well-formed state from members (any order), the indexes
// of the nodes that have seen its version, and reachability rows.
func fxState(members []Member, seen []int, rows ...fxRow) *State {
	s := NewState()
	for _, m := range members {
		s.setMember(m)
	}
	s.Seen = fxNodes(seen...)
	sortNodes(s.Seen)
	for _, r := range rows {
		subjects := fxNodes(r.subjects...)
		sortNodes(subjects)
		s.Reachability = s.Reachability.withRow(fxNode(r.observer, 1), subjects)
	}
	return s
}

func TestFxStateWellFormed(t *testing.T) {
	s := fxState([]Member{fxMember(10, Up, 1), fxMember(9, Up, 2), fxMember(2, Joining, 0)}, []int{10, 2},
		fxRow{10, []int{9}}, fxRow{2, []int{10, 9}})
	if err := ValidateState(s); err != nil {
		t.Fatalf("fixture state is not well formed: %v", err)
	}
}

func TestStateConverged(t *testing.T) {
	cases := []struct {
		name string
		s    *State
		want bool
	}{
		{"empty", NewState(), false},
		{"all seen", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1, 2}), true},
		{"unseen up member blocks", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1}), false},
		{"unseen joining member blocks", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Joining, 0)}, []int{1}), false},
		{"unseen leaving member blocks", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Leaving, 2)}, []int{1}), false},
		{"unseen down member skipped", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, []int{1}), true},
		{"unseen exiting member skipped", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Exiting, 2)}, []int{1}), true},
		{"only down members", fxState([]Member{fxMember(1, Down, 1)}, nil), true},
		{"unreachable member blocks though seen",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1, 2}, fxRow{1, []int{2}}), false},
		{"unreachable observer's own row counts",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Up, 3)}, []int{1, 2, 3}, fxRow{3, []int{1}}), false},
		{"unreachable down member skipped",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, []int{1}, fxRow{1, []int{2}}), true},
		{"row of down observer ignored",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, []int{1}, fxRow{2, []int{1}}), true},
		{"row of exiting observer ignored",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Exiting, 2)}, []int{1}, fxRow{2, []int{1}}), true},
		{"row of non-member ignored",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1, 2}, fxRow{3, []int{1, 2}}), true},
		{"row that lists nobody",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1, 2}, fxRow{1, nil}), true},
		{"seen by a non-member does not help",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1, 3}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Converged(); got != tc.want {
				t.Errorf("Converged() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStateLeader(t *testing.T) {
	type result struct {
		Leader UniqueAddress
		OK     bool
	}
	cases := []struct {
		name string
		s    *State
		self int
		want result
	}{
		{"empty", NewState(), 1, result{}},
		{"first up in address order", fxState([]Member{fxMember(10, Up, 1), fxMember(9, Up, 2), fxMember(11, Up, 3)}, nil), 10,
			result{fxNode(9, 1), true}},
		{"leaving counts", fxState([]Member{fxMember(1, Leaving, 1), fxMember(2, Up, 2)}, nil), 2,
			result{fxNode(1, 1), true}},
		{"joining and weakly up skipped", fxState([]Member{fxMember(1, Joining, 0), fxMember(2, WeaklyUp, 0), fxMember(3, Up, 1)}, nil), 1,
			result{fxNode(3, 1), true}},
		{"exiting and down skipped", fxState([]Member{fxMember(1, Exiting, 1), fxMember(2, Down, 2), fxMember(3, Up, 3)}, nil), 3,
			result{fxNode(3, 1), true}},
		{"unreachable up skipped", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, nil, fxRow{2, []int{1}}), 2,
			result{fxNode(2, 1), true}},
		{"unreachable by any observer, not just self", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Up, 3)}, nil, fxRow{3, []int{1}}), 2,
			result{fxNode(2, 1), true}},
		{"row of down observer ignored", fxState([]Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, nil, fxRow{2, []int{1}}), 1,
			result{fxNode(1, 1), true}},
		{"fallback to first member self reaches",
			fxState([]Member{fxMember(1, Joining, 0), fxMember(2, Joining, 0)}, nil), 2,
			result{fxNode(1, 1), true}},
		{"fallback skips members self cannot reach",
			fxState([]Member{fxMember(1, Joining, 0), fxMember(2, WeaklyUp, 0), fxMember(3, Joining, 0)}, nil, fxRow{3, []int{1}}), 3,
			result{fxNode(2, 1), true}},
		{"fallback ignores other observers",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Joining, 0), fxMember(3, Up, 2)}, nil,
				fxRow{1, []int{3}}, fxRow{3, []int{1}}), 2,
			result{fxNode(1, 1), true}},
		{"fallback includes self",
			fxState([]Member{fxMember(1, Up, 1), fxMember(2, Joining, 0)}, nil, fxRow{2, []int{1}}), 2,
			result{fxNode(2, 1), true}},
		{"fallback skips down and exiting",
			fxState([]Member{fxMember(1, Down, 1), fxMember(2, Exiting, 2), fxMember(3, Joining, 0)}, nil), 1,
			result{fxNode(3, 1), true}},
		{"none: only down and exiting", fxState([]Member{fxMember(1, Down, 1), fxMember(2, Exiting, 2)}, nil), 1, result{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := tc.s.Leader(fxNode(tc.self, 1))
			if diff := cmp.Diff(tc.want, result{l, ok}); diff != "" {
				t.Errorf("Leader(%v) (-want +got):\n%s", fxNode(tc.self, 1), diff)
			}
		})
	}
}

func TestStateUnreachable(t *testing.T) {
	members := []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(9, Up, 3), fxMember(10, Up, 4), fxMember(11, Down, 5), fxMember(12, Exiting, 6)}
	cases := []struct {
		name string
		rows []fxRow
		want []UniqueAddress
	}{
		{"no rows", nil, nil},
		{"empty rows", []fxRow{{1, nil}, {2, nil}}, nil},
		{"one row", []fxRow{{1, []int{10, 9}}}, fxNodes(9, 10)},
		{"union in address order", []fxRow{{1, []int{10}}, {2, []int{9, 10}}, {9, []int{2}}}, fxNodes(2, 9, 10)},
		{"down observer ignored", []fxRow{{11, []int{1, 2}}, {1, []int{10}}}, fxNodes(10)},
		{"exiting observer ignored", []fxRow{{12, []int{1}}}, nil},
		{"non-member observer ignored", []fxRow{{3, []int{1}}}, nil},
		{"down subject still listed", []fxRow{{1, []int{11}}}, fxNodes(11)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fxState(members, nil, tc.rows...)
			got := s.Unreachable()
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Unreachable() (-want +got):\n%s", diff)
			}
			for _, m := range s.Members {
				want := containsNode(tc.want, m.Node)
				if is := s.IsUnreachable(m.Node); is != want {
					t.Errorf("IsUnreachable(%v) = %v, want %v", m.Node, is, want)
				}
			}
		})
	}
}

func TestStateStatusAndMember(t *testing.T) {
	s := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Leaving, 2)}, nil)
	s.Tombstones[fxNode(3, 1)] = epoch
	cases := []struct {
		name string
		u    UniqueAddress
		want MemberStatus
	}{
		{"member", fxNode(2, 1), Leaving},
		{"tombstoned", fxNode(3, 1), Removed},
		{"unknown address", fxNode(4, 1), 0},
		{"other incarnation", fxNode(1, 2), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Status(tc.u); got != tc.want {
				t.Errorf("Status(%v) = %v, want %v", tc.u, got, tc.want)
			}
			_, ok := s.Member(tc.u)
			if want := tc.want != 0 && tc.want != Removed; ok != want {
				t.Errorf("Member(%v) found = %v, want %v", tc.u, ok, want)
			}
		})
	}
}

func TestStateCloneIsDeep(t *testing.T) {
	s := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1}, fxRow{1, []int{2}})
	s.Members[0].Roles = []string{"a"}
	s.Version = fxClock(map[int]uint64{1: 3})
	s.Tombstones[fxNode(3, 1)] = epoch
	c := s.Clone()
	c.Members[0].Roles[0] = "changed"
	c.Members[1].Status = Down
	c.Reachability.Rows[0].Unreachable[0] = fxNode(9, 9)
	c.Version[fxNode(1, 1)] = 99
	c.Seen[0] = fxNode(9, 9)
	delete(c.Tombstones, fxNode(3, 1))
	want := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}, []int{1}, fxRow{1, []int{2}})
	want.Members[0].Roles = []string{"a"}
	want.Version = fxClock(map[int]uint64{1: 3})
	want.Tombstones[fxNode(3, 1)] = epoch
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("original changed through its clone (-want +got):\n%s", diff)
	}
}

func TestMergeContentTable(t *testing.T) {
	now := epoch.Add(time.Hour)
	a := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Joining, 0), fxMember(3, Up, 3)}, []int{1},
		fxRow{1, []int{3}})
	a.Version = fxClock(map[int]uint64{1: 2, 3: 1})
	b := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(4, Joining, 0)}, []int{2},
		fxRow{1, nil}, fxRow{1, []int{4}}, fxRow{2, []int{3}})
	b.Version = fxClock(map[int]uint64{1: 3, 2: 1, 3: 1})
	b.Tombstones[fxNode(3, 1)] = epoch // member 3 was removed on b's side

	got := mergeContent(a, b, now)
	want := &State{
		Members: []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(4, Joining, 0)},
		// b's row for 1 is newer (version 2); 2's row named only 3, who is
		// tombstoned.
		Reachability: Reachability{Rows: []ObserverRow{
			{Observer: fxNode(1, 1), Version: 2, Unreachable: fxNodes(4)},
			{Observer: fxNode(2, 1), Version: 1, Unreachable: nil},
		}},
		Version:    fxClock(map[int]uint64{1: 3, 2: 1}),
		Tombstones: map[UniqueAddress]time.Time{fxNode(3, 1): now},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("mergeContent(a, b) (-want +got):\n%s", diff)
	}
	// From the other side the tombstone keeps b's own time.
	want.Tombstones[fxNode(3, 1)] = epoch
	if diff := cmp.Diff(want, mergeContent(b, a, now), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("mergeContent(b, a) (-want +got):\n%s", diff)
	}
}

// updateWith is Node.update's work on st with clone as its copy: the
// state update would assign, or nil when f changed no content.
func updateWith(st *State, clone func(*State) *State, self UniqueAddress, now time.Time, f func(*State)) *State {
	s := clone(st)
	f(s)
	s.pruneTombstoned(now)
	if contentEqual(s, st) {
		return nil
	}
	s.Version = s.Version.Increment(self)
	s.Seen = []UniqueAddress{self}
	return s
}

// updateRandChange returns a change of the kind update makes: statuses
// (Removed too, with a tombstone), a reachability row, new tables (in a
// form Clone does not give) or a registry row.
func updateRandChange(rng *rand.Rand, st *State) func(*State) {
	pick := rng.Intn(5)
	var node UniqueAddress
	if len(st.Members) > 0 {
		node = st.Members[rng.Intn(len(st.Members))].Node
	}
	status := MemberStatus(1 + rng.Intn(7))
	subjects := lawSubset(rng, lawUniverse, 3)
	tables := lawRandTables(rng)
	if len(tables) > 0 && len(tables[0].Shards) > 0 {
		tables[0].Shards[0].Replicas = []UniqueAddress{} // not Clone's form
	}
	return func(s *State) {
		switch pick {
		case 0:
			if m, ok := s.Member(node); ok {
				m.Status = status
				s.setMember(m)
				if status == Removed {
					// As the leader does: the map may be st's.
					s.Tombstones = withTombstone(s.Tombstones, false, node, lawNow)
				}
			}
		case 1:
			s.setMember(Member{Node: UniqueAddress{Address: Address{Host: "10.9.9.9", Port: 1}, UID: 1}, Status: Joining})
		case 2:
			if node != (UniqueAddress{}) {
				s.Reachability = s.Reachability.withRow(node, subjects)
			}
		case 3:
			s.Allocations = tables
		case 4:
			if node != (UniqueAddress{}) {
				s.Registry = withRegistryRow(s.Registry, node, 9, []ServiceEntry{{Key: "k", Node: node, Path: "/p"}})
			}
		}
	}
}

// TestCloneForUpdateIsClone checks that update builds, from the partly
// shared copy cloneForUpdate gives, exactly the state it builds from a
// deep copy, and leaves the original alone; states come in Clone's form
// and in others (empty non-nil lists, tables as Allocate leaves them).
func TestCloneForUpdateIsClone(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) updateCase {
		st := lawRandState(rng)
		st.Allocations = lawRandTables(rng)
		st.Registry = lawRandRegistry(rng)
		switch rng.Intn(4) {
		case 0:
			st = st.Clone()
		case 1:
			for i := range st.Members {
				if st.Members[i].Roles == nil {
					st.Members[i].Roles = []string{}
				}
			}
		case 2:
			if len(st.Allocations) > 0 && len(st.Allocations[0].Shards) > 0 {
				st.Allocations[0].Shards[0].Replicas = []UniqueAddress{}
			}
			for i := range st.Registry {
				if st.Registry[i].Entries == nil {
					st.Registry[i].Entries = []ServiceEntry{}
				}
			}
		}
		var fs []func(*State)
		for n := 1 + rng.Intn(3); n > 0; n-- {
			fs = append(fs, updateRandChange(rng, st))
		}
		return updateCase{st, fs}
	})
	self := lawUniverse[0]
	runLaws(t, func(p *gopter.Properties) {
		p.Property("update from cloneForUpdate is update from Clone", prop.ForAll(func(c updateCase) string {
			f := func(s *State) {
				for _, g := range c.Changes {
					g(s)
				}
			}
			before := c.State.Clone()
			want := updateWith(c.State, (*State).Clone, self, lawNow, f)
			got := updateWith(c.State, (*State).cloneForUpdate, self, lawNow, f)
			// reflect.DeepEqual is as strict as cmp here and much faster;
			// cmp explains a failure.
			if !reflect.DeepEqual(want, got) {
				return fmt.Sprintf("update (-from Clone +from cloneForUpdate):\n%s", cmp.Diff(want, got))
			}
			if !contentEqual(before, c.State) || !reflect.DeepEqual(before.Tombstones, c.State.Tombstones) ||
				before.Version.Compare(c.State.Version) != Same || !nodesEqual(before.Seen, c.State.Seen) {
				return fmt.Sprintf("original changed (-before +after):\n%s", cmp.Diff(before, c.State, cmpopts.EquateEmpty()))
			}
			return ""
		}, gen))
	})
}

type updateCase struct {
	State   *State
	Changes []func(*State)
}

// naiveUnreachable is State.Unreachable as first written: the union of the
// rows of counting observers, folded with unionNodes.
func naiveUnreachable(s *State) []UniqueAddress {
	var out []UniqueAddress
	for _, row := range s.Reachability.Rows {
		if s.counts(row.Observer) {
			out = unionNodes(out, row.Unreachable)
		}
	}
	return out
}

// naiveUnreachableFrom is unreachableFrom as first written.
func naiveUnreachableFrom(s *State, self UniqueAddress) []UniqueAddress {
	var own []UniqueAddress
	if row, ok := s.Reachability.Row(self); ok && s.counts(self) {
		own = row.Unreachable
	}
	out := own
	for _, row := range s.Reachability.Rows {
		if row.Observer == self || !s.counts(row.Observer) || containsNode(own, row.Observer) {
			continue
		}
		out = unionNodes(out, row.Unreachable)
	}
	return out
}

// TestUnreachableMatchesNaive checks State.Unreachable and
// unreachableFrom, which merge rows by marking members, against folding
// unionNodes, on well-formed states and on rows that name non-members or
// are out of order; nil and empty results told apart.
func TestUnreachableMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) *State {
		s := lawRandState(rng)
		if len(s.Reachability.Rows) > 0 {
			row := &s.Reachability.Rows[rng.Intn(len(s.Reachability.Rows))]
			switch rng.Intn(4) {
			case 0:
				row.Unreachable = append(append([]UniqueAddress(nil), row.Unreachable...), UniqueAddress{Address: Address{Host: "node-z", Port: 1}, UID: 1})
			case 1:
				if n := len(row.Unreachable); n > 1 {
					row.Unreachable = append([]UniqueAddress(nil), row.Unreachable...)
					row.Unreachable[0], row.Unreachable[n-1] = row.Unreachable[n-1], row.Unreachable[0]
				}
			}
		}
		return s
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("Unreachable is the naive fold", prop.ForAll(func(s *State) string {
			var kc keyCache // shared by every call, as a node's is
			if want, got := naiveUnreachable(s), s.Unreachable(); !reflect.DeepEqual(want, got) {
				return fmt.Sprintf("Unreachable (-naive +got):\n%s", cmp.Diff(want, got))
			}
			if want, got := naiveUnreachable(s), s.unreachableWith(&kc); !reflect.DeepEqual(want, got) {
				return fmt.Sprintf("unreachableWith (-naive +got):\n%s", cmp.Diff(want, got))
			}
			for _, self := range lawUniverse {
				if want, got := naiveUnreachableFrom(s, self), unreachableFrom(s, self, nil); !reflect.DeepEqual(want, got) {
					return fmt.Sprintf("unreachableFrom %v (-naive +got):\n%s", self, cmp.Diff(want, got))
				}
				if want, got := naiveUnreachableFrom(s, self), unreachableFrom(s, self, &kc); !reflect.DeepEqual(want, got) {
					return fmt.Sprintf("unreachableFrom %v with keys (-naive +got):\n%s", self, cmp.Diff(want, got))
				}
			}
			return ""
		}, gen))
	})
}

// TestMemberCursorWithParsedKeys: a cursor that has searched often enough
// to parse the member list answers exactly as the naive scan does, for
// queries in and out of member order, members and strangers, IPv4 of every
// width, IPv6 and names, and equal hosts with other ports or UIDs.
func TestMemberCursorWithParsedKeys(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	hosts := func() string {
		switch rng.Intn(4) {
		case 0:
			return fmt.Sprintf("%d.%d.%d.%d", rng.Intn(3)*100, rng.Intn(256), rng.Intn(256), rng.Intn(256))
		case 1:
			return fmt.Sprintf("10.0.%d.%d", rng.Intn(4), rng.Intn(12))
		case 2:
			return fmt.Sprintf("fe80::%x", rng.Intn(40))
		}
		return fmt.Sprintf("node-%d.example", rng.Intn(30))
	}
	node := func() UniqueAddress {
		return UniqueAddress{Address: Address{Host: hosts(), Port: uint16(7000 + rng.Intn(3))}, UID: UID(1 + rng.Intn(3))}
	}
	parsed := 0 // trials whose cursor went over to parsed keys
	defer func() {
		if parsed < 50 {
			t.Errorf("only %d of 200 trials searched by parsed keys; the test barely covers them", parsed)
		}
	}()
	for trial := 0; trial < 200; trial++ {
		s := NewState()
		for i := 0; i < 1+rng.Intn(120); i++ {
			s.setMember(Member{Node: node(), Status: Up})
		}
		var queries []UniqueAddress
		for i := 0; i < 2*cursorKeysAfter+rng.Intn(60); i++ {
			if rng.Intn(2) == 0 {
				queries = append(queries, s.Members[rng.Intn(len(s.Members))].Node)
			} else {
				queries = append(queries, node())
			}
		}
		if rng.Intn(2) == 0 {
			slices.SortFunc(queries, func(a, b UniqueAddress) int { return a.Compare(b) })
		}
		cur := memberCursor{s: s}
		for _, u := range queries {
			want := slices.IndexFunc(s.Members, func(m Member) bool { return m.Node == u })
			got, ok := cur.index(u)
			if ok != (want >= 0) || ok && got != want {
				t.Fatalf("trial %d: index(%v) = %d, %v; the member list has it at %d", trial, u, got, ok, want)
			}
		}
		if cur.keys != nil {
			parsed++
		}
		for i := 0; i < 50; i++ {
			a, b := keyOf(node()), keyOf(node())
			if got, want := a.compareKey(&b), a.compareTo(b.u); got != want {
				t.Fatalf("compareKey(%v, %v) = %d, compareTo says %d", a.u, b.u, got, want)
			}
		}
	}
}

// TestConvergedGivenMatchesNaive checks convergedGiven, which walks the
// seen set and the unreachable list along the members by equality, against
// the definition (every member that is not Down or Exiting is seen and not
// unreachable) and against the walk by comparison, for sorted lists that
// hold members and non-members.
func TestConvergedGivenMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2]*State {
		s := lawRandState(rng)
		var members []UniqueAddress
		for _, m := range s.Members {
			members = append(members, m.Node)
		}
		pool := members
		if rng.Intn(3) == 0 {
			pool = lawUniverse // non-members too
		}
		switch rng.Intn(3) {
		case 0:
			s.Seen = append([]UniqueAddress(nil), members...)
		default:
			s.Seen = lawSubset(rng, pool, 1+rng.Intn(2))
		}
		u := &State{Seen: lawSubset(rng, pool, 2+rng.Intn(4))}
		if rng.Intn(3) == 0 {
			u.Seen = nil
		}
		return [2]*State{s, u}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("convergedGiven is the definition", prop.ForAll(func(in [2]*State) string {
			s, unreachable := in[0], in[1].Seen
			want := len(s.Members) > 0
			for _, m := range s.Members {
				if m.Status != Down && m.Status != Exiting && (containsNodeUnsorted(unreachable, m.Node) || !containsNodeUnsorted(s.Seen, m.Node)) {
					want = false
				}
			}
			if got := s.convergedGiven(unreachable); got != want {
				return fmt.Sprintf("members %v seen %v unreachable %v: convergedGiven = %v, want %v", s.Members, s.Seen, unreachable, got, want)
			}
			if got := s.convergedWalk(unreachable); got != want {
				return fmt.Sprintf("members %v seen %v unreachable %v: convergedWalk = %v, want %v", s.Members, s.Seen, unreachable, got, want)
			}
			return ""
		}, gen))
	})
}

// TestPruneTombstonedMembersMatchNaive checks the member list
// pruneTombstoned leaves, whether it looks the tombstones up among the
// members (few tombstones) or the members up among the tombstones, against
// the definition: the members that are not Removed and not tombstoned.
func TestPruneTombstonedMembersMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var kc keyCache
	for round := 0; round < 3000; round++ {
		s := NewState()
		pool := valPool
		if rng.Intn(4) == 0 {
			pool = v4Pool
		}
		for _, u := range lawSubset(rng, pool, 1+rng.Intn(2)) {
			st := Up
			if rng.Intn(10) == 0 {
				st = Removed
			}
			s.Members = append(s.Members, Member{Node: u, Status: st})
		}
		for n := rng.Intn(4); n > 0; n-- {
			if rng.Intn(4) == 0 || len(s.Members) == 0 {
				s.Tombstones[pool[rng.Intn(len(pool))]] = epoch
			} else {
				s.Tombstones[s.Members[rng.Intn(len(s.Members))].Node] = epoch
			}
		}
		var want []Member
		for _, m := range s.Members {
			if _, dead := s.Tombstones[m.Node]; !dead && m.Status != Removed {
				want = append(want, m)
			}
		}
		members := s.Members
		withKeys := s.Clone()
		s.pruneTombstoned(epoch)
		withKeys.pruneTombstonedWith(epoch, &kc)
		for _, got := range [][]Member{s.Members, withKeys.Members} {
			if !slices.EqualFunc(want, got, memberEqual) {
				t.Fatalf("members %v tombstones %v: pruned to %v, want %v", members, s.Tombstones, got, want)
			}
		}
	}
}

// TestRowsKeptMemoMatchesPrune prunes runs of states whose reachability
// rows share their lists (and prefixes of them, and lists out of order)
// while the member lists change, some shared between states, with one key
// cache, and checks each result against pruning without it; and the
// unreachable sets, which remember where the lists' nodes stand, against
// the naive folds.
func TestRowsKeptMemoMatchesPrune(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for run := 0; run < 120; run++ {
		pool := v4Pool
		if rng.Intn(4) == 0 {
			pool = valPool
		}
		var lists [][]UniqueAddress
		for k := 0; k < 6; k++ {
			l := lawSubset(rng, pool, 2+rng.Intn(4))
			lists = append(lists, l)
			if len(l) > 1 {
				lists = append(lists, l[:1+rng.Intn(len(l)-1)]) // same array, shorter
				if rng.Intn(3) == 0 {
					lists = append(lists, valSwap(rng, l)) // out of order
				}
			}
		}
		var memberLists [][]Member
		var tables [][]ObserverRow
		var kc keyCache
		for step := 0; step < 20; step++ {
			var ms []Member
			if len(memberLists) > 0 && rng.Intn(3) == 0 {
				ms = memberLists[rng.Intn(len(memberLists))]
			} else if len(memberLists) > 0 && rng.Intn(2) == 0 {
				// The same nodes in a new list, one status changed.
				ms = append([]Member(nil), memberLists[rng.Intn(len(memberLists))]...)
				ms[rng.Intn(len(ms))].Status = Leaving
				memberLists = append(memberLists, ms)
			} else {
				for _, u := range lawSubset(rng, pool, 1+rng.Intn(2)) {
					ms = append(ms, Member{Node: u, Status: Up})
				}
				memberLists = append(memberLists, ms)
			}
			var rows []ObserverRow
			for _, m := range ms {
				if rng.Intn(3) == 0 {
					rows = append(rows, ObserverRow{Observer: m.Node, Version: 1, Unreachable: lists[rng.Intn(len(lists))]})
				}
			}
			if len(tables) > 0 && rng.Intn(2) == 0 {
				rows = tables[rng.Intn(len(tables))] // a table of an earlier step
			}
			tables = append(tables, rows)
			if rng.Intn(8) == 0 {
				rows = append(rows, ObserverRow{Observer: UniqueAddress{Address: Address{Host: "node-z", Port: 1}, UID: 1}, Version: 1, Unreachable: lists[0]})
			}
			mk := func() *State {
				return &State{Members: ms, Reachability: Reachability{Rows: rows}, Version: VClock{}, Tombstones: map[UniqueAddress]time.Time{}}
			}
			raw := mk() // rows may name non-members: unions fold then
			if w, g := naiveUnreachable(raw), raw.unreachableWith(&kc); !reflect.DeepEqual(w, g) {
				t.Fatalf("run %d step %d: members %v rows %v: unreachableWith = %v, want %v", run, step, ms, rows, g, w)
			}
			for _, m := range ms {
				if w, g := naiveUnreachableFrom(raw, m.Node), unreachableFrom(raw, m.Node, &kc); !reflect.DeepEqual(w, g) {
					t.Fatalf("run %d step %d: members %v rows %v: unreachableFrom %v = %v, want %v", run, step, ms, rows, m.Node, g, w)
				}
			}
			want, got := mk(), mk()
			want.pruneTombstoned(epoch)
			got.pruneTombstonedWith(epoch, &kc)
			if !reflect.DeepEqual(want.Reachability, got.Reachability) {
				t.Fatalf("run %d step %d: members %v rows %v: pruned with the cache to %v, want %v", run, step, ms, rows, got.Reachability, want.Reachability)
			}
		}
	}
}
