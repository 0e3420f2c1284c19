package wire

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rumorhq/rumor/proto"
)

// msgOpts compares decoded messages with the originals: empty and nil
// slices and maps are alike (the wire does not tell them apart).
var msgOpts = cmp.Options{cmpopts.EquateEmpty()}

// mix is SplitMix64's finaliser: a fixed, well-spread UID for test node i.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// node returns test node i: 10.0.x.y:7000 with a fixed 64-bit UID.
func node(i int) proto.UniqueAddress {
	return proto.UniqueAddress{
		Address: proto.Address{Host: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Port: 7000},
		UID:     proto.UID(mix(uint64(i)) | 1),
	}
}

func sortNodes(us []proto.UniqueAddress) {
	slices.SortFunc(us, func(a, b proto.UniqueAddress) int { return a.Compare(b) })
}

// zeroTombstoneTimes returns a copy of s whose tombstones carry the zero
// time, which is what a decoder produces.
func zeroTombstoneTimes(s *proto.State) *proto.State {
	out := s.Clone()
	for k := range out.Tombstones {
		out.Tombstones[k] = time.Time{}
	}
	return out
}

// stateSpec sizes a generated state.
type stateSpec struct {
	members     int
	rows        int // observers with a reachability row
	types       int // shard types, each hosted by every Up member
	shards      int // shards per type
	replicas    int
	entries     int // registry entries, two per owner
	tombstones  int
	seen        int
	clockWriter int // members with a clock entry
}

// benchSpec is the 100-member state of the benchmarks and size report.
var benchSpec = stateSpec{members: 100, rows: 8, types: 2, shards: 64, replicas: 1, entries: 50,
	tombstones: 5, seen: 100, clockWriter: 100}

// smallSpec is the state inside the golden Welcome and GossipState frames.
var smallSpec = stateSpec{members: 3, rows: 1, types: 1, shards: 4, replicas: 1, entries: 2,
	tombstones: 1, seen: 2, clockWriter: 3}

// buildState returns a valid state of the given shape. Node i for i <
// members is a member; the tombstoned nodes come after them.
func buildState(sp stateSpec) *proto.State {
	s := proto.NewState()
	nodes := make([]proto.UniqueAddress, sp.members)
	for i := range nodes {
		nodes[i] = node(i)
	}
	sortNodes(nodes)
	statuses := []proto.MemberStatus{proto.Up, proto.Up, proto.Up, proto.Up, proto.Up, proto.Up, proto.Joining,
		proto.WeaklyUp, proto.Leaving, proto.Exiting, proto.Down}
	var types []proto.ShardType
	for t := 0; t < sp.types; t++ {
		types = append(types, proto.ShardType{Name: fmt.Sprintf("type-%d", t), Shards: sp.shards, Replicas: sp.replicas})
	}
	hosts := map[string][]proto.UniqueAddress{}
	for i, u := range nodes {
		st := statuses[i%len(statuses)]
		if i < 3 {
			st = proto.Up // small states stay Up so every row is legal
		}
		m := proto.Member{Node: u, ID: proto.NodeID(fmt.Sprintf("node-%d", i)), Status: st}
		if i%3 == 0 {
			m.Roles = []string{"backend", "frontend"}
		}
		if st == proto.Up || st == proto.Leaving {
			m.UpNumber = int64(i + 1)
		}
		if st == proto.Up && len(types) > 0 {
			m.Hosts = append([]proto.ShardType(nil), types...)
			m.HostsVersion = 1
			for _, t := range types {
				hosts[t.Name] = append(hosts[t.Name], u)
			}
		}
		s.Members = append(s.Members, m)
	}
	for i := 0; i < sp.rows && i < len(nodes); i++ {
		var unreachable []proto.UniqueAddress
		for j := 1; j <= 3 && j < len(nodes); j++ {
			if k := (i*7 + j*13) % len(nodes); k != i {
				unreachable = append(unreachable, nodes[k])
			}
		}
		sortNodes(unreachable)
		unreachable = slices.Compact(unreachable)
		s.Reachability.Rows = append(s.Reachability.Rows, proto.ObserverRow{Observer: nodes[i], Version: uint64(i + 2), Unreachable: unreachable})
	}
	for i := 0; i < sp.clockWriter && i < len(nodes); i++ {
		s.Version[nodes[i]] = uint64(i*3 + 1)
	}
	for i := 0; i < sp.seen && i < len(nodes); i++ {
		s.Seen = append(s.Seen, nodes[i])
	}
	for i := 0; i < sp.tombstones; i++ {
		s.Tombstones[node(sp.members+i)] = time.Unix(1700000000+int64(i), 0)
	}
	if len(types) > 0 {
		s.Allocations, _ = proto.Allocate(nil, types, hosts, 1, 0)
		s.AllocationEpoch = 1
	}
	for i := 0; i < sp.entries; i += 2 {
		k := i / 2
		for s.Members[k%len(s.Members)].Status == proto.Down {
			k++
		}
		owner := s.Members[k%len(s.Members)]
		row := proto.RegistryRow{Owner: owner.Node, Version: uint64(i + 1)}
		for j := 0; j < 2 && i+j < sp.entries; j++ {
			row.Entries = append(row.Entries, proto.ServiceEntry{Key: fmt.Sprintf("svc-%d", j), Node: owner.Node, Path: fmt.Sprintf("/user/svc-%d/%d", j, i)})
		}
		s.Registry = append(s.Registry, row)
	}
	slices.SortFunc(s.Registry, func(a, b proto.RegistryRow) int { return a.Owner.Compare(b.Owner) })
	s.Registry = slices.CompactFunc(s.Registry, func(a, b proto.RegistryRow) bool { return a.Owner == b.Owner })
	if err := proto.ValidateState(s); err != nil {
		panic(fmt.Sprintf("buildState(%+v) made an invalid state: %v", sp, err))
	}
	return s
}

