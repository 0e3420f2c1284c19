package proto

import (
	"time"

	"github.com/rumorhq/rumor/proto/phi"
)

// Heartbeat monitoring. Every member sits on a ring ordered by the hash of
// its UniqueAddress; each node monitors the next MonitoredBy reachable
// members after itself (every other member when the cluster is that small),
// so each node is monitored by MonitoredBy others and heartbeat traffic per
// node stays flat in the cluster size. This is Akka's heartbeat ring.
//
// A monitor sends Heartbeat every HeartbeatInterval and feeds the arrival
// of each HeartbeatAck to a phi accrual history (proto/phi). Every
// AvailabilityInterval it rewrites its own reachability row: the subjects
// whose phi is at or above the threshold.

// monitorTargets returns the subjects self must monitor in state s: the
// first k reachable successors of self on the ring, the unreachable members
// passed on the way, and every member self's own row marks unreachable (so
// that it notices when they come back). The result is in member order.
func monitorTargets(s *State, self UniqueAddress, k int) []UniqueAddress {
	var own []UniqueAddress
	if row, ok := s.Reachability.Row(self); ok {
		own = row.Unreachable
	}
	return monitorTargetsOwn(s, self, k, own, nil)
}

// nearestMax is the most successors monitorTargetsOwn keeps in a sorted
// list while it reads the ring; it orders more in a heap.
const nearestMax = 16

// monitorTargetsOwn is monitorTargets given self's own row's unreachable
// list, own, and, unless it is nil, hashes[i] = s.Members[i].Node.Hash()
// for every member that is not Down.
func monitorTargetsOwn(s *State, self UniqueAddress, k int, own []UniqueAddress, hashes []uint64) []UniqueAddress {
	const (
		inOwnRow = 1 << iota
		chosen
	)
	// mark[i] says what Members[i] is; the members are sorted, so the
	// marked ones read in order are the result, sorted and unique.
	mark := make([]uint8, len(s.Members))
	ring := ringWalk{self: self, selfHash: self.Hash(), members: s.Members}
	var heapBuf [16]ringEntry // the ring of a small cluster, on the stack
	if len(s.Members) <= len(heapBuf) {
		ring.heap = heapBuf[:0]
	} else {
		ring.heap = make([]ringEntry, 0, len(s.Members))
	}
	selfOnRing := false
	ownRow := nodeCursor{list: own}
	ownOthers := 0 // members on the ring other than self in the own row
	for i := range s.Members {
		m := &s.Members[i]
		if m.Status == Down {
			continue
		}
		if len(own) > 0 && ownRow.contains(m.Node) {
			mark[i] = inOwnRow | chosen
		}
		if m.Node == self {
			selfOnRing = true
			continue
		}
		if mark[i] != 0 {
			ownOthers++
		}
		e := ringEntry{index: i}
		if hashes != nil {
			e.hash = hashes[i]
		} else {
			e.hash = m.Node.Hash()
		}
		ring.heap = append(ring.heap, e)
	}
	if selfOnRing {
		// The walk passes at most k members outside the own row and all
		// those in it: only that many nearest successors matter.
		if need := k + ownOthers; need <= nearestMax {
			ring.keepNearest(need)
			for reachable, j := 0, 0; reachable < k && j < len(ring.heap); j++ {
				e := &ring.heap[j]
				if mark[e.index]&inOwnRow == 0 {
					reachable++
				}
				mark[e.index] |= chosen
			}
		} else {
			ring.init()
			for reachable := 0; reachable < k; {
				e, ok := ring.next()
				if !ok {
					break
				}
				if mark[e.index]&inOwnRow == 0 {
					reachable++
				}
				mark[e.index] |= chosen
			}
		}
	}
	n := 0
	for _, mk := range mark {
		if mk&chosen != 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]UniqueAddress, 0, n)
	for i, mk := range mark {
		if mk&chosen != 0 {
			out = append(out, s.Members[i].Node)
		}
	}
	return out
}

// ringEntry is a member on the heartbeat ring: its node's hash and its
// index in the walk's member list. It holds no pointer, so moving one
// costs no write barrier.
type ringEntry struct {
	hash  uint64
	index int
}

// ringWalk yields the other members of the ring in ring order after self:
// the ring is ordered by hash, then by address. Only the successors taken
// are ordered (a heap), not the whole ring: monitoring needs a few.
type ringWalk struct {
	self     UniqueAddress
	selfHash uint64
	members  []Member // the entries' nodes are members[index].Node
	heap     []ringEntry
}

