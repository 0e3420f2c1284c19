package proto

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// fxSnap builds a snapshot with the given sequence number, members (any
// order), unreachable nodes (by index, UID 1) and leader (index, 0 for none).
func fxSnap(seq uint64, members []Member, unreachable []int, leader int) TopologySnapshot {
	s := fxState(members, nil)
	t := TopologySnapshot{Seq: seq, Members: s.Members, Unreachable: fxNodes(unreachable...)}
	sortNodes(t.Unreachable)
	if leader != 0 {
		t.Leader, t.HasLeader = fxNode(leader, 1), true
	}
	return t
}

// fxTable is the allocation table of shard type name whose shard k has
// primary fxNode(primaries[k], 1).
func fxTable(name string, epoch Epoch, primaries ...int) TypeAllocation {
	t := TypeAllocation{Type: ShardType{Name: name, Shards: len(primaries)}, Epoch: epoch}
	for _, p := range primaries {
		t.Shards = append(t.Shards, ShardAllocation{Primary: fxNode(p, 1), Epoch: epoch})
	}
	return t
}

// fxWith returns s with the given allocation tables and registry entries.
func fxWith(s TopologySnapshot, tables []TypeAllocation, registry ...ServiceEntry) TopologySnapshot {
	s.ShardAllocations, s.Registry = tables, registry
	return s
}

