package sim

import (
	"fmt"
	"sort"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// figures measures the design's quality goals as a run goes: startup,
// crash detection, join and leave times, traffic. It only reads node
// states when they change.
type figures struct {
	out         Figures
	startupDone bool
	startupAt   int64
	sentAt      uint64
	bytesAt     uint64
	watches     []*watch

	// upInitial remembers startup's count per recent member list (with
	// the list, so its key stays unique): nodes share their member lists,
	// which never change once in a state.
	upInitial map[*proto.Member]upCount
}

type upCount struct {
	members []proto.Member
	n       int
}

// maxUpCounts bounds figures.upInitial; a full memo is emptied.
const maxUpCounts = 256

type watchKind uint8

const (
	watchCrash watchKind = iota
	watchJoin
	watchLeave
)

// watch follows one crash, join or leave until every running member saw
// its outcome.
type watch struct {
	kind     watchKind
	subject  uniq
	slot     int
	start    int64
	monitors []uniq
	unreach  map[uniq]bool
	down     map[uniq]bool
	gone     map[uniq]bool
	firstU   bool
	allU     bool
	firstD   bool
	allD     bool
	done     bool
}

const watchExpiry = int64(10 * time.Minute)

func (f *figures) add(w *watch) {
	w.unreach, w.down, w.gone = map[uniq]bool{}, map[uniq]bool{}, map[uniq]bool{}
	kept := f.watches[:0]
	for _, x := range f.watches {
		if !x.done {
			kept = append(kept, x)
		}
	}
	f.watches = append(kept, w)
}

// crashed starts following the crash of a member at sl.
func (f *figures) crashed(s *sim, sl *slot) {
	w := &watch{kind: watchCrash, subject: sl.inc.self, slot: sl.idx, start: s.now}
	w.monitors = monitorsOf(sl.node.State(), sl.inc.self, s.p.Config.MonitoredBy)
	f.add(w)
}

func (f *figures) joined(s *sim, inc *incarnation) {
	f.add(&watch{kind: watchJoin, subject: inc.self, slot: inc.slot, start: s.now})
}

func (f *figures) leaving(s *sim, sl *slot) {
	f.add(&watch{kind: watchLeave, subject: sl.inc.self, slot: sl.idx, start: s.now})
}

// monitorsOf returns the members that monitor u on the heartbeat ring of
// state st: the k members before u in ring order (hash of the unique
// address, then address), as proto's heartbeat ring places them.
func monitorsOf(st *proto.State, u uniq, k int) []uniq {
	type entry struct {
		node uniq
		hash uint64
	}
	var ring []entry
	for _, m := range st.Members {
		if m.Status != proto.Down {
			ring = append(ring, entry{m.Node, m.Node.Hash()})
		}
	}
	sort.Slice(ring, func(i, j int) bool {
		if ring[i].hash != ring[j].hash {
			return ring[i].hash < ring[j].hash
		}
		return ring[i].node.Compare(ring[j].node) < 0
	})
	at := -1
	for i, e := range ring {
		if e.node == u {
			at = i
		}
	}
	if at < 0 {
		return nil
	}
	var out []uniq
	for d := 1; d <= k && d < len(ring); d++ {
		out = append(out, ring[(at-d+len(ring))%len(ring)].node)
	}
	return out
}

// stateChanged updates the figures from sl's new state.
func (f *figures) stateChanged(s *sim, sl *slot) {
	if sl.phase != proto.PhaseMember || !sl.running() {
		return
	}
	st := sl.node.State()
	self := sl.node.Self()
	if !f.startupDone && sl.initial && sl.incs == 1 {
		f.startup(s, sl, st)
	}
	for _, w := range f.watches {
		if w.done {
			continue
		}
		if s.now-w.start > watchExpiry {
			w.done = true
			continue
		}
		status := st.Status(w.subject)
		switch w.kind {
		case watchCrash:
			if !w.unreach[self] && containsUniq(w.monitors, self) && st.Reachability.Observes(self, w.subject) {
				w.unreach[self] = true
				if !w.firstU {
					w.firstU = true
					f.out.CrashUnreachableFirst.add(time.Duration(s.now - w.start))
				}
				if !w.allU && f.allMonitors(s, w) {
					w.allU = true
					f.out.CrashUnreachableAll.add(time.Duration(s.now - w.start))
				}
			}
			if !w.down[self] && (status == proto.Down || status == proto.Removed || status == 0) {
				w.down[self] = true
				if !w.firstD {
					w.firstD = true
					f.out.CrashDownFirst.add(time.Duration(s.now - w.start))
				}
				if !w.allD && f.allMembers(s, w, w.down) {
					w.allD = true
					f.out.CrashDownAll.add(time.Duration(s.now - w.start))
				}
			}
			if !w.gone[self] && (status == proto.Removed || status == 0) {
				w.gone[self] = true
				if f.allMembers(s, w, w.gone) {
					w.done = true
					f.out.CrashRemovedAll.add(time.Duration(s.now - w.start))
				}
			}
		case watchJoin:
			if !w.gone[self] && (status == proto.Up || status == proto.Leaving || status == proto.Exiting) {
				w.gone[self] = true
				if f.allMembers(s, w, w.gone) {
					w.done = true
					f.out.JoinUpAll.add(time.Duration(s.now - w.start))
				}
			}
		case watchLeave:
			if self != w.subject && !w.gone[self] && (status == proto.Removed || status == 0) {
				w.gone[self] = true
				if f.allMembers(s, w, w.gone) {
					w.done = true
					f.out.LeaveRemovedAll.add(time.Duration(s.now - w.start))
				}
			}
		}
	}
}

func containsUniq(list []uniq, u uniq) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

// allMonitors reports whether every monitor of a crashed node that still
// runs has marked it unreachable.
func (f *figures) allMonitors(s *sim, w *watch) bool {
	for _, m := range w.monitors {
		inc := s.incs[m]
		sl := s.slots[inc.slot]
		if sl.inc == inc && sl.running() && !w.unreach[m] {
			return false
		}
	}
	return true
}

// allMembers reports whether every running member (other than a leaving
// subject) is in seen.
func (f *figures) allMembers(s *sim, w *watch, seen map[uniq]bool) bool {
	n := 0
	for _, sl := range s.slots {
		if sl == nil || !sl.running() || sl.phase != proto.PhaseMember {
			continue
		}
		self := sl.inc.self
		if w.kind == watchLeave && self == w.subject {
			continue
		}
		if !seen[self] {
			return false
		}
		n++
	}
	return n > 0
}

// startup records when every initial node first sees every initial node
// Up.
func (f *figures) startup(s *sim, sl *slot, st *proto.State) {
	n := 0
	if ms := st.Members; len(ms) > 0 {
		c, ok := f.upInitial[&ms[0]]
		if !ok || len(c.members) != len(ms) {
			if f.upInitial == nil || len(f.upInitial) >= maxUpCounts {
				f.upInitial = map[*proto.Member]upCount{}
			}
			c = upCount{members: ms, n: upInitial(s, ms)}
			f.upInitial[&ms[0]] = c
		} else if checkShortcuts && c.n != upInitial(s, ms) {
			panic(fmt.Sprintf("sim: remembered %d Up initial members, counted %d", c.n, upInitial(s, ms)))
		}
		n = c.n
	}
	sl.upCount = n
	if n < s.initial {
		return
	}
	for _, x := range s.slots[:s.initial] {
		if x == nil || x.upCount < s.initial || x.incs != 1 {
			return
		}
	}
	f.startupDone = true
	f.startupAt = s.now
	f.out.StartupAllUp = time.Duration(s.now).Seconds()
	st2 := s.net.Stats()
	f.sentAt, f.bytesAt = st2.Sent, st2.BytesSent
}

// upInitial counts the Up members that are first incarnations of initial
// slots.
func upInitial(s *sim, members []proto.Member) int {
	n := 0
	for _, m := range members {
		if m.Status != proto.Up {
			continue
		}
		if inc, ok := s.incs[m.Node]; ok && inc.slot < s.initial && inc.num == 1 {
			n++
		}
	}
	return n
}

// restartTraffic starts the traffic window now, if startup is done.
func (f *figures) restartTraffic(s *sim) {
	if !f.startupDone {
		return
	}
	f.startupAt = s.now
	st := s.net.Stats()
	f.sentAt, f.bytesAt = st.Sent, st.BytesSent
}

// finish computes the traffic figures at the end of the safety phase.
func (f *figures) finish(s *sim) {
	if !f.startupDone || s.now <= f.startupAt {
		return
	}
	st := s.net.Stats()
	secs := time.Duration(s.now - f.startupAt).Seconds()
	nodes := float64(s.initial)
	f.out.MsgsPerNodeSec = float64(st.Sent-f.sentAt) / nodes / secs
	f.out.BytesPerNodeSec = float64(st.BytesSent-f.bytesAt) / nodes / secs
}
