package proto

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// Laws of the pure allocation and registry functions, checked with gopter
// under the pinned seed of laws_test.go (runLaws prints it on failure).

// lawAllocNames are the shard type names generated inputs use.
var lawAllocNames = []string{"a", "b", "c"}

// lawAlloc is one call of Allocate.
type lawAlloc struct {
	Current  []TypeAllocation
	Types    []ShardType
	Hosts    map[string][]UniqueAddress
	Next     Epoch
	MaxMoves int
	Origin   string // "history" or "arbitrary": how Current was made
}

// String renders the call compactly for failure messages.
func (c lawAlloc) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "next=%d maxMoves=%d current from %s\ntypes:", c.Next, c.MaxMoves, c.Origin)
	for _, t := range c.Types {
		fmt.Fprintf(&b, " %s/%d/%d hosts%v", t.Name, t.Shards, t.Replicas, c.Hosts[t.Name])
	}
	b.WriteString("\ncurrent:\n")
	b.WriteString(lawRenderTables(c.Current))
	return b.String()
}

func lawRenderTables(tables []TypeAllocation) string {
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "  %s/%d/%d @%d:", t.Type.Name, t.Type.Shards, t.Type.Replicas, t.Epoch)
		for i, a := range t.Shards {
			fmt.Fprintf(&b, " %d=%v%v@%d", i, a.Primary, a.Replicas, a.Epoch)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// lawRandType declares type name with 1..12 shards and 0..3 replicas.
func lawRandType(rng *rand.Rand, name string) ShardType {
	return ShardType{Name: name, Shards: 1 + rng.Intn(12), Replicas: rng.Intn(4)}
}

// lawRandHosts picks each type's eligible hosts from lawUniverse (address
// order, as shardInputs gives them); a type may have none.
func lawRandHosts(rng *rand.Rand, types []ShardType) map[string][]UniqueAddress {
	hosts := map[string][]UniqueAddress{}
	for _, t := range types {
		hosts[t.Name] = lawSubset(rng, lawUniverse, 1+rng.Intn(3))
	}
	return hosts
}

// lawRandTable is an arbitrary well-formed table (validateAllocations):
// shards unallocated or placed anywhere in lawUniverse, distinct replicas
// that are not the primary, shard epochs at most the table's.
func lawRandTable(rng *rand.Rand, typ ShardType, epoch Epoch) TypeAllocation {
	t := TypeAllocation{Type: typ, Epoch: epoch, Shards: make([]ShardAllocation, typ.Shards)}
	for i := range t.Shards {
		if rng.Intn(6) == 0 {
			continue
		}
		perm := rng.Perm(len(lawUniverse))
		a := ShardAllocation{Primary: lawUniverse[perm[0]], Epoch: Epoch(1 + rng.Intn(int(epoch)))}
		for _, k := range perm[1 : 1+rng.Intn(typ.Replicas+1)] {
			a.Replicas = append(a.Replicas, lawUniverse[k])
		}
		t.Shards[i] = a
	}
	return t
}

// lawRandAlloc generates one call of Allocate. Half the time the current
// tables come from a history of earlier rounds (Allocate itself, with
// changing hosts and declarations), half the time they are arbitrary
// well-formed tables. The next epoch is one above every table's, as the
// leader computes it; the declarations sometimes change or vanish.
func lawRandAlloc(rng *rand.Rand) lawAlloc {
	decl := map[string]ShardType{}
	for _, name := range lawAllocNames {
		decl[name] = lawRandType(rng, name)
	}
	declared := func() []ShardType {
		var out []ShardType
		for _, name := range lawAllocNames {
			switch rng.Intn(8) {
			case 0: // not declared this round
			case 1:
				decl[name] = lawRandType(rng, name)
				out = append(out, decl[name])
			default:
				out = append(out, decl[name])
			}
		}
		return out
	}
	var current []TypeAllocation
	var top Epoch
	origin := "arbitrary"
	if rng.Intn(2) == 0 {
		origin = "history"
		for r := rng.Intn(5); r > 0; r-- {
			types := declared()
			if out, changed := Allocate(current, types, lawRandHosts(rng, types), top+1, 1+rng.Intn(3)); changed {
				current, top = out, top+1
			}
		}
	} else {
		for _, name := range lawAllocNames {
			if rng.Intn(4) != 0 {
				e := Epoch(1 + rng.Intn(5))
				current = append(current, lawRandTable(rng, decl[name], e))
				if e > top {
					top = e
				}
			}
		}
	}
	types := declared()
	rng.Shuffle(len(types), func(i, j int) { types[i], types[j] = types[j], types[i] })
	return lawAlloc{Current: current, Types: types, Hosts: lawRandHosts(rng, types), Next: top + 1, MaxMoves: 1 + rng.Intn(4), Origin: origin}
}

func genAlloc() gopter.Gen { return lawFrom(lawRandAlloc) }

// lawClone deep-copies a call's inputs.
func (c lawAlloc) clone() lawAlloc {
	out := lawAlloc{Current: cloneAllocations(c.Current), Types: append([]ShardType(nil), c.Types...),
		Hosts: map[string][]UniqueAddress{}, Next: c.Next, MaxMoves: c.MaxMoves, Origin: c.Origin}
	for k, v := range c.Hosts {
		out.Hosts[k] = append([]UniqueAddress(nil), v...)
	}
	return out
}

func (c lawAlloc) run() ([]TypeAllocation, bool) {
	return Allocate(c.Current, c.Types, c.Hosts, c.Next, c.MaxMoves)
}

// declared returns the declaration of name in c.Types.
func (c lawAlloc) declared(name string) (ShardType, bool) {
	for _, t := range c.Types {
		if t.Name == name {
			return t, true
		}
	}
	return ShardType{}, false
}

func lawTable(tables []TypeAllocation, name string) (TypeAllocation, bool) {
	for _, t := range tables {
		if t.Type.Name == name {
			return t, true
		}
	}
	return TypeAllocation{}, false
}

// lawPlacementErr checks the placement rules on Allocate's output: one
// table per declared or previously known type, sorted by name; a declared
// type's table has its declaration and shard count; with at least one host
// every shard has an eligible primary and min(Replicas, hosts-1) distinct
// eligible replicas that are not the primary; with none, and for an
// undeclared type, every shard is unallocated.
func lawPlacementErr(c lawAlloc, out []TypeAllocation) string {
	names := map[string]bool{}
	for _, t := range c.Current {
		names[t.Type.Name] = true
	}
	for _, t := range c.Types {
		names[t.Name] = true
	}
	var want []string
	for n := range names {
		want = append(want, n)
	}
	sort.Strings(want)
	var got []string
	for _, t := range out {
		got = append(got, t.Type.Name)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		return "table names (-want +got):\n" + diff
	}
	for _, t := range out {
		typ, declared := c.declared(t.Type.Name)
		if declared && t.Type != typ {
			return fmt.Sprintf("table %s has type %+v, declared %+v", t.Type.Name, t.Type, typ)
		}
		if len(t.Shards) != t.Type.Shards {
			return fmt.Sprintf("table %s has %d shards, type says %d", t.Type.Name, len(t.Shards), t.Type.Shards)
		}
		hosts := c.Hosts[t.Type.Name]
		if !declared {
			hosts = nil
		}
		want := t.Type.Replicas
		if len(hosts)-1 < want {
			want = len(hosts) - 1
		}
		for i, a := range t.Shards {
			if len(hosts) == 0 {
				if a.Primary != (UniqueAddress{}) || len(a.Replicas) != 0 {
					return fmt.Sprintf("%s/%d placed at %v%v with no eligible host", t.Type.Name, i, a.Primary, a.Replicas)
				}
				continue
			}
			if !containsNode(hosts, a.Primary) {
				return fmt.Sprintf("%s/%d primary %v is not an eligible host %v", t.Type.Name, i, a.Primary, hosts)
			}
			if len(a.Replicas) != want {
				return fmt.Sprintf("%s/%d has %d replicas %v, want %d", t.Type.Name, i, len(a.Replicas), a.Replicas, want)
			}
			for k, r := range a.Replicas {
				switch {
				case r == a.Primary:
					return fmt.Sprintf("%s/%d replica %v is the primary", t.Type.Name, i, r)
				case !containsNode(hosts, r):
					return fmt.Sprintf("%s/%d replica %v is not an eligible host", t.Type.Name, i, r)
				case containsNodeUnsorted(a.Replicas[:k], r):
					return fmt.Sprintf("%s/%d replica %v appears twice in %v", t.Type.Name, i, r, a.Replicas)
				}
			}
		}
	}
	return ""
}

// lawMoves counts the primaries Allocate moved by choice: shards whose
// primary changed although the old one was an eligible host of an
// unchanged declaration. Promotions and placements of unallocated shards
// are not moves.
func lawMoves(c lawAlloc, out []TypeAllocation) int {
	moves := 0
	for _, t := range out {
		prev, ok := lawTable(c.Current, t.Type.Name)
		typ, declared := c.declared(t.Type.Name)
		if !ok || !declared || prev.Type != typ {
			continue
		}
		for i, a := range t.Shards {
			old := prev.Shards[i].Primary
			if old != a.Primary && containsNode(c.Hosts[typ.Name], old) {
				moves++
			}
		}
	}
	return moves
}

// lawEpochErr checks the epoch rules: a table's epoch is the next epoch
// exactly when its content changed (or it is new) and its old epoch
// otherwise, so it never decreases; every shard's epoch is at most its
// table's; a shard keeps its epoch while its primary stays and takes the
// next epoch when its primary changes; an unallocated shard has epoch 0;
// changed reports whether any table changed.
func lawEpochErr(c lawAlloc, out []TypeAllocation, changed bool) string {
	anyChange := false
	for _, t := range out {
		prev, had := lawTable(c.Current, t.Type.Name)
		differs := !had || !lawSameTable(prev, t, false)
		anyChange = anyChange || differs
		wantEpoch := prev.Epoch
		if differs {
			wantEpoch = c.Next
		}
		if t.Epoch != wantEpoch {
			return fmt.Sprintf("table %s (changed %v) has epoch %d, want %d (was %d, next %d)", t.Type.Name, differs, t.Epoch, wantEpoch, prev.Epoch, c.Next)
		}
		for i, a := range t.Shards {
			if a.Epoch > t.Epoch {
				return fmt.Sprintf("%s/%d epoch %d above its table's %d", t.Type.Name, i, a.Epoch, t.Epoch)
			}
			if a.Primary == (UniqueAddress{}) {
				if a.Epoch != 0 {
					return fmt.Sprintf("unallocated %s/%d has epoch %d", t.Type.Name, i, a.Epoch)
				}
				continue
			}
			if !had || prev.Type != t.Type {
				if a.Epoch != c.Next {
					return fmt.Sprintf("%s/%d of a new or redeclared table has epoch %d, want %d", t.Type.Name, i, a.Epoch, c.Next)
				}
				continue
			}
			old := prev.Shards[i]
			switch {
			case old.Primary == a.Primary && a.Epoch != old.Epoch:
				return fmt.Sprintf("%s/%d kept primary %v but its epoch went %d -> %d", t.Type.Name, i, a.Primary, old.Epoch, a.Epoch)
			case old.Primary != a.Primary && a.Epoch != c.Next:
				return fmt.Sprintf("%s/%d primary %v -> %v at epoch %d, want %d", t.Type.Name, i, old.Primary, a.Primary, a.Epoch, c.Next)
			}
		}
	}
	if changed != anyChange {
		return fmt.Sprintf("changed = %v, but tables changed: %v", changed, anyChange)
	}
	return ""
}

// lawBalanceErr reports a type whose primaries are not spread over its
// hosts to within one.
func lawBalanceErr(c lawAlloc, out []TypeAllocation) string {
	for _, t := range out {
		hosts := c.Hosts[t.Type.Name]
		if _, declared := c.declared(t.Type.Name); !declared || len(hosts) == 0 {
			continue
		}
		count := map[UniqueAddress]int{}
		for _, a := range t.Shards {
			count[a.Primary]++
		}
		lo, hi := count[hosts[0]], count[hosts[0]]
		for _, h := range hosts {
			lo, hi = min(lo, count[h]), max(hi, count[h])
		}
		if hi-lo > 1 {
			parts := make([]string, len(hosts))
			for i, h := range hosts {
				parts[i] = fmt.Sprintf("%v=%d", h, count[h])
			}
			return fmt.Sprintf("%s primaries unbalanced: %s", t.Type.Name, strings.Join(parts, " "))
		}
	}
	return ""
}

func TestAllocateLaws(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("deterministic, inputs left alone", prop.ForAll(func(c lawAlloc) string {
			before := c.clone()
			out1, ch1 := c.run()
			if !lawSameCall(before, c) {
				return "Allocate modified its inputs (-want +got):\n" + cmp.Diff(before, c, cmpopts.EquateEmpty())
			}
			out2, ch2 := c.run()
			if !lawSameTables(out1, out2) || ch1 != ch2 {
				return fmt.Sprintf("second call differs (changed %v vs %v) (-first +second):\n%s", ch1, ch2, cmp.Diff(out1, out2, cmpopts.EquateEmpty()))
			}
			// The result is the caller's: writing to it changes no input.
			for i := range out1 {
				for k := range out1[i].Shards {
					out1[i].Shards[k].Primary = UniqueAddress{}
					for r := range out1[i].Shards[k].Replicas {
						out1[i].Shards[k].Replicas[r] = UniqueAddress{}
					}
				}
			}
			if !lawSameCall(before, c) {
				return "the result shares memory with the inputs (-want +got):\n" + cmp.Diff(before, c, cmpopts.EquateEmpty())
			}
			return ""
		}, genAlloc().SuchThat(func(c lawAlloc) bool { return len(c.Current)+len(c.Types) > 0 })))
		p.Property("every shard placed on eligible hosts", prop.ForAll(func(c lawAlloc) string {
			out, _ := c.run()
			if msg := lawPlacementErr(c, out); msg != "" {
				return msg + "\nresult:\n" + lawRenderTables(out)
			}
			return ""
		}, genAlloc()))
		p.Property("epochs never go back", prop.ForAll(func(c lawAlloc) string {
			out, changed := c.run()
			if msg := lawEpochErr(c, out, changed); msg != "" {
				return msg + "\nresult:\n" + lawRenderTables(out)
			}
			return ""
		}, genAlloc()))
		p.Property("at most maxMoves primaries move", prop.ForAll(func(c lawAlloc) string {
			out, _ := c.run()
			if m := lawMoves(c, out); m > c.MaxMoves {
				return fmt.Sprintf("%d primaries moved, budget %d\nresult:\n%s", m, c.MaxMoves, lawRenderTables(out))
			}
			return ""
		}, genAlloc()))
		p.Property("rounds with the same hosts balance primaries to within one", prop.ForAll(func(c lawAlloc) string {
			bound := 3
			for _, t := range c.Types {
				bound += t.Shards
			}
			for round := 0; ; round++ {
				out, changed := c.run()
				for _, msg := range []string{lawPlacementErr(c, out), lawEpochErr(c, out, changed)} {
					if msg != "" {
						return fmt.Sprintf("round %d: %s", round, msg)
					}
				}
				if m := lawMoves(c, out); m > c.MaxMoves {
					return fmt.Sprintf("round %d moved %d primaries, budget %d", round, m, c.MaxMoves)
				}
				if !changed {
					// A fixed point: the tables as they were, balanced.
					if !lawSameTables(c.Current, out) {
						return fmt.Sprintf("round %d reported no change (-want +got):\n%s", round, cmp.Diff(c.Current, out, cmpopts.EquateEmpty()))
					}
					if msg := lawBalanceErr(c, out); msg != "" {
						return fmt.Sprintf("round %d: %s\n%s", round, msg, lawRenderTables(out))
					}
					return ""
				}
				if round == bound {
					return fmt.Sprintf("still changing after %d rounds:\n%s", bound, lawRenderTables(out))
				}
				c.Current, c.Next = out, c.Next+1
			}
		}, genAlloc()))
	})
}

