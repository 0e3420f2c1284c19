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

func (JoinSeeds) Kind() string { return "cmd-join" }
func (Leave) Kind() string     { return "cmd-leave" }
func (DownNode) Kind() string  { return "cmd-down" }

func (JoinSeeds) isBody() {}
func (Leave) isBody()     {}
func (DownNode) isBody()  {}

func isCommand(b Body) bool {
	switch b.(type) {
	case JoinSeeds, *JoinSeeds, Leave, *Leave, DownNode, *DownNode:
		return true
	}
	return false
}
