package sim

import (
	"slices"
	"time"

	"github.com/rumorhq/rumor/netsim"
	"github.com/rumorhq/rumor/proto"
)

// exec applies one schedule entry, traces it, and records it in the
// executed schedule when it changed something. Entries that find nothing
// to act on (restart of a running node, heal without a partition) are
// traced as skipped; replaying the executed schedule without them gives
// the same run.
func (s *sim) exec(e Entry) {
	ok, why := s.apply(e)
	t := s.tr
	t.begin(s.now)
	t.add("nemesis")
	if !ok {
		t.add("skip")
	}
	t.add(e.Action())
	if !ok {
		t.add("(" + why + ")")
	}
	t.end()
	if ok {
		s.executed = append(s.executed, e)
		if s.tl != nil {
			s.tl.fault(s, e)
		}
	}
}

// existing returns the slot at index i if it was ever started.
func (s *sim) existing(i int) *slot {
	if i < 0 || i >= len(s.slots) || s.slots[i] == nil || s.slots[i].node == nil {
		return nil
	}
	return s.slots[i]
}

// apply performs an entry; it reports whether it changed anything and, if
// not, why.
func (s *sim) apply(e Entry) (bool, string) {
	sl := s.existing(e.Node)
	needNode := func() (bool, string) { return false, "no such node" }
	switch e.Op {
	case OpCrash:
		if sl == nil {
			return needNode()
		}
		if sl.proc != procPaused && !sl.running() {
			return false, procNames[sl.proc]
		}
		if sl.inc.member && sl.phase == proto.PhaseMember {
			s.fig.crashed(s, sl)
		}
		sl.proc = procCrashed
		sl.inc.fate = fateCrashed
		s.net.Down(sl.addr)
		s.schedule(sl)
		s.probes.Crashes++
		s.timelineLabel(sl)
		s.observe(sl)
	case OpRestart:
		if sl == nil {
			return needNode()
		}
		if sl.proc != procCrashed && sl.proc != procStopped {
			return false, procNames[sl.proc]
		}
		s.probes.Restarts++
		s.start(sl)
	case OpPause:
		if sl == nil {
			return needNode()
		}
		if !sl.running() {
			return false, procNames[sl.proc]
		}
		sl.proc = procPaused
		s.schedule(sl)
		s.probes.Pauses++
		s.timelineLabel(sl)
		s.observe(sl)
	case OpResume:
		if sl == nil {
			return needNode()
		}
		if sl.proc != procPaused {
			return false, procNames[sl.proc]
		}
		sl.proc = procRunning
		s.schedule(sl)
		s.timelineLabel(sl)
		s.observe(sl)
	case OpLeave:
		if sl == nil {
			return needNode()
		}
		if !sl.running() || sl.inc.leaving {
			return false, "not running or already leaving"
		}
		sl.inc.leaving = true
		s.probes.Leaves++
		s.fig.leaving(s, sl)
		s.command(sl, proto.Leave{})
	case OpJoin:
		if sl != nil {
			return false, "slot exists"
		}
		s.probes.Joins++
		s.start(s.slotFor(e.Node))
	case OpPartition:
		groups := make([][]proto.Address, len(e.Groups))
		for i, g := range e.Groups {
			for _, x := range g {
				groups[i] = append(groups[i], slotAddr(x))
			}
		}
		s.beginCut()
		s.net.Partition(groups...)
		s.probes.Partitions++
	case OpIsolate:
		if sl == nil {
			return needNode()
		}
		s.beginCut()
		s.net.Isolate(sl.addr)
		s.probes.Partitions++
	case OpCut:
		if sl == nil || s.existing(e.Peer) == nil {
			return needNode()
		}
		s.beginCut()
		s.net.CutOneWay(sl.addr, slotAddr(e.Peer))
		s.probes.Partitions++
	case OpHeal:
		if !s.partitioned {
			return false, "nothing to heal"
		}
		s.net.Heal()
		s.endCut()
	case OpClog:
		if sl == nil {
			return needNode()
		}
		until := s.nowTime().Add(e.Dur)
		if e.Peer >= 0 {
			if s.existing(e.Peer) == nil {
				return needNode()
			}
			s.net.ClogLink(sl.addr, slotAddr(e.Peer), until)
			s.clogLinks = append(s.clogLinks, [2]int{e.Node, e.Peer})
		} else {
			s.net.Clog(sl.addr, until)
		}
		s.probes.Clogs++
	case OpSwizzle:
		var nodes []proto.Address
		for _, x := range s.slots {
			if x != nil && x.node != nil {
				nodes = append(nodes, x.addr)
			}
		}
		if len(nodes) < 2 {
			return false, "fewer than two nodes"
		}
		plan, err := s.net.Swizzle(s.nowTime(), nodes, netsim.SwizzleConfig{Window: e.Dur, Fraction: 0.5, PairClogs: min(10, len(nodes))})
		if err != nil {
			return false, err.Error()
		}
		for _, st := range plan {
			t := s.tr
			t.begin(s.now)
			t.add("swizzle")
			t.add(s.byAddr[st.From].name)
			if st.IsLink() {
				t.add(">")
				t.add(s.byAddr[st.To].name)
				s.clogLinks = append(s.clogLinks, [2]int{s.byAddr[st.From].idx, s.byAddr[st.To].idx})
			}
			t.add(time.Duration(st.At.Sub(epoch)).String())
			t.add(time.Duration(st.Until.Sub(epoch)).String())
			t.end()
		}
		s.probes.Swizzles++
	case OpDrift:
		if sl == nil {
			return needNode()
		}
		sl.clock.setRate(s.now, 1+e.Rate)
		s.schedule(sl)
		s.probes.Drifts++
	case OpStep:
		if sl == nil {
			return needNode()
		}
		sl.clock.step(s.now, int64(e.Dur))
		if -int64(e.Dur) > s.maxBack {
			s.maxBack = -int64(e.Dur)
		}
		s.schedule(sl)
		s.probes.ClockSteps++
	case OpLoss, OpDup:
		cfg := s.net.Config()
		rate, base := e.Rate, s.p.Loss
		if e.Op == OpDup {
			base = s.p.Dup
		}
		if e.Base {
			rate = base
		}
		if e.Op == OpLoss {
			cfg.Loss = rate
		} else {
			cfg.Duplicate = rate
		}
		if err := s.net.SetConfig(cfg); err != nil {
			return false, err.Error()
		}
		if rate > base {
			s.probes.Bursts++
		}
	case OpRegister, OpDeregister, OpHost, OpUnhost:
		if sl == nil {
			return needNode()
		}
		if !sl.running() {
			return false, procNames[sl.proc]
		}
		s.workCommand(sl, e)
	default:
		return false, "unknown op"
	}
	return true, ""
}

