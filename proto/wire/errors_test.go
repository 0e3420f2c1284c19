package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto"
)

var sentinels = []error{ErrVersion, ErrKind, ErrTruncated, ErrTooLarge, ErrMalformed}

// checkErr fails unless err wraps want (and no other sentinel of this
// package) and its text contains every fragment of text.
func checkErr(t *testing.T, err, want error, text ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v also wraps %v", err, s)
		}
	}
	for _, frag := range text {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q does not mention %q", err, frag)
		}
	}
}

// rawFrame is a frame with the given header and a payload encoded from v
// by the canonical encoder (v may hold private wire structs, maps with int
// keys, or cbor.RawMessage).
func rawFrame(t *testing.T, version, kind byte, v any) []byte {
	t.Helper()
	payload, err := defaultCodec.em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{version, kind}, payload...)
}

func cborOf(t *testing.T, v any) []byte {
	t.Helper()
	return defaultCodec.mustMarshal(t, v)
}

// hbEnvelope is a valid heartbeat envelope to mutate.
func hbEnvelope() envelope[wireHeartbeat] {
	return envelope[wireHeartbeat]{
		From: wireNode{Host: "10.0.0.1", Port: 7000, UID: 11},
		To:   wireAddr{Host: "10.0.0.2", Port: 7000},
		Body: wireHeartbeat{Seq: 1},
	}
}

// stateFrame returns a gossip-state frame whose wire state was changed by
// mutate after an honest conversion of the small state.
func stateFrame(t *testing.T, mutate func(*wireState)) []byte {
	t.Helper()
	ws, err := stateToWire(buildState(smallSpec), true)
	if err != nil {
		t.Fatal(err)
	}
	mutate(ws)
	e := envelope[wireGossipState]{From: wireNode{Host: "10.0.0.1", Port: 7000, UID: 11},
		To: wireAddr{Host: "10.0.0.2", Port: 7000}, Body: wireGossipState{State: ws}}
	return rawFrame(t, Version, kindGossipState, e)
}

func statusFrame(t *testing.T, body wireStatus) []byte {
	t.Helper()
	e := envelope[wireStatus]{From: wireNode{Host: "10.0.0.1", Port: 7000, UID: 11},
		To: wireAddr{Host: "10.0.0.2", Port: 7000}, Body: body}
	return rawFrame(t, Version, kindGossipStatus, e)
}

