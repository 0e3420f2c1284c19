package proto

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// naiveValidateMembers is validateMembers without a known list: every
// check on every member, each pair of neighbours compared by
// UniqueAddress.Compare.
func naiveValidateMembers(members []Member) error {
	for i, m := range members {
		if m.Node.UID == 0 || m.Node.Host == "" || len(m.Node.Host) > MaxNameLen {
			return invalid("member %d has a bad address %v", i, m.Node)
		}
		if !m.Status.Valid() || m.Status == Removed {
			return invalid("member %v has status %v", m.Node, m.Status)
		}
		if i > 0 && members[i-1].Node.Compare(m.Node) >= 0 {
			return invalid("members not sorted at %v", m.Node)
		}
		if len(m.ID) > MaxNameLen || len(m.Roles) > MaxRoles || m.UpNumber < 0 {
			return invalid("member %v has a bad id, roles or up number", m.Node)
		}
		for j, r := range m.Roles {
			if r == "" || len(r) > MaxNameLen || (j > 0 && m.Roles[j-1] >= r) {
				return invalid("member %v has bad roles", m.Node)
			}
		}
		if len(m.Hosts) > MaxShardTypes {
			return invalid("member %v hosts %d types, limit %d", m.Node, len(m.Hosts), MaxShardTypes)
		}
		for j, t := range m.Hosts {
			if t.Validate() != nil || (j > 0 && m.Hosts[j-1].Name >= t.Name) {
				return invalid("member %v has bad shard declarations", m.Node)
			}
		}
	}
	return nil
}

// valRandMembers returns a member list over a pool of addresses that is
// mostly sorted: members of a random sorted subset, sometimes with two
// neighbours swapped, one duplicated or a bad status.
func valRandMembers(rng *rand.Rand, pool []UniqueAddress) []Member {
	roles := [][]string{nil, {"a"}, {"a", "b"}, {"b", "a"}, {""}}
	hosts := [][]ShardType{nil, {{Name: "kv", Shards: 4}}, {{Name: "kv"}}}
	var out []Member
	for _, u := range lawSubset(rng, pool, 2) {
		m := Member{Node: u, Status: MemberStatus(1 + rng.Intn(5))}
		if rng.Intn(4) == 0 {
			m.Roles, m.Hosts = roles[rng.Intn(len(roles))], hosts[rng.Intn(len(hosts))]
		}
		out = append(out, m)
	}
	if len(out) > 1 {
		switch i := rng.Intn(len(out) - 1); rng.Intn(6) {
		case 0:
			out[i], out[i+1] = out[i+1], out[i]
		case 1:
			out[i+1] = out[i]
		case 2:
			out[i].Status = Removed
		}
	}
	return out
}

// valPool is lawUniverse plus simulator-style addresses, so that known
// lists and member lists overlap in long runs.
var valPool = func() []UniqueAddress {
	out := append([]UniqueAddress(nil), lawUniverse...)
	for i := 0; i < 40; i++ {
		out = append(out, UniqueAddress{Address: Address{Host: fmt.Sprintf("10.0.%d.%d", i/8, i%8*40), Port: 7000}, UID: 1})
	}
	sortNodes(out)
	return out
}()

// TestValidateMembersKnowingMatchesNaive checks that validateMembersKnowing
// reports exactly what the naive checks report, whatever valid known list
// it is given.
func TestValidateMembersKnowingMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2][]Member {
		members := valRandMembers(rng, valPool)
		var known []Member
		switch rng.Intn(3) {
		case 0: // an unrelated valid list
			for _, u := range lawSubset(rng, valPool, 2) {
				known = append(known, Member{Node: u, Status: Up})
			}
		case 1: // the members, sorted and deduplicated, minus some
			for _, u := range lawSubset(rng, valPool, 1) {
				for _, m := range members {
					if m.Node == u && rng.Intn(4) != 0 {
						k := Member{Node: u, Status: Up}
						if naiveValidateMembers([]Member{m}) == nil || rng.Intn(2) == 0 {
							k.Roles, k.Hosts = m.Roles, m.Hosts // shared
						}
						if naiveValidateMembers([]Member{k}) != nil {
							k.Roles, k.Hosts = nil, nil
						}
						known = append(known, k)
						break
					}
				}
			}
		}
		return [2][]Member{members, known}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("same verdict as the naive checks", prop.ForAll(func(in [2][]Member) string {
			members, known := in[0], in[1]
			if err := naiveValidateMembers(known); err != nil {
				return fmt.Sprintf("generator made an invalid known list: %v", err)
			}
			want, got := fmt.Sprint(naiveValidateMembers(members)), fmt.Sprint(validateMembersKnowing(members, known))
			if want != got {
				return fmt.Sprintf("members %v known %v: got %s, naive %s", members, known, got, want)
			}
			return ""
		}, gen))
	})
}

