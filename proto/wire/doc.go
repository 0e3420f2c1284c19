// Package wire is the versioned binary encoding of rumor's protocol
// messages (proto.Join, Welcome, InitJoin, InitJoinAck, GossipStatus,
// GossipState, GossipSeen, Heartbeat, HeartbeatAck) and of the gossip state. realnet
// puts its frames on UDP and TCP; the simulator calls Size to account the
// bytes a message would cost. Local commands (proto.JoinSeeds, Leave,
// DownNode, HostShards, StopHosting, Register, Deregister) never leave a
// node and have no wire form: encoding one returns ErrKind.
//
// This package imports proto; proto never imports it.
//
// # Frame
//
//	byte 0     version, 1 (Version)
//	byte 1     kind: 1 join, 2 welcome, 3 init-join, 4 init-join-ack,
//	           5 gossip-status, 6 gossip-state, 7 heartbeat,
//	           8 heartbeat-ack, 9 gossip-seen; 16 a bare state
//	           (EncodeState)
//	bytes 2..  exactly one CBOR data item (RFC 8949)
//
// A frame is at most MaxFrameSize bytes (16 MiB; see Options). For a
// message the CBOR item is a map with unsigned integer keys:
//
//	envelope       1 From node, 2 To address, 3 ToUID (omitted when 0), 4 body
//	node           1 host (text), 2 port, 3 UID
//	address        1 host, 2 port
//	join           1 ID, 2 roles [text]
//	welcome        1 state
//	init-join(-ack) {} (an empty map)
//	gossip-status  1 node table, 2 clock, 3 seen digest, 4 reply (bool),
//	               5 version digest, 6 version sum (a round's status,
//	               without 1 and 2)
//	gossip-state   1 state, 2 reply
//	gossip-seen    1 version digest, 2 members digest, 3 seen bitmap
//	               (bytes; bit i of byte i/8, least significant first,
//	               for the i-th member), 4 reply
//	heartbeat(-ack) 1 seq
//
// A state (a welcome's or gossip-state's key 1, or the whole item of a
// kind-16 frame) is
//
//	state          1 node table [node], 2 members, 3 reachability rows,
//	               4 clock, 5 seen [ref], 6 tombstones [ref],
//	               7 allocations, 8 allocation epoch, 9 registry rows
//	member         1 node ref, 2 ID, 3 status (1 Joining .. 6 Down),
//	               4 roles, 5 up number, 6 hosts [shard type], 7 hosts version
//	shard type     1 name, 2 shards, 3 replicas
//	row            1 observer ref, 2 version, 3 unreachable [ref]
//	clock          [[ref, counter], ...] sorted by ref, counters > 0
//	allocation     1 shard type, 2 epoch, 3 shards
//	shard          1 primary ref (omitted: unallocated), 2 replicas [ref], 3 epoch
//	registry row   1 owner ref, 2 version, 3 entries
//	entry          1 key, 2 path, 3 node ref (omitted: the row's owner)
//
// Fields equal to their zero value are omitted; a decoder reads a missing
// key as zero. The body (key 4) is always present.
//
// # Interned identities
//
// A UniqueAddress costs about 25 bytes (host text, port, 64-bit UID), and a
// state names each member many times: as a member, in the clock, the seen
// set, reachability rows, shard placements and registry rows. Within one
// state (or one gossip-status clock) every identity is therefore written
// once in the node table and named elsewhere by its ref, the 1-based
// position in that table (one byte up to 23, two up to 255, three up to
// 65535); ref 0 means "no node" and is legal only for an unallocated
// shard's primary. The node table is sorted by host bytes, then port, then
// UID: a canonical order that is cheap to check, so a decoder rejects a
// repeated entry in one pass. It is not proto's address order, which
// parses IP literals. Interning makes the 100-member benchmark state less
// than half the size it would have with every identity inline (46%,
// TestInterningSaves).
//
// # Determinism
//
// The encoder uses CBOR core deterministic encoding (RFC 8949 §4.2.1):
// shortest integer forms, definite lengths only, map keys sorted. Maps of
// the proto types are written in a fixed order (clock entries and
// tombstones sorted by ref), every list keeps proto's order, and tombstone
// times are not written. So equal messages always give identical bytes,
// which the golden vectors in testdata/golden pin.
//
// # Decoding
//
// Decode and DecodeState never panic, whatever the input. The CBOR decoder
// is strict: duplicate map keys, indefinite lengths, tags, invalid UTF-8,
// wrong types, integers that overflow their field, and bytes after the item
// are all rejected; arrays, maps and nesting are bounded by the Codec's
// Options. Then the message is checked: From must have a host (at most
// proto.MaxNameLen bytes), a port and a non-zero UID; To a host and a port;
// the node table valid identities in order; every ref in range; clock refs
// increasing with non-zero counters; tombstone refs increasing; and every
// state passes proto.ValidateState (its error is wrapped in ErrMalformed, so
// errors.Is finds both). Every error wraps exactly one of ErrVersion,
// ErrKind, ErrTruncated, ErrTooLarge and ErrMalformed, and its text names
// the field at fault ("gossip-state: state: ... members[3].node: node ref 17
// out of range (table has 5 nodes)").
//
// Encode refuses what Decode would reject, so a node never sends a frame
// its peers must drop.
//
// Tombstone times are local: the time a node learned of a removal is never
// sent. A decoded state's tombstones carry time.Time{}; proto's merge stamps
// tombstones new to the receiver with its own clock.
//
// # Versioning
//
//   - A frame whose version byte is not 1 is rejected with ErrVersion. A
//     change existing decoders would misread bumps the version.
//   - A new field takes a new integer key; keys are never reused or
//     renumbered, and renaming a field in proto changes no byte.
//   - Decoders ignore map keys they do not know, so a version-1 peer can
//     read frames from a later version-1 peer that added optional fields
//     (forward compatibility). A new field must therefore be safe to
//     ignore; one that is not needs a new kind or a new version.
//   - Unknown kind bytes are rejected with ErrKind: a message an old node
//     does not understand is dropped, not misread.
//
// # Why CBOR
//
// CBOR (RFC 8949) through github.com/fxamacker/cbor/v2, a well-kept pure-Go
// library, rather than protobuf: it decodes with hard limits on array
// length, map size and nesting and rejects duplicate keys, so hostile input
// is bounded; it needs no code generation step (protobuf needs protoc and a
// plugin on every machine that changes the schema), so the schema is these
// Go structs; it is self-describing, so any CBOR diagnostic tool shows a
// captured frame; and it has a standard deterministic encoding. Integer
// keys keep it about as compact as protobuf.
//
// # Cost
//
// A Codec is immutable and safe for concurrent use. Encode and Decode of a
// state are linear in its size; both run proto.ValidateState, whose address
// comparisons dominate for large states. Size encodes into a scratch buffer
// without validation: cheap for small messages, the cost of an encoding
// for a state. The package imports no sync, like the rest of proto. See the package benchmarks
// (go test -bench . ./proto/wire/).
package wire
