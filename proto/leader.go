package proto

import "time"

// afterChange runs after every Step and Tick: it writes this node's own
// declarations into the state, stops this node if the state says it is out, keeps the monitors and the
// unreachable bookkeeping current, and publishes a snapshot when the
// topology changed. Work that depends only on the state is skipped when the
// state is the one already processed.
func (n *Node) afterChange() {
	if n.phase == PhaseMember {
		n.syncOwn()
		n.trackUnreachable()
		n.checkSelf()
	}
	if n.st != n.processed {
		n.processed = n.st
		n.trackLeaders()
		if n.phase == PhaseMember {
			if changed := n.ringChanged(); changed || n.monitorList == nil {
				n.refreshMonitors()
			} else if row, ok := n.st.Reachability.Row(n.self); ok && len(row.Unreachable) > 0 {
				n.refreshMonitors()
			}
		}
		n.publish()
	}
	if n.stopping != "" {
		reason := n.stopping
		n.stopping = ""
		n.phase = PhaseStopped
		n.stopReason = reason
		n.monitors, n.monitorList = nil, nil
		n.out.Events = append(n.out.Events, Event{Type: NodeStopped, At: n.now, Seq: n.topo.Seq, Reason: reason})
	}
}

// stop asks afterChange to stop the node once the last snapshot is out.
func (n *Node) stop(reason string) {
	if n.stopping == "" && n.phase != PhaseStopped {
		n.stopping = reason
	}
	if n.phase == PhaseJoining || n.phase == PhaseIdle {
		n.afterChange()
	}
}

// checkSelf stops a node that the cluster has downed or removed, or that
// has finished leaving. A node that is Down or Exiting first hands its
// state to its peers, so they learn it has seen its fate.
func (n *Node) checkSelf() {
	if n.stopping != "" || n.derived.selfFine == n.st {
		return
	}
	switch n.selfStatus() {
	case Down:
		n.farewell()
		n.stop("downed")
	case Exiting:
		n.farewell()
		n.stop("left")
	case Removed:
		n.stop("removed")
	default:
		// The status is the state's: the same state needs no look again.
		n.derived.selfFine = n.st
	}
}

// farewell hands the final state to every member this node can reach
// whose fate it carries (a side that downed itself must hear it at once,
// not one node per StableAfter), and to GossipFanout others.
func (n *Node) farewell() {
	others := 0
	for _, m := range n.st.Members {
		if m.Node.Address == n.self.Address || n.st.Reachability.Observes(n.self, m.Node) {
			continue
		}
		if m.Status != Down && m.Status != Exiting {
			if others >= n.cfg.GossipFanout {
				continue
			}
			others++
		}
		n.send(m.Node, GossipState{State: n.st, Reply: true})
		n.stats.GossipStatesOut++
	}
}

// trackUnreachable keeps the time the unreachable set last changed (for
// StableAfter), when each member became unreachable (for AutoDown) and
// since when each member has been Joining (for WeaklyUp).
func (n *Node) trackUnreachable() {
	if n.st == n.tracked {
		return
	}
	n.tracked = n.st
	// The result depends on the members and the reachability rows only:
	// a new state that shares both changes nothing here.
	d := &n.derived
	if d.trackValid && sameMembers(d.trackMembers, n.st.Members) && sameRows(d.trackRows, n.st.Reachability.Rows) {
		return
	}
	d.trackMembers, d.trackRows, d.trackValid = n.st.Members, n.st.Reachability.Rows, true
	nodes := unreachableSide(n.st, n.self, &n.keys)
	if !nodesEqual(nodes, n.lastUnreachable) {
		n.lastUnreachable = nodes
		n.unreachableSince = n.now
	}
	n.forgetReachable(nodes)
	for _, u := range nodes {
		if _, ok := n.firstUnreachable[u]; !ok {
			n.firstUnreachable[u] = n.now
		}
	}
	if len(n.joining) == 0 && !anyJoining(n.st.Members) {
		return
	}
	n.joining, n.joiningSince = trackJoining(n.st.Members, n.joining, n.joiningSince, n.now)
}

