package proto

import (
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// lawSeed pins gopter's seed so every run checks the same cases; a failure
// prints it, and -proto.seed explores others.
var lawSeed = flag.Int64("proto.seed", 20260101, "gopter seed for proto's merge laws")

// runLaws checks the properties define adds with the pinned seed, and prints
// the seed and how to reproduce on failure.
func runLaws(t *testing.T, define func(p *gopter.Properties)) {
	t.Helper()
	params := gopter.DefaultTestParametersWithSeed(*lawSeed)
	params.MinSuccessfulTests = 2000
	if testing.Short() {
		params.MinSuccessfulTests = 300
	}
	props := gopter.NewProperties(params)
	define(props)
	props.TestingRun(t)
	if t.Failed() {
		t.Logf("gopter seed %d; reproduce with: go test ./proto/ -run '^%s$' -proto.seed=%d", *lawSeed, t.Name(), *lawSeed)
	}
}

// lawUniverse is what generated clocks, reachability tables and states draw
// from: 5 addresses (IPv4 that sort differently as strings, IPv6, a host
// name) x 2 UIDs, in address order.
var lawUniverse = func() []UniqueAddress {
	var out []UniqueAddress
	for _, h := range []string{"10.0.0.9", "10.0.0.10", "192.168.0.1", "::1", "node-a"} {
		for uid := UID(1); uid <= 2; uid++ {
			out = append(out, UniqueAddress{Address: Address{Host: h, Port: 7000}, UID: uid})
		}
	}
	sortNodes(out)
	return out
}()

var (
	lawIDs   = []NodeID{"node-x", "node-y"}
	lawRoles = []string{"a", "b", "c"}
	lawNow   = epoch.Add(time.Hour)
)

// lawFrom turns a function of gopter's seeded RNG into a generator. The
// values are small, so they are not shrunk.
func lawFrom[T any](build func(rng *rand.Rand) T) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(build(p.Rng), gopter.NoShrinker)
	}
}

// lawSubset returns each element of pool (sorted) with probability 1/n, in
// order.
func lawSubset(rng *rand.Rand, pool []UniqueAddress, n int) []UniqueAddress {
	var out []UniqueAddress
	for _, u := range pool {
		if rng.Intn(n) == 0 {
			out = append(out, u)
		}
	}
	return out
}

// lawRandClock returns a clock with an entry in 1..4 for about half of pool.
func lawRandClock(rng *rand.Rand, pool []UniqueAddress) VClock {
	v := VClock{}
	for _, u := range pool {
		if rng.Intn(2) == 0 {
			v[u] = uint64(1 + rng.Intn(4))
		}
	}
	return v
}

// lawRandReachability returns a table with a row for about half of
// observers, at version 1..3, each naming a sorted subset of subjects (never
// the observer itself).
func lawRandReachability(rng *rand.Rand, observers, subjects []UniqueAddress) Reachability {
	var r Reachability
	for _, o := range observers {
		if rng.Intn(2) != 0 {
			continue
		}
		row := ObserverRow{Observer: o, Version: uint64(1 + rng.Intn(3))}
		for _, s := range lawSubset(rng, subjects, 3) {
			if s != o {
				row.Unreachable = append(row.Unreachable, s)
			}
		}
		r.Rows = append(r.Rows, row)
	}
	return r
}

// lawRandState returns a well-formed state over lawUniverse: each
// incarnation is absent, a member (Joining..Down, UpNumber only from Up on,
// an ID, sorted roles) or tombstoned; the clock, seen set and reachability
// name no tombstoned incarnation; rows are written by members about members.
func lawRandState(rng *rand.Rand) *State {
	s := NewState()
	var live, members []UniqueAddress
	for _, u := range lawUniverse {
		switch rng.Intn(3) {
		case 0:
			live = append(live, u)
		case 1:
			st := Joining + MemberStatus(rng.Intn(int(Down-Joining)+1))
			m := Member{Node: u, ID: lawIDs[rng.Intn(len(lawIDs))], Status: st}
			if st >= Up {
				m.UpNumber = int64(rng.Intn(4))
			}
			for _, r := range lawRoles {
				if rng.Intn(2) == 0 {
					m.Roles = append(m.Roles, r)
				}
			}
			s.Members = append(s.Members, m)
			live = append(live, u)
			members = append(members, u)
		case 2:
			s.Tombstones[u] = epoch.Add(time.Duration(rng.Intn(60)) * time.Second)
		}
	}
	s.Version = lawRandClock(rng, live)
	s.Seen = lawSubset(rng, members, 2)
	s.Reachability = lawRandReachability(rng, members, members)
	return s
}

