package invariants

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rumorhq/rumor/proto"
)

// Expectation is what the simulator knows must hold once the cluster has
// settled: which incarnations it crashed, which left gracefully and which
// joined and are still running.
type Expectation struct {
	// Crashed incarnations: every live node must see them Down or Removed
	// (absent, tombstoned or not).
	Crashed []proto.UniqueAddress
	// Left incarnations, which left gracefully: Removed (absent) at every
	// live node.
	Left []proto.UniqueAddress
	// Joined incarnations, live: each must be a live member itself and Up
	// at every live node.
	Joined []proto.UniqueAddress
}

// Liveness checks, after faults were healed and the cluster had time to
// settle, that every live member node (Live && Phase == PhaseMember)
// agrees: same members and statuses, same leader, same allocations and
// epoch, same registry entries, and a converged state; that every shard of
// a type some Up member hosts is placed with its replicas; and that exp
// holds. Where views disagree, the reference is the view most nodes share
// (ties to the lowest address) and each other node gets one violation
// saying what it saw differently. The result is sorted by invariant (in
// the order converged, members, leader, allocations, registry, crashed,
// left, joined), then node; details list nodes in address order.
func Liveness(views []View, exp Expectation) []Violation {
	live := make([]View, 0, len(views))
	for _, v := range views {
		if v.Live && v.Phase == proto.PhaseMember && v.State != nil {
			live = append(live, v)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].Self.Compare(live[j].Self) < 0 })
	var out []Violation
	out = append(out, livenessConverged(live)...)
	out = append(out, agree(live, LivenessMembers, memoKey(membersPart, membersKey), membersDiff)...)
	out = append(out, agree(live, LivenessLeader, leaderKey, leaderDiff)...)
	out = append(out, agree(live, LivenessAllocations, memoKey(allocationsPart, allocationsKey), allocationsDiff)...)
	out = append(out, allocationsPlaced(live)...)
	out = append(out, agree(live, LivenessRegistry, memoKey(registryPart, registryKey), registryDiff)...)
	out = append(out, expectCrashed(live, exp.Crashed)...)
	out = append(out, expectLeft(live, exp.Left)...)
	out = append(out, expectJoined(views, live, exp.Joined)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Invariant != out[j].Invariant {
			return livenessRank[out[i].Invariant] < livenessRank[out[j].Invariant]
		}
		return out[i].Node.Compare(out[j].Node) < 0
	})
	return out
}

var livenessRank = map[string]int{
	LivenessConverged: 0, LivenessMembers: 1, LivenessLeader: 2, LivenessAllocations: 3,
	LivenessRegistry: 4, LivenessCrashed: 5, LivenessLeft: 6, LivenessJoined: 7,
}

func livenessConverged(live []View) []Violation {
	var out []Violation
	for _, v := range live {
		s := v.State
		if s.Converged() {
			continue
		}
		unreachable := s.Unreachable()
		var unseen []proto.UniqueAddress
		for _, m := range s.Members {
			if m.Status != proto.Down && m.Status != proto.Exiting && !s.HasSeen(m.Node) {
				unseen = append(unseen, m.Node)
			}
		}
		detail := fmt.Sprintf("not converged: %d members, unreachable %s, current version not seen by %s",
			len(s.Members), nodeList(unreachable), nodeList(unseen))
		out = append(out, Violation{Invariant: LivenessConverged, Node: v.Self, Detail: detail})
	}
	return out
}

// memoLivenessKeys is false in tests that check memoKey against the keys
// computed afresh.
var memoLivenessKeys = true

// memoKey returns key, computed once per distinct part of the views' states
// it depends on: states share unchanged parts, and key is a pure function
// of that part.
func memoKey[P comparable](part func(View) P, key func(View) string) func(View) string {
	if !memoLivenessKeys {
		return key
	}
	memo := map[P]string{}
	return func(v View) string {
		p := part(v)
		if k, ok := memo[p]; ok {
			return k
		}
		k := key(v)
		memo[p] = k
		return k
	}
}

// sliceOf identifies an immutable slice: its first element and length.
type sliceOf[T any] struct {
	first *T
	n     int
}

func identify[T any](s []T) sliceOf[T] {
	if len(s) == 0 {
		return sliceOf[T]{}
	}
	return sliceOf[T]{&s[0], len(s)}
}