// TestAllocateLawGenerator checks that the generator reaches the shapes the
// laws are about.
func TestAllocateLawGenerator(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	var got struct {
		Histories, Arbitrary, LostPrimaries, Redeclared, Undeclared, NoHosts, Moves int
	}
	for i := 0; i < 2000; i++ {
		c := lawRandAlloc(rng)
		out, _ := c.run()
		if lawMoves(c, out) > 0 {
			got.Moves++
		}
		for _, p := range c.Current {
			typ, declared := c.declared(p.Type.Name)
			switch {
			case !declared:
				got.Undeclared++
			case typ != p.Type:
				got.Redeclared++
			}
			for _, a := range p.Shards {
				if declared && a.Primary != (UniqueAddress{}) && !containsNode(c.Hosts[typ.Name], a.Primary) {
					got.LostPrimaries++
					break
				}
			}
		}
		for _, typ := range c.Types {
			if len(c.Hosts[typ.Name]) == 0 {
				got.NoHosts++
			}
		}
		if c.Origin == "history" && len(c.Current) > 0 {
			got.Histories++
		}
		if c.Origin == "arbitrary" && len(c.Current) > 0 {
			got.Arbitrary++
		}
	}
	for name, n := range map[string]int{
		"from histories": got.Histories, "arbitrary": got.Arbitrary, "with lost primaries": got.LostPrimaries,
		"redeclared types": got.Redeclared, "undeclared types": got.Undeclared, "types without hosts": got.NoHosts,
		"with rebalance moves": got.Moves,
	} {
		if n < 20 {
			t.Errorf("only %d of 2000 generated calls %s", n, name)
		}
	}
}