// TestValidateMembersKnowingSkipsNothingWrong is the case the known list
// could hide: a list whose neighbours are each in known, but not in
// known's order.
func TestValidateMembersKnowingSkipsNothingWrong(t *testing.T) {
	known := []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Up, 3)}
	cases := []struct {
		name    string
		members []Member
		wantErr bool
	}{
		{"same order", []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Up, 3)}, false},
		{"swapped", []Member{fxMember(2, Up, 2), fxMember(1, Up, 1), fxMember(3, Up, 3)}, true},
		{"reversed", []Member{fxMember(3, Up, 3), fxMember(2, Up, 2), fxMember(1, Up, 1)}, true},
		{"duplicate", []Member{fxMember(1, Up, 1), fxMember(1, Up, 1), fxMember(3, Up, 3)}, true},
		{"new member out of place", []Member{fxMember(1, Up, 1), fxMember(9, Up, 0), fxMember(3, Up, 3)}, true},
		{"new member in place", []Member{fxMember(1, Up, 1), fxMember(2, Up, 2), fxMember(3, Up, 3), fxMember(9, Up, 0)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := validateMembersKnowing(tc.members, known)
			if (err != nil) != tc.wantErr {
				t.Errorf("validateMembersKnowing = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// naiveStrictlySorted reports whether each node of list sorts before the
// next by UniqueAddress.Compare.
func naiveStrictlySorted(list []UniqueAddress) bool {
	for i := 1; i < len(list); i++ {
		if list[i-1].Compare(list[i]) >= 0 {
			return false
		}
	}
	return true
}

// TestStrictlySortedAlongMatchesNaive checks strictlySortedAlong, which
// skips comparisons the member list has made, against the naive check, for
// node lists drawn from the members (as seen sets are) or not, sorted or
// not.
func TestStrictlySortedAlongMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) valSortedCase {
		var c valSortedCase
		for _, u := range lawSubset(rng, valPool, 1+rng.Intn(2)) {
			c.Members = append(c.Members, Member{Node: u, Status: Up})
		}
		pool := valPool
		if rng.Intn(2) == 0 {
			pool = nil
			for _, m := range c.Members {
				pool = append(pool, m.Node)
			}
		}
		c.List = lawSubset(rng, pool, 1+rng.Intn(3))
		if len(c.List) > 1 {
			switch i := rng.Intn(len(c.List) - 1); rng.Intn(4) {
			case 0:
				c.List[i], c.List[i+1] = c.List[i+1], c.List[i]
			case 1:
				c.List[i+1] = c.List[i]
			}
		}
		return c
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("same verdict as the naive check", prop.ForAll(func(c valSortedCase) string {
			if got, want := strictlySortedAlong(c.List, c.Members), naiveStrictlySorted(c.List); got != want {
				return fmt.Sprintf("list %v along %d members: %v, naive %v", c.List, len(c.Members), got, want)
			}
			return ""
		}, gen))
	})
}

type valSortedCase struct {
	List    []UniqueAddress
	Members []Member
}

// naiveValidateState is validateState as first written: every check made
// afresh, orders by UniqueAddress.Compare.
func naiveValidateState(s *State) error {
	if len(s.Members) > MaxMembers {
		return invalid("%d members, limit %d", len(s.Members), MaxMembers)
	}
	if err := validateClock(s.Version); err != nil {
		return err
	}
	if err := naiveValidateMembers(s.Members); err != nil {
		return err
	}
	if len(s.Seen) > len(s.Members) {
		return invalid("seen set larger than members")
	}
	if !naiveStrictlySorted(s.Seen) {
		return invalid("seen set not sorted")
	}
	if len(s.Reachability.Rows) > len(s.Members) {
		return invalid("more reachability rows than members")
	}
	for i, row := range s.Reachability.Rows {
		if i > 0 && s.Reachability.Rows[i-1].Observer.Compare(row.Observer) >= 0 {
			return invalid("reachability rows not sorted")
		}
		if len(row.Unreachable) > len(s.Members) {
			return invalid("reachability row too long")
		}
		if !naiveStrictlySorted(row.Unreachable) {
			return invalid("reachability row of %v not sorted", row.Observer)
		}
	}
	if len(s.Tombstones) > MaxMembers {
		return invalid("%d tombstones, limit %d", len(s.Tombstones), MaxMembers)
	}
	if err := validateAllocations(s); err != nil {
		return err
	}
	if len(s.Registry) > len(s.Members) {
		return invalid("more registry rows than members")
	}
	for i, r := range s.Registry {
		if i > 0 && s.Registry[i-1].Owner.Compare(r.Owner) >= 0 {
			return invalid("registry rows not sorted at %v", r.Owner)
		}
		if len(r.Entries) > MaxEntriesPerOwner {
			return invalid("owner %v has %d entries, limit %d", r.Owner, len(r.Entries), MaxEntriesPerOwner)
		}
		for j, e := range r.Entries {
			if e.Node != r.Owner || validEntry(e.Key, e.Path) != nil || (j > 0 && !entryLess(r.Entries[j-1], e)) {
				return invalid("owner %v has a bad entry %q", r.Owner, e.Key)
			}
		}
	}
	return nil
}

// valSwap swaps two neighbours of a list, or makes one a copy of the
// other, in a copy of it.
func valSwap[T any](rng *rand.Rand, list []T) []T {
	if len(list) < 2 {
		return list
	}
	out := append([]T(nil), list...)
	i := rng.Intn(len(out) - 1)
	if rng.Intn(2) == 0 {
		out[i], out[i+1] = out[i+1], out[i]
	} else {
		out[i+1] = out[i]
	}
	return out
}

// TestValidateStateKnowingMatchesNaive checks the whole validation, with
// and without a known member list, against the naive one on well-formed
// states and on states with one list out of order.
func TestValidateStateKnowingMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2]*State {
		s := lawRandState(rng)
		for _, r := range lawRandRegistry(rng) {
			if m, ok := s.Member(r.Owner); ok && m.Status != Down {
				s.Registry = append(s.Registry, r)
			}
		}
		known := s
		if rng.Intn(2) == 0 {
			known = lawRandState(rng)
		}
		switch rng.Intn(6) {
		case 0:
			s.Seen = valSwap(rng, s.Seen)
		case 1:
			s.Reachability.Rows = valSwap(rng, s.Reachability.Rows)
		case 2:
			if len(s.Reachability.Rows) > 0 {
				s.Reachability.Rows[0].Unreachable = valSwap(rng, s.Reachability.Rows[0].Unreachable)
			}
		case 3:
			s.Registry = valSwap(rng, s.Registry)
		case 4:
			s.Members = valSwap(rng, s.Members)
		}
		return [2]*State{s, known}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("same verdict as the naive validation", prop.ForAll(func(in [2]*State) string {
			s, known := in[0], in[1]
			if naiveValidateState(known) != nil {
				return "" // only valid lists are ever known
			}
			want := fmt.Sprint(naiveValidateState(s))
			for _, got := range []string{fmt.Sprint(validateStateKnowing(s, known.Members, true)), fmt.Sprint(validateState(s))} {
				if got != want {
					return fmt.Sprintf("state %+v: got %s, naive %s", s, got, want)
				}
			}
			return ""
		}, gen))
	})
}