// header is the From/To of the sample messages.
func header(b proto.Body) proto.Message {
	return proto.Message{From: node(0), To: node(1).Address, ToUID: node(1).UID, Body: b}
}

// sampleMessages is one message of every wire kind, keyed by the name of
// its golden file.
func sampleMessages() map[string]proto.Message {
	small := buildState(smallSpec)
	return map[string]proto.Message{
		"join":          header(proto.Join{ID: "node-0", Roles: []string{"backend", "frontend"}}),
		"welcome":       {From: node(1), To: node(0).Address, Body: proto.Welcome{State: small}},
		"init-join":     {From: node(0), To: node(1).Address, Body: proto.InitJoin{}},
		"init-join-ack": header(proto.InitJoinAck{}),
		"gossip-status": header(proto.GossipStatus{
			Version:    proto.VClock{node(0): 7, node(1): 3, node(2): 12},
			SeenDigest: 0x1234_5678_9abc_def0,
			VersionSum: 22,
			Reply:      true,
		}),
		"gossip-state": header(proto.GossipState{State: small, Reply: true}),
		"gossip-seen": header(proto.GossipSeen{
			VersionDigest: 0x0fed_cba9_8765_4321,
			MembersDigest: 0x1234_5678_9abc_def0,
			Seen:          []byte{0b1011_0111, 0b0000_0101},
			Reply:         true,
		}),
		"heartbeat":     header(proto.Heartbeat{Seq: 42}),
		"heartbeat-ack": header(proto.HeartbeatAck{Seq: 42}),
	}
}

// wantSeen is g decoded: an empty bitmap is omitted, so it comes back nil.
func wantSeen(g proto.GossipSeen) proto.GossipSeen {
	if len(g.Seen) == 0 {
		g.Seen = nil
	}
	return g
}

// wantDecoded is what decoding an encoding of m gives: value bodies and
// tombstones with zero times.
func wantDecoded(m proto.Message) proto.Message {
	switch b := m.Body.(type) {
	case *proto.Join:
		m.Body = *b
	case *proto.Welcome:
		m.Body = proto.Welcome{State: zeroTombstoneTimes(b.State)}
	case proto.Welcome:
		m.Body = proto.Welcome{State: zeroTombstoneTimes(b.State)}
	case *proto.InitJoin:
		m.Body = *b
	case *proto.InitJoinAck:
		m.Body = *b
	case *proto.GossipStatus:
		m.Body = *b
	case *proto.GossipState:
		m.Body = proto.GossipState{State: zeroTombstoneTimes(b.State), Reply: b.Reply}
	case *proto.GossipSeen:
		m.Body = wantSeen(*b)
	case proto.GossipSeen:
		m.Body = wantSeen(b)
	case proto.GossipState:
		m.Body = proto.GossipState{State: zeroTombstoneTimes(b.State), Reply: b.Reply}
	case *proto.Heartbeat:
		m.Body = *b
	case *proto.HeartbeatAck:
		m.Body = *b
	}
	return m
}