func genClock() gopter.Gen {
	return lawFrom(func(rng *rand.Rand) VClock { return lawRandClock(rng, lawUniverse) })
}

func genReachability() gopter.Gen {
	return lawFrom(func(rng *rand.Rand) Reachability { return lawRandReachability(rng, lawUniverse, lawUniverse) })
}

func genState() gopter.Gen { return lawFrom(lawRandState) }

func TestLawGeneratorsWellFormed(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("generated states validate", prop.ForAll(func(s *State) string {
			if err := ValidateState(s); err != nil {
				return err.Error()
			}
			for _, m := range s.Members {
				if _, dead := s.Tombstones[m.Node]; dead {
					return fmt.Sprintf("member %v is tombstoned", m.Node)
				}
			}
			return ""
		}, genState()))
	})
	// The generator must reach every shape the laws are about.
	rng := rand.New(rand.NewSource(*lawSeed))
	var statuses [Removed + 1]int
	tombstones, rows, concurrent := 0, 0, 0
	for i := 0; i < 500; i++ {
		a, b := lawRandState(rng), lawRandState(rng)
		for _, m := range a.Members {
			statuses[m.Status]++
		}
		tombstones += len(a.Tombstones)
		rows += len(a.Reachability.Rows)
		if a.Version.Compare(b.Version) == Concurrent {
			concurrent++
		}
	}
	for st := Joining; st <= Down; st++ {
		if statuses[st] == 0 {
			t.Errorf("no generated member is %v", st)
		}
	}
	if statuses[Removed] != 0 || tombstones == 0 || rows == 0 || concurrent == 0 {
		t.Errorf("generator coverage: removed members %d, tombstones %d, rows %d, concurrent clock pairs %d",
			statuses[Removed], tombstones, rows, concurrent)
	}
}

// lawView is the part of a state the merge laws compare: contents, clock
// and tombstone keys (tombstone times are local and ignored).
type lawView struct {
	Members      []Member
	Reachability Reachability
	Version      VClock
	Tombstones   []UniqueAddress
}

func lawViewOf(s *State) lawView {
	v := lawView{Members: s.Members, Reachability: s.Reachability, Version: s.Version}
	for k := range s.Tombstones {
		v.Tombstones = append(v.Tombstones, k)
	}
	sortNodes(v.Tombstones)
	return v
}

// lawSame returns "" when want and got agree on contents (contentEqual),
// Version and tombstone keys, and otherwise a cmp.Diff of the two.
func lawSame(what string, want, got *State) string {
	wv, gv := lawViewOf(want), lawViewOf(got)
	if contentEqual(want, got) && want.Version.Compare(got.Version) == Same && nodesEqual(wv.Tombstones, gv.Tombstones) {
		return ""
	}
	return fmt.Sprintf("%s (-want +got):\n%s", what, cmp.Diff(wv, gv, cmpopts.EquateEmpty()))
}

