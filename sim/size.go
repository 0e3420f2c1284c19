package sim

import (
	"math/bits"
	"unsafe"

	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/proto/wire"
)

// sizer returns the exact bytes a message takes on the wire (wire.Size),
// for the byte counters, without paying a full encoding per message: the
// envelope (sender, receiver) is computed from its fields once per pair of
// ends, heartbeat and join bodies are computed from their fields, and
// state and clock bodies once per state or clock. States and clocks are
// never modified once sent, so a cached body size stays exact; the caches
// hold the values they are keyed by, so a key's memory can never be reused
// by another value while cached.
type sizer struct {
	states [1 << stateSetsBits][2]stateLen // CBOR length of recent states' wireState
	clocks []clockBody                     // recent gossip-status clocks, newest last
	st     *stateSizer
	// measure returns m's exact length, wire.Size's. It is a closure over
	// the sizer rather than a method, so that the network calls it as its
	// Sizer directly: a method value would add a wrapper's call per
	// message.
	measure func(m *proto.Message) int
	env     [1 << envBits][2]envEntry
}

// envEntry is an entry of sizer.env, a two-way set-associative cache of
// envelope lengths by what they depend on: the lengths of the hosts, the
// ports and the UIDs. Its set is found by the UIDs, random in a run, and
// an entry is confirmed by all of them, so a hit is exact. A new entry
// goes first in its set and moves the first to second, so that two pairs
// of ends whose sets collide do not evict each other while they alternate.
type envEntry struct {
	from, to       uint64 // envEnd of the sender's and the receiver's address
	fromUID, toUID proto.UID
	n              int // envelope(m) - 1: the frame less the empty body map
}

// envBits is the log2 of the number of sets of sizer.env.
const envBits = 7

// envEnd packs what an envelope's length depends on in an address: its
// host's length and its port, with the top bit set so that no end is
// the zero of an empty entry.
func envEnd(a *proto.Address) uint64 { return 1<<63 | uint64(len(a.Host))<<16 | uint64(a.Port) }

type clockBody struct {
	clock  proto.VClock   // held so that ptr stays unique
	ptr    unsafe.Pointer // the clock's map
	reply  bool
	digest int // CBOR length of the seen digest
	body   int
}

// stateLen is an entry of sizer.states, a two-way set-associative cache
// of state lengths by the state's pointer: a new entry goes first in its
// set, moving the first to second. st is nil in an empty entry.
type stateLen struct {
	st *proto.State
	n  int
}

// Cache bounds. A state of a large cluster is big, and the cache keeps
// it alive, so only the most recent ones are kept: a state is sent to its
// fanout within one round, which is when it is hit.
const (
	stateSetsBits = 5 // log2 of the sets of sizer.states, two states each
	maxClockSizes = 64
)

// sizeCheck, when set (by tests), hears every computed size.
var sizeCheck func(m proto.Message, size int)

func newSizer() *sizer {
	z := &sizer{st: newStateSizer()}
	z.measure = func(m *proto.Message) int {
		var body int // the body map's length
		switch b := m.Body.(type) {
		case proto.Heartbeat:
			body = seqBody(b.Seq)
		case proto.HeartbeatAck:
			body = seqBody(b.Seq)
		case *proto.Heartbeat: // how a Node sends them
			if b == nil {
				return wireSize(m)
			}
			body = seqBody(b.Seq)
		case *proto.HeartbeatAck:
			if b == nil {
				return wireSize(m)
			}
			body = seqBody(b.Seq)
		case proto.InitJoin, proto.InitJoinAck:
			body = 1
		case proto.Join:
			body = joinBody(&b)
		case proto.GossipState:
			if b.State == nil {
				return wireSize(m)
			}
			body = z.stateBody(b.State, b.Reply)
		case proto.Welcome:
			if b.State == nil {
				return wireSize(m)
			}
			body = z.stateBody(b.State, false)
		case proto.GossipStatus:
			body = z.statusBody(&b)
		case proto.GossipSeen:
			body = seenBody(&b)
		default:
			return wireSize(m)
		}
		// The frame, envelope(m) - 1 (the envelope less its empty body map),
		// from z.env when it holds m's.
		from, to := envEnd(&m.From.Address), envEnd(&m.To)
		set := &z.env[envSet(m.From.UID, m.ToUID)]
		if e := &set[0]; e.from == from && e.to == to && e.fromUID == m.From.UID && e.toUID == m.ToUID {
			return e.n + body
		}
		if e := &set[1]; e.from == from && e.to == to && e.fromUID == m.From.UID && e.toUID == m.ToUID {
			return e.n + body
		}
		return fillEnv(set, m) + body
	}
	return z
}

