// Package netsim is the simulated network of rumor's deterministic
// simulator: one seeded event queue that carries protocol messages between
// nodes, injects network faults, and also holds the simulator's own timers,
// so that message deliveries and node ticks interleave in one total order.
//
// # Determinism
//
// Every random choice comes from the *rand.Rand given to New; nothing reads
// the wall clock, starts a goroutine or lets map order reach an outcome.
// Queue entries are ordered by (instant, sequence number), the sequence
// number being assigned at scheduling, so the same seed and the same calls
// give the same events, byte for byte.
//
// # Fault model
//
//   - Latency: per copy, from a Latency distribution (Constant, Uniform,
//     Exponential, Shifted, Jitter); a LinkConfig can override it per
//     directed path. Random delays reorder messages (Stats.Reordered).
//   - Loss and duplication: per copy, rolled at send time.
//   - Path capacity: Config.MaxInFlight copies per directed path; excess
//     copies are dropped at send time.
//   - Partitions: Partition (symmetric groups), Isolate, CutOneWay
//     (asymmetric), Heal. Cuts are checked at send time and again when the
//     copy falls due, so messages in flight when a cut begins are lost.
//   - Clogs: Clog, ClogLink and Swizzle delay messages without dropping
//     them, as FoundationDB's clogging and swizzle-clogging do.
//   - Crashes: Down drops copies falling due for a crashed node; Up ends it.
//
// Stats counts what each fault actually did, so a seed sweep can show that
// every fault bit at least once.
//
// # Driver loop
//
// The simulator owns the clock and advances it to each event's instant:
//
//	rng := rand.New(rand.NewSource(seed)) // a stream for the network alone
//	net := netsim.New(rng, cfg)
//	for i := range nodes {
//		net.ScheduleTimer(epoch.Add(tick), uint64(i))
//	}
//	for {
//		ev, ok := net.StepUntil(end)
//		if !ok {
//			break
//		}
//		now := ev.At
//		var out []proto.Message
//		switch ev.Kind {
//		case netsim.Delivery:
//			out = nodeAt(ev.Msg.To).Step(now, ev.Msg)
//		case netsim.Timer:
//			out = nodes[ev.Timer].Tick(now)
//			net.ScheduleTimer(now.Add(tick), ev.Timer)
//		}
//		for _, m := range out {
//			net.Send(now, m)
//		}
//	}
//
// Faults are plain method calls made between steps (or scheduled with
// timers of the simulator's own), except Swizzle, whose clog steps the
// network schedules and applies itself.
//
// # Caller obligations
//
//   - Drive a Network from one goroutine; it is not safe for concurrent use.
//   - Pass the current simulated instant as now (normally the last event's
//     At). Instants earlier than the last event are clamped up to it, so
//     events never go backwards.
//   - Do not mutate a message's Body after Send: it is delivered by
//     reference, and both copies of a duplicate share it.
//   - Keep instants within what time.Time.UnixNano represents (years 1678
//     to 2262). Returned instants are in UTC.
//   - Timer ids are the caller's to assign; rescheduling an id replaces its
//     pending firing (the latest ScheduleTimer wins).
package netsim