func TestDecodeTruncated(t *testing.T) {
	frames := goldenFrames(t)
	for _, name := range sortedNames(frames) {
		frame := frames[name]
		t.Run(name, func(t *testing.T) {
			decode := func(b []byte) error { _, err := Decode(b); return err }
			if name == "state" {
				decode = func(b []byte) error { _, err := DecodeState(b); return err }
			}
			for n := 0; n < len(frame); n++ {
				err := decode(frame[:n])
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("prefix of %d of %d bytes: error %v, want ErrTruncated", n, len(frame), err)
				}
			}
			if err := decode(frame); err != nil {
				t.Fatalf("whole frame: %v", err)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	hb := goldenFrames(t)["heartbeat"]
	state := goldenFrames(t)["state"]
	big, err := Encode(header(proto.GossipState{State: buildState(benchSpec)}))
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*envelope[wireHeartbeat])) []byte {
		e := hbEnvelope()
		f(&e)
		return rawFrame(t, Version, kindHeartbeat, e)
	}
	small := func(o Options) *Codec {
		c, err := NewCodec(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Hand-built CBOR for what the encoder never writes.
	from, to := cborOf(t, hbEnvelope().From), cborOf(t, hbEnvelope().To)
	body := cborOf(t, wireHeartbeat{Seq: 1})
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	k := func(i byte) []byte { return []byte{i} } // small unsigned int keys encode as themselves

	cases := []struct {
		name  string
		codec *Codec
		frame []byte
		state bool // decode with DecodeState
		want  error
		text  []string
	}{
		{name: "version/0", frame: append([]byte{0}, hb[1:]...), want: ErrVersion, text: []string{"version 0"}},
		{name: "version/2", frame: append([]byte{2}, hb[1:]...), want: ErrVersion, text: []string{"version 2"}},
		{name: "version/255-one-byte", frame: []byte{255}, want: ErrVersion},
		{name: "kind/0", frame: append([]byte{1, 0}, hb[2:]...), want: ErrKind, text: []string{"kind 0"}},
		{name: "kind/10", frame: append([]byte{1, 10}, hb[2:]...), want: ErrKind, text: []string{"kind 10"}},
		{name: "gossip-seen/bitmap-too-large", frame: rawFrame(t, Version, kindGossipSeen, envelope[wireGossipSeen]{
			From: hbEnvelope().From, To: hbEnvelope().To,
			Body: wireGossipSeen{VersionDigest: 1, Seen: make([]byte, (proto.MaxMembers+7)/8+1)},
		}), want: ErrTooLarge, text: []string{"gossip-seen", "seen bitmap of 12501 bytes"}},
		{name: "gossip-seen/bitmap-not-bytes", frame: rawFrame(t, Version, kindGossipSeen, envelope[map[int]any]{
			From: hbEnvelope().From, To: hbEnvelope().To, Body: map[int]any{3: "bitmap"},
		}), want: ErrMalformed, text: []string{"gossip-seen"}},
		{name: "kind/255", frame: append([]byte{1, 255}, hb[2:]...), want: ErrKind},
		{name: "kind/state-to-decode", frame: state, want: ErrKind, text: []string{"DecodeState"}},
		{name: "kind/message-to-decode-state", frame: hb, state: true, want: ErrKind, text: []string{"use Decode"}},

		{name: "too-large/default-limit", frame: append(append([]byte{}, hb...), make([]byte, MaxFrameSize)...), want: ErrTooLarge, text: []string{"limit 16777216"}},
		{name: "too-large/codec-limit", codec: small(Options{MaxFrameSize: 1024}), frame: big, want: ErrTooLarge, text: []string{"limit 1024"}},
		{name: "too-large/array", codec: small(Options{MaxArrayElements: 16}), frame: big, want: ErrTooLarge, text: []string{"array"}},
		{name: "too-large/map", codec: small(Options{MaxMapPairs: 16}), want: ErrTooLarge, text: []string{"map"},
			frame: rawFrame(t, Version, kindHeartbeat, map[int]any{1: hbEnvelope().From, 2: hbEnvelope().To, 4: map[int]int{
				1: 1, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0, 17: 0, 18: 0, 19: 0, 20: 0, 21: 0, 22: 0, 23: 0, 24: 0, 25: 0}})},
		{name: "too-large/nesting", codec: small(Options{MaxNestedLevels: 4}), frame: big, want: ErrTooLarge, text: []string{"nested"}},

		{name: "malformed/garbage", frame: []byte{1, 7, 0xff, 0xfe}, want: ErrMalformed},
		{name: "malformed/reserved-additional-info", frame: []byte{1, 7, 0x1c}, want: ErrMalformed},
		{name: "malformed/trailing-bytes", frame: append(append([]byte{}, hb...), 0x00), want: ErrMalformed, text: []string{"extraneous"}},
		{name: "malformed/two-items", frame: append(append([]byte{}, hb...), hb[2:]...), want: ErrMalformed},
		{name: "malformed/duplicate-key", frame: join([]byte{1, 7, 0xa4}, k(1), from, k(2), to, k(4), body, k(4), body), want: ErrMalformed, text: []string{"duplicate"}},
		{name: "malformed/indefinite-map", frame: join([]byte{1, 7, 0xbf}, k(1), from, k(2), to, k(4), body, []byte{0xff}), want: ErrMalformed, text: []string{"indefinite"}},
		{name: "malformed/indefinite-string", frame: join([]byte{1, 7, 0xa3, 0x01, 0xa3, 0x01, 0x7f, 0x61, 'a', 0xff, 0x02, 0x01, 0x03, 0x01}, k(2), to, k(4), body), want: ErrMalformed, text: []string{"indefinite"}},
		{name: "malformed/tag", frame: join([]byte{1, 7, 0xc1}, hb[2:]), want: ErrMalformed, text: []string{"tag"}},
		{name: "malformed/array-payload", frame: []byte{1, 7, 0x80}, want: ErrMalformed},
		{name: "malformed/string-uid", frame: rawFrame(t, Version, kindHeartbeat, map[int]any{1: map[int]any{1: "h", 2: 1, 3: "11"}, 2: hbEnvelope().To, 4: map[int]any{}}), want: ErrMalformed},
		{name: "malformed/port-overflow", frame: rawFrame(t, Version, kindHeartbeat, map[int]any{1: map[int]any{1: "h", 2: 70000, 3: 11}, 2: hbEnvelope().To, 4: map[int]any{}}), want: ErrMalformed, text: []string{"overflow"}},
		{name: "malformed/negative-seq", frame: rawFrame(t, Version, kindHeartbeat, map[int]any{1: hbEnvelope().From, 2: hbEnvelope().To, 4: map[int]any{1: -1}}), want: ErrMalformed},
		{name: "malformed/float-seq", frame: rawFrame(t, Version, kindHeartbeat, map[int]any{1: hbEnvelope().From, 2: hbEnvelope().To, 4: map[int]any{1: 1.5}}), want: ErrMalformed},
		{name: "malformed/invalid-utf8", frame: join([]byte{1, 7, 0xa3, 0x01, 0xa3, 0x01, 0x62, 0xc3, 0x28, 0x02, 0x01, 0x03, 0x01}, k(2), to, k(4), body), want: ErrMalformed, text: []string{"UTF-8"}},
		{name: "malformed/null-payload", frame: []byte{1, 7, 0xf6}, want: ErrMalformed, text: []string{"from"}},

		{name: "from/zero-uid", frame: with(func(e *envelope[wireHeartbeat]) { e.From.UID = 0 }), want: ErrMalformed, text: []string{"from", "zero UID"}},
		{name: "from/empty-host", frame: with(func(e *envelope[wireHeartbeat]) { e.From.Host = "" }), want: ErrMalformed, text: []string{"from", "empty host"}},
		{name: "from/port-0", frame: with(func(e *envelope[wireHeartbeat]) { e.From.Port = 0 }), want: ErrMalformed, text: []string{"from", "port 0"}},
		{name: "from/long-host", frame: with(func(e *envelope[wireHeartbeat]) { e.From.Host = strings.Repeat("h", proto.MaxNameLen+1) }), want: ErrMalformed, text: []string{"from", "limit"}},
		{name: "to/empty-host", frame: with(func(e *envelope[wireHeartbeat]) { e.To.Host = "" }), want: ErrMalformed, text: []string{"to", "empty host"}},
		{name: "to/port-0", frame: with(func(e *envelope[wireHeartbeat]) { e.To.Port = 0 }), want: ErrMalformed, text: []string{"to", "port 0"}},

		{name: "join/too-many-roles", want: ErrMalformed, text: []string{"roles"},
			frame: rawFrame(t, Version, kindJoin, envelope[wireJoin]{From: hbEnvelope().From, To: hbEnvelope().To, Body: wireJoin{Roles: make([]string, proto.MaxRoles+1)}})},
		{name: "join/empty-role", want: ErrMalformed, text: []string{"roles[1] is empty"},
			frame: rawFrame(t, Version, kindJoin, envelope[wireJoin]{From: hbEnvelope().From, To: hbEnvelope().To, Body: wireJoin{Roles: []string{"a", ""}}})},
		{name: "welcome/missing-state", want: ErrMalformed, text: []string{"welcome", "missing state"},
			frame: rawFrame(t, Version, kindWelcome, envelope[wireEmpty]{From: hbEnvelope().From, To: hbEnvelope().To})},
		{name: "gossip-state/null-state", want: ErrMalformed, text: []string{"missing state"},
			frame: rawFrame(t, Version, kindGossipState, envelope[wireGossipState]{From: hbEnvelope().From, To: hbEnvelope().To})},

		{name: "status/zero-counter", want: ErrMalformed, text: []string{"clock[0]", "zero counter"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1, UID: 1}}, Clock: []wireClockEntry{{Node: 1}}})},
		{name: "status/node-twice", want: ErrMalformed, text: []string{"clock[1]", "not above"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1, UID: 1}}, Clock: []wireClockEntry{{Node: 1, Count: 1}, {Node: 1, Count: 2}}})},
		{name: "status/ref-out-of-range", want: ErrMalformed, text: []string{"clock[0]", "ref 2 out of range"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1, UID: 1}}, Clock: []wireClockEntry{{Node: 2, Count: 1}}})},
		{name: "status/ref-zero", want: ErrMalformed, text: []string{"clock[0]", "missing node ref"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1, UID: 1}}, Clock: []wireClockEntry{{Node: 0, Count: 1}}})},
		{name: "status/table-unsorted", want: ErrMalformed, text: []string{"nodes[1]", "order"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "b", Port: 1, UID: 1}, {Host: "a", Port: 1, UID: 1}}})},
		{name: "status/table-duplicate", want: ErrMalformed, text: []string{"nodes[1]", "order"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1, UID: 1}, {Host: "a", Port: 1, UID: 1}}})},
		{name: "status/table-zero-uid", want: ErrMalformed, text: []string{"nodes[0]", "zero UID"},
			frame: statusFrame(t, wireStatus{Nodes: []wireNode{{Host: "a", Port: 1}}})},
		{name: "status/clock-entry-not-a-pair", want: ErrMalformed,
			frame: rawFrame(t, Version, kindGossipStatus, map[int]any{1: hbEnvelope().From, 2: hbEnvelope().To, 4: map[int]any{
				1: []wireNode{{Host: "a", Port: 1, UID: 1}}, 2: []any{[]uint64{1, 2, 3}}}})},

		{name: "state/member-ref-zero", frame: stateFrame(t, func(w *wireState) { w.Members[1].Node = 0 }), want: ErrMalformed, text: []string{"members[1].node", "missing"}},
		{name: "state/member-ref-out-of-range", frame: stateFrame(t, func(w *wireState) { w.Members[0].Node = 99 }), want: ErrMalformed, text: []string{"members[0].node", "ref 99 out of range"}},
		{name: "state/members-unsorted", frame: stateFrame(t, func(w *wireState) { w.Members[0], w.Members[1] = w.Members[1], w.Members[0] }), want: ErrMalformed, text: []string{"not sorted"}},
		{name: "state/status-removed", frame: stateFrame(t, func(w *wireState) { w.Members[0].Status = uint8(proto.Removed) }), want: ErrMalformed, text: []string{"Removed"}},
		{name: "state/status-unknown", frame: stateFrame(t, func(w *wireState) { w.Members[0].Status = 0 }), want: ErrMalformed, text: []string{"status"}},
		{name: "state/seen-ref-out-of-range", frame: stateFrame(t, func(w *wireState) { w.Seen[0] = 50 }), want: ErrMalformed, text: []string{"seen[0]"}},
		{name: "state/tombstone-twice", frame: stateFrame(t, func(w *wireState) { w.Tombstones = append(w.Tombstones, w.Tombstones[0]) }), want: ErrMalformed, text: []string{"tombstones[1]"}},
		{name: "state/unreachable-ref", frame: stateFrame(t, func(w *wireState) { w.Rows[0].Unreachable[0] = 77 }), want: ErrMalformed, text: []string{"reachability[0].unreachable[0]"}},
		{name: "state/replica-ref", frame: stateFrame(t, func(w *wireState) { w.Allocations[0].Shards[2].Replicas[0] = 0 }), want: ErrMalformed, text: []string{"allocations[0].shards[2].replicas[0]"}},
		{name: "state/primary-ref", frame: stateFrame(t, func(w *wireState) { w.Allocations[0].Shards[3].Primary = 42 }), want: ErrMalformed, text: []string{"allocations[0].shards[3].primary"}},
		{name: "state/shard-count", frame: stateFrame(t, func(w *wireState) { w.Allocations[0].Shards = w.Allocations[0].Shards[:3] }), want: ErrMalformed, text: []string{"has 3 shards"}},
		{name: "state/registry-owner", frame: stateFrame(t, func(w *wireState) { w.Registry[0].Owner = 0 }), want: ErrMalformed, text: []string{"registry[0].owner"}},
		{name: "state/entry-not-the-owner", frame: stateFrame(t, func(w *wireState) {
			w.Registry[0].Entries[0].Node = w.Registry[0].Owner%ref(len(w.Nodes)) + 1
		}), want: ErrMalformed, text: []string{"bad entry"}},
		{name: "state/table-port-0", frame: stateFrame(t, func(w *wireState) { w.Nodes[2].Port = 0 }), want: ErrMalformed, text: []string{"nodes[2]", "port 0"}},
		{name: "state/clock-zero", frame: stateFrame(t, func(w *wireState) { w.Clock[0].Count = 0 }), want: ErrMalformed, text: []string{"clock[0]"}},
		{name: "state/allocation-epoch-behind", frame: stateFrame(t, func(w *wireState) { w.AllocationEpoch = 0 }), want: ErrMalformed, text: []string{"epoch"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			codec := c.codec
			if codec == nil {
				codec = defaultCodec
			}
			var err error
			if c.state {
				var s *proto.State
				s, err = codec.DecodeState(c.frame)
				if err == nil {
					t.Fatalf("DecodeState accepted the frame: %+v", s)
				}
			} else {
				var m proto.Message
				m, err = codec.Decode(c.frame)
				if err == nil {
					t.Fatalf("Decode accepted the frame: %+v", m)
				}
			}
			checkErr(t, err, c.want, c.text...)
		})
	}
}

