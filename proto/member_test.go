package proto

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fxMember is the record of fxNode(i, 1) with the given status and UpNumber.
func fxMember(i int, st MemberStatus, up int64) Member {
	return Member{Node: fxNode(i, 1), ID: NodeID(fmt.Sprintf("node-%d", i)), Status: st, UpNumber: up}
}

var fxAllStatuses = []MemberStatus{Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed}

func TestMemberStatusNames(t *testing.T) {
	want := []string{"Joining", "WeaklyUp", "Up", "Leaving", "Exiting", "Down", "Removed"}
	for i, s := range fxAllStatuses {
		t.Run(want[i], func(t *testing.T) {
			if got := s.String(); got != want[i] {
				t.Errorf("String() = %q, want %q", got, want[i])
			}
			if !s.Valid() {
				t.Errorf("%v.Valid() = false", s)
			}
			got, ok := ParseStatus(want[i])
			if !ok || got != s {
				t.Errorf("ParseStatus(%q) = %v, %v; want %v, true", want[i], got, ok, s)
			}
		})
	}
	for _, bad := range []MemberStatus{0, Removed + 1, 255} {
		t.Run(fmt.Sprintf("invalid %d", uint8(bad)), func(t *testing.T) {
			if bad.Valid() {
				t.Errorf("MemberStatus(%d).Valid() = true", uint8(bad))
			}
			if _, ok := ParseStatus(bad.String()); ok {
				t.Errorf("ParseStatus(%q) succeeded", bad.String())
			}
		})
	}
}

func TestCanTransition(t *testing.T) {
	// DESIGN.md, "Member lifecycle": Joining→WeaklyUp/Up/Leaving/Down/Removed;
	// WeaklyUp→Up/Leaving/Down/Removed; Up→Leaving/Down/Removed;
	// Leaving→Exiting/Down/Removed; Exiting→Removed/Down; Down→Removed;
	// Removed is terminal. Staying put is always allowed.
	design := map[MemberStatus]map[MemberStatus]bool{
		Joining:  {WeaklyUp: true, Up: true, Leaving: true, Down: true, Removed: true},
		WeaklyUp: {Up: true, Leaving: true, Down: true, Removed: true},
		Up:       {Leaving: true, Down: true, Removed: true},
		Leaving:  {Exiting: true, Down: true, Removed: true},
		Exiting:  {Removed: true, Down: true},
		Down:     {Removed: true},
		Removed:  {},
	}
	for _, from := range fxAllStatuses {
		for _, to := range fxAllStatuses {
			want := from == to || design[from][to]
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				if got := CanTransition(from, to); got != want {
					t.Errorf("CanTransition(%v, %v) = %v, want %v", from, to, got, want)
				}
				// The lattice: an allowed move never goes down in precedence.
				if want && to < from {
					t.Errorf("design allows %v -> %v, which goes backwards", from, to)
				}
			})
		}
	}
	for _, bad := range []MemberStatus{0, Removed + 1} {
		for _, s := range fxAllStatuses {
			t.Run(fmt.Sprintf("invalid %d and %v", uint8(bad), s), func(t *testing.T) {
				if CanTransition(bad, s) {
					t.Errorf("CanTransition(%d, %v) = true", uint8(bad), s)
				}
				if CanTransition(s, bad) {
					t.Errorf("CanTransition(%v, %d) = true", s, uint8(bad))
				}
			})
		}
	}
}

func TestMergeMember(t *testing.T) {
	n := fxNode(1, 1)
	m := func(st MemberStatus, up int64, id NodeID, roles ...string) Member {
		return Member{Node: n, ID: id, Status: st, UpNumber: up, Roles: roles}
	}
	cases := []struct {
		name string
		a, b Member
		want Member
	}{
		{"identical", m(Up, 1, "x", "r"), m(Up, 1, "x", "r"), m(Up, 1, "x", "r")},
		{"higher status wins", m(Joining, 0, "x"), m(Up, 0, "x"), m(Up, 0, "x")},
		{"down beats leaving", m(Leaving, 2, "x"), m(Down, 2, "x"), m(Down, 2, "x")},
		{"removed beats down", m(Down, 2, "x"), m(Removed, 2, "x"), m(Removed, 2, "x")},
		{"exiting beats up", m(Up, 2, "x"), m(Exiting, 2, "x"), m(Exiting, 2, "x")},
		{"weakly up beats joining", m(Joining, 0, "x"), m(WeaklyUp, 0, "x"), m(WeaklyUp, 0, "x")},
		{"up number set on one side", m(Up, 0, "x"), m(Up, 4, "x"), m(Up, 4, "x")},
		{"lowest up number", m(Up, 7, "x"), m(Up, 3, "x"), m(Up, 3, "x")},
		{"both up numbers zero", m(Joining, 0, "x"), m(WeaklyUp, 0, "x"), m(WeaklyUp, 0, "x")},
		{"status and up number from different sides", m(Leaving, 9, "x"), m(Up, 2, "x"), m(Leaving, 2, "x")},
		{"id set on one side", m(Up, 1, ""), m(Up, 1, "x"), m(Up, 1, "x")},
		{"lowest id", m(Up, 1, "node-b"), m(Up, 1, "node-a"), m(Up, 1, "node-a")},
		{"more roles win", m(Up, 1, "x", "b"), m(Up, 1, "x", "a", "c"), m(Up, 1, "x", "a", "c")},
		{"equal role count, smaller wins", m(Up, 1, "x", "b", "c"), m(Up, 1, "x", "a", "z"), m(Up, 1, "x", "a", "z")},
		{"roles against none", m(Up, 1, "x"), m(Up, 1, "x", "a"), m(Up, 1, "x", "a")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, mergeMember(tc.a, tc.b), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mergeMember(a, b) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, mergeMember(tc.b, tc.a), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mergeMember(b, a) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.a, mergeMember(tc.a, tc.a), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mergeMember(a, a) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMemberOlderThan(t *testing.T) {
	cases := []struct {
		name string
		a, b Member
		want bool
	}{
		{"lower up number", fxMember(2, Up, 1), fxMember(1, Up, 2), true},
		{"higher up number", fxMember(1, Up, 2), fxMember(2, Up, 1), false},
		{"not yet up is youngest", fxMember(1, Joining, 0), fxMember(2, Up, 9), false},
		{"up beats not yet up", fxMember(9, Up, 9), fxMember(1, WeaklyUp, 0), true},
		{"tie goes to lower address", fxMember(9, Up, 3), fxMember(10, Up, 3), true},
		{"tie at zero goes to lower address", fxMember(10, Joining, 0), fxMember(9, Joining, 0), false},
		{"same member", fxMember(1, Up, 1), fxMember(1, Up, 1), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.olderThan(tc.b); got != tc.want {
				t.Errorf("%v(up %d).olderThan(%v(up %d)) = %v, want %v", tc.a.Node, tc.a.UpNumber, tc.b.Node, tc.b.UpNumber, got, tc.want)
			}
		})
	}
}
