package proto

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

func TestDecideDowning(t *testing.T) {
	up := func(is ...int) []Member {
		out := make([]Member, len(is))
		for k, i := range is {
			out[k] = fxMember(i, Up, int64(i))
		}
		return out
	}
	join := func(ms ...[]Member) []Member {
		var out []Member
		for _, m := range ms {
			out = append(out, m...)
		}
		return out
	}
	majority := DowningConfig{Strategy: KeepMajority}
	quorum3 := DowningConfig{Strategy: StaticQuorum, QuorumSize: 3}
	oldest := DowningConfig{Strategy: KeepOldest}
	cases := []struct {
		name    string
		cfg     DowningConfig
		members []Member
		rows    []fxRow
		want    []UniqueAddress
	}{
		// KeepMajority.
		{"majority: nothing unreachable", majority, up(1, 2, 3), nil, nil},
		{"majority: empty row", majority, up(1, 2, 3), []fxRow{{1, nil}}, nil},
		{"majority: reachable side larger", majority, up(1, 2, 3, 4, 5), []fxRow{{1, []int{4, 5}}}, fxNodes(4, 5)},
		{"majority: reachable side smaller", majority, up(1, 2, 3, 4, 5), []fxRow{{1, []int{3, 4, 5}}}, fxNodes(1, 2)},
		{"majority: unreachable by any observer", majority, up(1, 2, 3, 4, 5), []fxRow{{1, []int{5}}, {2, []int{4}}}, fxNodes(4, 5)},
		{"majority: tie, lowest address reachable", majority, up(1, 2, 3, 4), []fxRow{{1, []int{3, 4}}}, fxNodes(3, 4)},
		{"majority: tie, lowest address unreachable", majority, up(1, 2, 3, 4), []fxRow{{3, []int{1, 2}}}, fxNodes(3, 4)},
		{"majority: tie, numeric address order", majority, up(9, 10), []fxRow{{10, []int{9}}}, fxNodes(10)},
		{"majority: only up and leaving count",
			majority,
			join(up(1), []Member{fxMember(2, Joining, 0), fxMember(3, WeaklyUp, 0), fxMember(4, Joining, 0), fxMember(5, Up, 5), fxMember(6, Leaving, 6)}),
			[]fxRow{{1, []int{5, 6}}},
			fxNodes(1, 2, 3, 4)},
		{"majority: leaving counts",
			majority,
			[]Member{fxMember(1, Leaving, 1), fxMember(2, Leaving, 2), fxMember(3, Up, 3)},
			[]fxRow{{1, []int{3}}},
			fxNodes(3)},
		{"majority: tie broken by lowest counted address",
			majority,
			[]Member{fxMember(1, Joining, 0), fxMember(2, Up, 2), fxMember(3, Up, 3)},
			[]fxRow{{3, []int{2}}},
			fxNodes(1, 3)},
		{"majority: tie with nobody counted, lowest address",
			majority,
			[]Member{fxMember(1, Joining, 0), fxMember(2, Joining, 0)},
			[]fxRow{{2, []int{1}}},
			fxNodes(2)},
		{"majority: down and exiting on neither side",
			majority,
			[]Member{fxMember(1, Up, 1), fxMember(2, Down, 2), fxMember(3, Exiting, 3), fxMember(4, Up, 4), fxMember(5, Up, 5)},
			[]fxRow{{1, []int{4, 5}}},
			fxNodes(1)},
		{"majority: unreachable down member not downed again",
			majority,
			[]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Down, 3), fxMember(4, Up, 4)},
			[]fxRow{{1, []int{3, 4}}},
			fxNodes(4)},
		{"majority: row of down observer ignored",
			majority,
			[]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Down, 3)},
			[]fxRow{{3, []int{1, 2}}},
			nil},
		{"majority: only down members unreachable",
			majority,
			[]Member{fxMember(1, Up, 1), fxMember(2, Down, 2)},
			[]fxRow{{1, []int{2}}},
			nil},

		// StaticQuorum.
		{"quorum: reachable side has quorum", quorum3, up(1, 2, 3, 4, 5), []fxRow{{1, []int{4, 5}}}, fxNodes(4, 5)},
		// Seven members against a quorum of three: both sides could keep
		// running, so each downs itself.
		{"quorum: cluster grown past 2q-1 downs its own side", quorum3, up(1, 2, 3, 4, 5, 6, 7), []fxRow{{1, []int{4, 5, 6, 7}}}, fxNodes(1, 2, 3)},
		{"quorum: exactly 2q-1 members keeps the quorum side", quorum3, up(1, 2, 3, 4, 5), []fxRow{{1, []int{4, 5}}}, fxNodes(4, 5)},
		{"quorum: reachable side below quorum", quorum3, up(1, 2, 3, 4, 5), []fxRow{{1, []int{3, 4, 5}}}, fxNodes(1, 2)},
		{"quorum: joining members do not count",
			quorum3,
			join(up(1, 2), []Member{fxMember(3, Joining, 0), fxMember(4, WeaklyUp, 0)}, up(5)),
			[]fxRow{{1, []int{5}}},
			fxNodes(1, 2, 3, 4)},
		{"quorum: nothing unreachable", quorum3, up(1), nil, nil},

		// KeepOldest.
		{"oldest: oldest on reachable minority", oldest, up(1, 2, 3, 4, 5), []fxRow{{1, []int{3, 4, 5}}}, fxNodes(3, 4, 5)},
		{"oldest: oldest on unreachable side", oldest, up(1, 2, 3, 4, 5), []fxRow{{2, []int{1}}}, fxNodes(2, 3, 4, 5)},
		{"oldest: by up number, not address",
			oldest,
			[]Member{fxMember(1, Up, 5), fxMember(2, Up, 4), fxMember(3, Up, 1)},
			[]fxRow{{1, []int{3}}},
			fxNodes(1, 2)},
		{"oldest: not yet up is youngest",
			oldest,
			[]Member{fxMember(1, WeaklyUp, 0), fxMember(2, Up, 7)},
			[]fxRow{{1, []int{2}}},
			fxNodes(1)},
		{"oldest: counted members preferred",
			oldest,
			[]Member{fxMember(1, Joining, 1), fxMember(2, Up, 2)},
			[]fxRow{{1, []int{2}}},
			fxNodes(1)},
		{"oldest: up number tie goes to lower address",
			oldest,
			[]Member{fxMember(9, Up, 3), fxMember(10, Up, 3)},
			[]fxRow{{10, []int{9}}},
			fxNodes(10)},
		{"oldest: down oldest is on neither side",
			oldest,
			[]Member{fxMember(1, Down, 1), fxMember(2, Up, 2), fxMember(3, Up, 3)},
			[]fxRow{{3, []int{2}}},
			fxNodes(3)},

		// DownAll.
		{"down all: every live member", DowningConfig{Strategy: DownAll}, up(1, 2, 3), []fxRow{{1, []int{3}}}, fxNodes(1, 2, 3)},
		{"down all: skips down and exiting",
			DowningConfig{Strategy: DownAll},
			[]Member{fxMember(1, Up, 1), fxMember(2, Down, 2), fxMember(3, Exiting, 3), fxMember(4, Joining, 0), fxMember(5, Up, 5)},
			[]fxRow{{1, []int{5}}},
			fxNodes(1, 4, 5)},
		{"down all: nothing unreachable", DowningConfig{Strategy: DownAll}, up(1, 2, 3), nil, nil},

		// Not decided here.
		{"auto down", DowningConfig{Strategy: AutoDown, AutoDownAfter: 1}, up(1, 2, 3), []fxRow{{1, []int{3}}}, nil},
		{"manual", DowningConfig{Strategy: Manual}, up(1, 2, 3), []fxRow{{1, []int{3}}}, nil},
		{"unknown strategy", DowningConfig{Strategy: 99}, up(1, 2, 3), []fxRow{{1, []int{3}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fxState(tc.members, nil, tc.rows...)
			before := s.Clone()
			got := decideDowning(tc.cfg, s, UniqueAddress{})
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decideDowning(%v) (-want +got):\n%s", tc.cfg.Strategy, diff)
			}
			if diff := cmp.Diff(before, s, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decideDowning modified the state (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPendingDownsCountAgainstALoneDecider: members this node marked Down
// that are not yet removed count against it when no other member has seen
// its version (it decided on its own view), and on no side when its side
// has seen the downs (a crashed leader's last decision, finished by the
// next leader).
func TestPendingDownsCountAgainstALoneDecider(t *testing.T) {
	majority := DowningConfig{Strategy: KeepMajority}
	// n1 won a 2|2 tie against n3 and n4 while it still counted n2 on its
	// side; now n2 is unreachable too.
	members := []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Down, 3), fxMember(4, Down, 4)}
	cases := []struct {
		name string
		seen []int
		want []UniqueAddress
	}{
		{"seen by nobody else: a minority of one downs itself", []int{1}, fxNodes(1)},
		{"no seen set at all: the same", nil, fxNodes(1)},
		{"seen by its side: the downs count on no side, the tie is kept", []int{1, 2}, fxNodes(2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fxState(members, tc.seen, fxRow{1, []int{2}})
			got := decideDowning(majority, s, fxNode(1, 1))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decideDowning (-want +got):\n%s", diff)
			}
		})
	}
	// A Down member that never was Up is not counted anywhere.
	s := fxState([]Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Down, 0), fxMember(4, Down, 0)}, []int{1}, fxRow{1, []int{2}})
	if got := decideDowning(majority, s, fxNode(1, 1)); !cmp.Equal(got, fxNodes(2)) {
		t.Errorf("with never-Up downs: decideDowning = %v, want n2 downed (a 1|1 tie n1 wins)", got)
	}
}

