// Package invariants turns nodes' views of the cluster into verdicts: pure
// checks from proto states to a list of violations, used by the simulator
// (sim/) after every simulation step (safety) and after faults are healed
// and the cluster has settled (liveness). It imports only proto and never
// modifies a state it is given.
//
// # Using it
//
// The simulator keeps one Checker for a run. After each Step or Tick of a
// node it calls
//
//	violations := checker.Observe(invariants.View{Addr: a, Self: n.Self(), Live: true,
//		Phase: n.Phase(), State: n.State(), Topology: topo, Ticked: stepWasTick})
//
// passing the node's own state pointer (proto.Node.State), which proto
// never modifies once handed out, and Ticked true when the step was a
// Tick (see allocation-valid). A view whose state pointer and phase are
// those of the node's previous Observe costs O(1); any other costs
// O(members) plus the size of whatever parts of the state changed: parts
// shared by pointer with the node's previous state (proto shares them when
// only the seen set moves) are not checked again, and parts shared with
// any node's state that passed validation or the shape checks (gossip
// shares them between nodes) are not walked again for those checks. A
// deep copy (proto.Node.Snapshot) works but forfeits all of this. A
// violation is reported when the state that shows it is first observed at
// that node.
//
// After healing and settling, the simulator calls Liveness with every
// node's view and an Expectation built from its fault schedule.
//
// # Safety invariants (Checker.Observe)
//
// allowed-transition: per observer node and per member incarnation, each
// change of status between the node's consecutive observed states is one
// proto.CanTransition allows (Joining→WeaklyUp/Up/Leaving/Down/Removed,
// …, Down→Removed; staying put). A member that leaves the member list must
// be tombstoned in the new state, which counts as →Removed; a member that
// appears fresh may have any status. One exception: a node that is Down,
// Exiting or gone in its new state may see Joining/WeaklyUp/Up→Exiting,
// because its seen mark does not count towards convergence, so the leader
// did not wait for it to see Leaving. (Every other forward move is in
// CanTransition; every other move it rejects goes backwards.) Why:
// statuses form a lattice and merges take the maximum, so a member that
// moves backwards (Down→Up) means a merge broke the order every node
// relies on to agree without coordination, and Exiting without Leaving
// means a leader acted on a state some counting member never saw.
//
// no-resurrection: an observer never lists an incarnation it holds a
// tombstone for, and never lists again an incarnation it once saw Removed
// (a tombstone in any of its states, or a member that left its list with
// one), even after the tombstone expired. (A fresh member that is
// tombstoned in the same state is reported here, not as
// allowed-transition.) Why: a removed incarnation is gone for good (a
// restart gets a new UID); bringing it back from late gossip would re-add
// a dead node that then must be detected and downed again, and would undo
// decisions (shards moved, registry dropped) taken on its removal.
//
// one-leader: converged views of member nodes (proto.State.Converged) with
// the same version (VClock.Compare == Same) name the same leader
// (proto.State.Leader). Views are matched across nodes through an
// order-independent digest of the clock, confirmed with Compare, in a
// memory bounded to MaxLeaderVersions versions. Why: leader actions (Up,
// Exiting, Removed, allocation) run only on convergence; two leaders on
// the same converged state would take conflicting actions on it.
//
// members-only: the seen set, the reachability observers and the
// reachability subjects of a view name only members of that view. Why:
// an entry for a non-member is state nobody will ever clean up, and a
// seen or unreachable mark from or about a non-member can block or fake
// convergence.
//
// allocation-valid: in every view, each table has exactly Type.Shards
// allocations, the replicas of a shard are distinct and never its primary,
// and no primary or replica is a tombstoned incarnation; and in a
// converged view of a member node that is its own leader, every allocated
// primary and replica is an Up member that hosts the type
// (proto.Member.Hosting). proto's leader acts only in Tick, on the state
// it holds when the Tick starts, so the leader part judges a state only
// when it comes through a Ticked view unchanged (View.Ticked): the leader
// had it in hand and found nothing to do. Why: users route entities with
// these tables; a shard placed twice on one node has no real replica, a
// shard placed on a removed or non-hosting node is unavailable, and the
// leader has had its chance to fix both. (The first three per-view rules
// also fail proto.ValidateState and are then reported as self-consistent
// too.)
//
// epoch-monotone: per node, State.AllocationEpoch and each type's table
// Epoch never decrease across its observed states (a type's highest epoch
// is remembered even if its table disappears). Why: epochs are fencing
// tokens; of two nodes that both think they own a shard, the higher epoch
// wins, which only works if epochs never go back.
//
// epoch-unique: a shard type's table at a given epoch is the same at every
// node (checked when a node first holds that epoch for the type, against a
// memory bounded to MaxTableEpochs tables): the cross-node half of fencing,
// where epoch-monotone is the per-node half. Why: proto assigns an epoch
// once, at one leader on convergence; two different tables with the same
// epoch mean two leaders allocated concurrently (split brain), and the
// fencing token no longer tells the owners apart.
//
// registry-live: registry rows exist only for owners that are members and
// not Down in that view, and every entry's Node is its row's Owner. Why:
// the registry is how services are found; an entry of a dead owner sends
// traffic to nowhere, and an entry under a foreign owner could never be
// removed by the node it names.
//
// version-monotone: a node's State.Version never goes Before its previous
// one, leaving out (as proto does) the entries of incarnations the new
// state has tombstoned. Why: gossip adopts a state only if it is not older;
// a node whose clock regresses would have its changes discarded as stale by
// every peer, and could revert decisions the cluster already saw.
//
// self-consistent: proto.ValidateState accepts the state. Why: a node
// must never hold a state that its peers would reject as malformed
// (unsorted members, Removed statuses in the list, bad clock entries,
// oversize tables); such a state stops gossip dead.
//
// # Liveness invariants (Liveness)
//
// After faults were healed and the cluster had time to settle, every live
// member node (Live && Phase == PhaseMember) must agree with the others.
// liveness-converged: its state is converged. liveness-members: the same
// member incarnations with the same statuses. liveness-leader: the same
// leader. liveness-allocations: the same tables and AllocationEpoch, and
// every shard of a type some Up member hosts has a primary and
// min(Replicas, hosts-1) replicas. liveness-registry: the same registry
// entries. liveness-crashed: crashed incarnations are Down or gone.
// liveness-left: incarnations that left gracefully are gone.
// liveness-joined: joined incarnations are live members themselves and Up
// everywhere. Details name the node, what it saw and what the reference
// view (the one most nodes share) saw, in address order.
package invariants
