package sim

import (
	"math"
	"time"

	"github.com/rumorhq/rumor/invariants"
	"github.com/rumorhq/rumor/proto"
)

// LivenessBound is how long the liveness phase may take to converge after
// everything is healed, computed from the config's own intervals and
// timeouts (the way Elasticsearch derives its stabilisation time):
//
//	detect  = cfg.DetectionBound(): the later phi threshold crossing of a
//	          steady and of a fresh history, + AvailabilityInterval
//	          + HeartbeatInterval
//	spread  = GossipInterval × ceil(log2(N+1))          (one epidemic broadcast)
//	rounds  = 6 + ceil(shards / RebalanceMaxMoves)      (down, remove, up, exit, registry
//	                                                     and one per rebalance round)
//	bound   = backStep + SeedNodeTimeout + JoinRetryInterval + LeaveTimeout
//	          + 2 × (detect + StableAfter) + rounds × 2 × spread + 10 × GossipInterval
//
// where backStep is the largest backward clock step of the run (a node
// stepped back is frozen that long), N the number of slots and shards the
// total declared shards. Two detections cover a minority that learns it
// was downed only after the heal and a node resumed from a pause; each
// round waits for convergence, hence twice the spread.
func LivenessBound(cfg proto.Config, n, shards int, backStep time.Duration) time.Duration {
	detect := cfg.DetectionBound()
	spread := cfg.GossipInterval * time.Duration(math.Ceil(math.Log2(float64(n+1))))
	rounds := 6 + (shards+cfg.RebalanceMaxMoves-1)/cfg.RebalanceMaxMoves
	return backStep + cfg.SeedNodeTimeout + cfg.JoinRetryInterval + cfg.LeaveTimeout +
		2*(detect+cfg.StableAfter) + time.Duration(rounds)*2*spread + 10*cfg.GossipInterval
}

// repointJoiners restarts every joiner none of whose seeds is still a
// running member, pointing it at the running members, as an operator (or
// a discovery service) would: no protocol can join through seeds that are
// all gone, so the liveness phase does not wait for it.
func (s *sim) repointJoiners() {
	for _, sl := range s.slots {
		if sl == nil || !sl.running() || sl.phase != proto.PhaseJoining || s.memberAt(sl.seeds) {
			continue
		}
		t := s.tr
		t.begin(s.now)
		t.add("liveness")
		t.add("repoint")
		t.add(sl.name)
		t.end()
		s.apply(Entry{Op: OpCrash, Node: sl.idx, Peer: -1})
		s.apply(Entry{Op: OpRestart, Node: sl.idx, Peer: -1})
	}
}

// livenessPhase heals everything, resumes paused nodes, stops the nemesis
// and the workload (restarting nothing), and runs until the liveness
// checks pass or the bound expires.
func (s *sim) livenessPhase() {
	s.pending, s.phead, s.nem, s.wl = nil, 0, nil, nil
	t := s.tr
	t.begin(s.now)
	t.add("liveness")
	t.add("heal")
	t.end()
	s.net.Heal()
	s.endCut()
	if s.tl != nil {
		s.tl.closeFaults(time.Duration(s.now))
	}
	for _, sl := range s.slots {
		if sl != nil {
			s.net.Unclog(sl.addr)
		}
	}
	for _, l := range s.clogLinks {
		s.net.UnclogLink(slotAddr(l[0]), slotAddr(l[1]))
	}
	cfg := s.net.Config()
	cfg.Loss, cfg.Duplicate = 0, 0
	if err := s.net.SetConfig(cfg); err != nil {
		s.simError(err)
	}
	for _, sl := range s.slots {
		if sl == nil || sl.node == nil {
			continue
		}
		sl.clock.setRate(s.now, 1)
		if sl.proc == procPaused {
			s.apply(Entry{Op: OpResume, Node: sl.idx, Peer: -1})
			t.begin(s.now)
			t.add("liveness")
			t.add("resume")
			t.add(sl.name)
			t.end()
		}
		s.schedule(sl)
	}
	s.repointJoiners()
	shards := ordersType.Shards + billingType.Shards
	bound := LivenessBound(s.p.Config, len(s.slots), shards, time.Duration(s.maxBack))
	s.fig.out.LivenessBound = bound.Seconds()
	start := s.now
	deadline := s.now + int64(bound)
	every := int64(s.p.Config.GossipInterval)
	for {
		s.run(min(s.now+every, deadline))
		if s.failed {
			return
		}
		vs, note := s.checkLiveness()
		if len(vs) == 0 {
			s.fig.out.LivenessConverged = time.Duration(s.now - start).Seconds()
			s.livenessNote = note
			t.begin(s.now)
			t.add("liveness")
			t.add("converged")
			if note != "" {
				t.add(note)
			}
			t.end()
			return
		}
		if s.now >= deadline {
			s.fig.out.LivenessConverged = -1
			for _, v := range vs {
				v2 := Violation{Phase: "liveness", Invariant: v.Invariant, Node: s.label(v.Node), NodeAddr: v.Node.String(), Detail: v.Detail}
				v2.At = time.Duration(s.now).Seconds()
				s.violations = append(s.violations, v2)
				t.begin(s.now)
				t.add("LIVENESS")
				t.add(v.Invariant)
				t.add(v2.Node)
				t.end()
			}
			return
		}
	}
}

// expectation builds what the liveness checks should find, from what the
// run did: every dead incarnation (crashed, replaced by a restart, or
// stopped by downing) is Crashed; graceful leavers are Left; every running
// incarnation that is not leaving is Joined.
func (s *sim) expectation() invariants.Expectation {
	var exp invariants.Expectation
	for _, sl := range s.slots {
		if sl == nil {
			continue
		}
		for _, inc := range sl.history {
			current := inc == sl.inc
			switch {
			case inc.fate == fateCrashed || inc.fate == fateDowned:
				exp.Crashed = append(exp.Crashed, inc.self)
			case inc.fate == fateLeft || inc.leaving:
				exp.Left = append(exp.Left, inc.self)
			case current && sl.running():
				exp.Joined = append(exp.Joined, inc.self)
			}
		}
	}
	return exp
}

// checkLiveness runs the liveness checks on every slot's current view. A
// cluster with no running member left cannot converge by design (nothing
// restarts in this phase): that is reported as a note, not a violation.
func (s *sim) checkLiveness() ([]invariants.Violation, string) {
	views := make([]invariants.View, 0, len(s.slots))
	member := false
	for _, sl := range s.slots {
		if sl == nil || sl.node == nil {
			continue
		}
		views = append(views, s.view(sl))
		if sl.running() && sl.phase == proto.PhaseMember {
			member = true
		}
	}
	if !member {
		return nil, "no running member left (legitimately stuck)"
	}
	return invariants.Liveness(views, s.expectation()), ""
}