// TestUnreachableSideMatchesSides: unreachableSide is the unreachable side
// of sides, by whichever walk it takes (rows naming only members, or a
// stray non-member).
func TestUnreachableSideMatchesSides(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	statuses := []MemberStatus{Up, Up, Up, Leaving, Exiting, Down, Joining, WeaklyUp}
	for trial := 0; trial < 300; trial++ {
		n := 2 + rng.Intn(12)
		var members []Member
		for i := 1; i <= n; i++ {
			members = append(members, fxMember(i, statuses[rng.Intn(len(statuses))], int64(i)))
		}
		var rows []fxRow
		for o := 1; o <= n; o++ {
			if rng.Intn(3) != 0 {
				continue
			}
			var subjects []int
			for sub := 1; sub <= n+2; sub++ { // n+1, n+2 are not members
				if sub != o && rng.Intn(3) == 0 && (sub <= n || rng.Intn(4) == 0) {
					subjects = append(subjects, sub)
				}
			}
			rows = append(rows, fxRow{o, subjects})
		}
		s := fxState(members, nil, rows...)
		self := fxNode(1+rng.Intn(n), 1)
		_, unreachable := sides(s, self)
		want := nodesOf(unreachable)
		if diff := cmp.Diff(want, unreachableSide(s, self, nil), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("trial %d: unreachableSide (-sides +got):\n%s", trial, diff)
		}
	}
}