// cborUint is the length of an unsigned integer in CBOR (RFC 8949 §3.1).
func cborUint(x uint64) int {
	if x < 24 {
		return 1
	}
	return int(cborUintLens[bits.Len64(x)])
}

// cborUintLens is the CBOR length of an integer >= 24 by its bit length.
var cborUintLens = [65]uint8{
	2, 2, 2, 2, 2, 2, 2, 2, 2, // 0xff
	3, 3, 3, 3, 3, 3, 3, 3, // 0xffff
	5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, // 0xffffffff
	9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
}

// seqBody is the length of a heartbeat's body: {1: seq}, or {} for 0.
func seqBody(seq uint64) int {
	if seq == 0 {
		return 1
	}
	return 2 + cborUint(seq)
}

func (z *sizer) size(m *proto.Message) int {
	n := z.measure(m)
	if sizeCheck != nil {
		sizeCheck(*m, n)
	}
	return n
}

// envSet is the index in sizer.env of the set of a message from the
// given UID to the given one.
func envSet(from, to proto.UID) uint64 {
	return (uint64(from) ^ bits.RotateLeft64(uint64(to), 32)) * 0x9E3779B97F4A7C15 >> (64 - envBits)
}

// wireSize is wire.Size(*m), for the bodies measure does not compute.
//
//go:noinline
func wireSize(m *proto.Message) int { return max(0, wire.Size(*m)) }

// fillEnv puts m's entry first in set and returns its n.
//
//go:noinline
func fillEnv(set *[2]envEntry, m *proto.Message) int {
	set[1] = set[0]
	set[0] = envEntry{from: envEnd(&m.From.Address), to: envEnd(&m.To), fromUID: m.From.UID, toUID: m.ToUID, n: envelope(m) - 1}
	return set[0].n
}

// joinBody is the CBOR length of a join body: a map of its non-empty
// fields, the label and the array of roles.
func joinBody(j *proto.Join) int {
	n := 1 // map header
	if j.ID != "" {
		n += 1 + cborText(string(j.ID))
	}
	if len(j.Roles) > 0 {
		n += 1 + cborUint(uint64(len(j.Roles)))
		for _, r := range j.Roles {
			n += cborText(r)
		}
	}
	return n
}

// seenBody is the CBOR length of a gossip-seen body: a map of its
// non-zero fields, the bitmap a byte string.
func seenBody(g *proto.GossipSeen) int {
	n := 1 // map header
	if g.VersionDigest != 0 {
		n += 1 + cborUint(g.VersionDigest)
	}
	if g.MembersDigest != 0 {
		n += 1 + cborUint(g.MembersDigest)
	}
	if k := len(g.Seen); k > 0 {
		n += 1 + cborUint(uint64(k)) + k
	}
	if g.Reply {
		n += 2
	}
	return n
}

// envelope is the frame length of m's envelope around an empty-map body:
// version and kind bytes, then the envelope map (proto/wire's envelope):
// {1: from, 2: to, 3: toUID (omitted when 0), 4: {}}, from a wireNode and
// to a wireAddr, maps of their non-zero fields.
func envelope(m *proto.Message) int {
	// Version, kind, the envelope's header, keys 1, 2 and 4, from's and
	// to's headers and the empty body map: 9 bytes.
	return 9 + optText(m.From.Host) + optUint(uint64(m.From.Port)) + optUint(uint64(m.From.UID)) +
		optText(m.To.Host) + optUint(uint64(m.To.Port)) + optUint(uint64(m.ToUID))
}