func TestVClockLaws(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("merge is commutative", prop.ForAll(func(a, b VClock) string {
			return lawDiff("a.Merge(b) vs b.Merge(a)", a.Merge(b), b.Merge(a))
		}, genClock(), genClock()))
		p.Property("merge is associative", prop.ForAll(func(a, b, c VClock) string {
			return lawDiff("(a+b)+c vs a+(b+c)", a.Merge(b).Merge(c), a.Merge(b.Merge(c)))
		}, genClock(), genClock(), genClock()))
		p.Property("merge is idempotent", prop.ForAll(func(a VClock) string {
			return lawDiff("a vs a.Merge(a)", a, a.Merge(a))
		}, genClock()))
		p.Property("merge is Same or After both inputs", prop.ForAll(func(a, b VClock) string {
			m := a.Merge(b)
			for _, in := range []VClock{a, b} {
				if o := m.Compare(in); o != Same && o != After {
					return fmt.Sprintf("merge %v compares %v to input %v", m, o, in)
				}
			}
			return ""
		}, genClock(), genClock()))
		p.Property("merge adds no entry of its own", prop.ForAll(func(a, b VClock) string {
			for k, c := range a.Merge(b) {
				if c != a[k] && c != b[k] {
					return fmt.Sprintf("entry %v=%d is in neither %v nor %v", k, c, a, b)
				}
			}
			return ""
		}, genClock(), genClock()))
		p.Property("merge leaves its inputs alone", prop.ForAll(func(a, b VClock) string {
			ac, bc := a.Clone(), b.Clone()
			a.Merge(b)
			return lawDiff("a before vs after", ac, a) + lawDiff("b before vs after", bc, b)
		}, genClock(), genClock()))
		p.Property("compare is antisymmetric", prop.ForAll(func(a, b VClock) string {
			if o, r := a.Compare(b), b.Compare(a); fxMirror[o] != r {
				return fmt.Sprintf("a.Compare(b) = %v but b.Compare(a) = %v", o, r)
			}
			return ""
		}, genClock(), genClock()))
		p.Property("compare is Same exactly for equal clocks", prop.ForAll(func(a, b VClock) bool {
			return (a.Compare(b) == Same) == cmp.Equal(a, b, cmpopts.EquateEmpty())
		}, genClock(), genClock()))
		p.Property("increment is After and leaves the receiver alone", prop.ForAll(func(a VClock, i int) string {
			before := a.Clone()
			n := a.Increment(lawUniverse[i])
			if o := n.Compare(a); o != After {
				return fmt.Sprintf("incremented.Compare(original) = %v", o)
			}
			return lawDiff("receiver before vs after", before, a)
		}, genClock(), lawFrom(func(rng *rand.Rand) int { return rng.Intn(len(lawUniverse)) })))
	})
}

// lawDiff returns "" when two clocks are equal, otherwise their cmp.Diff.
func lawDiff(what string, want, got VClock) string {
	if len(want) == len(got) {
		equal := true
		for k, c := range want {
			if g, ok := got[k]; !ok || g != c {
				equal = false
				break
			}
		}
		if equal {
			return ""
		}
	}
	return fmt.Sprintf("%s (-want +got):\n%s", what, cmp.Diff(want, got, cmpopts.EquateEmpty()))
}

// lawReachDiff returns "" when two tables are equal (reachabilityEqual),
// otherwise their cmp.Diff.
func lawReachDiff(what string, want, got Reachability) string {
	if reachabilityEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("%s (-want +got):\n%s", what, cmp.Diff(want, got, cmpopts.EquateEmpty()))
}