// forgetReachable drops from firstUnreachable the nodes not in nodes, a
// list of members in member order (as unreachableSide returns): it marks
// them along the members and looks the remembered nodes up among the
// members by their parsed addresses, instead of searching nodes.
func (n *Node) forgetReachable(nodes []UniqueAddress) {
	if len(n.firstUnreachable) == 0 {
		return
	}
	ms := n.st.Members
	in := make([]bool, len(ms))
	j := 0
	for i := range ms {
		if j < len(nodes) && nodes[j] == ms[i].Node {
			in[i] = true
			j++
		}
	}
	if j < len(nodes) { // not a list of members after all
		for u := range n.firstUnreachable {
			if !containsNode(nodes, u) {
				delete(n.firstUnreachable, u)
			}
		}
		return
	}
	cur := memberCursor{s: n.st, kc: &n.keys}
	for u := range n.firstUnreachable {
		if i, ok := cur.index(u); !ok || !in[i] {
			delete(n.firstUnreachable, u)
		}
	}
}

// trackJoining returns the members that are Joining, in member order, each
// with the time it was first seen Joining: its time in the previous list
// (nodes, sorted, with since) or now. It returns the previous list itself
// when the Joining members are exactly its nodes.
func trackJoining(members []Member, nodes []UniqueAddress, since []time.Time, now time.Time) ([]UniqueAddress, []time.Time) {
	k := 0
	for i := range members {
		if members[i].Status != Joining {
			continue
		}
		if k == len(nodes) || nodes[k] != members[i].Node {
			k = -1
			break
		}
		k++
	}
	if k == len(nodes) {
		return nodes, since
	}
	var outNodes []UniqueAddress
	var outSince []time.Time
	old := nodeCursor{list: nodes}
	for i := range members {
		m := &members[i]
		if m.Status != Joining {
			continue
		}
		t := now
		if old.contains(m.Node) {
			t = since[old.next-1]
		}
		outNodes, outSince = append(outNodes, m.Node), append(outSince, t)
	}
	return outNodes, outSince
}

func anyJoining(ms []Member) bool {
	for i := range ms {
		if ms[i].Status == Joining {
			return true
		}
	}
	return false
}

// leaderActions runs the leader's duties if this node is the leader: on
// convergence, Joining/WeaklyUp→Up, Leaving→Exiting, Exiting→Removed (once
// the exiting member has seen it, or is unreachable) and Down→Removed;
// without convergence, Joining→WeaklyUp after WeaklyUpAfter; and downing.
func (n *Node) leaderActions() {
	if n.stopping != "" {
		return
	}
	leader, ok := n.leader()
	if !ok || leader != n.self {
		return
	}
	var ups, exits, removes, weak []Member
	var allocations []TypeAllocation
	fixed := false // allocations is a fixed point of Allocate for the members
	converged := n.converged() || n.cfg.PlantedBug == BugSkipConvergence
	if converged {
		unreachable := n.unreachable()
		for _, m := range n.st.Members {
			switch m.Status {
			case Joining, WeaklyUp:
				ups = append(ups, m)
			case Leaving:
				// Shards are handed off first: a leaving member exits
				// only once the converged tables no longer name it.
				if !holdsShards(n.st.Allocations, m.Node) {
					exits = append(exits, m)
				}
			case Exiting:
				if n.st.HasSeen(m.Node) || containsNode(unreachable, m.Node) {
					removes = append(removes, m)
				}
			case Down:
				removes = append(removes, m)
			}
		}
	} else if n.cfg.WeaklyUpAfter > 0 {
		joining := nodeCursor{list: n.joining}
		for _, m := range n.st.Members {
			if m.Status == Joining && joining.contains(m.Node) && n.now.Sub(n.joiningSince[joining.next-1]) >= n.cfg.WeaklyUpAfter &&
				!n.st.IsUnreachable(m.Node) {
				weak = append(weak, m)
			}
		}
	}
	if converged && n.st != n.allocIdle && n.allocIdleFor(n.st.Members, n.st.Allocations, n.nextEpoch()) {
		n.allocIdle = n.st // found idle once: the next ticks in this state need not look again
	} else if converged && n.st != n.allocIdle {
		sc := &n.derived.alloc
		types, hosts := shardInputsInto(n.st, sc)
		if next, changed, fix := allocateSorted(sc, n.st.Allocations, types, hosts, n.nextEpoch(), n.cfg.RebalanceMaxMoves); changed {
			allocations, fixed = reuseTables(next, n.st.Allocations), fix
		} else {
			// Allocate is pure: the same inputs give the same answer.
			n.allocIdle = n.st
			d := &n.derived
			d.idleMembers, d.idleTables, d.idleEpoch, d.idleValid = n.st.Members, n.st.Allocations, n.nextEpoch(), true
		}
	}
	downs := n.downingTargets()
	if len(ups)+len(exits)+len(removes)+len(weak)+len(downs) == 0 && allocations == nil {
		return
	}
	n.stats.LeaderActions++
	members := n.st.Members
	n.update(func(s *State) {
		var maxUp int64
		for _, m := range s.Members {
			if m.UpNumber > maxUp {
				maxUp = m.UpNumber
			}
		}
		for _, m := range ups {
			m.Status = Up
			if m.UpNumber == 0 {
				maxUp++
				m.UpNumber = maxUp
			}
			s.setMember(m)
		}
		for _, m := range exits {
			m.Status = Exiting
			s.setMember(m)
		}
		for _, m := range weak {
			m.Status = WeaklyUp
			s.setMember(m)
		}
		for i, m := range removes {
			m.Status = Removed
			s.setMember(m)
			// The map is n.st's until the first tombstone copies it.
			s.Tombstones = withTombstone(s.Tombstones, i > 0, m.Node, n.now)
		}
		if allocations != nil {
			s.Allocations = allocations
			s.AllocationEpoch = n.nextEpoch()
		}
		for _, u := range downs {
			if m, ok := s.Member(u); ok && m.Status != Down {
				m.Status = Down
				s.setMember(m)
				n.stats.Downings++
			}
		}
	})
	// Allocate would change nothing in the new tables while the members
	// (which give its types and hosts) stay: the next tick need not ask.
	if fixed && sameTables(n.st.Allocations, allocations) && membersEqual(n.st.Members, members) {
		d := &n.derived
		d.idleMembers, d.idleTables, d.idleEpoch, d.idleValid = n.st.Members, n.st.Allocations, n.nextEpoch(), true
	}
}

