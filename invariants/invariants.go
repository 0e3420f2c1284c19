package invariants

import "github.com/rumorhq/rumor/proto"

// View is one node's state at one step, as the checker sees it.
type View struct {
	// Addr is where the node runs; Self is its current incarnation.
	Addr proto.Address
	Self proto.UniqueAddress
	// Live is false for a crashed, paused or stopped node.
	Live bool
	// Phase is the node's phase.
	Phase proto.Phase
	// State is the node's gossip state (shared, never modified).
	State *proto.State
	// Topology is the node's last published snapshot.
	Topology proto.TopologySnapshot
	// Ticked reports that the step just taken was a Tick: the only step in
	// which a leader runs its leader actions. The leader's part of
	// allocation-valid judges a converged state of its own leader only
	// when the state comes through a Ticked step unchanged (the leader had
	// it in hand and found nothing to do). Leave it false when unknown,
	// which skips that part.
	Ticked bool
}

// Violation is one broken invariant.
type Violation struct {
	// Invariant names the rule ("allowed-transition", "no-resurrection", ...).
	Invariant string
	// Node is the incarnation whose view broke it.
	Node proto.UniqueAddress
	// Detail says what was seen.
	Detail string
}

// String renders the violation on one line.
func (v Violation) String() string {
	return v.Invariant + " at " + v.Node.String() + ": " + v.Detail
}
