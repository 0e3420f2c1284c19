package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/rumorhq/rumor/proto"
)

// Version is the format version written in the first byte of every frame.
// A decoder rejects any other value with ErrVersion.
const Version = 1

// MaxFrameSize is the default limit on a frame's length in bytes (16 MiB).
// A frame over the limit is rejected before it is parsed, and Encode refuses
// to produce one.
const MaxFrameSize = 16 << 20

// headerLen is the version byte plus the kind byte.
const headerLen = 2

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (a rejected state also wraps proto.ErrInvalidState), and its text
// says what was wrong and where.
var (
	// ErrVersion reports a frame whose version byte is not Version.
	ErrVersion = errors.New("wire: unsupported version")
	// ErrKind reports an unknown kind byte, a frame of the wrong kind for
	// the call (a state frame passed to Decode), or a body that has no wire
	// form (a local command).
	ErrKind = errors.New("wire: bad kind")
	// ErrTruncated reports input that ends before the frame does.
	ErrTruncated = errors.New("wire: truncated frame")
	// ErrTooLarge reports a frame over MaxFrameSize, or a CBOR array, map or
	// nesting depth over the codec's limits.
	ErrTooLarge = errors.New("wire: frame too large")
	// ErrMalformed reports input that is not the CBOR this package writes
	// (bad syntax, duplicate map keys, indefinite lengths, tags, wrong
	// types, trailing bytes, invalid UTF-8), a message with bad fields (zero
	// UID, empty host, port 0), or a state that proto.ValidateState rejects.
	// Encode returns it for a message it would not accept back.
	ErrMalformed = errors.New("wire: malformed frame")
)

// Kind bytes: the second byte of a frame. Values are never reused.
const (
	kindJoin         byte = 1
	kindWelcome      byte = 2
	kindInitJoin     byte = 3
	kindInitJoinAck  byte = 4
	kindGossipStatus byte = 5
	kindGossipState  byte = 6
	kindHeartbeat    byte = 7
	kindHeartbeatAck byte = 8
	kindGossipSeen   byte = 9
	// kindState is a bare gossip state (EncodeState); it is not a message.
	kindState byte = 16
)

var kindNames = map[byte]string{
	kindJoin: "join", kindWelcome: "welcome", kindInitJoin: "init-join", kindInitJoinAck: "init-join-ack",
	kindGossipStatus: "gossip-status", kindGossipState: "gossip-state", kindHeartbeat: "heartbeat",
	kindHeartbeatAck: "heartbeat-ack", kindGossipSeen: "gossip-seen", kindState: "state",
}

// Options are a Codec's limits. The zero value of a field means its default
// (see DefaultOptions).
type Options struct {
	// MaxFrameSize bounds a frame in bytes, header included. Default
	// MaxFrameSize (16 MiB): a 100,000-member state fits in well under it.
	MaxFrameSize int
	// MaxArrayElements bounds every CBOR array. Default 1<<19, above the
	// largest list a valid state holds (proto.MaxClockEntries); it bounds
	// the memory a hostile frame can make a decoder allocate per list.
	MaxArrayElements int
	// MaxMapPairs bounds every CBOR map. Default 64: the widest struct has
	// 9 keys, so this leaves room for fields added by later versions.
	// Minimum 16.
	MaxMapPairs int
	// MaxNestedLevels bounds nesting of arrays and maps. Default 16; the
	// deepest valid frame nests 8 levels (envelope, body, state,
	// allocations, table, shards, shard, replicas). Range 4-65535.
	MaxNestedLevels int
}

// DefaultOptions returns the limits the package-level functions use.
func DefaultOptions() Options {
	return Options{
		MaxFrameSize:     MaxFrameSize,
		MaxArrayElements: 1 << 19,
		MaxMapPairs:      64,
		MaxNestedLevels:  16,
	}
}

// Codec encodes and decodes frames under a set of limits. A Codec is
// immutable and safe for concurrent use by multiple goroutines.
type Codec struct {
	opts Options
	em   cbor.UserBufferEncMode
	dm   cbor.DecMode
}