func TestMergeReachabilityLaws(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("commutative", prop.ForAll(func(a, b Reachability) string {
			return lawReachDiff("merge(a,b) vs merge(b,a)", mergeReachability(a, b), mergeReachability(b, a))
		}, genReachability(), genReachability()))
		p.Property("associative", prop.ForAll(func(a, b, c Reachability) string {
			return lawReachDiff("merge(merge(a,b),c) vs merge(a,merge(b,c))",
				mergeReachability(mergeReachability(a, b), c), mergeReachability(a, mergeReachability(b, c)))
		}, genReachability(), genReachability(), genReachability()))
		p.Property("idempotent", prop.ForAll(func(a Reachability) string {
			return lawReachDiff("a vs merge(a,a)", a, mergeReachability(a, a))
		}, genReachability()))
		p.Property("upper bound of both inputs", prop.ForAll(func(a, b Reachability) string {
			m := mergeReachability(a, b)
			for _, in := range []Reachability{a, b} {
				for _, row := range in.Rows {
					got, ok := m.Row(row.Observer)
					switch {
					case !ok:
						return fmt.Sprintf("row of %v lost", row.Observer)
					case got.Version < row.Version:
						return fmt.Sprintf("row of %v went from version %d to %d", row.Observer, row.Version, got.Version)
					case got.Version == row.Version && !nodesEqual(unionNodes(got.Unreachable, row.Unreachable), got.Unreachable):
						return fmt.Sprintf("row of %v at version %d lost subjects: %v -> %v", row.Observer, row.Version, row.Unreachable, got.Unreachable)
					}
				}
			}
			if len(m.Rows) > len(a.Rows)+len(b.Rows) {
				return fmt.Sprintf("merge has %d rows from %d and %d", len(m.Rows), len(a.Rows), len(b.Rows))
			}
			return ""
		}, genReachability(), genReachability()))
		p.Property("result is sorted", prop.ForAll(func(a, b Reachability) string {
			m := mergeReachability(a, b)
			for i, row := range m.Rows {
				if i > 0 && m.Rows[i-1].Observer.Compare(row.Observer) >= 0 {
					return fmt.Sprintf("rows out of order at %v", row.Observer)
				}
				for j := 1; j < len(row.Unreachable); j++ {
					if row.Unreachable[j-1].Compare(row.Unreachable[j]) >= 0 {
						return fmt.Sprintf("row of %v out of order: %v", row.Observer, row.Unreachable)
					}
				}
			}
			return ""
		}, genReachability(), genReachability()))
		p.Property("inputs left alone", prop.ForAll(func(a, b Reachability) string {
			ac, bc := a.Clone(), b.Clone()
			mergeReachability(a, b)
			return lawReachDiff("a before vs after", ac, a) + lawReachDiff("b before vs after", bc, b)
		}, genReachability(), genReachability()))
	})
}