// valRandPart returns a state with registry and allocations for
// TestValidateStateSinceMatchesNaive to take parts from.
func valRandPart(rng *rand.Rand) *State {
	s := lawRandState(rng)
	for _, r := range lawRandRegistry(rng) {
		if m, ok := s.Member(r.Owner); ok && m.Status != Down {
			s.Registry = append(s.Registry, r)
		}
	}
	if rng.Intn(2) == 0 {
		e := Epoch(1 + rng.Intn(3))
		s.Allocations = []TypeAllocation{{Type: ShardType{Name: "kv", Shards: 2}, Epoch: e,
			Shards: []ShardAllocation{{Epoch: e}, {Epoch: e - 1}}}}
		s.AllocationEpoch = e + Epoch(rng.Intn(2))
	}
	return s
}

// TestValidateStateSinceMatchesNaive checks ValidateStateSince against the
// naive validation for states that share some parts with a valid
// predecessor and take others from elsewhere, broken or not: fewer
// members under the same rows, seen set or registry, a lower allocation
// epoch under the same tables, lists out of order.
func TestValidateStateSinceMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2]*State {
		prev := valRandPart(rng)
		s := *prev
		other := valRandPart(rng)
		if rng.Intn(2) == 0 {
			s.Members = other.Members
		}
		if rng.Intn(3) == 0 {
			s.Version = other.Version
		}
		if rng.Intn(3) == 0 {
			s.Seen = other.Seen
		}
		if rng.Intn(3) == 0 {
			s.Reachability = other.Reachability
		}
		if rng.Intn(3) == 0 {
			s.Tombstones = other.Tombstones
		}
		if rng.Intn(3) == 0 {
			s.Allocations = other.Allocations
		}
		if rng.Intn(3) == 0 {
			s.AllocationEpoch = other.AllocationEpoch
		}
		if rng.Intn(3) == 0 {
			s.Registry = other.Registry
		}
		switch rng.Intn(9) {
		case 7:
			// A new registry whose rows mostly hold prev's entry
			// lists: one list broken, or held under another owner.
			rows := append([]RegistryRow(nil), prev.Registry...)
			if len(rows) > 0 {
				i := rng.Intn(len(rows))
				switch rng.Intn(3) {
				case 0:
					rows[i].Entries = valSwap(rng, rows[i].Entries)
				case 1:
					rows[i].Entries = rows[(i+1)%len(rows)].Entries
				case 2:
					if len(s.Members) > 0 {
						rows[i].Owner = s.Members[rng.Intn(len(s.Members))].Node
					}
				}
			}
			s.Registry = rows
		case 0:
			s.Seen = valSwap(rng, s.Seen)
		case 1:
			s.Reachability.Rows = valSwap(rng, s.Reachability.Rows)
		case 2:
			if len(s.Reachability.Rows) > 0 {
				rows := append([]ObserverRow(nil), s.Reachability.Rows...)
				rows[0].Unreachable = valSwap(rng, rows[0].Unreachable)
				s.Reachability.Rows = rows
			}
		case 3:
			s.Registry = valSwap(rng, s.Registry)
		case 4:
			s.Members = valSwap(rng, s.Members)
		case 5:
			if len(s.Members) > 0 {
				s.Members = s.Members[:rng.Intn(len(s.Members))]
			}
		case 6:
			s.Version = s.Version.Clone()
			for k := range s.Version {
				s.Version[k] = 0
				break
			}
		}
		return [2]*State{&s, prev}
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("same verdict as the naive validation", prop.ForAll(func(in [2]*State) string {
			s, prev := in[0], in[1]
			if naiveValidateState(prev) != nil {
				return "" // only valid states are ever prev
			}
			want := fmt.Sprint(naiveValidateState(s))
			var vm validMemo // remembers the parts of the first pass for the second
			var seeded validMemo
			validateStateSince(prev, &State{}, &seeded) // remembers prev's parts, its registry rows among them
			for _, got := range []string{fmt.Sprint(ValidateStateSince(s, prev)), fmt.Sprint(ValidateStateSince(s, nil)),
				fmt.Sprint(validateStateSince(s, prev, &vm)), fmt.Sprint(validateStateSince(s, prev, &vm)),
				fmt.Sprint(validateStateSince(s, &State{}, &vm)), fmt.Sprint(validateStateSince(s, &State{}, &seeded))} {
				if got != want {
					return fmt.Sprintf("state %+v since %+v: got %s, naive %s", s, prev, got, want)
				}
			}
			return ""
		}, gen))
	})
	// The cases reach both verdicts, and the failures only a shared part
	// can show once the members change.
	reached := map[string]int{}
	params := gopter.DefaultGenParameters().WithSize(100)
	for i := 0; i < 5000; i++ {
		params.Rng.Seed(int64(i))
		in := gen(params).Result.([2]*State)
		s, prev := in[0], in[1]
		if naiveValidateState(prev) != nil {
			continue
		}
		err := naiveValidateState(s)
		if err == nil {
			reached["valid"]++
			continue
		}
		for _, what := range []string{"reachability row too long", "seen set larger", "more registry rows", "epoch", "clock entry", "not sorted"} {
			if strings.Contains(err.Error(), what) {
				reached[what]++
			}
		}
	}
	for _, what := range []string{"valid", "reachability row too long", "seen set larger", "more registry rows", "epoch", "clock entry", "not sorted"} {
		if reached[what] == 0 {
			t.Errorf("no case reached %q: %v", what, reached)
		}
	}
}