// NewCodec returns a codec with the given limits; zero fields take their
// defaults. It returns an error for limits out of range.
func NewCodec(o Options) (*Codec, error) {
	d := DefaultOptions()
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = d.MaxFrameSize
	}
	if o.MaxArrayElements == 0 {
		o.MaxArrayElements = d.MaxArrayElements
	}
	if o.MaxMapPairs == 0 {
		o.MaxMapPairs = d.MaxMapPairs
	}
	if o.MaxNestedLevels == 0 {
		o.MaxNestedLevels = d.MaxNestedLevels
	}
	if o.MaxFrameSize < headerLen+1 {
		return nil, fmt.Errorf("wire: MaxFrameSize %d below the smallest frame (%d bytes)", o.MaxFrameSize, headerLen+1)
	}
	em, err := cbor.CoreDetEncOptions().UserBufferEncMode()
	if err != nil {
		return nil, fmt.Errorf("wire: encoder options: %w", err)
	}
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxArrayElements: o.MaxArrayElements,
		MaxMapPairs:      o.MaxMapPairs,
		MaxNestedLevels:  o.MaxNestedLevels,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		return nil, fmt.Errorf("wire: decoder options: %w", err)
	}
	return &Codec{opts: o, em: em, dm: dm}, nil
}

// Options returns the codec's limits, defaults filled in.
func (c *Codec) Options() Options { return c.opts }

var defaultCodec = func() *Codec {
	c, err := NewCodec(Options{})
	if err != nil {
		panic("wire: default options rejected: " + err.Error())
	}
	return c
}()

// Encode returns the frame of a protocol message with the default limits.
// See Codec.Encode.
func Encode(m proto.Message) ([]byte, error) { return defaultCodec.Encode(m) }

// Decode parses a message frame with the default limits. See Codec.Decode.
func Decode(b []byte) (proto.Message, error) { return defaultCodec.Decode(b) }

// EncodeState returns the frame of a bare gossip state with the default
// limits. See Codec.EncodeState.
func EncodeState(s *proto.State) ([]byte, error) { return defaultCodec.EncodeState(s) }

// DecodeState parses a state frame with the default limits. See
// Codec.DecodeState.
func DecodeState(b []byte) (*proto.State, error) { return defaultCodec.DecodeState(b) }

// Size returns the length of m's frame with the default limits. See
// Codec.Size.
func Size(m proto.Message) int { return defaultCodec.Size(m) }

// Encode returns the frame of a protocol message: version byte, kind byte,
// deterministic CBOR. The same message always gives the same bytes.
//
// Encode refuses what Decode would reject, with ErrMalformed: a From with a
// zero UID, an empty host or port 0, a To with an empty host or port 0, text
// that is not UTF-8, and a state that proto.ValidateState rejects or that
// names a node with an empty host, port 0 or UID 0. A local command
// (proto.JoinSeeds, proto.Leave, ...) has no wire form: ErrKind. A frame over
// the codec's MaxFrameSize: ErrTooLarge. Tombstone times are not encoded.
func (c *Codec) Encode(m proto.Message) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(64)
	if err := c.appendMessage(&buf, m, true); err != nil {
		return nil, err
	}
	if buf.Len() > c.opts.MaxFrameSize {
		return nil, fmt.Errorf("%w: encode %s: %d bytes, limit %d", ErrTooLarge, m.Body.Kind(), buf.Len(), c.opts.MaxFrameSize)
	}
	return buf.Bytes(), nil
}

// Size returns the exact length in bytes of the frame Encode produces for m,
// whether or not it is over MaxFrameSize, or -1 if m has no wire form (a
// local command, a nil body, or a Welcome or GossipState without a state).
//
// Cost: one encoding into a scratch buffer, without Encode's validation: a
// few microseconds and a few small allocations for a heartbeat or a gossip
// status; for a state, Encode's time
// less proto.ValidateState (roughly half of it for 100 members; see
// BenchmarkSize). For a message Encode rejects as malformed, Size still
// reports the length of its encoding.
func (c *Codec) Size(m proto.Message) int {
	var buf bytes.Buffer
	if err := c.appendMessage(&buf, m, false); err != nil {
		return -1
	}
	return buf.Len()
}

// EncodeState returns the frame of a bare gossip state (kind 16), for
// storage or bulk transfer. Like Encode it refuses a state that Decode
// would reject, and it drops tombstone times.
func (c *Codec) EncodeState(s *proto.State) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: encode state: nil state", ErrMalformed)
	}
	ws, err := stateToWire(s, true)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(256)
	buf.WriteByte(Version)
	buf.WriteByte(kindState)
	if err := c.em.MarshalToBuffer(ws, &buf); err != nil {
		return nil, fmt.Errorf("%w: encode state: %v", ErrMalformed, err)
	}
	if buf.Len() > c.opts.MaxFrameSize {
		return nil, fmt.Errorf("%w: encode state: %d bytes, limit %d", ErrTooLarge, buf.Len(), c.opts.MaxFrameSize)
	}
	return buf.Bytes(), nil
}

