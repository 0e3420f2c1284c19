package sim

import (
	"math/rand"
	"sort"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// nemesis injects faults drawn from its own random stream. It looks at the
// cluster only to pick valid targets (a running node to crash, a dead one
// to restart), and every action it takes goes through the same path as a
// scripted schedule entry, so the executed schedule replays the run.
type nemesis struct {
	rng   *rand.Rand
	p     *Params
	next  int64
	total int
	// running, dead, existing and downable are act's lists of slots,
	// kept for the next.
	running, dead, existing, downable []int
	// swizzleHi is swizzleMax once worked out (0 before).
	swizzleHi time.Duration
}

// swizzleMax is the longest swizzle: 30s or, when a majority must stay
// alive, less than detection plus StableAfter (the config does not change
// during a run, and DetectionBound's phi inversions are dear, so it is
// worked out once).
func (nm *nemesis) swizzleMax() time.Duration {
	if nm.swizzleHi == 0 {
		nm.swizzleHi = swizzleMax(nm.p)
	}
	return nm.swizzleHi
}

// swizzleMax is nemesis.swizzleMax worked out from p.
func swizzleMax(p *Params) time.Duration {
	hi := 30 * time.Second
	if p.KeepMajority {
		hi = min(hi, p.Config.DetectionBound()+p.Config.StableAfter)
	}
	return hi
}

func newNemesis(seed int64, p *Params) *nemesis {
	nm := &nemesis{rng: newRand(seed, streamNemesis), p: p}
	for _, w := range p.Weights {
		nm.total += w
	}
	// Faults start once the cluster had time to form.
	warm := p.Config.SeedNodeTimeout + 5*p.Config.GossipInterval
	nm.next = int64(warm.Round(time.Millisecond)) + nm.gap()
	return nm
}

// gap draws the time to the next action, whole milliseconds so that the
// executed schedule prints and parses back exactly.
func (nm *nemesis) gap() int64 {
	return int64(nm.expo(nm.p.FaultEvery, time.Millisecond, 10*nm.p.FaultEvery))
}

// expo draws an exponential duration with the given mean, clamped to
// [lo, hi] and rounded to milliseconds.
func (nm *nemesis) expo(mean, lo, hi time.Duration) time.Duration {
	d := time.Duration(nm.rng.ExpFloat64() * float64(mean))
	d = max(lo, min(hi, d))
	return d.Round(time.Millisecond)
}

func (nm *nemesis) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo.Round(time.Millisecond)
	}
	return (lo + time.Duration(nm.rng.Int63n(int64(hi-lo)))).Round(time.Millisecond)
}

func (nm *nemesis) pickKind() faultKind {
	x := nm.rng.Intn(nm.total)
	for k, w := range nm.p.Weights {
		if x < w {
			return faultKind(k)
		}
		x -= w
	}
	return kindCrash
}