// TestForgetReachableMatchesNaive checks forgetReachable against dropping
// every remembered node that containsNode does not find in the list, for
// lists of members in member order and for other lists.
func TestForgetReachableMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [3]*State {
		s := lawRandState(rng)
		var members []UniqueAddress
		for _, m := range s.Members {
			members = append(members, m.Node)
		}
		nodes := lawSubset(rng, members, 1+rng.Intn(2))
		if rng.Intn(4) == 0 {
			nodes = lawSubset(rng, lawUniverse, 2)
		}
		remembered := lawSubset(rng, lawUniverse, 1+rng.Intn(2))
		return [3]*State{s, {Seen: nodes}, {Seen: remembered}}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("forgetReachable is the naive loop", prop.ForAll(func(in [3]*State) string {
			s, nodes, remembered := in[0], in[1].Seen, in[2].Seen
			n, err := New(LocalConfig(), Address{Host: "10.0.0.9", Port: 7000}, rand.New(rand.NewSource(1)))
			if err != nil {
				return err.Error()
			}
			n.st = s
			want := map[UniqueAddress]time.Time{}
			for i, u := range remembered {
				n.firstUnreachable[u] = epoch.Add(time.Duration(i) * time.Second)
				if containsNode(nodes, u) {
					want[u] = n.firstUnreachable[u]
				}
			}
			n.forgetReachable(nodes)
			if diff := cmp.Diff(want, n.firstUnreachable, cmpopts.EquateEmpty()); diff != "" {
				return fmt.Sprintf("members %v nodes %v (-want +got):\n%s", s.Members, nodes, diff)
			}
			return ""
		}, gen))
	})
}