// optUint is the length of an integer map field omitted when zero: its
// one-byte key and the integer.
func optUint(x uint64) int {
	if x == 0 {
		return 0
	}
	return 1 + cborUint(x)
}

// optText is the length of a text map field omitted when empty.
func optText(s string) int {
	if s == "" {
		return 0
	}
	return 1 + cborText(s)
}

// stateBody is the length of a state body, {1: state} or {1: state, 2:
// true} (or the welcome's {1: state}). The state's length is cached by
// state alone: a state is sent as gossip, reply and welcome alike.
func (z *sizer) stateBody(st *proto.State, reply bool) int {
	set := &z.states[uint64(uintptr(unsafe.Pointer(st)))*0x9E3779B97F4A7C15>>(64-stateSetsBits)]
	var n int
	switch {
	case set[0].st == st:
		n = set[0].n
	case set[1].st == st:
		n = set[1].n
	default:
		n = z.st.size(st)
		set[1], set[0] = set[0], stateLen{st: st, n: n}
	}
	if reply {
		return n + 4
	}
	return n + 2
}

// statusBody is the length of a gossip status body.
func (z *sizer) statusBody(g *proto.GossipStatus) int {
	p := clockPtr(g.Version)
	d := cborUint(g.SeenDigest)
	if g.SeenDigest == 0 {
		d = 0 // omitted
	}
	if g.VersionDigest != 0 {
		d += 16 * cborUint(g.VersionDigest) // a distinct cache key per digest length
	}
	if g.VersionSum != 0 {
		d += 256 * cborUint(g.VersionSum)
	}
	for i := len(z.clocks) - 1; i >= 0; i-- {
		c := &z.clocks[i]
		if c.reply == g.Reply && c.digest == d && c.ptr == p {
			return c.body
		}
	}
	body := statusLen(g)
	if len(z.clocks) >= maxClockSizes {
		z.clocks = append(z.clocks[:0], z.clocks[maxClockSizes/2:]...)
	}
	z.clocks = append(z.clocks, clockBody{clock: g.Version, ptr: p, reply: g.Reply, digest: d, body: body})
	return body
}

// clockPtr is reflect.ValueOf(v).UnsafePointer() without reflect: a map
// value is one pointer to the runtime's map, nil for a nil map.
func clockPtr(v proto.VClock) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&v)) }

// statusLen is the CBOR length of a gossip status's wireStatus map. Its
// node table holds the clock's identities, each named once by the clock,
// so the refs are 1..n whatever the order.
func statusLen(g *proto.GossipStatus) int {
	n := 1 // map header
	if k := len(g.Version); k > 0 {
		n += 1 + cborUint(uint64(k)) + 1 + cborUint(uint64(k)) // nodes, clock
		for u, c := range g.Version {
			n++ // node map header
			if u.Host != "" {
				n += 1 + cborText(u.Host)
			}
			if u.Port != 0 {
				n += 1 + cborUint(uint64(u.Port))
			}
			if u.UID != 0 {
				n += 1 + cborUint(uint64(u.UID))
			}
			n += 1 + cborUint(c) // [ref, count] less the ref
		}
		n += refsLen(k)
	}
	if g.SeenDigest != 0 {
		n += 1 + cborUint(g.SeenDigest)
	}
	if g.Reply {
		n += 2
	}
	if g.VersionDigest != 0 {
		n += 1 + cborUint(g.VersionDigest)
	}
	if g.VersionSum != 0 {
		n += 1 + cborUint(g.VersionSum)
	}
	return n
}

// refsLen is the total CBOR length of the refs 1..k.
func refsLen(k int) int {
	n, prev := 0, 0
	for _, b := range [...]struct{ top, size int }{{23, 1}, {0xff, 2}, {0xffff, 3}, {0xffffffff, 5}} {
		if k <= b.top {
			return n + (k-prev)*b.size
		}
		n += (b.top - prev) * b.size
		prev = b.top
	}
	return n + (k-prev)*9
}
