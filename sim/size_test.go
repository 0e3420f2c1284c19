package sim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/proto/wire"
	"pgregory.net/rapid"
)

// poolNode is the i-th identity of the generated states: hosts alternate
// between IPv4 literals (whose numeric order is not the wire table's byte
// order) and names, UIDs span every CBOR integer length.
func poolNode(i int) proto.UniqueAddress {
	host := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	if i%3 == 2 {
		host = fmt.Sprintf("node-%d.example", i)
	}
	return proto.UniqueAddress{
		Address: proto.Address{Host: host, Port: uint16(7000 + i%2)},
		UID:     proto.UID(uint64(i+1) << (8 * uint(i%6))),
	}
}

// drawNodes draws distinct identities of the pool, in the order drawn.
func drawNodes(t *rapid.T, pool int, maxLen int, label string) []proto.UniqueAddress {
	idx := rapid.SliceOfNDistinct(rapid.IntRange(0, pool-1), 0, min(maxLen, pool), rapid.ID[int]).Draw(t, label)
	out := make([]proto.UniqueAddress, len(idx))
	for i, j := range idx {
		out[i] = poolNode(j)
	}
	return out
}

var bigUint = rapid.OneOf(rapid.Uint64Range(0, 30), rapid.Uint64Range(0, 1<<20), rapid.Uint64())