func TestDiffSnapshots(t *testing.T) {
	at := epoch.Add(42 * time.Second)
	const seq = 8
	ev := func(typ EventType, m Member) Event { return Event{Type: typ, At: at, Seq: seq, Member: m} }
	removed := func(m Member) Member { m.Status = Removed; return m }
	leader := func(i int) Event {
		e := Event{Type: LeaderChanged, At: at, Seq: seq}
		if i != 0 {
			e.Leader, e.HasLeader = fxNode(i, 1), true
		}
		return e
	}
	shards := func(typ string, ids ...int) Event {
		return Event{Type: ShardsMoved, At: at, Seq: seq, ShardType: typ, Shards: ids}
	}
	registry := func(keys ...string) Event { return Event{Type: RegistryChanged, At: at, Seq: seq, Keys: keys} }
	entry := func(key string, i int, path string) ServiceEntry {
		return ServiceEntry{Key: key, Node: fxNode(i, 1), Path: path}
	}
	base := []Member{fxMember(1, Up, 1), fxMember(2, Up, 2)}
	with := func(ms ...Member) []Member { return append(append([]Member(nil), base...), ms...) }
	cases := []struct {
		name       string
		prev, next TopologySnapshot
		want       []Event
	}{
		{"no change", fxSnap(7, base, nil, 1), fxSnap(seq, base, nil, 1), nil},
		{"seq only", fxSnap(1, base, []int{2}, 1), fxSnap(seq, base, []int{2}, 1), nil},
		{"up number only", fxSnap(7, with(fxMember(3, Up, 0)), nil, 1), fxSnap(seq, with(fxMember(3, Up, 3)), nil, 1), nil},
		{"joined", fxSnap(7, base, nil, 1), fxSnap(seq, with(fxMember(3, Joining, 0)), nil, 1),
			[]Event{ev(MemberJoined, fxMember(3, Joining, 0))}},
		{"weakly up", fxSnap(7, with(fxMember(3, Joining, 0)), nil, 1), fxSnap(seq, with(fxMember(3, WeaklyUp, 0)), nil, 1),
			[]Event{ev(MemberWeaklyUp, fxMember(3, WeaklyUp, 0))}},
		{"up", fxSnap(7, with(fxMember(3, WeaklyUp, 0)), nil, 1), fxSnap(seq, with(fxMember(3, Up, 3)), nil, 1),
			[]Event{ev(MemberUp, fxMember(3, Up, 3))}},
		{"first seen already up", fxSnap(7, base, nil, 1), fxSnap(seq, with(fxMember(3, Up, 3)), nil, 1),
			[]Event{ev(MemberUp, fxMember(3, Up, 3))}},
		{"left", fxSnap(7, base, nil, 1), fxSnap(seq, []Member{fxMember(1, Up, 1), fxMember(2, Leaving, 2)}, nil, 1),
			[]Event{ev(MemberLeft, fxMember(2, Leaving, 2))}},
		{"exited", fxSnap(7, with(fxMember(3, Leaving, 3)), nil, 1), fxSnap(seq, with(fxMember(3, Exiting, 3)), nil, 1),
			[]Event{ev(MemberExited, fxMember(3, Exiting, 3))}},
		{"downed", fxSnap(7, base, nil, 1), fxSnap(seq, []Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, nil, 1),
			[]Event{ev(MemberDowned, fxMember(2, Down, 2))}},
		{"removed", fxSnap(7, with(fxMember(3, Down, 3)), nil, 1), fxSnap(seq, base, nil, 1),
			[]Event{ev(MemberRemoved, removed(fxMember(3, Down, 3)))}},
		{"unreachable", fxSnap(7, base, nil, 1), fxSnap(seq, base, []int{2}, 1),
			[]Event{ev(UnreachableMember, fxMember(2, Up, 2))}},
		{"reachable", fxSnap(7, base, []int{2}, 1), fxSnap(seq, base, nil, 1),
			[]Event{ev(ReachableMember, fxMember(2, Up, 2))}},
		{"no reachable event for a downed member", fxSnap(7, base, []int{2}, 1),
			fxSnap(seq, []Member{fxMember(1, Up, 1), fxMember(2, Down, 2)}, nil, 1),
			[]Event{ev(MemberDowned, fxMember(2, Down, 2))}},
		{"no reachable event for a removed member", fxSnap(7, with(fxMember(3, Down, 3)), []int{3}, 1), fxSnap(seq, base, nil, 1),
			[]Event{ev(MemberRemoved, removed(fxMember(3, Down, 3)))}},
		{"leader changed", fxSnap(7, base, nil, 1), fxSnap(seq, base, nil, 2), []Event{leader(2)}},
		{"leader lost", fxSnap(7, base, nil, 1), fxSnap(seq, base, nil, 0), []Event{leader(0)}},
		{"leader gained", fxSnap(7, base, nil, 0), fxSnap(seq, base, nil, 2), []Event{leader(2)}},
		{"shards moved", fxWith(fxSnap(7, base, nil, 1), []TypeAllocation{fxTable("t", 1, 1, 2, 1)}),
			fxWith(fxSnap(seq, base, nil, 1), []TypeAllocation{fxTable("t", 1, 1, 2, 2)}),
			[]Event{shards("t", 2)}},
		{"shards allocated for a new type", fxWith(fxSnap(7, base, nil, 1), nil),
			fxWith(fxSnap(seq, base, nil, 1), []TypeAllocation{fxTable("t", 1, 1, 2)}),
			[]Event{shards("t", 0, 1)}},
		{"one event per moved type, in type order",
			fxWith(fxSnap(7, base, nil, 1), []TypeAllocation{fxTable("a", 1, 1), fxTable("b", 1, 1), fxTable("c", 1, 1)}),
			fxWith(fxSnap(seq, base, nil, 1), []TypeAllocation{fxTable("a", 2, 2), fxTable("b", 1, 1), fxTable("c", 2, 2)}),
			[]Event{shards("a", 0), shards("c", 0)}},
		{"registry entry added", fxSnap(7, base, nil, 1),
			fxWith(fxSnap(seq, base, nil, 1), nil, entry("svc", 1, "/a")),
			[]Event{registry("svc")}},
		{"registry entries changed under two keys",
			fxWith(fxSnap(7, base, nil, 1), nil, entry("a", 1, "/x"), entry("b", 1, "/x"), entry("c", 2, "/x")),
			fxWith(fxSnap(seq, base, nil, 1), nil, entry("a", 1, "/x"), entry("b", 2, "/x"), entry("c", 2, "/y")),
			[]Event{registry("b", "c")}},
		{"other incarnation at the same address",
			fxSnap(7, []Member{fxMember(1, Up, 1)}, nil, 1),
			fxSnap(seq, []Member{fxMember(1, Up, 1), {Node: fxNode(1, 2), ID: "node-1", Status: Joining}}, nil, 1),
			[]Event{ev(MemberJoined, Member{Node: fxNode(1, 2), ID: "node-1", Status: Joining})}},
		{
			// One of each event, to pin the documented order: member events
			// in address order, then unreachable, then reachable, then
			// leader, then shards, then registry.
			"every type once, in order",
			fxWith(fxSnap(7, []Member{
				fxMember(1, Up, 1), fxMember(2, Joining, 0), fxMember(3, WeaklyUp, 0), fxMember(4, Up, 4),
				fxMember(5, Leaving, 5), fxMember(6, Up, 6), fxMember(7, Down, 7), fxMember(9, Up, 9),
				fxMember(10, Up, 10), fxMember(11, Up, 11),
			}, []int{10}, 1), []TypeAllocation{fxTable("t", 1, 1, 6)}, entry("svc", 1, "/a")),
			fxWith(fxSnap(seq, []Member{
				fxMember(1, Down, 1), fxMember(2, WeaklyUp, 0), fxMember(3, Up, 3), fxMember(4, Leaving, 4),
				fxMember(5, Exiting, 5), fxMember(6, Up, 6), fxMember(8, Joining, 0), fxMember(9, Up, 9),
				fxMember(10, Up, 10), fxMember(11, Up, 11),
			}, []int{9}, 6), []TypeAllocation{fxTable("t", 2, 6, 6)}),
			[]Event{
				ev(MemberDowned, fxMember(1, Down, 1)),
				ev(MemberWeaklyUp, fxMember(2, WeaklyUp, 0)),
				ev(MemberUp, fxMember(3, Up, 3)),
				ev(MemberLeft, fxMember(4, Leaving, 4)),
				ev(MemberExited, fxMember(5, Exiting, 5)),
				ev(MemberRemoved, removed(fxMember(7, Down, 7))),
				ev(MemberJoined, fxMember(8, Joining, 0)),
				ev(UnreachableMember, fxMember(9, Up, 9)),
				ev(ReachableMember, fxMember(10, Up, 10)),
				leader(6),
				shards("t", 0),
				registry("svc"),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prevCopy, nextCopy := tc.prev.Clone(), tc.next.Clone()
			got := diffSnapshots(tc.prev, tc.next, at)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diffSnapshots (-want +got):\n%s", diff)
			}
			// Never a duplicate: one event per type and member (or shard
			// type).
			type key struct {
				typ   EventType
				node  UniqueAddress
				shard string
			}
			count := map[key]int{}
			for _, e := range got {
				count[key{e.Type, e.Member.Node, e.ShardType}]++
			}
			for k, n := range count {
				if n != 1 {
					t.Errorf("%v for %v%s appears %d times, want once", k.typ, k.node, k.shard, n)
				}
			}
			if diff := cmp.Diff(prevCopy, tc.prev, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diffSnapshots modified prev (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(nextCopy, tc.next, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diffSnapshots modified next (-want +got):\n%s", diff)
			}
			if same := tc.prev.sameContent(tc.next); same != (len(tc.want) == 0 && !upNumbersDiffer(tc.prev, tc.next)) {
				t.Errorf("sameContent = %v with %d events", same, len(got))
			}
		})
	}
	t.Run("every event type covered", func(t *testing.T) {
		seen := map[EventType]bool{}
		for _, tc := range cases {
			for _, e := range tc.want {
				seen[e.Type] = true
			}
		}
		for typ := MemberJoined; typ <= RegistryChanged; typ++ {
			if !seen[typ] {
				t.Errorf("no case produces %v", typ)
			}
		}
	})
}

// upNumbersDiffer reports whether two snapshots with the same members differ
// in some member's UpNumber, a change that publishes a snapshot but makes no
// event.
func upNumbersDiffer(a, b TopologySnapshot) bool {
	if len(a.Members) != len(b.Members) {
		return false
	}
	for i := range a.Members {
		if a.Members[i].Node == b.Members[i].Node && a.Members[i].UpNumber != b.Members[i].UpNumber {
			return true
		}
	}
	return false
}

func TestTopologySnapshotCloneIsDeep(t *testing.T) {
	m := fxMember(1, Up, 1)
	m.Roles = []string{"a"}
	s := fxSnap(3, []Member{m, fxMember(2, Up, 2)}, []int{2}, 1)
	c := s.Clone()
	c.Members[0].Roles[0] = "changed"
	c.Members[1].Status = Down
	c.Unreachable[0] = fxNode(9, 9)
	m.Roles = []string{"a"} // a fresh slice, not shared with s
	want := fxSnap(3, []Member{m, fxMember(2, Up, 2)}, []int{2}, 1)
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("original changed through its clone (-want +got):\n%s", diff)
	}
	if !s.sameContent(want) {
		t.Error("sameContent is false for equal snapshots")
	}
}