// workCommand steps a workload command into a running node.
func (s *sim) workCommand(sl *slot, e Entry) {
	switch e.Op {
	case OpRegister:
		s.command(sl, proto.Register{Key: e.Key, Path: e.Path})
		se := proto.ServiceEntry{Key: e.Key, Path: e.Path}
		for _, x := range sl.entries {
			if x == se {
				return
			}
		}
		sl.entries = append(sl.entries, se)
	case OpDeregister:
		s.command(sl, proto.Deregister{Key: e.Key, Path: e.Path})
		for i, x := range sl.entries {
			if x.Key == e.Key && x.Path == e.Path {
				sl.entries = slices.Delete(sl.entries, i, i+1) // the list is the slot's alone
				break
			}
		}
	case OpHost:
		s.command(sl, proto.HostShards{Type: e.Shards})
		if e.Shards.Name == billingType.Name {
			sl.billing = true
		}
	case OpUnhost:
		s.command(sl, proto.StopHosting{Name: e.Shards.Name})
		if e.Shards.Name == billingType.Name {
			sl.billing = false
		}
	}
}

func (s *sim) beginCut() {
	if !s.partitioned {
		s.partitioned = true
		s.cutsBefore = s.net.Stats().PartitionCuts()
	}
}

func (s *sim) endCut() {
	if s.partitioned {
		if s.net.Stats().PartitionCuts() > s.cutsBefore {
			s.probes.PartitionsBit++
		}
		s.partitioned = false
	}
}