// lawRandTables returns tables for a random subset of lawAllocNames, with
// epochs 1..3 and one or two shards placed among three nodes, so that
// equal epochs with different content and identical tables both occur.
func lawRandTables(rng *rand.Rand) []TypeAllocation {
	var out []TypeAllocation
	for _, name := range lawAllocNames {
		if rng.Intn(3) == 0 {
			continue
		}
		typ := ShardType{Name: name, Shards: 1 + rng.Intn(2), Replicas: rng.Intn(2)}
		t := TypeAllocation{Type: typ, Epoch: Epoch(1 + rng.Intn(3))}
		for i := 0; i < typ.Shards; i++ {
			a := ShardAllocation{Primary: lawUniverse[rng.Intn(3)], Epoch: Epoch(1 + rng.Intn(int(t.Epoch)))}
			if typ.Replicas > 0 && rng.Intn(2) == 0 {
				a.Replicas = []UniqueAddress{lawUniverse[3]}
			}
			t.Shards = append(t.Shards, a)
		}
		out = append(out, t)
	}
	return out
}

func genTables() gopter.Gen { return lawFrom(lawRandTables) }

// lawTablesDiff returns "" when two allocation lists are equal, otherwise
// their cmp.Diff.
func lawTablesDiff(what string, want, got []TypeAllocation) string {
	if lawSameTables(want, got) {
		return ""
	}
	return fmt.Sprintf("%s (-want +got):\n%s", what, cmp.Diff(want, got, cmpopts.EquateEmpty()))
}