// TestValidMemoAcrossStates: one memo and one predecessor carried over a
// long run of states, each assembled from parts of earlier ones (shared,
// so the memo recognises them) under other member lists and allocation
// epochs, sometimes broken, gives the naive validation's verdict every
// time.
func TestValidMemoAcrossStates(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed))
	var vm validMemo
	var prev *State
	pool := []*State{valRandPart(rng)}
	verdicts := map[bool]int{}
	for i := 0; i < 20000; i++ {
		s := valMixState(rng, pool)
		want := fmt.Sprint(naiveValidateState(&s))
		var got string
		if prev == nil {
			got = fmt.Sprint(validateStateSince(&s, &State{}, &vm))
		} else {
			got = fmt.Sprint(validateStateSince(&s, prev, &vm))
		}
		if got != want {
			t.Fatalf("state %d: %s, naive %s", i, got, want)
		}
		verdicts[want == "<nil>"]++
		prev, pool = valKeep(prev, pool, &s, want == "<nil>")
	}
	if verdicts[true] < 2000 || verdicts[false] < 2000 {
		t.Fatalf("verdicts %v: both must be common", verdicts)
	}
}

// TestValidateStateCached checks the exported cache through a long run
// of states assembled from parts of earlier ones (some broken), with and
// without a predecessor, against ValidateState.
func TestValidateStateCached(t *testing.T) {
	rng := rand.New(rand.NewSource(*lawSeed + 1))
	var c ValidationCache
	var prev *State
	pool := []*State{valRandPart(rng)}
	verdicts := map[bool]int{}
	for i := 0; i < 10000; i++ {
		s := valMixState(rng, pool)
		since := prev
		if rng.Intn(4) == 0 {
			since = nil
		}
		want := fmt.Sprint(ValidateState(&s))
		if got := fmt.Sprint(ValidateStateCached(&s, since, &c)); got != want {
			t.Fatalf("state %d: %s, ValidateState %s", i, got, want)
		}
		if got := fmt.Sprint(ValidateStateCached(&s, since, nil)); got != want {
			t.Fatalf("state %d without cache: %s, ValidateState %s", i, got, want)
		}
		verdicts[want == "<nil>"]++
		prev, pool = valKeep(prev, pool, &s, want == "<nil>")
	}
	if verdicts[true] < 1000 || verdicts[false] < 1000 {
		t.Fatalf("verdicts %v: both must be common", verdicts)
	}
}

