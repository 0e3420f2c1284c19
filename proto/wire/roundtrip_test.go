package wire

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto"
)

// roundTripCases is every wire kind in value and pointer form, plus edge
// values: extreme integers, IPv6 and host-name addresses, empty and
// unallocated parts of a state.
func roundTripCases() map[string]proto.Message {
	cases := map[string]proto.Message{}
	for name, m := range sampleMessages() {
		cases[name] = m
	}
	small := buildState(smallSpec)
	big := buildState(benchSpec)
	ptr := func(b proto.Body) proto.Message { return header(b) }
	cases["join/pointer"] = ptr(&proto.Join{ID: "x", Roles: []string{"a"}})
	cases["welcome/pointer"] = ptr(&proto.Welcome{State: small})
	cases["init-join/pointer"] = ptr(&proto.InitJoin{})
	cases["init-join-ack/pointer"] = ptr(&proto.InitJoinAck{})
	cases["gossip-status/pointer"] = ptr(&proto.GossipStatus{Version: proto.VClock{node(4): 1}})
	cases["gossip-state/pointer"] = ptr(&proto.GossipState{State: small})
	cases["gossip-seen/pointer"] = ptr(&proto.GossipSeen{VersionDigest: 1, Seen: []byte{1}})
	cases["heartbeat/pointer"] = ptr(&proto.Heartbeat{Seq: 1})
	cases["heartbeat-ack/pointer"] = ptr(&proto.HeartbeatAck{Seq: 1})

	cases["join/empty"] = header(proto.Join{})
	cases["gossip-status/empty-clock"] = header(proto.GossipStatus{})
	cases["gossip-seen/empty"] = header(proto.GossipSeen{})
	cases["gossip-seen/empty-bitmap"] = header(proto.GossipSeen{VersionDigest: 3, Seen: []byte{}})
	cases["gossip-seen/largest-bitmap"] = header(proto.GossipSeen{
		VersionDigest: math.MaxUint64, MembersDigest: math.MaxUint64, Seen: bytes.Repeat([]byte{0xff}, (proto.MaxMembers+7)/8)})
	cases["heartbeat/zero-seq"] = header(proto.Heartbeat{})
	cases["heartbeat-ack/max-seq"] = header(proto.HeartbeatAck{Seq: math.MaxUint64})
	cases["heartbeat/ipv6-and-names"] = proto.Message{
		From: proto.UniqueAddress{Address: proto.Address{Host: "fe80::1%eth0", Port: math.MaxUint16}, UID: math.MaxUint64},
		To:   proto.Address{Host: "node-b.rumor.example", Port: 1},
		Body: proto.Heartbeat{Seq: 9},
	}
	cases["heartbeat/unicode-host"] = proto.Message{
		From: proto.UniqueAddress{Address: proto.Address{Host: "nœud-1.example", Port: 7000}, UID: 1},
		To:   proto.Address{Host: "10.0.0.1", Port: 7000},
		Body: proto.Heartbeat{Seq: 9},
	}
	cases["gossip-status/max-counters"] = header(proto.GossipStatus{
		Version: proto.VClock{node(0): math.MaxUint64, node(9): 1}, SeenDigest: math.MaxUint64, VersionSum: math.MaxUint64})
	cases["gossip-status/round"] = header(proto.GossipStatus{VersionDigest: 0xdead_beef, SeenDigest: 7, VersionSum: 1 << 40})
	cases["gossip-state/big"] = header(proto.GossipState{State: big})
	cases["welcome/big"] = header(proto.Welcome{State: big})
	cases["gossip-state/empty-state"] = header(proto.GossipState{State: proto.NewState()})
	cases["gossip-state/zero-tombstones-and-nil-maps"] = header(proto.GossipState{State: &proto.State{
		Members: []proto.Member{{Node: node(0), Status: proto.Joining}},
	}})

	unallocated := small.Clone()
	unallocated.Allocations[0].Shards[1] = proto.ShardAllocation{} // no eligible member
	cases["gossip-state/unallocated-shard"] = header(proto.GossipState{State: unallocated})

	mixed := proto.NewState()
	mixed.Members = []proto.Member{
		{Node: proto.UniqueAddress{Address: proto.Address{Host: "10.0.0.9", Port: 1}, UID: 5}, Status: proto.Up, UpNumber: math.MaxInt64},
		{Node: proto.UniqueAddress{Address: proto.Address{Host: "10.0.0.10", Port: 1}, UID: 4}, Status: proto.Down},
		{Node: proto.UniqueAddress{Address: proto.Address{Host: "::1", Port: 2}, UID: 3}, Status: proto.Exiting},
		{Node: proto.UniqueAddress{Address: proto.Address{Host: "a.example", Port: 3}, UID: 2}, Status: proto.WeaklyUp},
	}
	slices.SortFunc(mixed.Members, func(a, b proto.Member) int { return a.Node.Compare(b.Node) })
	mixed.Version[mixed.Members[2].Node] = 3
	mixed.Tombstones[proto.UniqueAddress{Address: proto.Address{Host: "10.0.0.9", Port: 1}, UID: 1}] = time.Unix(5, 0)
	cases["gossip-state/ipv6-names-and-shared-host"] = header(proto.GossipState{State: mixed})
	return cases
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func TestRoundTrip(t *testing.T) {
	cases := roundTripCases()
	for _, name := range sortedNames(cases) {
		m := cases[name]
		t.Run(name, func(t *testing.T) { checkRoundTrip(t, m) })
	}
}

// fataler is what checkRoundTrip needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// checkRoundTrip encodes m, decodes it back, and checks the result equals
// m (tombstone times aside), Size matches the frame, and re-encoding the
// decoded message gives the same bytes.
func checkRoundTrip(t fataler, m proto.Message) {
	t.Helper()
	frame, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := Decode(frame)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(wantDecoded(m), got, msgOpts); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if n := Size(m); n != len(frame) {
		t.Fatalf("Size = %d, want len(Encode) = %d", n, len(frame))
	}
	again, err := Encode(got)
	if err != nil {
		t.Fatalf("Encode(decoded): %v", err)
	}
	if !bytes.Equal(again, frame) {
		t.Fatalf("re-encoding the decoded message changed the bytes:\n got %x\nwant %x", again, frame)
	}
}

func TestStateRoundTrip(t *testing.T) {
	cases := map[string]*proto.State{
		"empty": proto.NewState(),
		"small": buildState(smallSpec),
		"big":   buildState(benchSpec),
	}
	for _, name := range sortedNames(cases) {
		s := cases[name]
		t.Run(name, func(t *testing.T) {
			frame, err := EncodeState(s)
			if err != nil {
				t.Fatalf("EncodeState: %v", err)
			}
			got, err := DecodeState(frame)
			if err != nil {
				t.Fatalf("DecodeState: %v", err)
			}
			if diff := cmp.Diff(zeroTombstoneTimes(s), got, msgOpts); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			for k, at := range got.Tombstones {
				if !at.IsZero() {
					t.Errorf("tombstone %v decoded with time %v, want the zero time", k, at)
				}
			}
		})
	}
}

// TestDeterministic checks that equal messages give equal bytes however
// their maps were built and however often they are encoded.
func TestDeterministic(t *testing.T) {
	forward, backward := proto.VClock{}, proto.VClock{}
	for i := 0; i < 50; i++ {
		forward[node(i)] = uint64(i + 1)
		backward[node(49-i)] = uint64(50 - i)
	}
	big := buildState(benchSpec)
	rebuilt := big.Clone()
	rebuilt.Tombstones = map[proto.UniqueAddress]time.Time{}
	keys := make([]proto.UniqueAddress, 0, len(big.Tombstones))
	for k := range big.Tombstones {
		keys = append(keys, k)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		rebuilt.Tombstones[keys[i]] = time.Unix(int64(i), 0) // times are not encoded
	}
	cases := map[string]struct{ a, b proto.Message }{
		"gossip-status/insertion-order": {header(proto.GossipStatus{Version: forward}), header(proto.GossipStatus{Version: backward})},
		"gossip-state/clone":            {header(proto.GossipState{State: big}), header(proto.GossipState{State: big.Clone()})},
		"gossip-state/tombstone-times":  {header(proto.GossipState{State: big}), header(proto.GossipState{State: rebuilt})},
		"heartbeat/value-and-pointer":   {header(proto.Heartbeat{Seq: 3}), header(&proto.Heartbeat{Seq: 3})},
	}
	for _, name := range sortedNames(cases) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			want, err := Encode(c.a)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 10; i++ {
				got, err := Encode(c.b)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(want, got) {
					t.Fatalf("encoding %d differs:\n got %x\nwant %x", i, got, want)
				}
			}
		})
	}
}