// drawState draws a state whose every part is either new or shared with
// prev, naming identities of a pool of the given size: members, and now
// and then non-members (clock entries, seen marks, tombstones, holders).
func drawState(t *rapid.T, prev *proto.State, pool int) *proto.State {
	s := &proto.State{}
	if prev != nil {
		*s = *prev // share every part, then replace some
	}
	reuse := func(label string) bool { return prev != nil && rapid.Bool().Draw(t, label) }
	switch {
	case reuse("keep members"):
	case prev != nil && rapid.Bool().Draw(t, "new statuses"):
		// A new list naming the same nodes, as a status change makes.
		s.Members = append([]proto.Member(nil), prev.Members...)
		for i := range s.Members {
			s.Members[i].Status = proto.MemberStatus(rapid.IntRange(0, 6).Draw(t, "new status"))
		}
	case prev != nil && rapid.Bool().Draw(t, "joins and leaves"):
		// The previous list with a few members gone and a few joined.
		s.Members = nil
		for _, m := range prev.Members {
			if rapid.IntRange(0, 9).Draw(t, "leaves") > 0 {
				s.Members = append(s.Members, m)
			}
		}
		for _, u := range drawNodes(t, pool, 3, "joins") {
			if !slices.ContainsFunc(s.Members, func(m proto.Member) bool { return m.Node == u }) {
				s.Members = append(s.Members, proto.Member{Node: u, Status: proto.Joining})
			}
		}
		slices.SortFunc(s.Members, func(a, b proto.Member) int { return a.Node.Compare(b.Node) })
	default:
		nodes := drawNodes(t, pool, pool, "members")
		if rapid.Bool().Draw(t, "whole pool") {
			nodes = nodes[:0]
			for i := range pool {
				nodes = append(nodes, poolNode(i))
			}
		}
		slices.SortFunc(nodes, proto.UniqueAddress.Compare)
		s.Members = make([]proto.Member, len(nodes))
		for i, u := range nodes {
			m := proto.Member{Node: u, Status: proto.MemberStatus(rapid.IntRange(0, 6).Draw(t, "status"))}
			if rapid.Bool().Draw(t, "details") {
				m.ID = proto.NodeID(rapid.StringN(0, 30, -1).Draw(t, "id"))
				m.Roles = rapid.SliceOfN(rapid.StringN(0, 5, -1), 0, 2).Draw(t, "roles")
				m.UpNumber = rapid.Int64().Draw(t, "up")
				m.Hosts = []proto.ShardType{{Name: "orders", Shards: rapid.IntRange(-30, 300).Draw(t, "shards"), Replicas: 1}}
				m.HostsVersion = bigUint.Draw(t, "hosts version")
			}
			s.Members[i] = m
		}
	}
	members := make([]proto.UniqueAddress, len(s.Members))
	for i, m := range s.Members {
		members[i] = m.Node
	}
	// pick draws from the members, or (outsiders) from the whole pool.
	pick := func(label string, maxLen int) []proto.UniqueAddress {
		if len(members) > 0 && !rapid.Bool().Draw(t, label+" outsiders") {
			idx := rapid.SliceOfNDistinct(rapid.IntRange(0, len(members)-1), 0, min(maxLen, len(members)), rapid.ID[int]).Draw(t, label)
			slices.Sort(idx)
			out := make([]proto.UniqueAddress, len(idx))
			for i, j := range idx {
				out[i] = members[j]
			}
			return out
		}
		return drawNodes(t, pool, maxLen, label)
	}
	if !reuse("keep rows") {
		s.Reachability.Rows = nil
		for _, o := range pick("observers", 3) {
			s.Reachability.Rows = append(s.Reachability.Rows, proto.ObserverRow{Observer: o, Version: bigUint.Draw(t, "row version"), Unreachable: pick("unreachable", 4)})
		}
	}
	if !reuse("keep version") {
		s.Version = proto.VClock{}
		for _, u := range pick("clock", pool) {
			s.Version[u] = bigUint.Draw(t, "count")
		}
	}
	if !reuse("keep seen") {
		s.Seen = pick("seen", pool)
	}
	if !reuse("keep tombstones") {
		s.Tombstones = map[proto.UniqueAddress]time.Time{}
		if rapid.IntRange(0, 3).Draw(t, "tombstones?") == 0 {
			for _, u := range drawNodes(t, pool, 5, "tombstones") {
				s.Tombstones[u] = epoch
			}
		}
	}
	if !reuse("keep allocations") {
		s.Allocations = nil
		for _, name := range []string{"billing", "orders"}[:rapid.IntRange(0, 2).Draw(t, "types")] {
			ta := proto.TypeAllocation{Type: proto.ShardType{Name: name, Shards: 3, Replicas: 1}, Epoch: proto.Epoch(bigUint.Draw(t, "table epoch"))}
			for range 3 {
				a := proto.ShardAllocation{Replicas: pick("replicas", 2), Epoch: proto.Epoch(bigUint.Draw(t, "shard epoch"))}
				if p := pick("primary", 1); len(p) > 0 {
					a.Primary = p[0]
				}
				ta.Shards = append(ta.Shards, a)
			}
			s.Allocations = append(s.Allocations, ta)
		}
		s.AllocationEpoch = proto.Epoch(bigUint.Draw(t, "allocation epoch"))
	}
	if !reuse("keep registry") {
		s.Registry = nil
		for _, o := range pick("owners", 3) {
			row := proto.RegistryRow{Owner: o, Version: bigUint.Draw(t, "registry version")}
			for _, u := range pick("entry nodes", 2) {
				row.Entries = append(row.Entries, proto.ServiceEntry{Key: rapid.StringN(0, 10, -1).Draw(t, "key"), Node: u, Path: "/svc"})
				row.Entries = append(row.Entries, proto.ServiceEntry{Key: "own", Node: o})
			}
			s.Registry = append(s.Registry, row)
		}
	}
	return s
}