// act takes one nemesis action at s.now and schedules the next.
func (nm *nemesis) act(s *sim) {
	at := time.Duration(s.now)
	nm.next = s.now + nm.gap()
	kind := nm.pickKind()
	pick := func(c []int) int { return c[nm.rng.Intn(len(c))] }
	running, dead, existing := nm.running[:0], nm.dead[:0], nm.existing[:0]
	defer func() { nm.running, nm.dead, nm.existing = running, dead, existing }()
	for _, sl := range s.slots {
		if sl == nil || sl.node == nil {
			continue
		}
		existing = append(existing, sl.idx)
		switch {
		case sl.running():
			running = append(running, sl.idx)
		case sl.proc == procCrashed || sl.proc == procStopped:
			dead = append(dead, sl.idx)
		}
	}
	// mayTakeDown: taking slot i down keeps a majority of the initial
	// nodes running (when the profile asks for that).
	mayTakeDown := func(i int) bool {
		return !nm.p.KeepMajority || i >= s.initial || s.liveInitial()-1 >= s.initial/2+1
	}
	downable := nm.downable[:0]
	defer func() { nm.downable = downable }()
	for _, i := range running {
		if mayTakeDown(i) {
			downable = append(downable, i)
		}
	}
	do := func(e Entry) { e.At = at; s.exec(e) }
	later := func(d time.Duration, e Entry) {
		e.At = at + d
		if e.At < time.Duration(s.end) {
			s.push(e)
		}
	}
	node := func(op Op, i int) Entry { return Entry{Op: op, Node: i, Peer: -1} }
	switch kind {
	case kindCrash:
		if len(downable) == 0 {
			return
		}
		i := pick(downable)
		do(node(OpCrash, i))
		if nm.rng.Float64() < nm.p.RestartOdds {
			later(nm.expo(nm.p.DownFor, time.Second, 5*nm.p.DownFor), node(OpRestart, i))
		}
	case kindRestart:
		if len(dead) == 0 {
			return
		}
		do(node(OpRestart, pick(dead)))
	case kindPause:
		if len(downable) == 0 {
			return
		}
		i := pick(downable)
		do(node(OpPause, i))
		later(nm.uniform(200*time.Millisecond, nm.p.PauseMax), node(OpResume, i))
	case kindLeave:
		var members []int
		for _, i := range downable {
			if sl := s.slots[i]; sl.phase == proto.PhaseMember && !sl.inc.leaving {
				members = append(members, i)
			}
		}
		if len(members) == 0 {
			return
		}
		do(node(OpLeave, pick(members)))
	case kindJoin:
		if len(s.slots) >= nm.p.MaxSlots {
			return
		}
		do(node(OpJoin, len(s.slots)))
	case kindPartition, kindIsolate, kindOneWay:
		if s.partitioned || len(existing) < 2 {
			return
		}
		switch kind {
		case kindPartition:
			order := append([]int(nil), existing...)
			nm.rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			cut := 1 + nm.rng.Intn(len(order)-1)
			a, b := append([]int(nil), order[:cut]...), append([]int(nil), order[cut:]...)
			sort.Ints(a)
			sort.Ints(b)
			if b[0] < a[0] {
				a, b = b, a
			}
			do(Entry{Op: OpPartition, Groups: [][]int{a, b}, Peer: -1})
		case kindIsolate:
			do(node(OpIsolate, pick(existing)))
		case kindOneWay:
			i := nm.rng.Intn(len(existing))
			j := nm.rng.Intn(len(existing) - 1)
			if j >= i {
				j++
			}
			do(Entry{Op: OpCut, Node: existing[i], Peer: existing[j]})
		}
		later(nm.expo(nm.p.PartitionFor, time.Second, 4*nm.p.PartitionFor), Entry{Op: OpHeal, Peer: -1})
	case kindClog:
		if len(existing) < 2 {
			return
		}
		d := nm.uniform(100*time.Millisecond, nm.p.ClogMax)
		i := nm.rng.Intn(len(existing))
		if nm.rng.Intn(2) == 0 {
			do(Entry{Op: OpClog, Node: existing[i], Peer: -1, Dur: d})
			return
		}
		j := nm.rng.Intn(len(existing) - 1)
		if j >= i {
			j++
		}
		do(Entry{Op: OpClog, Node: existing[i], Peer: existing[j], Dur: d})
	case kindSwizzle:
		// A swizzle clogs half the nodes at once: no side keeps a
		// majority, so if it outlasts detection plus StableAfter every
		// side downs itself. Keeping a majority alive bounds the window
		// below that horizon.
		do(Entry{Op: OpSwizzle, Peer: -1, Dur: nm.uniform(nm.swizzleMax()/4, nm.swizzleMax())})
	case kindDrift:
		if len(existing) == 0 {
			return
		}
		r := (nm.rng.Float64()*2 - 1) * nm.p.MaxDrift
		r = float64(int64(r*1e6)) / 1e6
		do(Entry{Op: OpDrift, Node: pick(existing), Peer: -1, Rate: r})
	case kindStep:
		if len(existing) == 0 {
			return
		}
		d := nm.uniform(time.Millisecond, nm.p.MaxStep)
		if nm.rng.Intn(2) == 0 {
			d = -d
		}
		do(Entry{Op: OpStep, Node: pick(existing), Peer: -1, Dur: d})
	case kindBurst:
		do(Entry{Op: OpLoss, Peer: -1, Rate: nm.p.BurstLoss})
		do(Entry{Op: OpDup, Peer: -1, Rate: nm.p.BurstDup})
		d := nm.expo(nm.p.BurstFor, time.Second, 4*nm.p.BurstFor)
		later(d, Entry{Op: OpLoss, Peer: -1, Base: true})
		later(d, Entry{Op: OpDup, Peer: -1, Base: true})
	}
}