// lawSameTable compares two tables field by field (and their epochs when
// withEpoch), nil and empty replica lists alike; cmp is too slow for the
// thousands of comparisons the laws make.
func lawSameTable(a, b TypeAllocation, withEpoch bool) bool {
	if a.Type != b.Type || (withEpoch && a.Epoch != b.Epoch) || len(a.Shards) != len(b.Shards) {
		return false
	}
	for i, x := range a.Shards {
		y := b.Shards[i]
		if x.Primary != y.Primary || x.Epoch != y.Epoch || len(x.Replicas) != len(y.Replicas) {
			return false
		}
		for k := range x.Replicas {
			if x.Replicas[k] != y.Replicas[k] {
				return false
			}
		}
	}
	return true
}

func lawSameTables(a, b []TypeAllocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !lawSameTable(a[i], b[i], true) {
			return false
		}
	}
	return true
}

func lawSameCall(a, b lawAlloc) bool {
	if !lawSameTables(a.Current, b.Current) || a.Next != b.Next || a.MaxMoves != b.MaxMoves ||
		len(a.Types) != len(b.Types) || len(a.Hosts) != len(b.Hosts) {
		return false
	}
	for i := range a.Types {
		if a.Types[i] != b.Types[i] {
			return false
		}
	}
	for k, v := range a.Hosts {
		w, ok := b.Hosts[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return true
}

// naiveMergeAllocations is mergeAllocations without its shortcuts: the
// join by type name, keeping the table with the higher epoch, then the
// higher content hash, deep-copied.
func naiveMergeAllocations(a, b []TypeAllocation) []TypeAllocation {
	out := []TypeAllocation{}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Type.Name < b[j].Type.Name):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Type.Name < a[i].Type.Name:
			out = append(out, b[j])
			j++
		default:
			x, y := a[i], b[j]
			if x.Epoch > y.Epoch || (x.Epoch == y.Epoch && typeAllocationHash(x) >= typeAllocationHash(y)) {
				out = append(out, a[i])
			} else {
				out = append(out, b[j])
			}
			i++
			j++
		}
	}
	return cloneAllocations(out)
}