// before reports whether a comes before b on the ring walked from self:
// by distance from self's hash going round, then by address, where the
// members with self's hash and a lower address come last of all.
func (w *ringWalk) before(a, b *ringEntry) bool {
	da, db := a.hash-w.selfHash, b.hash-w.selfHash
	if da != db {
		if da == 0 {
			return w.node(a).Compare(w.self) > 0
		}
		if db == 0 {
			return w.node(b).Compare(w.self) < 0
		}
		return da < db
	}
	if da == 0 {
		if wa, wb := w.node(a).Compare(w.self) < 0, w.node(b).Compare(w.self) < 0; wa != wb {
			return wb
		}
	}
	return w.node(a).Compare(*w.node(b)) < 0
}

// node returns e's node.
func (w *ringWalk) node(e *ringEntry) *UniqueAddress { return &w.members[e.index].Node }

// keepNearest leaves in w.heap, sorted in ring order, only its n entries
// nearest to self: each entry is inserted into the sorted prefix, which
// most pass by after one comparison with its last.
func (w *ringWalk) keepNearest(n int) {
	h := w.heap
	kept := 0
	for i := range h {
		e := h[i]
		if kept == n {
			if n == 0 || !w.before(&e, &h[n-1]) {
				continue
			}
			kept-- // the last one drops out
		}
		j := kept
		for ; j > 0 && w.before(&e, &h[j-1]); j-- {
			h[j] = h[j-1]
		}
		h[j] = e
		kept++
	}
	w.heap = w.heap[:kept] // h is w.heap: a self-assignment, which leaves w on the stack
}

func (w *ringWalk) init() {
	for i := len(w.heap)/2 - 1; i >= 0; i-- {
		w.down(i)
	}
}

// next removes and returns the nearest remaining successor.
func (w *ringWalk) next() (ringEntry, bool) {
	if len(w.heap) == 0 {
		return ringEntry{}, false
	}
	top := w.heap[0]
	last := len(w.heap) - 1
	w.heap[0] = w.heap[last]
	w.heap = w.heap[:last]
	w.down(0)
	return top, true
}

