package sim

import (
	"math/bits"
	"unsafe"

	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/proto/wire"
)

// sizer returns the exact bytes a message takes on the wire (wire.Size),
// for the byte counters, without paying a full encoding per message: the
// envelope (sender, receiver) is computed from its fields, heartbeat bodies
// are computed from their sequence number, and state and clock bodies once
// per state or clock. States and clocks are never modified once sent, so a
// cached body size stays exact; the caches hold the values they are keyed
// by, so a key's memory can never be reused by another value while cached.
type sizer struct {
	states map[*proto.State]int // CBOR length of a state's wireState
	clocks []clockBody          // recent gossip-status clocks, newest last
	st     *stateSizer
}

type clockBody struct {
	clock  proto.VClock   // held so that ptr stays unique
	ptr    unsafe.Pointer // the clock's map
	reply  bool
	digest int // CBOR length of the seen digest
	body   int
}

// Cache bounds. A state of a large cluster is big, and the cache keeps
// it alive, so only the most recent ones are kept: a state is sent to its
// fanout within one round, which is when it is hit.
const (
	maxStateSizes = 64
	maxClockSizes = 64
)

// sizeCheck, when set (by tests), hears every computed size.
var sizeCheck func(m proto.Message, size int)

func newSizer() *sizer {
	return &sizer{states: map[*proto.State]int{}, st: newStateSizer()}
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

func (z *sizer) measure(m *proto.Message) int {
	var body int // the body map's length
	switch b := m.Body.(type) {
	case proto.Heartbeat:
		body = seqBody(b.Seq)
	case proto.HeartbeatAck:
		body = seqBody(b.Seq)
	case *proto.Heartbeat:
		if b == nil {
			return max(0, wire.Size(*m))
		}
		body = seqBody(b.Seq)
	case *proto.HeartbeatAck:
		if b == nil {
			return max(0, wire.Size(*m))
		}
		body = seqBody(b.Seq)
	case proto.InitJoin, proto.InitJoinAck:
		body = 1
	case proto.GossipState:
		if b.State == nil {
			return max(0, wire.Size(*m))
		}
		body = z.stateBody(b.State, b.Reply)
	case proto.Welcome:
		if b.State == nil {
			return max(0, wire.Size(*m))
		}
		body = z.stateBody(b.State, false)
	case proto.GossipStatus:
		body = z.statusBody(&b)
	case proto.GossipSeen:
		body = seenBody(&b)
	default:
		return max(0, wire.Size(*m))
	}
	return envelope(m) - 1 + body
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
	n, ok := z.states[st]
	if !ok {
		n = z.st.size(st)
		if len(z.states) >= maxStateSizes {
			clear(z.states)
		}
		z.states[st] = n
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