// TestInterning checks that a state lists each identity once: the node
// table holds exactly the distinct identities the state names, and each
// identity's host appears once in the frame.
func TestInterning(t *testing.T) {
	cases := map[string]*proto.State{
		"small": buildState(smallSpec),
		"big":   buildState(benchSpec),
	}
	for _, name := range sortedNames(cases) {
		s := cases[name]
		t.Run(name, func(t *testing.T) {
			// A sender and receiver outside the state, so that only the
			// state names its nodes.
			m := proto.Message{From: node(5000), To: node(5001).Address, Body: proto.GossipState{State: s}}
			frame, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			var e envelope[wireGossipState]
			if err := defaultCodec.dm.Unmarshal(frame[headerLen:], &e); err != nil {
				t.Fatal(err)
			}
			distinct := map[proto.UniqueAddress]bool{}
			for _, u := range namedNodes(s) {
				distinct[u] = true
			}
			if got, want := len(e.Body.State.Nodes), len(distinct); got != want {
				t.Errorf("node table has %d entries, want %d distinct identities", got, want)
			}
			for u := range distinct {
				text, err := defaultCodec.em.Marshal(u.Host)
				if err != nil {
					t.Fatal(err)
				}
				if n := bytes.Count(frame, text); n != 1 {
					t.Errorf("host %q appears %d times in the frame, want 1", u.Host, n)
				}
			}
		})
	}
}