// valMixState returns a state assembled from random parts of the states in
// pool (or a fresh random one), sometimes broken: a cut member list, two
// entries swapped, or one owner's registry entries under another.
func valMixState(rng *rand.Rand, pool []*State) State {
	pick := func() *State { return pool[rng.Intn(len(pool))] }
	s := *pick()
	if rng.Intn(2) == 0 {
		s = *valRandPart(rng)
	}
	if rng.Intn(2) == 0 {
		s.Members = pick().Members
	}
	if rng.Intn(2) == 0 {
		s.Seen = pick().Seen
	}
	if rng.Intn(2) == 0 {
		s.Reachability = pick().Reachability
	}
	if rng.Intn(2) == 0 {
		s.Allocations = pick().Allocations
	}
	if rng.Intn(2) == 0 {
		s.AllocationEpoch = pick().AllocationEpoch
	}
	if rng.Intn(2) == 0 {
		s.Registry = pick().Registry
	}
	switch rng.Intn(8) {
	case 0:
		if len(s.Members) > 0 {
			s.Members = s.Members[:rng.Intn(len(s.Members))]
		}
	case 1:
		s.Seen = valSwap(rng, s.Seen)
	case 2:
		s.Registry = valSwap(rng, s.Registry)
	case 3:
		s.Members = valSwap(rng, s.Members)
	case 4:
		s.Reachability.Rows = valSwap(rng, s.Reachability.Rows)
	case 5:
		// One owner's entries under another owner.
		if n := len(s.Registry); n > 1 {
			rows := append([]RegistryRow(nil), s.Registry...)
			i := rng.Intn(n - 1)
			rows[i].Entries = rows[i+1].Entries
			s.Registry = rows
		}
	}
	return s
}

// valKeep adds s to the pool of the last 12 states and, when s is valid,
// makes it the predecessor.
func valKeep(prev *State, pool []*State, s *State, valid bool) (*State, []*State) {
	if valid {
		prev = s
	}
	pool = append(pool, s)
	if len(pool) > 12 {
		pool = pool[1:]
	}
	return prev, pool
}
