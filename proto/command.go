package proto

// Local commands enter a Node through Step like messages; their Message.From
// must be the node itself. They are never encoded on the wire.

// JoinSeeds starts membership. With no seeds the node forms a one-node
// cluster at once. Otherwise it asks every seed to admit it and retries every
// JoinRetryInterval until one does. When the first seed is the node itself,
// it probes the other seeds and forms the cluster alone if none answers
// within SeedNodeTimeout.
type JoinSeeds struct {
	Seeds []Address
}

// Leave starts a graceful leave: Leaving, then Exiting once the leader has
// seen convergence, then Removed. The node stops when it sees itself Exiting
// or Removed, or after LeaveTimeout.
type Leave struct{}

// DownNode marks the member at Address Down. It is how the Manual downing
// strategy acts, and an operator's override under any strategy.
type DownNode struct {
	Address Address
}

// HostShards declares that this node hosts a shard type (or changes the
// declaration of one it already hosts). The leader places shards only on
// Up members that host the type.
type HostShards struct {
	Type ShardType
}

// StopHosting withdraws a shard type declaration; the leader moves the
// node's shards elsewhere.
type StopHosting struct {
	Name string
}

// Register adds a service entry owned by this node under Key.
type Register struct {
	Key  string
	Path string
}

// Deregister removes one of this node's service entries; the removal
// spreads through gossip like the registration did.
type Deregister struct {
	Key  string
	Path string
}

func (HostShards) Kind() string  { return "cmd-host" }
func (StopHosting) Kind() string { return "cmd-unhost" }
func (Register) Kind() string    { return "cmd-register" }
func (Deregister) Kind() string  { return "cmd-deregister" }

func (HostShards) isBody()  {}
func (StopHosting) isBody() {}
func (Register) isBody()    {}
func (Deregister) isBody()  {}

func (JoinSeeds) Kind() string { return "cmd-join" }
func (Leave) Kind() string     { return "cmd-leave" }
func (DownNode) Kind() string  { return "cmd-down" }

func (JoinSeeds) isBody() {}
func (Leave) isBody()     {}
func (DownNode) isBody()  {}

func isCommand(b Body) bool {
	switch b.(type) {
	case JoinSeeds, *JoinSeeds, Leave, *Leave, DownNode, *DownNode,
		HostShards, StopHosting, Register, Deregister:
		return true
	}
	return false
}