// TestTopologySnapshotSharedIsClone checks that the snapshot publish hands
// out, which shares slices where it can, equals a deep copy exactly: nil
// and empty slices included.
func TestTopologySnapshotSharedIsClone(t *testing.T) {
	plain, withRoles := fxMember(1, Up, 1), fxMember(2, Up, 2)
	withRoles.Roles = []string{"a"}
	emptyRoles := fxMember(3, Joining, 0)
	emptyRoles.Roles, emptyRoles.Hosts = []string{}, []ShardType{}
	table := fxTable("kv", 2, 1, 2)
	table.Shards[0].Replicas = fxNodes(2)
	emptyReplicas := fxTable("kv", 2, 1, 2)
	emptyReplicas.Shards[1].Replicas = []UniqueAddress{}
	noShards := TypeAllocation{Type: ShardType{Name: "gone", Shards: 1}}
	cases := []struct {
		name string
		snap TopologySnapshot
	}{
		{"zero", TopologySnapshot{}},
		{"empty slices", TopologySnapshot{Members: []Member{}, Unreachable: []UniqueAddress{}, ShardAllocations: []TypeAllocation{}, Registry: []ServiceEntry{}}},
		{"members", fxSnap(4, []Member{plain, withRoles}, []int{2}, 1)},
		{"member with empty roles", fxSnap(4, []Member{plain, emptyRoles}, nil, 1)},
		{"tables", fxWith(fxSnap(4, []Member{plain}, nil, 1), []TypeAllocation{table}, fxEntry("k", 1, "/a"))},
		{"table with empty replicas", fxWith(fxSnap(4, []Member{plain}, nil, 1), []TypeAllocation{emptyReplicas})},
		{"table without shards", fxWith(fxSnap(4, []Member{plain}, nil, 1), []TypeAllocation{noShards})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.snap.shared()
			if diff := cmp.Diff(tc.snap.Clone(), got); diff != "" {
				t.Errorf("shared() differs from Clone() (-clone +shared):\n%s", diff)
			}
			if len(got.Members) > 0 && cap(got.Members) != len(got.Members) {
				t.Errorf("shared members have spare capacity %d > %d", cap(got.Members), len(got.Members))
			}
		})
	}
}