// DecodeState parses a frame written by EncodeState. The state is checked
// with proto.ValidateState. Tombstones come back with the zero time: times
// are local to the node that recorded them and are never sent; the receiver
// stamps its own when it merges.
func (c *Codec) DecodeState(b []byte) (*proto.State, error) {
	kind, payload, err := c.header(b)
	if err != nil {
		return nil, err
	}
	if kind != kindState {
		return nil, fmt.Errorf("%w: kind %d (%s) is a message, not a state; use Decode", ErrKind, kind, kindNames[kind])
	}
	var ws wireState
	if err := c.unmarshal(payload, &ws); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s, err := stateFromWire(&ws)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return s, nil
}

// Decode parses a message frame. It never panics, whatever the input. The
// body comes back in value form (proto.Join, not *proto.Join). States are
// checked with proto.ValidateState and their tombstones carry the zero time
// (see DecodeState). Errors wrap ErrVersion, ErrKind, ErrTruncated,
// ErrTooLarge or ErrMalformed, and name the field at fault.
func (c *Codec) Decode(b []byte) (proto.Message, error) {
	kind, payload, err := c.header(b)
	if err != nil {
		return proto.Message{}, err
	}
	switch kind {
	case kindJoin:
		return decodeMessage(c, kind, payload, joinFromWire)
	case kindWelcome:
		return decodeMessage(c, kind, payload, func(w wireWelcome) (proto.Body, error) {
			s, err := requiredState(w.State)
			return proto.Welcome{State: s}, err
		})
	case kindInitJoin:
		return decodeMessage(c, kind, payload, func(wireEmpty) (proto.Body, error) { return proto.InitJoin{}, nil })
	case kindInitJoinAck:
		return decodeMessage(c, kind, payload, func(wireEmpty) (proto.Body, error) { return proto.InitJoinAck{}, nil })
	case kindGossipStatus:
		return decodeMessage(c, kind, payload, statusFromWire)
	case kindGossipState:
		return decodeMessage(c, kind, payload, func(w wireGossipState) (proto.Body, error) {
			s, err := requiredState(w.State)
			return proto.GossipState{State: s, Reply: w.Reply}, err
		})
	case kindGossipSeen:
		return decodeMessage(c, kind, payload, seenFromWire)
	case kindHeartbeat:
		return decodeMessage(c, kind, payload, func(w wireHeartbeat) (proto.Body, error) { return proto.Heartbeat{Seq: w.Seq}, nil })
	case kindHeartbeatAck:
		return decodeMessage(c, kind, payload, func(w wireHeartbeat) (proto.Body, error) { return proto.HeartbeatAck{Seq: w.Seq}, nil })
	case kindState:
		return proto.Message{}, fmt.Errorf("%w: kind %d is a bare state, not a message; use DecodeState", ErrKind, kind)
	}
	return proto.Message{}, fmt.Errorf("%w: unknown message kind %d", ErrKind, kind)
}

// header checks the frame's size, version and kind byte.
func (c *Codec) header(b []byte) (byte, []byte, error) {
	switch {
	case len(b) > c.opts.MaxFrameSize:
		return 0, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), c.opts.MaxFrameSize)
	case len(b) == 0:
		return 0, nil, fmt.Errorf("%w: empty frame", ErrTruncated)
	case b[0] != Version:
		return 0, nil, fmt.Errorf("%w: version %d, this decoder reads version %d", ErrVersion, b[0], Version)
	case len(b) < headerLen:
		return 0, nil, fmt.Errorf("%w: %d-byte frame ends inside the %d-byte header", ErrTruncated, len(b), headerLen)
	}
	if _, ok := kindNames[b[1]]; !ok {
		return 0, nil, fmt.Errorf("%w: unknown kind %d", ErrKind, b[1])
	}
	return b[1], b[headerLen:], nil
}