// The parts of a state that membersKey, allocationsKey and registryKey
// read.
func membersPart(v View) sliceOf[proto.Member] { return identify(v.State.Members) }

type allocationsID struct {
	tables sliceOf[proto.TypeAllocation]
	epoch  proto.Epoch
}

func allocationsPart(v View) allocationsID {
	return allocationsID{identify(v.State.Allocations), v.State.AllocationEpoch}
}

func registryPart(v View) sliceOf[proto.RegistryRow] { return identify(v.State.Registry) }

// agree groups the live views by key and reports every view outside the
// largest group (ties: the group of the lowest address).
func agree(live []View, name string, key func(View) string, diff func(here, ref View) string) []Violation {
	if len(live) < 2 {
		return nil
	}
	keys := make([]string, len(live))
	count := map[string]int{}
	for i, v := range live {
		keys[i] = key(v)
		count[keys[i]]++
	}
	ref := 0
	for i := range live {
		if count[keys[i]] > count[keys[ref]] {
			ref = i
		}
	}
	var out []Violation
	for i, v := range live {
		if keys[i] == keys[ref] {
			continue
		}
		detail := fmt.Sprintf("%s (reference %v, shared by %d of %d live members)", diff(v, live[ref]), live[ref].Self, count[keys[ref]], len(live))
		out = append(out, Violation{Invariant: name, Node: v.Self, Detail: detail})
	}
	return out
}

func membersKey(v View) string {
	var k keyWriter
	k.num(uint64(len(v.State.Members)))
	for _, m := range v.State.Members {
		k.node(m.Node)
		k.num(uint64(m.Status))
	}
	return string(k.b)
}

// keyWriter encodes the fields of a state part, in a fixed order with
// every string and list preceded by its length, so that two parts have
// the same key exactly when their fields are equal.
type keyWriter struct{ b []byte }

func (k *keyWriter) num(x uint64) {
	k.b = strconv.AppendUint(k.b, x, 10)
	k.b = append(k.b, ',')
}

func (k *keyWriter) str(s string) {
	k.num(uint64(len(s)))
	k.b = append(k.b, s...)
}

func (k *keyWriter) node(u proto.UniqueAddress) {
	k.str(u.Host)
	k.num(uint64(u.Port))
	k.num(uint64(u.UID))
}

func statusName(s proto.MemberStatus, ok bool) string {
	if !ok {
		return "absent"
	}
	return s.String()
}

func membersDiff(here, ref View) string {
	a := statusMap(here.State)
	b := statusMap(ref.State)
	var nodes []proto.UniqueAddress
	for u := range a {
		nodes = append(nodes, u)
	}
	for u := range b {
		if _, ok := a[u]; !ok {
			nodes = append(nodes, u)
		}
	}
	sortNodes(nodes)
	var parts []string
	for _, u := range nodes {
		x, okx := a[u]
		y, oky := b[u]
		if okx && oky && x == y {
			continue
		}
		parts = append(parts, fmt.Sprintf("%v %s here, %s at reference", u, statusName(x, okx), statusName(y, oky)))
	}
	return "member list differs: " + itemList(parts)
}

func statusMap(s *proto.State) map[proto.UniqueAddress]proto.MemberStatus {
	out := make(map[proto.UniqueAddress]proto.MemberStatus, len(s.Members))
	for _, m := range s.Members {
		out[m.Node] = m.Status
	}
	return out
}

func leaderKey(v View) string {
	u, ok := v.State.Leader(v.Self)
	return leaderName(u, ok)
}

func leaderDiff(here, ref View) string {
	return fmt.Sprintf("leader %s here, %s at reference", leaderKey(here), leaderKey(ref))
}

func allocationsKey(v View) string {
	var k keyWriter
	k.num(uint64(v.State.AllocationEpoch))
	k.num(uint64(len(v.State.Allocations)))
	for _, t := range v.State.Allocations {
		k.str(t.Type.Name)
		k.num(uint64(t.Type.Shards))
		k.num(uint64(t.Type.Replicas))
		k.num(uint64(t.Epoch))
		k.num(uint64(len(t.Shards)))
		for _, a := range t.Shards {
			k.node(a.Primary)
			k.num(uint64(a.Epoch))
			k.num(uint64(len(a.Replicas)))
			for _, rep := range a.Replicas {
				k.node(rep)
			}
		}
	}
	return string(k.b)
}