// naiveDiffMembers is the member part of diffSnapshots as first written:
// the walk over both member lists ordered by UniqueAddress.Compare.
func naiveDiffMembers(prev, next TopologySnapshot, at time.Time) []Event {
	var out []Event
	i, j := 0, 0
	for i < len(prev.Members) || j < len(next.Members) {
		switch {
		case j == len(next.Members) || (i < len(prev.Members) && prev.Members[i].Node.Compare(next.Members[j].Node) < 0):
			m := prev.Members[i].Clone()
			m.Status = Removed
			out = append(out, Event{Type: MemberRemoved, At: at, Seq: next.Seq, Member: m})
			i++
		case i == len(prev.Members) || next.Members[j].Node.Compare(prev.Members[i].Node) < 0:
			m := next.Members[j]
			out = append(out, Event{Type: statusEvent[m.Status], At: at, Seq: next.Seq, Member: m.Clone()})
			j++
		default:
			if a, b := prev.Members[i], next.Members[j]; a.Status != b.Status {
				out = append(out, Event{Type: statusEvent[b.Status], At: at, Seq: next.Seq, Member: b.Clone()})
			}
			i++
			j++
		}
	}
	return out
}

// TestDiffSnapshotMembersMatchesNaive checks the member events of
// diffSnapshots, which pairs equal nodes without comparing addresses,
// against the naive walk on random pairs of member lists.
func TestDiffSnapshotMembersMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [2]TopologySnapshot {
		a, b := lawRandState(rng), lawRandState(rng)
		return [2]TopologySnapshot{{Seq: 1, Members: a.Members}, {Seq: 2, Members: b.Members}}
	})
	at := epoch.Add(time.Minute)
	runLaws(t, func(p *gopter.Properties) {
		p.Property("member events are the naive walk's", prop.ForAll(func(in [2]TopologySnapshot) string {
			// The snapshots differ in members only: every event is one.
			want, got := naiveDiffMembers(in[0], in[1], at), diffSnapshots(in[0], in[1], at)
			if !reflect.DeepEqual(want, got) {
				return fmt.Sprintf("diffSnapshots (-naive +got):\n%s", cmp.Diff(want, got))
			}
			return ""
		}, gen))
	})
}