// TestStateSizesMatchWire: a sizer that has measured a run of states
// sharing parts in every combination (its caches warm, sometimes evicted)
// gives each state exactly wire.Size's length, including node tables of
// more than 23 and 255 identities and states naming non-members.
func TestStateSizesMatchWire(t *testing.T) {
	defer func(w int) { maxPartSets = w }(maxPartSets)
	maxPartSets = 1 // a few parts of each kind: parts are given up all the time
	rapid.Check(t, func(t *rapid.T) {
		pool := rapid.OneOf(rapid.IntRange(1, 30), rapid.IntRange(250, 300)).Draw(t, "pool")
		z := newSizer()
		var prev *proto.State
		for i := range rapid.IntRange(1, 100).Draw(t, "states") {
			s := drawState(t, prev, pool)
			from := poolNode(rapid.IntRange(0, pool-1).Draw(t, "from"))
			to := poolNode(rapid.IntRange(0, pool-1).Draw(t, "to"))
			for _, body := range []proto.Body{proto.GossipState{State: s}, proto.GossipState{State: s, Reply: true}, proto.Welcome{State: s}} {
				m := proto.Message{From: from, To: to.Address, ToUID: to.UID, Body: body}
				if got, want := z.size(&m), wire.Size(m); got != want {
					t.Fatalf("state %d, %s: size %d, wire.Size %d", i, body.Kind(), got, want)
				}
			}
			if rapid.Bool().Draw(t, "next from this") {
				prev = s
			}
		}
	})
}

// TestEnvelopeMatchesWire: the computed envelope is wire.Size's frame of a
// message without body fields, for every optional field present or not
// and every integer and text length class.
func TestEnvelopeMatchesWire(t *testing.T) {
	long := strings.Repeat("h", 300)
	hosts := []string{"", "10.0.0.1", "node-7.example.internal", long}
	ports := []uint16{0, 23, 24, 255, 7000, 65535}
	uids := []proto.UID{0, 1, 23, 24, 1 << 16, 1 << 40}
	for _, fh := range hosts {
		for _, fp := range ports {
			for _, fu := range uids {
				for _, th := range hosts {
					for _, tp := range ports {
						for _, tu := range uids {
							m := proto.Message{
								From: proto.UniqueAddress{Address: proto.Address{Host: fh, Port: fp}, UID: fu},
								To:   proto.Address{Host: th, Port: tp}, ToUID: tu, Body: proto.InitJoin{},
							}
							if got, want := envelope(&m), wire.Size(m); got != want {
								t.Fatalf("envelope(%+v) = %d, wire.Size %d", m, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestIDsAreExact: the state sizer's ids name identities one to one, as
// a plain map would, for identities sharing UIDs (a restarted address
// keeps none, but the wire allows it) and UIDs colliding in its table of
// recent ids, looked up in any order.
func TestIDsAreExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool := make([]proto.UniqueAddress, rapid.IntRange(1, 600).Draw(t, "pool"))
		for i := range pool {
			pool[i] = poolNode(i)
			if i > 0 && rapid.IntRange(0, 3).Draw(t, "shares a UID") == 0 {
				pool[i].UID = pool[rapid.IntRange(0, i-1).Draw(t, "with")].UID
			}
		}
		z := newStateSizer()
		naive := map[proto.UniqueAddress]int32{}
		for _, j := range rapid.SliceOfN(rapid.IntRange(0, len(pool)-1), 1, 2000).Draw(t, "lookups") {
			u := pool[j]
			got := z.id(u)
			if want, ok := naive[u]; ok && got != want {
				t.Fatalf("%v: id %d, first given %d", u, got, want)
			}
			naive[u] = got
			if z.nodes[got] != u {
				t.Fatalf("%v: id %d names %v", u, got, z.nodes[got])
			}
		}
	})
}

// TestClockPtrIsReflects: clockPtr names a clock's map as reflect does,
// nil for a nil clock, and tells apart clocks of equal content.
func TestClockPtrIsReflects(t *testing.T) {
	a := proto.VClock{poolNode(1): 3}
	b := proto.VClock{poolNode(1): 3}
	for _, v := range []proto.VClock{nil, {}, a, b} {
		if got, want := clockPtr(v), reflect.ValueOf(v).UnsafePointer(); got != want {
			t.Errorf("clockPtr(%v) = %p, reflect %p", v, got, want)
		}
	}
	if clockPtr(a) == clockPtr(b) {
		t.Errorf("clocks of equal content share a pointer %p", clockPtr(a))
	}
}