func TestMergeContentLaws(t *testing.T) {
	merge := func(a, b *State) *State { return mergeContent(a, b, lawNow) }
	runLaws(t, func(p *gopter.Properties) {
		p.Property("commutative", prop.ForAll(func(a, b *State) string {
			return lawCtx(lawSame("merge(a,b) vs merge(b,a)", merge(a, b), merge(b, a)), a, b)
		}, genState(), genState()))
		p.Property("associative", prop.ForAll(func(a, b, c *State) string {
			return lawCtx(lawSame("merge(merge(a,b),c) vs merge(a,merge(b,c))", merge(merge(a, b), c), merge(a, merge(b, c))), a, b, c)
		}, genState(), genState(), genState()))
		p.Property("idempotent", prop.ForAll(func(a *State) string {
			return lawCtx(lawSame("a vs merge(a,a)", a, merge(a, a)), a)
		}, genState()))
		p.Property("merging an input again changes nothing", prop.ForAll(func(a, b *State) string {
			m := merge(a, b)
			return lawCtx(lawSame("merge(a,b) vs merge(merge(a,b),b)", m, merge(m, b))+
				lawSame("merge(a,b) vs merge(a,merge(a,b))", m, merge(a, m)), a, b)
		}, genState(), genState()))
		p.Property("status never moves backwards", prop.ForAll(func(a, b *State) string {
			m := merge(a, b)
			for _, in := range []*State{a, b} {
				for _, x := range in.Members {
					got, ok := m.Member(x.Node)
					if !ok {
						if _, dead := m.Tombstones[x.Node]; !dead {
							return fmt.Sprintf("member %v (%v) vanished without a tombstone", x.Node, x.Status)
						}
						continue
					}
					if got.Status < x.Status {
						return fmt.Sprintf("member %v moved back from %v to %v", x.Node, x.Status, got.Status)
					}
				}
			}
			return ""
		}, genState(), genState()))
		p.Property("tombstones are the union and win", prop.ForAll(func(a, b *State) string {
			m := merge(a, b)
			want := map[UniqueAddress]time.Time{}
			for k := range b.Tombstones {
				want[k] = lawNow // new to a: stamped with the merge time
			}
			for k, at := range a.Tombstones {
				want[k] = at // already known: a's own time is kept
			}
			if diff := cmp.Diff(want, m.Tombstones, cmpopts.EquateEmpty()); diff != "" {
				return "tombstones (-want +got):\n" + diff
			}
			for _, x := range m.Members {
				if _, dead := m.Tombstones[x.Node]; dead {
					return fmt.Sprintf("tombstoned %v is still a member", x.Node)
				}
			}
			for k := range m.Version {
				if _, dead := m.Tombstones[k]; dead {
					return fmt.Sprintf("tombstoned %v still has a clock entry", k)
				}
			}
			for _, row := range m.Reachability.Rows {
				for _, u := range append([]UniqueAddress{row.Observer}, row.Unreachable...) {
					if _, dead := m.Tombstones[u]; dead {
						return fmt.Sprintf("tombstoned %v is still in the reachability table", u)
					}
				}
			}
			return ""
		}, genState(), genState()))
		p.Property("version covers both inputs", prop.ForAll(func(a, b *State) string {
			m := merge(a, b)
			for _, in := range []*State{a, b} {
				v := prunedVersion(in.Version, m.Tombstones, nil)
				if o := m.Version.Compare(v); o != Same && o != After {
					return fmt.Sprintf("merged version %v is %v input %v", m.Version, o, in.Version)
				}
			}
			return ""
		}, genState(), genState()))
		p.Property("result is well formed with an empty seen set", prop.ForAll(func(a, b *State) string {
			m := merge(a, b)
			if err := ValidateState(m); err != nil {
				return err.Error()
			}
			if len(m.Seen) != 0 {
				return fmt.Sprintf("seen set %v, want empty", m.Seen)
			}
			return ""
		}, genState(), genState()))
		p.Property("inputs left alone", prop.ForAll(func(a, b *State) string {
			ac, bc := a.Clone(), b.Clone()
			merge(a, b)
			return lawUnchanged("a", ac, a) + lawUnchanged("b", bc, b)
		}, genState(), genState()))
	})
}

// lawUnchanged returns "" when got holds exactly what its earlier clone want
// held (contents, clock, seen set, tombstones with their times), otherwise
// their cmp.Diff.
func lawUnchanged(what string, want, got *State) string {
	same := contentEqual(want, got) && lawDiff("", want.Version, got.Version) == "" &&
		nodesEqual(want.Seen, got.Seen) && len(want.Tombstones) == len(got.Tombstones)
	for k, at := range want.Tombstones {
		if g, ok := got.Tombstones[k]; !ok || !g.Equal(at) {
			same = false
		}
	}
	if same {
		return ""
	}
	return fmt.Sprintf("%s changed (-want +got):\n%s", what, cmp.Diff(want, got, cmpopts.EquateEmpty()))
}

// lawCtx appends the rendered inputs to a failure message; "" stays "".
func lawCtx(msg string, inputs ...*State) string {
	if msg == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(msg)
	for i, in := range inputs {
		fmt.Fprintf(&b, "\ninput %c: %s", 'a'+i, lawRender(in))
	}
	return b.String()
}

// lawRender is a compact, readable form of a state for failure messages.
func lawRender(s *State) string {
	var b strings.Builder
	b.WriteString("members[")
	for i, m := range s.Members {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%v:%v/up%d/%s/%s", m.Node, m.Status, m.UpNumber, m.ID, strings.Join(m.Roles, ","))
	}
	b.WriteString("] reach[")
	for i, row := range s.Reachability.Rows {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%v@%d:%v", row.Observer, row.Version, row.Unreachable)
	}
	b.WriteString("] version[")
	for i, k := range s.Version.Nodes() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%v=%d", k, s.Version[k])
	}
	b.WriteString("] tombstones")
	fmt.Fprint(&b, lawViewOf(s).Tombstones)
	return b.String()
}