// namedNodes lists every identity a state refers to, with repeats.
func namedNodes(s *proto.State) []proto.UniqueAddress {
	var out []proto.UniqueAddress
	for _, m := range s.Members {
		out = append(out, m.Node)
	}
	for _, r := range s.Reachability.Rows {
		out = append(append(out, r.Observer), r.Unreachable...)
	}
	for k := range s.Version {
		out = append(out, k)
	}
	out = append(out, s.Seen...)
	for k := range s.Tombstones {
		out = append(out, k)
	}
	for _, ta := range s.Allocations {
		for _, a := range ta.Shards {
			if a.Primary != (proto.UniqueAddress{}) {
				out = append(out, a.Primary)
			}
			out = append(out, a.Replicas...)
		}
	}
	for _, r := range s.Registry {
		out = append(out, r.Owner)
		for _, e := range r.Entries {
			out = append(out, e.Node)
		}
	}
	return out
}

// TestSize checks Size against Encode for every sample, and -1 for bodies
// without a wire form.
func TestSize(t *testing.T) {
	noWire := map[string]proto.Message{
		"cmd-join":       header(proto.JoinSeeds{Seeds: []proto.Address{node(1).Address}}),
		"cmd-join-ptr":   header(&proto.JoinSeeds{}),
		"cmd-leave":      header(proto.Leave{}),
		"cmd-down":       header(proto.DownNode{Address: node(1).Address}),
		"cmd-host":       header(proto.HostShards{Type: proto.ShardType{Name: "t", Shards: 1}}),
		"cmd-unhost":     header(proto.StopHosting{Name: "t"}),
		"cmd-register":   header(proto.Register{Key: "k", Path: "/p"}),
		"cmd-deregister": header(proto.Deregister{Key: "k", Path: "/p"}),
		"nil-body":       header(nil),
		"nil-pointer":    header((*proto.Heartbeat)(nil)),
		"nil-state":      header(proto.GossipState{}),
	}
	for _, name := range sortedNames(noWire) {
		m := noWire[name]
		t.Run("no-wire/"+name, func(t *testing.T) {
			if n := Size(m); n != -1 {
				t.Errorf("Size = %d, want -1", n)
			}
		})
	}
	cases := roundTripCases()
	for _, name := range sortedNames(cases) {
		m := cases[name]
		t.Run(name, func(t *testing.T) {
			frame, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if n := Size(m); n != len(frame) {
				t.Errorf("Size = %d, want %d", n, len(frame))
			}
		})
	}
	t.Run("unvalidated", func(t *testing.T) {
		// Size skips validation: a message Encode refuses still has the
		// length of its encoding, which is what an unchecked encoder
		// would have written.
		m := header(proto.Heartbeat{Seq: 1})
		m.From.UID = 0
		if _, err := Encode(m); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Encode(zero UID) = %v, want ErrMalformed", err)
		}
		valid := header(proto.Heartbeat{Seq: 1})
		uidLen := len(defaultCodec.mustMarshal(t, uint64(valid.From.UID)))
		// The zero UID is omitted together with its one-byte key.
		if got, want := Size(m), Size(valid)-uidLen-1; got != want {
			t.Errorf("Size(zero UID) = %d, want %d", got, want)
		}
	})
}

func (c *Codec) mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := c.em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInterningSaves compares the interned state with the same encoding
// where every ref is replaced by the node it names and the table dropped.
// CBOR lengths add up, so that size is exact without writing a second
// encoder.
func TestInterningSaves(t *testing.T) {
	s := buildState(benchSpec)
	ws, err := stateToWire(s, true)
	if err != nil {
		t.Fatal(err)
	}
	interned := len(defaultCodec.mustMarshal(t, ws))
	nodeLen := make([]int, len(ws.Nodes)+1)
	for i, n := range ws.Nodes {
		nodeLen[i+1] = len(defaultCodec.mustMarshal(t, n))
	}
	extra := 0
	inline := func(r ref) {
		if r != 0 {
			extra += nodeLen[r] - len(defaultCodec.mustMarshal(t, r))
		}
	}
	for _, m := range ws.Members {
		inline(m.Node)
	}
	for _, r := range ws.Rows {
		inline(r.Observer)
		for _, u := range r.Unreachable {
			inline(u)
		}
	}
	for _, e := range ws.Clock {
		inline(e.Node)
	}
	for _, r := range slices.Concat(ws.Seen, ws.Tombstones) {
		inline(r)
	}
	for _, ta := range ws.Allocations {
		for _, a := range ta.Shards {
			inline(a.Primary)
			for _, r := range a.Replicas {
				inline(r)
			}
		}
	}
	for _, r := range ws.Registry {
		inline(r.Owner)
		for _, e := range r.Entries {
			inline(e.Node)
		}
	}
	table := len(defaultCodec.mustMarshal(t, ref(1))) + len(defaultCodec.mustMarshal(t, ws.Nodes))
	plain := interned - table + extra
	t.Logf("100-member state: %d bytes interned, %d bytes with every identity inline (%.0f%%)",
		interned, plain, 100*float64(interned)/float64(plain))
	if interned*2 > plain {
		t.Errorf("interned state is %d bytes, more than half of the %d bytes without interning", interned, plain)
	}
}
