package wire

// The wire structs below are the CBOR shapes of rumor's messages. They are
// private so that proto's types carry no encoding tags and a field renamed in
// proto changes no byte on the wire: each field is identified by its integer
// key, listed in doc.go. Keys are never reused; a new field takes a new key.
//
// A ref is a 1-based index into the node table of the enclosing State (or
// GossipStatus); 0 means "no node" and is only legal where noted.

// ref names a node by its position in a node table: table[ref-1].
type ref = uint32

// wireNode is a proto.UniqueAddress.
type wireNode struct {
	Host string `cbor:"1,keyasint,omitempty"`
	Port uint16 `cbor:"2,keyasint,omitempty"`
	UID  uint64 `cbor:"3,keyasint,omitempty"`
}

// wireAddr is a proto.Address.
type wireAddr struct {
	Host string `cbor:"1,keyasint,omitempty"`
	Port uint16 `cbor:"2,keyasint,omitempty"`
}

// envelope is the payload of a message frame; B is the body's wire struct.
// Body is always present (an empty map for bodies without fields), so a
// missing body is told apart from an empty one.
type envelope[B any] struct {
	From  wireNode `cbor:"1,keyasint"`
	To    wireAddr `cbor:"2,keyasint"`
	ToUID uint64   `cbor:"3,keyasint,omitempty"`
	Body  B        `cbor:"4,keyasint"`
}

type wireJoin struct {
	ID    string   `cbor:"1,keyasint,omitempty"`
	Roles []string `cbor:"2,keyasint,omitempty"`
}

type wireWelcome struct {
	State *wireState `cbor:"1,keyasint"`
}

// wireEmpty is the body of InitJoin and InitJoinAck: an empty map.
type wireEmpty struct{}

// wireStatus carries its own node table for the clock's keys.
type wireStatus struct {
	Nodes      []wireNode       `cbor:"1,keyasint,omitempty"`
	Clock      []wireClockEntry `cbor:"2,keyasint,omitempty"`
	SeenDigest uint64           `cbor:"3,keyasint,omitempty"`
	Reply      bool             `cbor:"4,keyasint,omitempty"`
	// VersionDigest stands in for Clock in a round's digest-only status.
	VersionDigest uint64 `cbor:"5,keyasint,omitempty"`
	// VersionSum is the sum of the version's counters.
	VersionSum uint64 `cbor:"6,keyasint,omitempty"`
}

type wireGossipState struct {
	State *wireState `cbor:"1,keyasint"`
	Reply bool       `cbor:"2,keyasint,omitempty"`
}

// wireGossipSeen is a proto.GossipSeen: a seen bitmap and the digests
// naming the version and member list it indexes.
type wireGossipSeen struct {
	VersionDigest uint64 `cbor:"1,keyasint,omitempty"`
	MembersDigest uint64 `cbor:"2,keyasint,omitempty"`
	Seen          []byte `cbor:"3,keyasint,omitempty"`
	Reply         bool   `cbor:"4,keyasint,omitempty"`
}

type wireHeartbeat struct {
	Seq uint64 `cbor:"1,keyasint,omitempty"`
}

// wireClockEntry is one vector clock entry, a two-element array
// [node ref, counter].
type wireClockEntry struct {
	_     struct{} `cbor:",toarray"`
	Node  ref
	Count uint64
}

// wireState is a proto.State with every UniqueAddress interned in Nodes.
//
// Invariant (checked on decode): Nodes is strictly increasing in
// (Host bytes, Port, UID) order; Clock and Tombstones are strictly
// increasing in ref; every other list keeps proto's order.
type wireState struct {
	Nodes           []wireNode        `cbor:"1,keyasint,omitempty"`
	Members         []wireMember      `cbor:"2,keyasint,omitempty"`
	Rows            []wireRow         `cbor:"3,keyasint,omitempty"`
	Clock           []wireClockEntry  `cbor:"4,keyasint,omitempty"`
	Seen            []ref             `cbor:"5,keyasint,omitempty"`
	Tombstones      []ref             `cbor:"6,keyasint,omitempty"`
	Allocations     []wireTypeAlloc   `cbor:"7,keyasint,omitempty"`
	AllocationEpoch uint64            `cbor:"8,keyasint,omitempty"`
	Registry        []wireRegistryRow `cbor:"9,keyasint,omitempty"`
}

type wireMember struct {
	Node         ref             `cbor:"1,keyasint,omitempty"`
	ID           string          `cbor:"2,keyasint,omitempty"`
	Status       uint8           `cbor:"3,keyasint,omitempty"`
	Roles        []string        `cbor:"4,keyasint,omitempty"`
	UpNumber     int64           `cbor:"5,keyasint,omitempty"`
	Hosts        []wireShardType `cbor:"6,keyasint,omitempty"`
	HostsVersion uint64          `cbor:"7,keyasint,omitempty"`
}

type wireShardType struct {
	Name     string `cbor:"1,keyasint,omitempty"`
	Shards   int64  `cbor:"2,keyasint,omitempty"`
	Replicas int64  `cbor:"3,keyasint,omitempty"`
}

type wireRow struct {
	Observer    ref    `cbor:"1,keyasint,omitempty"`
	Version     uint64 `cbor:"2,keyasint,omitempty"`
	Unreachable []ref  `cbor:"3,keyasint,omitempty"`
}

type wireTypeAlloc struct {
	Type   wireShardType `cbor:"1,keyasint"`
	Epoch  uint64        `cbor:"2,keyasint,omitempty"`
	Shards []wireShard   `cbor:"3,keyasint,omitempty"`
}

// wireShard is a proto.ShardAllocation; Primary 0 is an unallocated shard.
type wireShard struct {
	Primary  ref    `cbor:"1,keyasint,omitempty"`
	Replicas []ref  `cbor:"2,keyasint,omitempty"`
	Epoch    uint64 `cbor:"3,keyasint,omitempty"`
}

type wireRegistryRow struct {
	Owner   ref         `cbor:"1,keyasint,omitempty"`
	Version uint64      `cbor:"2,keyasint,omitempty"`
	Entries []wireEntry `cbor:"3,keyasint,omitempty"`
}

// wireEntry is a proto.ServiceEntry. Node is omitted (0) when it is the
// row's owner, which proto's invariant makes the only valid case; a
// non-zero Node keeps the encoding lossless for states that break it, which
// decoding then rejects.
type wireEntry struct {
	Key  string `cbor:"1,keyasint,omitempty"`
	Path string `cbor:"2,keyasint,omitempty"`
	Node ref    `cbor:"3,keyasint,omitempty"`
}