// workload issues registry commands at random times from its own stream.
// It always draws the same numbers per command, whatever the cluster
// looks like, so fault schedules never shift it.
type workload struct {
	rng   *rand.Rand
	every time.Duration
	next  int64
	// running is act's list of the running slots, kept for the next.
	running []*slot
}

func newWorkload(seed int64, every time.Duration) *workload {
	w := &workload{rng: newRand(seed, streamWorkload), every: every}
	w.next = int64(w.gap())
	return w
}

func (w *workload) gap() time.Duration {
	d := time.Duration(w.rng.ExpFloat64() * float64(w.every))
	return max(time.Millisecond, min(10*w.every, d)).Round(time.Millisecond)
}

var serviceKeys = []string{"api", "cache", "db", "search"}

// servicePaths holds the paths the workload registers under each key:
// "/svc/api/a" to "/svc/api/d", and so on.
var servicePaths = func() (p [4][4]string) {
	for k, key := range serviceKeys {
		for i := range p[k] {
			p[k][i] = "/svc/" + key + "/" + string(rune('a'+i))
		}
	}
	return p
}()

func (w *workload) act(s *sim) {
	w.next = s.now + int64(w.gap())
	a, op, k, pth := w.rng.Float64(), w.rng.Intn(10), w.rng.Intn(len(serviceKeys)), w.rng.Intn(4)
	running := w.running[:0]
	for _, sl := range s.slots {
		if sl != nil && sl.running() {
			running = append(running, sl)
		}
	}
	w.running = running
	if len(running) == 0 {
		return
	}
	sl := running[int(a*float64(len(running)))]
	e := Entry{At: time.Duration(s.now), Node: sl.idx, Peer: -1}
	switch {
	case op < 5 || len(sl.entries) == 0 && op < 7:
		e.Op, e.Key, e.Path = OpRegister, serviceKeys[k], servicePaths[k][pth]
	case op < 7:
		x := sl.entries[k%len(sl.entries)]
		e.Op, e.Key, e.Path = OpDeregister, x.Key, x.Path
	default:
		// Operators keep every shard type hosted somewhere: the last
		// running host of billing never withdraws it.
		others := false
		for _, x := range running {
			others = others || (x != sl && x.billing)
		}
		if sl.billing && others {
			e.Op, e.Shards = OpUnhost, proto.ShardType{Name: billingType.Name}
		} else {
			e.Op, e.Shards = OpHost, billingType
		}
	}
	t := s.tr
	t.begin(s.now)
	t.add("workload")
	t.addWork(sl.name, e)
	t.end()
	s.workCommand(sl, e)
}

// addWork appends " " + e.Action() for a workload entry e at the slot
// named n, in parts.
func (t *tracer) addWork(n string, e Entry) {
	switch e.Op {
	case OpRegister, OpDeregister:
		t.add(e.Op.String())
		t.add(n)
		t.add(e.Key)
		t.add(e.Path)
	case OpHost:
		t.add("host")
		t.add(n)
		t.add(e.Shards.Name)
		t.addInt(int64(e.Shards.Shards))
		t.addInt(int64(e.Shards.Replicas))
	case OpUnhost:
		t.add("unhost")
		t.add(n)
		t.add(e.Shards.Name)
	default:
		t.add(e.Action())
	}
}