func (w *ringWalk) down(i int) {
	h := w.heap
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && w.before(&h[l], &h[least]) {
			least = l
		}
		if r < len(h) && w.before(&h[r], &h[least]) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

// targetMemo remembers monitorTargets for the node's state. The targets
// depend only on the ring (the nodes of the members that are not Down) and
// on the node's own reachability row, so a state that keeps both keeps
// them.
type targetMemo struct {
	members []Member        // the last member list found to have ring
	ring    []UniqueAddress // the nodes of the members that are not Down, in order
	// hashes[i] is ring[i].Hash(): a new ring takes the hashes of the
	// nodes it shares with the old one from here.
	hashes []uint64
	// Buffers for the next ring and hashes (the last ring's, which a new
	// one is built beside), and for the members' hashes.
	spareRing   []UniqueAddress
	spareHashes []uint64
	scratch     []uint64
	own         []UniqueAddress // the node's own row's unreachable list
	targets     []UniqueAddress // monitorTargets of every state with ring and own
	valid       bool
}

// currentTargets returns monitorTargets(n.st, n.self, n.cfg.MonitoredBy),
// computing it only when the ring or the node's own row changed. The
// result must not be modified.
func (n *Node) currentTargets() []UniqueAddress {
	m := &n.targets
	own := n.ownUnreachable()
	if m.valid && nodesEqual(m.own, own) {
		if sameMembers(m.members, n.st.Members) {
			return m.targets
		}
		if ringOfIs(m.ring, n.st.Members) {
			m.members = n.st.Members
			return m.targets
		}
	}
	ms := n.st.Members
	// The members' ring hashes, taken from the old ring where it has the
	// same node in the same place or one further on (one member joined
	// or left before it), computed for the rest.
	hashes := m.scratch[:0]
	if cap(hashes) < len(ms) {
		hashes = make([]uint64, len(ms))
	}
	hashes = hashes[:len(ms)]
	ring, ringHashes := m.spareRing[:0], m.spareHashes[:0]
	if cap(ring) < len(ms) {
		ring, ringHashes = make([]UniqueAddress, 0, len(ms)), make([]uint64, 0, len(ms))
	}
	old, oldHashes, j := m.ring, m.hashes, 0
	for i := range ms {
		if ms[i].Status == Down {
			continue
		}
		u := &ms[i].Node
		switch {
		case j < len(old) && old[j].UID == u.UID && sameNode(&old[j], u):
			hashes[i] = oldHashes[j]
			j++
		case j+1 < len(old) && old[j+1].UID == u.UID && sameNode(&old[j+1], u):
			hashes[i] = oldHashes[j+1]
			j += 2
		default:
			hashes[i] = u.Hash()
		}
		ring = append(ring, *u)
		ringHashes = append(ringHashes, hashes[i])
	}
	m.members, m.own, m.valid = ms, own, true
	m.ring, m.hashes, m.spareRing, m.spareHashes = ring, ringHashes, old, oldHashes
	m.scratch = hashes
	m.targets = monitorTargetsOwn(n.st, n.self, n.cfg.MonitoredBy, own, hashes)
	return m.targets
}

// ownRowMemo remembers the unreachable list of the node's own
// reachability row for a list of rows.
type ownRowMemo struct {
	rows        []ObserverRow
	unreachable []UniqueAddress
	valid       bool
}

// ownUnreachable returns the unreachable list of this node's own row in
// its state (nil without a row), looking the row up again only when the
// state's rows changed. The result must not be modified.
func (n *Node) ownUnreachable() []UniqueAddress {
	m := &n.ownRow
	if rows := n.st.Reachability.Rows; !m.valid || !sameRows(m.rows, rows) {
		m.rows, m.unreachable, m.valid = rows, nil, true
		if row, ok := n.st.Reachability.Row(n.self); ok {
			m.unreachable = row.Unreachable
		}
	}
	return m.unreachable
}

// ringOfIs reports whether ring lists the nodes of the members of ms that
// are not Down, in order.
func ringOfIs(ring []UniqueAddress, ms []Member) bool {
	k := 0
	for i := range ms {
		if ms[i].Status == Down {
			continue
		}
		if k == len(ring) || ring[k] != ms[i].Node {
			return false
		}
		k++
	}
	return k == len(ring)
}

// refreshMonitors starts histories for new subjects (monitoring begins now,
// so a subject that never answers is still detected) and drops old ones.
func (n *Node) refreshMonitors() {
	targets := n.currentTargets()
	if sameNodes(targets, n.monitorList) {
		return // the same subjects: every history stays
	}
	keep := make([]*phi.History, len(targets))
	// The histories of subjects no longer monitored are reset for new
	// ones (their windows' memory reused), or kept for later ones.
	spare := n.spareMonitors
	for i, u := range n.monitorList {
		if !containsNode(targets, u) {
			spare = append(spare, n.monitors[i])
		}
	}
	old := nodeCursor{list: n.monitorList}
	for i, u := range targets {
		// Both lists are sorted: the cursor finds kept subjects in order.
		if old.contains(u) {
			keep[i] = n.monitors[old.next-1]
		} else {
			if k := len(spare) - 1; k >= 0 && !n.freshMonitors {
				keep[i] = spare[k]
				keep[i].Reset(n.now)
				spare[k] = nil
				spare = spare[:k]
			} else {
				keep[i] = phi.NewHistory(n.cfg.FailureDetector, n.now)
			}
			n.monitorStarted()
		}
	}
	if len(spare) > maxSpareMonitors {
		clear(spare[maxSpareMonitors:])
		spare = spare[:maxSpareMonitors]
	}
	n.spareMonitors = spare
	n.monitors = keep
	n.monitorList = targets
}

// maxSpareMonitors is how many histories of subjects no longer monitored a
// node keeps for new subjects.
const maxSpareMonitors = 4

// monitor returns the history of subject *u, if this node monitors it.
func (n *Node) monitor(u *UniqueAddress) (*phi.History, bool) {
	list := n.monitorList
	if len(list) > cursorProbe {
		c := nodeCursor{list: list}
		if !c.contains(*u) {
			return nil, false
		}
		return n.monitors[c.next-1], true
	}
	uid := u.UID
	for i := range list {
		// sameNode, with the UID first, which rules most out cheaply, and
		// the hosts by sameString: an ack's sender is the address this
		// node sent the heartbeat to, often with the very same bytes.
		if e := &list[i]; e.UID == uid && e.Port == u.Port && len(e.Host) == len(u.Host) && sameString(e.Host, u.Host) {
			return n.monitors[i], true
		}
	}
	return nil, false
}

// ackedMonitor is monitor(from) for the ack of heartbeat seq. The last
// round sent heartbeat roundSeq+1+i to monitorList[i]; while the subjects
// stay, an ack of that round names its subject by its seq, so that one is
// compared with from first. Any other (an earlier round's, a forged seq,
// one whose subjects changed) is looked up by monitor.
func (n *Node) ackedMonitor(from *UniqueAddress, seq uint64) (*phi.History, bool) {
	list := n.monitorList
	if i := seq - n.roundSeq - 1; i < uint64(len(list)) && !n.slowSteps {
		if e := &list[i]; e.UID == from.UID && e.Port == from.Port && len(e.Host) == len(from.Host) && sameString(e.Host, from.Host) {
			return n.monitors[i], true
		}
	}
	return n.monitor(from)
}

// detectOwnPause notices that this node itself was frozen (a GC pause, a
// stopped VM, a clock that stood still): if far more time passed since the
// last tick than the detector tolerates, silence from the subjects is this
// node's fault, not theirs. Every history restarts from now, as if
// monitoring had just begun, instead of declaring the whole cluster
// unreachable.
func (n *Node) detectOwnPause() {
	last := n.lastTick
	n.lastTick = n.now
	if last.IsZero() || elapsedAtMost(n.now, last, n.cfg.HeartbeatInterval+n.cfg.FailureDetector.AcceptableHeartbeatPause) {
		return
	}
	for i, h := range n.monitors {
		if n.freshMonitors {
			n.monitors[i] = phi.NewHistory(n.cfg.FailureDetector, n.now)
		} else {
			h.Reset(n.now)
		}
	}
	n.monitorStarted()
	n.stats.OwnPauses++
}

// elapsedAtMost reports whether now.Sub(last) <= d. Two instants in UTC
// without monotonic readings (the simulator's) within 10^11 years of 1970
// (so that their Unix times do not wrap) and less than 285 years apart (so
// that the difference fits a Duration) are subtracted from their Unix
// times, which skips Sub's overflow checks.
func elapsedAtMost(now, last time.Time, d time.Duration) bool {
	if now == now.UTC() && last == last.UTC() {
		const wallRange, apart = 1 << 62, 9_000_000_000 // seconds
		ts, ls := now.Unix(), last.Unix()
		if ds := ts - ls; ts > -wallRange && ts < wallRange && ls > -wallRange && ls < wallRange && ds > -apart && ds < apart {
			return time.Duration(ds)*time.Second+time.Duration(now.Nanosecond()-last.Nanosecond()) <= d
		}
	}
	return now.Sub(last) <= d
}

// monitorStarted notes that a history started now: until it has had a
// detection time to flag a silent subject, this node's view of
// reachability is incomplete and it takes no downing decision.
func (n *Node) monitorStarted() {
	n.monitorsSettled = n.now.Add(n.detectionBound)
}

func (n *Node) heartbeatRound() {
	n.roundSeq = n.hbSeq
	for _, u := range n.monitorList {
		n.hbSeq++
		n.send(u, n.heartbeat(n.hbSeq))
	}
}

// heartbeatBlock is how many heartbeat bodies heartbeat allocates at once.
const heartbeatBlock = 64

// heartbeat returns the body of a heartbeat with sequence number seq: a
// *Heartbeat, which an interface holds without boxing, into a block of
// bodies allocated together. Each is written here once and never again,
// so the messages may share them as they share states.
func (n *Node) heartbeat(seq uint64) *Heartbeat {
	if n.beats == nil || n.beatsUsed == heartbeatBlock {
		n.beats, n.beatsUsed = new([heartbeatBlock]Heartbeat), 0
	}
	b := &n.beats[n.beatsUsed]
	n.beatsUsed++ // an index: taking a body writes no pointer
	b.Seq = seq
	return b
}

// ackOf returns the answer to a heartbeat with sequence number seq, or to
// *beat when beat is not nil. A *Heartbeat is answered with the same
// pointer as a *HeartbeatAck: the types share their fields, so Go
// converts the pointer, and the ack carries the heartbeat's Seq without
// a value of its own. Bodies are never modified once sent.
func ackOf(beat *Heartbeat, seq uint64) Body {
	if beat != nil {
		return (*HeartbeatAck)(beat)
	}
	return HeartbeatAck{Seq: seq}
}

// onHeartbeatAck feeds the ack of heartbeat seq from *from to its
// subject's history.
func (n *Node) onHeartbeatAck(from *UniqueAddress, seq uint64) {
	if h, ok := n.ackedMonitor(from, seq); ok {
		h.Heartbeat(n.now)
	} else {
		n.stats.DroppedIgnored++
	}
}

// checkAvailability rewrites this node's reachability row from the
// detector's verdicts.
func (n *Node) checkAvailability() {
	if n.verdictsAre(n.ownUnreachable()) {
		return // the row stands: its list need not be built
	}
	var unreachable []UniqueAddress
	for i, h := range n.monitors {
		if !h.Available(n.now) {
			unreachable = append(unreachable, n.monitorList[i])
		}
	}
	n.update(func(s *State) {
		s.Reachability = s.Reachability.withRow(n.self, unreachable)
	})
}

// verdictsAre reports whether list is, in order, the subjects the
// detector finds unavailable now: nodesEqual of their list and list,
// without building the list.
func (n *Node) verdictsAre(list []UniqueAddress) bool {
	k := 0
	for i, h := range n.monitors {
		if !h.Available(n.now) {
			if k == len(list) || list[k] != n.monitorList[i] {
				return false
			}
			k++
		}
	}
	return k == len(list)
}
