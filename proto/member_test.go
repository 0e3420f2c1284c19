package proto

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
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

// naiveMergeMembers is mergeMembers by its definition: the join by node of
// two sorted lists, records of one node joined by mergeMember, every
// record in the form Clone gives it.
func naiveMergeMembers(a, b []Member) []Member {
	out := []Member{}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Node.Compare(b[j].Node) < 0):
			out = append(out, a[i].Clone())
			i++
		case i == len(a) || b[j].Node.Compare(a[i].Node) < 0:
			out = append(out, b[j].Clone())
			j++
		default:
			out = append(out, mergeMember(a[i], b[j]).Clone())
			i++
			j++
		}
	}
	return out
}

// memberRandList returns members over a random subset of valPool with
// random statuses, up numbers, roles and declarations; half the lists are
// in the form Clone gives, half also hold empty non-nil slices.
func memberRandList(rng *rand.Rand) []Member {
	roles := [][]string{nil, {"a"}, {"a", "b"}, {}}
	hosts := [][]ShardType{nil, {{Name: "kv", Shards: 4}}, {}}
	if rng.Intn(2) == 0 {
		roles, hosts = roles[:3], hosts[:2]
	}
	var out []Member
	for _, u := range lawSubset(rng, valPool, 2) {
		out = append(out, Member{Node: u, ID: lawIDs[rng.Intn(2)], Status: MemberStatus(1 + rng.Intn(6)),
			UpNumber: int64(rng.Intn(3)), Roles: roles[rng.Intn(len(roles))], Hosts: hosts[rng.Intn(len(hosts))],
			HostsVersion: uint64(rng.Intn(2))})
	}
	return out
}

// memberVariant returns a copy of ms with a few records changed, as a
// later state's list is, sharing the rest of the records' slices.
func memberVariant(rng *rand.Rand, ms []Member) []Member {
	out := append([]Member(nil), ms...)
	for n := rng.Intn(3); n > 0 && len(out) > 0; n-- {
		i := rng.Intn(len(out))
		out[i].Status = MemberStatus(1 + rng.Intn(6))
		out[i].UpNumber = int64(rng.Intn(3))
	}
	return out
}

// sameForm is cmp.Equal for member lists, nil and empty slices told
// apart, without cmp's cost.
func sameForm(a, b []Member) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !memberEqual(x, y) || (x.Roles == nil) != (y.Roles == nil) || (x.Hosts == nil) != (y.Hosts == nil) {
			return false
		}
	}
	return true
}

// TestMergeMembersMatchesNaive checks mergeMembers, which shares an input
// or its records' slices where it can, against the naive join exactly
// (nil and empty slices told apart), on unrelated lists, a list and
// itself, and lists that share most records.
func TestMergeMembersMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2][]Member {
		a := memberRandList(rng)
		switch rng.Intn(3) {
		case 0:
			return [2][]Member{a, memberRandList(rng)}
		case 1:
			return [2][]Member{a, a}
		}
		return [2][]Member{a, memberVariant(rng, a)}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("mergeMembers is the naive join", prop.ForAll(func(in [2][]Member) string {
			for _, pair := range [][2][]Member{in, {in[1], in[0]}} {
				want, got := naiveMergeMembers(pair[0], pair[1]), mergeMembers(pair[0], pair[1])
				if !sameForm(want, got) {
					return fmt.Sprintf("mergeMembers (-naive +got):\n%s", cmp.Diff(want, got))
				}
			}
			return ""
		}, gen))
	})
}