// TestAppendDiffExtendsTheBuffer: appendDiff leaves what the buffer held
// and adds exactly diffSnapshots' events, whatever the buffer's room.
func TestAppendDiffExtendsTheBuffer(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	at := epoch.Add(time.Minute)
	snap := func(s *State, seq uint64) TopologySnapshot {
		snap := TopologySnapshot{
			Seq: seq, Members: s.Members, Unreachable: s.Unreachable(),
			ShardAllocations: s.Allocations, Registry: flattenRegistry(s.Registry),
		}
		if len(s.Members) > 0 {
			snap.Leader, snap.HasLeader = s.Members[rng.Intn(len(s.Members))].Node, true
		}
		return snap
	}
	events := 0
	for i := 0; i < 500; i++ {
		prev, next := snap(lawRandState(rng), 1), snap(lawRandState(rng), 2)
		want := diffSnapshots(prev, next, at)
		events += len(want)
		prefix := []Event{{Type: LeaderChanged, Seq: 99}, {Type: MemberUp, Seq: 98}}[:rng.Intn(3)]
		buf := append(make([]Event, 0, len(prefix)+rng.Intn(4)), prefix...)
		got := appendDiff(buf, prev, next, at)
		wantAll := append(append([]Event{}, prefix...), want...)
		if len(got) != len(wantAll) || (len(got) > 0 && !reflect.DeepEqual(wantAll, got)) {
			t.Fatalf("case %d: appendDiff (-prefix+diff +got):\n%s", i, cmp.Diff(wantAll, got))
		}
		if i%2 == 0 {
			if got := diffAllocations(prev.ShardAllocations, next.ShardAllocations, at, 2); !reflect.DeepEqual(got, appendAllocationDiff(nil, prev.ShardAllocations, next.ShardAllocations, at, 2)) {
				t.Fatalf("case %d: diffAllocations is not appendAllocationDiff on nothing", i)
			}
		}
	}
	if events < 500 {
		t.Fatalf("only %d events in all: the diff was barely exercised", events)
	}
}