// lawDenormal returns a copy of tables whose lists of no replicas are
// empty rather than nil, a form cloneAllocations does not produce.
func lawDenormal(tables []TypeAllocation) []TypeAllocation {
	out := cloneAllocations(tables)
	for i := range out {
		for k := range out[i].Shards {
			if out[i].Shards[k].Replicas == nil {
				out[i].Shards[k].Replicas = []UniqueAddress{}
			}
		}
	}
	return out
}

func TestMergeAllocationsLaws(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("commutative", prop.ForAll(func(a, b []TypeAllocation) string {
			return lawTablesDiff("merge(a,b) vs merge(b,a)", mergeAllocations(a, b), mergeAllocations(b, a))
		}, genTables(), genTables()))
		p.Property("associative", prop.ForAll(func(a, b, c []TypeAllocation) string {
			return lawTablesDiff("merge(merge(a,b),c) vs merge(a,merge(b,c))",
				mergeAllocations(mergeAllocations(a, b), c), mergeAllocations(a, mergeAllocations(b, c)))
		}, genTables(), genTables(), genTables()))
		p.Property("idempotent", prop.ForAll(func(a []TypeAllocation) string {
			return lawTablesDiff("a vs merge(a,a)", a, mergeAllocations(a, a))
		}, genTables()))
		p.Property("each type keeps an input table with the highest epoch", prop.ForAll(func(a, b []TypeAllocation) string {
			m := mergeAllocations(a, b)
			var names []string
			for _, t := range m {
				names = append(names, t.Type.Name)
				x, inA := lawTable(a, t.Type.Name)
				y, inB := lawTable(b, t.Type.Name)
				switch {
				case !inA && !inB:
					return fmt.Sprintf("table %s is in neither input", t.Type.Name)
				case inA && x.Epoch > t.Epoch, inB && y.Epoch > t.Epoch:
					return fmt.Sprintf("table %s at epoch %d lost a higher epoch", t.Type.Name, t.Epoch)
				case !(inA && typeAllocationEqual(x, t)) && !(inB && typeAllocationEqual(y, t)):
					return fmt.Sprintf("table %s is neither input's", t.Type.Name)
				}
			}
			if !sort.StringsAreSorted(names) || len(m) < max(len(a), len(b)) || len(m) > len(a)+len(b) {
				return fmt.Sprintf("merged names %v from %d and %d tables", names, len(a), len(b))
			}
			return ""
		}, genTables(), genTables()))
		p.Property("inputs left alone", prop.ForAll(func(a, b []TypeAllocation) string {
			ac, bc := cloneAllocations(a), cloneAllocations(b)
			mergeAllocations(a, b)
			return lawTablesDiff("a before vs after", ac, a) + lawTablesDiff("b before vs after", bc, b)
		}, genTables(), genTables()))
		p.Property("the naive join, deep-copied, exactly", prop.ForAll(func(a, b []TypeAllocation) string {
			// Inputs in cloned form or not, and sharing their tables or not.
			for _, pair := range [][2][]TypeAllocation{{a, b}, {a, a}, {a, cloneAllocations(a)},
				{cloneAllocations(a), cloneAllocations(b)}, {cloneAllocations(a), a}, {nil, a}, {a, nil},
				{lawDenormal(a), b}, {lawDenormal(a), lawDenormal(a)}, {b, lawDenormal(a)}} {
				want, got := naiveMergeAllocations(pair[0], pair[1]), mergeAllocations(pair[0], pair[1])
				if !reflect.DeepEqual(want, got) { // as strict as cmp here, and faster
					return fmt.Sprintf("mergeAllocations (-naive +got):\n%s", cmp.Diff(want, got))
				}
			}
			return ""
		}, genTables(), genTables()))
	})
}