// allocIdleFor reports whether Allocate last changed nothing for these
// members (its types and hosts are derived from them alone), tables and
// epoch.
func (n *Node) allocIdleFor(members []Member, tables []TypeAllocation, next Epoch) bool {
	d := &n.derived
	return d.idleValid && d.idleEpoch == next && membersEqual(d.idleMembers, members) && allocationsEqual(d.idleTables, tables)
}

// membersEqual reports whether two member lists hold equal records, in
// O(1) when they are the same slice.
func membersEqual(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	if sameMembers(a, b) {
		return true
	}
	for i := range a {
		if !memberEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// downingTargets applies the downing strategy once the unreachable set has
// been stable for StableAfter and every monitor has watched its subject
// long enough to have flagged it (AutoDown: once each member has been
// unreachable for AutoDownAfter).
//
// The second condition matters when a node is cut off: each subject it
// marks unreachable is passed on the ring, so it starts monitoring the
// next one, which is flagged a detection time later, and so on until it
// sees every other member unreachable and finds itself a minority. A
// StableAfter shorter than that detection time would let it decide
// between two layers, find itself a majority of the members it has not
// yet flagged, and down them.
func (n *Node) downingTargets() []UniqueAddress {
	if len(n.lastUnreachable) == 0 {
		return nil
	}
	switch n.cfg.Downing.Strategy {
	case Manual:
		return nil
	case AutoDown:
		var out []UniqueAddress
		for _, u := range n.lastUnreachable {
			if n.now.Sub(n.firstUnreachable[u]) >= n.cfg.Downing.AutoDownAfter {
				out = append(out, u)
			}
		}
		return out
	}
	if n.now.Sub(n.unreachableSince) < n.cfg.StableAfter || n.now.Before(n.monitorsSettled) {
		return nil
	}
	return decideDowning(n.cfg.Downing, n.st, n.self)
}

// publish emits a snapshot and its events when the topology changed.
func (n *Node) publish() {
	next := TopologySnapshot{
		Members:     n.st.Members,
		Unreachable: n.unreachable(),
		Converged:   n.converged(),

		ShardAllocations: n.st.Allocations,
		AllocationEpoch:  n.st.AllocationEpoch,
		Registry:         n.flatRegistry(),
	}
	next.Leader, next.HasLeader = n.leader()
	if st := n.selfStatus(); (st == Down || st == Exiting) && n.topo.Seq > 0 {
		// A node on its way out no longer counts as an observer, so its
		// own view would suddenly find everyone reachable. Its last
		// snapshot reports its own fate and keeps what it last knew of
		// reachability and leadership.
		next.Unreachable = filterMembers(n.st, n.topo.Unreachable)
		next.Leader, next.HasLeader = n.topo.Leader, n.topo.HasLeader
	}
	if n.topo.Seq > 0 && next.sameContent(n.topo) {
		return
	}
	if n.topo.Seq == 0 && len(next.Members) == 0 {
		return
	}
	// n.topo shares its slices with the state and the memos, which are
	// never modified; so does the caller's snapshot, which callers must
	// not modify either (see Output).
	next.Seq = n.topo.Seq + 1
	n.out.Events = appendDiff(n.out.Events, n.topo, next, n.now)
	n.topo = next
	n.out.Snapshots = append(n.out.Snapshots, next.sharedWith(&n.keys))
}

// holdsShards reports whether u is a primary or replica in any table.
func holdsShards(tables []TypeAllocation, u UniqueAddress) bool {
	for _, t := range tables {
		for _, a := range t.Shards {
			if a.Primary == u || containsNodeUnsorted(a.Replicas, u) {
				return true
			}
		}
	}
	return false
}

// shardInputs derives what Allocate needs from a converged state: every
// declared type (when members declare one name differently, the oldest
// member's declaration wins) and, per type, the Up members hosting it in
// address order. Leaving, Exiting and Down members host nothing, so their
// shards move.
func shardInputs(s *State) ([]ShardType, map[string][]UniqueAddress) {
	types, lists := shardInputsInto(s, &allocScratch{types: make([]ShardType, 0, 2)})
	hosts := map[string][]UniqueAddress{}
	for i, t := range types {
		if lists[i] != nil {
			hosts[t.Name] = lists[i]
		}
	}
	return types, hosts
}

// shardInputsInto is shardInputs in scratch: the declared types sorted
// by name and, per type, the list of its hosts (nil for none). Both live
// in the scratch until its next use.
func shardInputsInto(s *State, sc *allocScratch) ([]ShardType, [][]UniqueAddress) {
	// Types are few: they are found in the list by name, and decl[i] is
	// the index of the member whose declaration out[i] is.
	out, decl := sc.types[:0], sc.decl[:0]
	for i := range s.Members {
		m := &s.Members[i]
		for _, t := range m.Hosts {
			k := 0
			for k < len(out) && out[k].Name != t.Name {
				k++
			}
			switch {
			case k == len(out):
				out, decl = append(out, t), append(decl, i)
			case m.olderThan(s.Members[decl[k]]):
				out[k], decl[k] = t, i
			}
		}
	}
	sortShardTypes(out)
	sc.types, sc.decl = out, decl
	// Each type's hosts, in member order, follow the last type's in one
	// array.
	lists, nodes := sc.lists[:0], sc.nodes[:0]
	for _, t := range out {
		start := len(nodes)
		for i := range s.Members {
			m := &s.Members[i]
			if m.Status != Up {
				continue
			}
			for _, h := range m.Hosts {
				if h.Name == t.Name {
					nodes = append(nodes, m.Node)
				}
			}
		}
		var list []UniqueAddress
		if len(nodes) > start {
			list = nodes[start:len(nodes):len(nodes)]
		}
		lists = append(lists, list)
	}
	sc.lists, sc.nodes = lists, nodes
	return out, lists
}

// trackLeaders counts the leadership changes this node's states showed since
// the allocation epoch last changed.
func (n *Node) trackLeaders() {
	if n.st.AllocationEpoch != n.epochSeen {
		n.epochSeen, n.leaderChanges = n.st.AllocationEpoch, 0
	}
	if l, ok := n.leader(); ok && l != n.lastLeader {
		if n.lastLeader != (UniqueAddress{}) {
			n.leaderChanges++
		}
		n.lastLeader = l
	}
}

// nextEpoch is the epoch of this node's next allocation: one above the
// current one, plus one for every leadership change seen since that epoch
// was set. A leader allocates only on convergence, so every later leader
// held the state in which an earlier one led; if that earlier leader
// allocated an epoch and died (or paused) before gossiping it, the later
// leader counted its leadership and skips past the epoch it may have used.
// Epochs therefore stay unique fencing tokens across leader changes; they
// only grow, sometimes by more than one.
func (n *Node) nextEpoch() Epoch { return n.st.AllocationEpoch + 1 + n.leaderChanges }