// unmarshal decodes one CBOR item that must fill payload exactly, mapping
// the library's errors to the package's sentinels.
func (c *Codec) unmarshal(payload []byte, v any) error {
	err := c.dm.Unmarshal(payload, v)
	if err == nil {
		return nil
	}
	var (
		arrayErr *cbor.MaxArrayElementsError
		mapErr   *cbor.MaxMapPairsError
		nestErr  *cbor.MaxNestedLevelError
	)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: no payload after the header", ErrTruncated)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: payload of %d bytes ends inside a CBOR item", ErrTruncated, len(payload))
	case errors.As(err, &arrayErr), errors.As(err, &mapErr), errors.As(err, &nestErr):
		return fmt.Errorf("%w: %v", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// decodeMessage decodes an envelope with body B and converts it.
func decodeMessage[B any](c *Codec, kind byte, payload []byte, body func(B) (proto.Body, error)) (proto.Message, error) {
	var e envelope[B]
	if err := c.unmarshal(payload, &e); err != nil {
		return proto.Message{}, fmt.Errorf("%s: %w", kindNames[kind], err)
	}
	m := proto.Message{
		From:  proto.UniqueAddress{Address: proto.Address{Host: e.From.Host, Port: e.From.Port}, UID: proto.UID(e.From.UID)},
		To:    proto.Address{Host: e.To.Host, Port: e.To.Port},
		ToUID: proto.UID(e.ToUID),
	}
	if err := checkHeader(m, false); err != nil {
		return proto.Message{}, fmt.Errorf("%s: %w", kindNames[kind], err)
	}
	b, err := body(e.Body)
	if err != nil {
		return proto.Message{}, fmt.Errorf("%s: %w", kindNames[kind], err)
	}
	m.Body = b
	return m, nil
}

func seenFromWire(w wireGossipSeen) (proto.Body, error) {
	if err := checkSeenBits(w.Seen); err != nil {
		return nil, err
	}
	return proto.GossipSeen{VersionDigest: w.VersionDigest, MembersDigest: w.MembersDigest, Seen: w.Seen, Reply: w.Reply}, nil
}

// checkSeenBits bounds a seen bitmap by the largest member list a state may
// hold. Whether it fits the receiver's member list is the receiver's
// business: only it knows the list.
func checkSeenBits(bits []byte) error {
	if limit := (proto.MaxMembers + 7) / 8; len(bits) > limit {
		return fmt.Errorf("%w: seen bitmap of %d bytes, limit %d", ErrTooLarge, len(bits), limit)
	}
	return nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// checkHost checks a host name or IP literal as it may appear on the wire.
func checkHost(host string, utf bool) error {
	switch {
	case host == "":
		return fmt.Errorf("empty host")
	case len(host) > proto.MaxNameLen:
		return fmt.Errorf("host of %d bytes, limit %d", len(host), proto.MaxNameLen)
	case utf && !utf8.ValidString(host):
		return fmt.Errorf("host %q is not UTF-8", host)
	}
	return nil
}

// checkNode checks a node identity named on the wire.
func checkNode(u proto.UniqueAddress, utf bool) error {
	if err := checkHost(u.Host, utf); err != nil {
		return err
	}
	if u.Port == 0 {
		return fmt.Errorf("%v: port 0", u)
	}
	if u.UID == 0 {
		return fmt.Errorf("%v: zero UID", u)
	}
	return nil
}

// checkHeader checks From and To. The UTF-8 check only matters on encode:
// the decoder already rejects invalid text.
func checkHeader(m proto.Message, utf bool) error {
	if err := checkNode(m.From, utf); err != nil {
		return malformed("from: %v", err)
	}
	if err := checkHost(m.To.Host, utf); err != nil {
		return malformed("to: %v", err)
	}
	if m.To.Port == 0 {
		return malformed("to %v: port 0", m.To)
	}
	return nil
}

// checkText checks a string field against a length limit and, on encode,
// UTF-8.
func checkText(what, s string, limit int, utf bool) error {
	if len(s) > limit {
		return malformed("%s of %d bytes, limit %d", what, len(s), limit)
	}
	if utf && !utf8.ValidString(s) {
		return malformed("%s %q is not UTF-8", what, s)
	}
	return nil
}

// appendMessage writes m's frame to buf. With check it first refuses what
// Decode would reject.
func (c *Codec) appendMessage(buf *bytes.Buffer, m proto.Message, check bool) error {
	body, err := valueBody(m.Body)
	if err != nil {
		return err
	}
	if check {
		if err := checkHeader(m, true); err != nil {
			return fmt.Errorf("encode %s: %w", body.Kind(), err)
		}
	}
	switch b := body.(type) {
	case proto.Join:
		if check {
			if err := checkJoin(b, true); err != nil {
				return fmt.Errorf("encode join: %w", err)
			}
		}
		return writeMessage(c, buf, kindJoin, m, wireJoin{ID: string(b.ID), Roles: b.Roles})
	case proto.Welcome:
		ws, err := stateBody(b.State, check)
		if err != nil {
			return fmt.Errorf("encode welcome: %w", err)
		}
		return writeMessage(c, buf, kindWelcome, m, wireWelcome{State: ws})
	case proto.InitJoin:
		return writeMessage(c, buf, kindInitJoin, m, wireEmpty{})
	case proto.InitJoinAck:
		return writeMessage(c, buf, kindInitJoinAck, m, wireEmpty{})
	case proto.GossipStatus:
		ws, err := statusToWire(b, check)
		if err != nil {
			return fmt.Errorf("encode gossip-status: %w", err)
		}
		return writeMessage(c, buf, kindGossipStatus, m, ws)
	case proto.GossipState:
		ws, err := stateBody(b.State, check)
		if err != nil {
			return fmt.Errorf("encode gossip-state: %w", err)
		}
		return writeMessage(c, buf, kindGossipState, m, wireGossipState{State: ws, Reply: b.Reply})
	case proto.GossipSeen:
		if err := checkSeenBits(b.Seen); err != nil {
			return fmt.Errorf("encode gossip-seen: %w", err)
		}
		return writeMessage(c, buf, kindGossipSeen, m, wireGossipSeen{
			VersionDigest: b.VersionDigest, MembersDigest: b.MembersDigest, Seen: b.Seen, Reply: b.Reply,
		})
	case proto.Heartbeat:
		return writeMessage(c, buf, kindHeartbeat, m, wireHeartbeat{Seq: b.Seq})
	case proto.HeartbeatAck:
		return writeMessage(c, buf, kindHeartbeatAck, m, wireHeartbeat{Seq: b.Seq})
	}
	return fmt.Errorf("%w: %s (%T) has no wire form", ErrKind, body.Kind(), body)
}

// valueBody turns a pointer body into its value form; a nil body or nil
// pointer is an error.
func valueBody(b proto.Body) (proto.Body, error) {
	var nilPtr bool
	switch p := b.(type) {
	case nil:
		return nil, fmt.Errorf("%w: encode: nil body", ErrKind)
	case *proto.Join:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.Welcome:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.InitJoin:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.InitJoinAck:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.GossipStatus:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.GossipState:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.GossipSeen:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.Heartbeat:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	case *proto.HeartbeatAck:
		if nilPtr = p == nil; !nilPtr {
			return *p, nil
		}
	default:
		return b, nil
	}
	return nil, fmt.Errorf("%w: encode: nil %T body", ErrKind, b)
}

func writeMessage[B any](c *Codec, buf *bytes.Buffer, kind byte, m proto.Message, body B) error {
	buf.WriteByte(Version)
	buf.WriteByte(kind)
	e := envelope[B]{
		From:  wireNode{Host: m.From.Host, Port: m.From.Port, UID: uint64(m.From.UID)},
		To:    wireAddr{Host: m.To.Host, Port: m.To.Port},
		ToUID: uint64(m.ToUID),
		Body:  body,
	}
	if err := c.em.MarshalToBuffer(&e, buf); err != nil {
		return fmt.Errorf("%w: encode %s: %v", ErrMalformed, kindNames[kind], err)
	}
	return nil
}

// checkJoin bounds a join's label and roles. Whether they are acceptable
// (sorted, unique) is the receiving node's decision.
func checkJoin(j proto.Join, utf bool) error {
	if err := checkText("id", string(j.ID), proto.MaxNameLen, utf); err != nil {
		return err
	}
	if len(j.Roles) > proto.MaxRoles {
		return malformed("%d roles, limit %d", len(j.Roles), proto.MaxRoles)
	}
	for i, r := range j.Roles {
		if r == "" {
			return malformed("roles[%d] is empty", i)
		}
		if err := checkText(fmt.Sprintf("roles[%d]", i), r, proto.MaxNameLen, utf); err != nil {
			return err
		}
	}
	return nil
}

func joinFromWire(w wireJoin) (proto.Body, error) {
	j := proto.Join{ID: proto.NodeID(w.ID), Roles: w.Roles}
	if err := checkJoin(j, false); err != nil {
		return nil, err
	}
	return j, nil
}

// stateBody converts the state of a Welcome or GossipState.
func stateBody(s *proto.State, check bool) (*wireState, error) {
	if s == nil {
		return nil, malformed("nil state")
	}
	ws, err := stateToWire(s, check)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return ws, nil
}

func requiredState(ws *wireState) (*proto.State, error) {
	if ws == nil {
		return nil, malformed("missing state")
	}
	s, err := stateFromWire(ws)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return s, nil
}