// lawEntryPool is what generated registry rows draw their entries from,
// sorted by (key, path).
var lawEntryPool = [][2]string{{"a", "/1"}, {"a", "/2"}, {"b", "/1"}, {"c", ""}}

// lawRandRegistry returns rows for a random subset of lawUniverse, each at
// version 1..3 with a sorted subset of lawEntryPool owned by its owner.
func lawRandRegistry(rng *rand.Rand) []RegistryRow {
	var out []RegistryRow
	for _, u := range lawSubset(rng, lawUniverse, 3) {
		r := RegistryRow{Owner: u, Version: uint64(1 + rng.Intn(3))}
		for _, e := range lawEntryPool {
			if rng.Intn(2) == 0 {
				r.Entries = append(r.Entries, ServiceEntry{Key: e[0], Node: u, Path: e[1]})
			}
		}
		out = append(out, r)
	}
	return out
}

func genRegistry() gopter.Gen { return lawFrom(lawRandRegistry) }

// lawUnion is the sorted set union of two entry lists, written naively.
func lawUnion(a, b []ServiceEntry) []ServiceEntry {
	set := map[ServiceEntry]bool{}
	for _, e := range append(append([]ServiceEntry(nil), a...), b...) {
		set[e] = true
	}
	var out []ServiceEntry
	for e := range set {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// lawRegistryDiff returns "" when two registries are equal, otherwise their
// cmp.Diff.
func lawRegistryDiff(what string, want, got []RegistryRow) string {
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		x, y := want[i], got[i]
		same = x.Owner == y.Owner && x.Version == y.Version && len(x.Entries) == len(y.Entries)
		for k := 0; same && k < len(x.Entries); k++ {
			same = x.Entries[k] == y.Entries[k]
		}
	}
	if same {
		return ""
	}
	return fmt.Sprintf("%s (-want +got):\n%s", what, cmp.Diff(want, got, cmpopts.EquateEmpty()))
}

// naiveMergeRegistry is mergeRegistry without its shortcuts: the join by
// owner, keeping the higher version (the union of the entries at equal
// versions), deep-copied.
func naiveMergeRegistry(a, b []RegistryRow) []RegistryRow {
	out := []RegistryRow{}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].Owner.Compare(b[j].Owner) < 0):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Owner.Compare(a[i].Owner) < 0:
			out = append(out, b[j])
			j++
		default:
			r := a[i]
			switch {
			case b[j].Version > r.Version:
				r = b[j]
			case b[j].Version == r.Version:
				r.Entries = lawUnion(r.Entries, b[j].Entries)
			}
			out = append(out, r)
			i++
			j++
		}
	}
	return cloneRegistry(out)
}

