package proto

// Message is what enters a Node through Step and leaves it through Output:
// protocol messages between nodes and local commands alike.
//
// A protocol message names its sender's incarnation (From) and its
// destination Address (To). ToUID, when non-zero, names the incarnation the
// sender meant; a node drops messages meant for another incarnation of its
// address, so a restarted process never acts on its predecessor's traffic.
type Message struct {
	From  UniqueAddress
	To    Address
	ToUID UID
	Body  Body
}

// Body is the payload of a Message. The set of bodies is closed: the
// protocol bodies below and the local commands in command.go.
type Body interface {
	// Kind names the body for traces and counters ("gossip-status").
	Kind() string
	isBody()
}

// Join asks a seed to admit the sender as a Joining member.
type Join struct {
	ID    NodeID
	Roles []string
}

// Welcome admits a joiner: it carries the seed's gossip state, which already
// lists the joiner as Joining.
type Welcome struct {
	State *State
}

// InitJoin is a first seed's probe of the other seeds: is a cluster already
// running? Members answer with InitJoinAck.
type InitJoin struct{}

// InitJoinAck answers InitJoin from a node that is a member of a cluster.
type InitJoinAck struct{}

// GossipStatus is the small per-round exchange: the sender's version and a
// digest of its seen set. The full state crosses only when they differ.
// A Reply status asks the receiver to send its state if it is newer.
//
// A round's status carries only VersionDigest and VersionSum (Version
// nil), so that a steady cluster exchanges a few dozen bytes per round
// whatever its size. A receiver whose digest differs ships its state when
// its own sum is at least the sender's, and otherwise answers with its own
// digest status as a Reply, which the sender answers with its state. A
// status may instead carry the whole clock (Version), which the receiver
// compares exactly.
type GossipStatus struct {
	Version       VClock
	VersionDigest uint64
	SeenDigest    uint64
	// VersionSum is the sum of the version's counters: of two versions
	// that differ, the one with the larger sum is newer or concurrent, so
	// it tells which side ships its state without sending the clock.
	VersionSum uint64
	Reply      bool
}

// GossipState carries the whole gossip state. A non-reply is answered with
// the merged state when the receiver had something the sender lacked;
// replies are never answered.
type GossipState struct {
	State *State
	Reply bool
}

// GossipSeen carries the sender's seen set alone, for a receiver that holds
// the same version: once a change has spread, the seen sets converge
// without shipping the whole state again.
//
// Seen is a bitmap over the members of the sender's state in order: bit i
// (byte i/8, bit i%8, least significant first) is set when Members[i] has
// seen the version. VersionDigest and MembersDigest name the version and
// the member list the bits index; a receiver whose own differ ignores the
// bitmap (or, for a member list that differs under the same version,
// answers with its whole state). A non-reply is answered with the
// receiver's own seen set when it had nodes the sender lacked.
//
// The bitmap of a message handed out by a Node is never modified.
type GossipSeen struct {
	VersionDigest uint64
	MembersDigest uint64
	Seen          []byte
	Reply         bool
}

// Heartbeat is a monitor's request; the subject answers with HeartbeatAck
// carrying the same Seq. The arrival of acks drives the failure detector.
//
// A Node sends its heartbeats as *Heartbeat (a pointer boxes without an
// allocation) and answers a *Heartbeat with the same pointer converted to
// *HeartbeatAck, a value Heartbeat with a HeartbeatAck value. Like every
// body a Node hands out, the value pointed to is never modified; a nil
// *Heartbeat is dropped as invalid.
type Heartbeat struct {
	Seq uint64
}

// HeartbeatAck answers Heartbeat.
type HeartbeatAck struct {
	Seq uint64
}

func (Join) Kind() string         { return "join" }
func (Welcome) Kind() string      { return "welcome" }
func (InitJoin) Kind() string     { return "init-join" }
func (InitJoinAck) Kind() string  { return "init-join-ack" }
func (GossipStatus) Kind() string { return "gossip-status" }
func (GossipState) Kind() string  { return "gossip-state" }
func (GossipSeen) Kind() string   { return "gossip-seen" }
func (Heartbeat) Kind() string    { return "heartbeat" }
func (HeartbeatAck) Kind() string { return "heartbeat-ack" }

func (Join) isBody()         {}
func (Welcome) isBody()      {}
func (InitJoin) isBody()     {}
func (InitJoinAck) isBody()  {}
func (GossipStatus) isBody() {}
func (GossipState) isBody()  {}
func (GossipSeen) isBody()   {}
func (Heartbeat) isBody()    {}
func (HeartbeatAck) isBody() {}