// TestDecodeInvalidStateWrapsProto checks that a state proto rejects is
// reported as both ErrMalformed and proto.ErrInvalidState.
func TestDecodeInvalidStateWrapsProto(t *testing.T) {
	cases := map[string]func(*wireState){
		"members-unsorted": func(w *wireState) { w.Members[0], w.Members[1] = w.Members[1], w.Members[0] },
		"negative-up":      func(w *wireState) { w.Members[0].UpNumber = -1 },
		"bad-shard-type":   func(w *wireState) { w.Allocations[0].Type.Shards = 0 },
	}
	for _, name := range sortedNames(cases) {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(stateFrame(t, cases[name]))
			checkErr(t, err, ErrMalformed, "state")
			if !errors.Is(err, proto.ErrInvalidState) {
				t.Errorf("error %v does not wrap proto.ErrInvalidState", err)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	withHeader := func(f func(*proto.Message)) proto.Message {
		m := header(proto.Heartbeat{Seq: 1})
		f(&m)
		return m
	}
	unsorted := buildState(smallSpec)
	unsorted.Members[0], unsorted.Members[1] = unsorted.Members[1], unsorted.Members[0]
	badRole := buildState(smallSpec)
	badRole.Members[0].Roles = []string{"\xff"}
	portZero := buildState(smallSpec)
	portZero.Tombstones[proto.UniqueAddress{Address: proto.Address{Host: "10.9.9.9"}, UID: 3}] = portZero.Tombstones[node(smallSpec.members)]
	small, err := NewCodec(Options{MaxFrameSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		codec *Codec
		msg   proto.Message
		want  error
		text  []string
	}{
		{name: "command/join-seeds", msg: header(proto.JoinSeeds{}), want: ErrKind, text: []string{"cmd-join", "no wire form"}},
		{name: "command/leave", msg: header(&proto.Leave{}), want: ErrKind, text: []string{"cmd-leave"}},
		{name: "command/down", msg: header(proto.DownNode{}), want: ErrKind, text: []string{"cmd-down"}},
		{name: "command/host", msg: header(proto.HostShards{}), want: ErrKind, text: []string{"cmd-host"}},
		{name: "command/unhost", msg: header(proto.StopHosting{}), want: ErrKind, text: []string{"cmd-unhost"}},
		{name: "command/register", msg: header(proto.Register{}), want: ErrKind, text: []string{"cmd-register"}},
		{name: "command/deregister", msg: header(proto.Deregister{}), want: ErrKind, text: []string{"cmd-deregister"}},
		{name: "nil-body", msg: header(nil), want: ErrKind, text: []string{"nil body"}},
		{name: "nil-pointer-body", msg: header((*proto.GossipStatus)(nil)), want: ErrKind, text: []string{"nil"}},
		{name: "nil-pointer-seen", msg: header((*proto.GossipSeen)(nil)), want: ErrKind, text: []string{"nil"}},
		{name: "seen-bitmap-too-large", msg: header(proto.GossipSeen{Seen: make([]byte, (proto.MaxMembers+7)/8+1)}), want: ErrTooLarge, text: []string{"gossip-seen", "limit 12500"}},
		{name: "welcome/nil-state", msg: header(proto.Welcome{}), want: ErrMalformed, text: []string{"welcome", "nil state"}},
		{name: "gossip-state/nil-state", msg: header(&proto.GossipState{}), want: ErrMalformed, text: []string{"gossip-state", "nil state"}},
		{name: "from/zero-uid", msg: withHeader(func(m *proto.Message) { m.From.UID = 0 }), want: ErrMalformed, text: []string{"from", "zero UID"}},
		{name: "from/empty-host", msg: withHeader(func(m *proto.Message) { m.From.Host = "" }), want: ErrMalformed, text: []string{"from", "empty host"}},
		{name: "from/port-0", msg: withHeader(func(m *proto.Message) { m.From.Port = 0 }), want: ErrMalformed, text: []string{"from", "port 0"}},
		{name: "from/not-utf8", msg: withHeader(func(m *proto.Message) { m.From.Host = "\xc3\x28" }), want: ErrMalformed, text: []string{"UTF-8"}},
		{name: "to/zero", msg: withHeader(func(m *proto.Message) { m.To = proto.Address{} }), want: ErrMalformed, text: []string{"to", "empty host"}},
		{name: "join/id-not-utf8", msg: header(proto.Join{ID: "\xff"}), want: ErrMalformed, text: []string{"id", "UTF-8"}},
		{name: "join/long-role", msg: header(proto.Join{Roles: []string{strings.Repeat("r", proto.MaxNameLen+1)}}), want: ErrMalformed, text: []string{"roles[0]", "limit"}},
		{name: "status/zero-counter", msg: header(proto.GossipStatus{Version: proto.VClock{node(1): 0}}), want: ErrMalformed, text: []string{"zero counter"}},
		{name: "status/zero-node", msg: header(proto.GossipStatus{Version: proto.VClock{{}: 1}}), want: ErrMalformed, text: []string{"clock", "empty host"}},
		{name: "state/invalid", msg: header(proto.GossipState{State: unsorted}), want: ErrMalformed, text: []string{"not sorted"}},
		{name: "state/role-not-utf8", msg: header(proto.Welcome{State: badRole}), want: ErrMalformed, text: []string{"members[0].roles[0]", "UTF-8"}},
		{name: "state/node-port-0", msg: header(proto.GossipState{State: portZero}), want: ErrMalformed, text: []string{"port 0"}},
		{name: "too-large", codec: small, msg: header(proto.GossipState{State: buildState(smallSpec)}), want: ErrTooLarge, text: []string{"limit 100"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			codec := c.codec
			if codec == nil {
				codec = defaultCodec
			}
			b, err := codec.Encode(c.msg)
			if err == nil {
				t.Fatalf("Encode accepted the message: %x", b)
			}
			checkErr(t, err, c.want, c.text...)
		})
	}
	t.Run("state/invalid-wraps-proto", func(t *testing.T) {
		_, err := Encode(header(proto.GossipState{State: unsorted}))
		if !errors.Is(err, proto.ErrInvalidState) {
			t.Errorf("error %v does not wrap proto.ErrInvalidState", err)
		}
	})
	t.Run("encode-state/nil", func(t *testing.T) {
		_, err := EncodeState(nil)
		checkErr(t, err, ErrMalformed, "nil state")
	})
	t.Run("encode-state/invalid", func(t *testing.T) {
		_, err := EncodeState(unsorted)
		checkErr(t, err, ErrMalformed, "not sorted")
	})
	t.Run("encode-state/too-large", func(t *testing.T) {
		_, err := small.EncodeState(buildState(smallSpec))
		checkErr(t, err, ErrTooLarge, "limit 100")
	})
}

func TestNewCodec(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		ok   bool
		want Options
	}{
		{name: "zero-means-defaults", opts: Options{}, ok: true, want: DefaultOptions()},
		{name: "partial", opts: Options{MaxFrameSize: 4096}, ok: true,
			want: Options{MaxFrameSize: 4096, MaxArrayElements: 1 << 19, MaxMapPairs: 64, MaxNestedLevels: 16}},
		{name: "frame-too-small", opts: Options{MaxFrameSize: 2}},
		{name: "map-pairs-below-16", opts: Options{MaxMapPairs: 5}},
		{name: "array-below-16", opts: Options{MaxArrayElements: 3}},
		{name: "nesting-below-4", opts: Options{MaxNestedLevels: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			codec, err := NewCodec(c.opts)
			if !c.ok {
				if err == nil {
					t.Fatalf("NewCodec(%+v) accepted", c.opts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := codec.Options(); got != c.want {
				t.Errorf("Options() = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestNestingDepth checks the depth that Options.MaxNestedLevels documents:
// a state with replicas nests 8 levels deep.
func TestNestingDepth(t *testing.T) {
	frame, err := Encode(header(proto.GossipState{State: buildState(smallSpec)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		levels int
		want   error
	}{{8, nil}, {7, ErrTooLarge}} {
		t.Run(fmt.Sprintf("levels-%d", c.levels), func(t *testing.T) {
			codec, err := NewCodec(Options{MaxNestedLevels: c.levels})
			if err != nil {
				t.Fatal(err)
			}
			_, err = codec.Decode(frame)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			checkErr(t, err, c.want, "nested")
		})
	}
}

// TestUnknownKeysIgnored checks forward compatibility: map keys this
// version does not know are skipped, and non-canonical spellings decode.
// (Unknown kinds are rejected: see TestDecodeErrors.)
func TestUnknownKeysIgnored(t *testing.T) {
	e := hbEnvelope()
	want, err := Decode(rawFrame(t, Version, kindHeartbeat, e))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]any{
		"envelope-key":  map[int]any{1: e.From, 2: e.To, 4: e.Body, 99: "future field"},
		"body-key":      map[int]any{1: e.From, 2: e.To, 4: map[int]any{1: 1, 7: []int{1, 2}}},
		"node-key":      map[int]any{1: map[int]any{1: e.From.Host, 2: e.From.Port, 3: e.From.UID, 4: true}, 2: e.To, 4: e.Body},
		"text-key":      map[any]any{1: e.From, 2: e.To, 4: e.Body, "x": 1},
		"negative-key":  map[int]any{1: e.From, 2: e.To, 4: e.Body, -3: 1},
		"non-canonical": cbor.RawMessage(nonCanonicalHeartbeat(t, e)),
	}
	for _, name := range sortedNames(cases) {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(rawFrame(t, Version, kindHeartbeat, cases[name]))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(want, got, msgOpts); diff != "" {
				t.Errorf("decoded message (-want +got):\n%s", diff)
			}
		})
	}
}

// nonCanonicalHeartbeat spells e with keys out of order and integers in
// longer forms than needed; decoders accept it, encoders never write it.
func nonCanonicalHeartbeat(t *testing.T, e envelope[wireHeartbeat]) []byte {
	t.Helper()
	return bytes.Join([][]byte{
		{0xa3},
		{0x04}, {0xa1, 0x01, 0x19, 0x00, 0x01}, // 4: {1: 1 as a 16-bit integer}
		{0x02}, cborOf(t, e.To),
		{0x18, 0x01}, cborOf(t, e.From), // key 1 as an 8-bit integer
	}, nil)
}