func TestMergeRegistryLaws(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("generated rows are well formed", prop.ForAll(func(a []RegistryRow) string {
			s := NewState()
			for _, r := range a {
				s.Members = append(s.Members, Member{Node: r.Owner, Status: Up})
			}
			s.Registry = a
			if err := validateRegistry(s); err != nil {
				return err.Error()
			}
			return ""
		}, genRegistry()))
		p.Property("commutative", prop.ForAll(func(a, b []RegistryRow) string {
			return lawRegistryDiff("merge(a,b) vs merge(b,a)", mergeRegistry(a, b), mergeRegistry(b, a))
		}, genRegistry(), genRegistry()))
		p.Property("associative", prop.ForAll(func(a, b, c []RegistryRow) string {
			return lawRegistryDiff("merge(merge(a,b),c) vs merge(a,merge(b,c))",
				mergeRegistry(mergeRegistry(a, b), c), mergeRegistry(a, mergeRegistry(b, c)))
		}, genRegistry(), genRegistry(), genRegistry()))
		p.Property("idempotent", prop.ForAll(func(a []RegistryRow) string {
			return lawRegistryDiff("a vs merge(a,a)", a, mergeRegistry(a, a))
		}, genRegistry()))
		p.Property("each owner keeps its highest version", prop.ForAll(func(a, b []RegistryRow) string {
			want := map[UniqueAddress]RegistryRow{}
			for _, in := range [][]RegistryRow{a, b} {
				for _, r := range in {
					cur, ok := want[r.Owner]
					switch {
					case !ok || r.Version > cur.Version:
						want[r.Owner] = r
					case r.Version == cur.Version:
						cur.Entries = lawUnion(cur.Entries, r.Entries)
						want[r.Owner] = cur
					}
				}
			}
			var rows []RegistryRow
			for _, r := range want {
				rows = append(rows, r)
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].Owner.Compare(rows[j].Owner) < 0 })
			return lawRegistryDiff("merge vs highest version per owner", rows, mergeRegistry(a, b))
		}, genRegistry(), genRegistry()))
		p.Property("inputs left alone", prop.ForAll(func(a, b []RegistryRow) string {
			ac, bc := cloneRegistry(a), cloneRegistry(b)
			mergeRegistry(a, b)
			return lawRegistryDiff("a before vs after", ac, a) + lawRegistryDiff("b before vs after", bc, b)
		}, genRegistry(), genRegistry()))
		p.Property("the naive join, deep-copied, exactly", prop.ForAll(func(a, b []RegistryRow) string {
			// Inputs in cloned form or not, and sharing their rows or not.
			denormal := cloneRegistry(a)
			for i := range denormal {
				if denormal[i].Entries == nil {
					denormal[i].Entries = []ServiceEntry{}
				}
			}
			for _, pair := range [][2][]RegistryRow{{a, b}, {a, a}, {a, cloneRegistry(a)}, {cloneRegistry(a), a},
				{nil, a}, {a, nil}, {denormal, b}, {denormal, denormal}, {b, denormal}} {
				want, got := naiveMergeRegistry(pair[0], pair[1]), mergeRegistry(pair[0], pair[1])
				if !reflect.DeepEqual(want, got) { // as strict as cmp here, and faster
					return fmt.Sprintf("mergeRegistry (-naive +got):\n%s", cmp.Diff(want, got))
				}
			}
			return ""
		}, genRegistry(), genRegistry()))
	})
}
