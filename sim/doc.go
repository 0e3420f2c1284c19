// Package sim is rumor's deterministic simulator: seed → swarm parameters →
// a cluster of proto.Nodes on one netsim event queue → a nemesis injecting
// faults → a trace → invariant verdicts. cmd/simrun is its command line.
//
// # A run
//
// Run(Options) draws every parameter from the seed (DrawParams: cluster
// size, network latency and loss, fault mix and rates, config knobs and
// downing strategy under the swarm profile), overrides what Options gives,
// and starts the initial nodes at simulated time zero. Each node declares
// shard types ("orders": 16 shards, 1 replica, on every node; "billing": 8
// shards, no replica, on some) and a seeded workload registers,
// deregisters and re-hosts services at random times.
//
//   - Safety phase, for Options.Duration: the nemesis (or a scripted
//     Schedule) injects faults; invariants.Checker.Observe runs after every
//     node step, and the first violation stops the run.
//   - Liveness phase: every partition, clog and loss burst is healed,
//     paused nodes resume, clock drift stops, nothing new fails and nothing
//     restarts. The run goes on until invariants.Liveness passes (checked
//     every GossipInterval) or LivenessBound expires, computed from the
//     config's own intervals (see LivenessBound for the formula). The
//     expectation comes from the run: every dead incarnation (crashed,
//     replaced by a restart, or stopped by downing) must be Down or gone,
//     graceful leavers gone, every running incarnation Up everywhere. A
//     cluster with no running member left is reported as legitimately
//     stuck, not as a failure.
//
// Result carries the seed, parameters, counts, the trace hash, violations
// (invariant, incarnation, simulated time), probe counters, measured
// figures, the executed fault schedule and a simrun command reproducing
// the run.
//
// # Time and clocks
//
// Simulated time is the netsim queue's. Every slot (an address; each
// restart there is a new incarnation with a new UID) has its own clock:
// local = local0 + (t − t0) × rate, so the time handed to a node is
// simulated time × (1 + drift) + offset. The simulator never feeds a node
// an earlier time, except when the nemesis steps its clock back on purpose
// (proto freezes until its clock catches up). Node deadlines are mapped
// back to simulated time through the clock, so a drifting node also ticks
// at drifted instants.
//
// # Determinism
//
// Each consumer of randomness has its own stream derived from the seed
// (parameters, network, nemesis, workload, each incarnation's node), so a
// change in one never shifts the others. Nothing iterates a map where the
// order could reach the trace; the trace holds simulated time, slot names
// and protocol values only. The same seed and build give the same trace,
// byte for byte; Result.TraceHash is its XXH64 hash (seed 0, as xxhsum -H64
// prints it), computed whether or not the trace is written.
//
// The trace has one line per event, simulated time first and fixed-width:
//
//	000012.345678 n3 recv gossip-status from n1
//	000012.500000 n3 tick
//	000012.500000 n3 event MemberUp n5/2
//	000013.000000 nemesis partition n1,n2|n3,n4,n5
//	000013.000000 n4 phase stopped downed
//
// # Nemesis and schedules
//
// The nemesis draws actions from its stream (Params.Weights and the
// fault shapes): crash and restart (new UID, rejoining through the seeds),
// pause and resume (a paused node receives and ticks nothing, then sees its
// clock jump), graceful leave, new joins, partitions (symmetric split,
// isolate one, one-way cut) and heal, clogs and swizzle-clogs, clock drift
// and steps, loss and duplication bursts. It looks at the cluster only to
// pick valid targets, and unless the profile is swarm (where a draw decides)
// it never takes down a majority of the initial nodes, and keeps
// swizzle-clogs shorter than detection plus StableAfter, so that liveness
// is meaningful. Every action goes through the same path as a Schedule
// entry and the ones that changed something form Result.Executed: replaying
// it with Options.Schedule (simrun -schedule) reproduces the run without the
// nemesis. The text syntax is described at Schedule.
//
// When every member is dead, a restart of a seed node cold-starts a new
// cluster; the safety checker then starts over, since a new cluster's
// epochs and versions start over too.
//
// # Probes, figures, shrinking
//
// Probes are "sometimes" counters (drops by cause, partitions that bit,
// downings, removals, leader changes, rebalances, WeaklyUp, restarts that
// rejoined, clock steps, swizzles, ...); Coverage counts the seeds of a
// sweep that reached each. Figures measure the design's quality goals:
// startup, crash → unreachable at the first and at every monitor → Down →
// Removed, join → Up everywhere, leave → Removed, traffic per node, and time
// to converge after the heal. ScenarioOptions scripts the runs that measure
// them. Shrink minimises a failing run's schedule (delta debugging),
// duration and cluster size while the same invariant still fails.
package sim
