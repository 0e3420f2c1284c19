// Package proto is rumor's membership protocol as a pure state machine:
// identities, the member lifecycle, vector-clock versioned gossip with a
// seen set, reachability records, the phi accrual detector on a heartbeat
// ring, the leader, downing strategies, and the topology snapshots and
// events a node publishes.
//
// Nothing here reads a clock, sleeps, starts a goroutine, locks, touches
// the network or the file system, or uses the global random source. Time is
// an argument and randomness comes from the *rand.Rand handed to New, so the
// same inputs give the same outputs byte for byte. That is what lets the
// simulator (sim/) run whole clusters deterministically and replay a
// failure from its seed, and lets cluster/ run the very same code over real
// sockets.
//
// # Driver loop
//
// A driver owns one Node and repeats:
//
//	n.Step(now, msg)   // for each message that arrived, and each local command
//	n.Tick(now)        // when now reaches the last Output's Deadline
//	out := n.Output()  // send out.Messages, publish out.Events and
//	                   // out.Snapshots, sleep until out.Deadline or the
//	                   // next message
//
// A driver that steps many nodes can keep one Output and call
// n.OutputTo(&out) instead: the node and the driver then trade the same few
// buffers back and forth, and nothing is allocated per step.
//
// Local commands (JoinSeeds, Leave, DownNode) enter through Step like
// messages, with From set to the node itself (or left zero).
//
// # Gossip
//
// Every GossipInterval a member sends GossipFanout peers a status with
// digests of its version and seen set and the sum of its clock's counters
// (gossip.go). Equal digests end the exchange; equal versions with other
// seen sets cost a seen bitmap (GossipSeen); otherwise the side whose clock
// adds up to more ships its state, and the receiver answers with its own
// when it had something the sender lacked.
//
// # Caller obligations
//
// A Node is not safe for concurrent use. States carried in messages and
// snapshots are shared and must not be modified. Messages must be delivered
// to the node whose Address is Message.To; the node itself drops traffic
// meant for another incarnation (ToUID) and from removed incarnations. Time
// passed in may jump or stall; a node treats time going backwards as time
// standing still.
package proto
