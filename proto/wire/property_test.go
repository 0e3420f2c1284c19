package wire

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rumorhq/rumor/proto"
)

// genNode draws from a small pool so that hosts repeat with different
// ports and UIDs (the node table's ordering and dedup are exercised) and
// IPv4, IPv6 and names mix (wire order differs from address order).
func genNode() *rapid.Generator[proto.UniqueAddress] {
	return rapid.Custom(func(t *rapid.T) proto.UniqueAddress {
		hosts := []string{"10.0.0.9", "10.0.0.10", "10.0.0.1", "fd00::2", "::ffff:10.0.0.3", "a.example", "b", "ñ.example"}
		return proto.UniqueAddress{
			Address: proto.Address{Host: rapid.SampledFrom(hosts).Draw(t, "host"), Port: rapid.Uint16Range(1, 3).Draw(t, "port")},
			UID:     proto.UID(rapid.SampledFrom([]uint64{1, 2, 1 << 40, 1<<64 - 1}).Draw(t, "uid")),
		}
	})
}

func genNodes(t *rapid.T, label string, max int) []proto.UniqueAddress {
	us := rapid.SliceOfNDistinct(genNode(), 0, max, func(u proto.UniqueAddress) proto.UniqueAddress { return u }).Draw(t, label)
	sortNodes(us)
	return us
}

// subset returns the elements of sorted whose bit is drawn true, in order.
func subset[T any](t *rapid.T, label string, sorted []T) []T {
	var out []T
	for i, x := range sorted {
		if rapid.Bool().Draw(t, fmt.Sprintf("%s[%d]", label, i)) {
			out = append(out, x)
		}
	}
	return out
}

// genState draws a state that proto.ValidateState accepts.
func genState(t *rapid.T) *proto.State {
	s := proto.NewState()
	pool := genNodes(t, "nodes", 12)
	members := subset(t, "members", pool)
	types := []proto.ShardType{{Name: "a", Shards: 3, Replicas: 1}, {Name: "b", Shards: 2, Replicas: 2}}
	hosts := map[string][]proto.UniqueAddress{}
	for i, u := range members {
		m := proto.Member{
			Node:     u,
			ID:       proto.NodeID(rapid.SampledFrom([]string{"", "n1", "node-ü"}).Draw(t, "id")),
			Status:   proto.MemberStatus(rapid.IntRange(int(proto.Joining), int(proto.Down)).Draw(t, "status")),
			Roles:    subset(t, fmt.Sprintf("roles%d", i), []string{"a", "b", "c"}),
			UpNumber: rapid.Int64Range(0, 1<<62).Draw(t, "up"),
		}
		m.Hosts = subset(t, fmt.Sprintf("hosts%d", i), types)
		if len(m.Hosts) > 0 {
			m.HostsVersion = rapid.Uint64Range(1, 5).Draw(t, "hv")
		}
		if m.Status == proto.Up {
			for _, ty := range m.Hosts {
				hosts[ty.Name] = append(hosts[ty.Name], u)
			}
		}
		s.Members = append(s.Members, m)
	}
	for i, o := range subset(t, "observers", members) {
		s.Reachability.Rows = append(s.Reachability.Rows, proto.ObserverRow{
			Observer: o, Version: rapid.Uint64Range(1, 1<<63).Draw(t, "rowv"),
			Unreachable: subset(t, fmt.Sprintf("unreachable%d", i), members),
		})
	}
	for _, u := range subset(t, "clock", pool) {
		s.Version[u] = rapid.Uint64Range(1, 1<<64-1).Draw(t, "count")
	}
	s.Seen = subset(t, "seen", members)
	for _, u := range pool {
		if !slices.Contains(members, u) && rapid.Bool().Draw(t, "tombstone") {
			s.Tombstones[u] = time.Unix(rapid.Int64Range(0, 1<<40).Draw(t, "at"), 0)
		}
	}
	if rapid.Bool().Draw(t, "allocate") {
		epoch := proto.Epoch(rapid.Uint64Range(1, 100).Draw(t, "epoch"))
		s.Allocations, _ = proto.Allocate(nil, subset(t, "types", types), hosts, epoch, 0)
		s.AllocationEpoch = epoch + proto.Epoch(rapid.Uint64Range(0, 3).Draw(t, "epochGap"))
	}
	for i, m := range subset(t, "owners", s.Members) {
		if m.Status == proto.Down {
			continue
		}
		row := proto.RegistryRow{Owner: m.Node, Version: rapid.Uint64Range(1, 9).Draw(t, "regv")}
		for _, kp := range subset(t, fmt.Sprintf("entries%d", i), [][2]string{{"k1", ""}, {"k1", "/p"}, {"k2", "/p"}}) {
			row.Entries = append(row.Entries, proto.ServiceEntry{Key: kp[0], Node: m.Node, Path: kp[1]})
		}
		s.Registry = append(s.Registry, row)
	}
	if err := proto.ValidateState(s); err != nil {
		t.Fatalf("generator made an invalid state: %v", err)
	}
	return s
}

func genMessage(t *rapid.T) proto.Message {
	m := proto.Message{
		From:  genNode().Draw(t, "from"),
		To:    genNode().Draw(t, "to").Address,
		ToUID: proto.UID(rapid.SampledFrom([]uint64{0, 7}).Draw(t, "toUID")),
	}
	switch rapid.IntRange(0, 7).Draw(t, "kind") {
	case 0:
		m.Body = proto.Join{ID: proto.NodeID(rapid.StringN(0, 8, -1).Draw(t, "id")), Roles: rapid.SliceOfN(rapid.StringN(1, 8, -1), 0, 4).Draw(t, "roles")}
	case 1:
		m.Body = proto.Welcome{State: genState(t)}
	case 2:
		m.Body = proto.InitJoin{}
	case 3:
		m.Body = proto.InitJoinAck{}
	case 4:
		v := proto.VClock{}
		for _, u := range genNodes(t, "clock", 6) {
			v[u] = rapid.Uint64Range(1, 1<<64-1).Draw(t, "count")
		}
		m.Body = proto.GossipStatus{Version: v, SeenDigest: rapid.Uint64().Draw(t, "digest"), Reply: rapid.Bool().Draw(t, "reply")}
	case 5:
		m.Body = proto.GossipState{State: genState(t), Reply: rapid.Bool().Draw(t, "reply")}
	case 6:
		m.Body = proto.Heartbeat{Seq: rapid.Uint64().Draw(t, "seq")}
	default:
		m.Body = proto.HeartbeatAck{Seq: rapid.Uint64().Draw(t, "seq")}
	}
	return m
}

// TestRoundTripProperty: every valid message survives Encode/Decode, Size
// equals the encoded length, and the encoding is canonical.
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkRoundTrip(t, genMessage(t)) })
}