func shardString(a proto.ShardAllocation) string {
	p := "none"
	if a.Primary != (proto.UniqueAddress{}) {
		p = a.Primary.String()
	}
	return fmt.Sprintf("%s+%s@%d", p, nodeList(a.Replicas), a.Epoch)
}

func allocationsDiff(here, ref View) string {
	a, b := here.State, ref.State
	var parts []string
	if a.AllocationEpoch != b.AllocationEpoch {
		parts = append(parts, fmt.Sprintf("allocation epoch %d here, %d at reference", a.AllocationEpoch, b.AllocationEpoch))
	}
	tables := map[string][2]*proto.TypeAllocation{}
	var names []string
	for i := range a.Allocations {
		t := &a.Allocations[i]
		names = append(names, t.Type.Name)
		tables[t.Type.Name] = [2]*proto.TypeAllocation{t, nil}
	}
	for i := range b.Allocations {
		t := &b.Allocations[i]
		pair, ok := tables[t.Type.Name]
		if !ok {
			names = append(names, t.Type.Name)
		}
		pair[1] = t
		tables[t.Type.Name] = pair
	}
	sort.Strings(names)
	for _, name := range names {
		pair := tables[name]
		switch {
		case pair[0] == nil:
			parts = append(parts, fmt.Sprintf("no table %q here, one at reference (epoch %d)", name, pair[1].Epoch))
		case pair[1] == nil:
			parts = append(parts, fmt.Sprintf("table %q (epoch %d) here, none at reference", name, pair[0].Epoch))
		default:
			if d := tableDiff(*pair[0], *pair[1], "here", "at reference"); d != "" {
				parts = append(parts, fmt.Sprintf("table %q: %s", name, d))
			}
		}
	}
	return "allocations differ: " + itemList(parts)
}

// tableDiff says how table a differs from table b ("" when it does not).
func tableDiff(a, b proto.TypeAllocation, aName, bName string) string {
	var parts []string
	if a.Type != b.Type {
		parts = append(parts, fmt.Sprintf("type %+v %s, %+v %s", a.Type, aName, b.Type, bName))
	}
	if a.Epoch != b.Epoch {
		parts = append(parts, fmt.Sprintf("epoch %d %s, %d %s", a.Epoch, aName, b.Epoch, bName))
	}
	if len(a.Shards) != len(b.Shards) {
		parts = append(parts, fmt.Sprintf("%d shards %s, %d %s", len(a.Shards), aName, len(b.Shards), bName))
	}
	var shards []string
	for i := 0; i < len(a.Shards) && i < len(b.Shards); i++ {
		x, y := shardString(a.Shards[i]), shardString(b.Shards[i])
		if x != y {
			shards = append(shards, fmt.Sprintf("shard %d %s %s, %s %s", i, x, aName, y, bName))
		}
	}
	if len(shards) > maxItems {
		shards = append(shards[:maxItems], fmt.Sprintf("and %d more shards", len(shards)-maxItems))
	}
	return strings.Join(append(parts, shards...), "; ")
}

// allocationsPlaced: every shard of a type that some Up member hosts has a
// primary and min(Replicas, hosts-1) replicas, and every type an Up member
// hosts has a table.
func allocationsPlaced(live []View) []Violation {
	var out []Violation
	for _, v := range live {
		s := v.State
		hosts := map[string][]proto.UniqueAddress{}
		var names []string
		for _, m := range s.Members {
			if m.Status != proto.Up {
				continue
			}
			for _, t := range m.Hosts {
				if _, ok := hosts[t.Name]; !ok {
					names = append(names, t.Name)
				}
				hosts[t.Name] = append(hosts[t.Name], m.Node)
			}
		}
		sort.Strings(names)
		var bad []string
		for _, name := range names {
			found := false
			for _, t := range s.Allocations {
				if t.Type.Name != name {
					continue
				}
				found = true
				want := t.Type.Replicas
				if n := len(hosts[name]) - 1; n < want {
					want = n
				}
				for i, a := range t.Shards {
					switch {
					case a.Primary == (proto.UniqueAddress{}):
						bad = append(bad, fmt.Sprintf("table %q shard %d has no primary although %s host it", name, i, nodeList(hosts[name])))
					case len(a.Replicas) < want:
						bad = append(bad, fmt.Sprintf("table %q shard %d has %d replicas, want %d", name, i, len(a.Replicas), want))
					}
				}
			}
			if !found {
				bad = append(bad, fmt.Sprintf("no table %q although %s host it", name, nodeList(hosts[name])))
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Invariant: LivenessAllocations, Node: v.Self, Detail: "shards not placed: " + itemList(bad)})
		}
	}
	return out
}

func registryKey(v View) string {
	var k keyWriter
	es := entries(v.State)
	k.num(uint64(len(es)))
	for _, e := range es {
		k.str(e.Key)
		k.node(e.Node)
		k.str(e.Path)
	}
	return string(k.b)
}

// entries flattens a state's registry, sorted by key, node, path.
func entries(s *proto.State) []proto.ServiceEntry { return s.Entries() }

func registryDiff(here, ref View) string {
	count := map[proto.ServiceEntry]int{}
	for _, e := range entries(here.State) {
		count[e]++
	}
	for _, e := range entries(ref.State) {
		count[e]--
	}
	var parts []string
	for _, e := range append(entries(here.State), entries(ref.State)...) {
		c := count[e]
		switch {
		case c > 0:
			parts = append(parts, fmt.Sprintf("{%s %v %s} only here", e.Key, e.Node, e.Path))
		case c < 0:
			parts = append(parts, fmt.Sprintf("{%s %v %s} only at reference", e.Key, e.Node, e.Path))
		}
		count[e] = 0
	}
	return "registry differs: " + itemList(parts)
}

func sortedCopy(list []proto.UniqueAddress) []proto.UniqueAddress {
	out := append([]proto.UniqueAddress(nil), list...)
	sortNodes(out)
	return out
}

func expectCrashed(live []View, crashed []proto.UniqueAddress) []Violation {
	crashed = sortedCopy(crashed)
	var out []Violation
	for _, v := range live {
		var bad []string
		for _, u := range crashed {
			if m, ok := v.State.Member(u); ok && m.Status != proto.Down {
				bad = append(bad, fmt.Sprintf("%v %v", u, m.Status))
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Invariant: LivenessCrashed, Node: v.Self, Detail: "sees crashed incarnations neither Down nor Removed: " + itemList(bad)})
		}
	}
	return out
}

func expectLeft(live []View, left []proto.UniqueAddress) []Violation {
	left = sortedCopy(left)
	var out []Violation
	for _, v := range live {
		var bad []string
		for _, u := range left {
			if m, ok := v.State.Member(u); ok {
				bad = append(bad, fmt.Sprintf("%v %v", u, m.Status))
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Invariant: LivenessLeft, Node: v.Self, Detail: "still lists incarnations that left: " + itemList(bad)})
		}
	}
	return out
}

func expectJoined(all, live []View, joined []proto.UniqueAddress) []Violation {
	joined = sortedCopy(joined)
	var out []Violation
	for _, u := range joined {
		isLive, found := false, false
		var why string
		for _, v := range all {
			if v.Self != u {
				continue
			}
			found = true
			switch {
			case !v.Live:
				why = "its node is not live"
			case v.Phase != proto.PhaseMember:
				why = "its node is in phase " + v.Phase.String()
			case v.State == nil:
				why = "its node has no state"
			default:
				isLive = true
			}
		}
		if !found {
			why = "no view of it"
		}
		if !isLive {
			out = append(out, Violation{Invariant: LivenessJoined, Node: u, Detail: "joined incarnation is not a live member: " + why})
		}
	}
	for _, v := range live {
		var bad []string
		for _, u := range joined {
			m, ok := v.State.Member(u)
			if !ok || m.Status != proto.Up {
				bad = append(bad, fmt.Sprintf("%v %s", u, statusName(m.Status, ok)))
			}
		}
		if len(bad) > 0 {
			out = append(out, Violation{Invariant: LivenessJoined, Node: v.Self, Detail: "sees joined incarnations not Up: " + itemList(bad)})
		}
	}
	return out
}
