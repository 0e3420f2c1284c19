package proto

// Downing: once the set of unreachable members has stayed the same for
// StableAfter, the leader of each side of a partition applies the
// configured strategy. Every strategy names a side to keep; the leader downs
// the other side, and when that is its own side it downs itself with it, so
// no two sides ever both go on as "the cluster". Unreachable is not Down:
// nothing here runs before StableAfter.

// sides splits the live members of s into the reachable side (the members
// no counting observer marks unreachable) and the unreachable side, as seen
// by self. Self is always on its own reachable side: a node deciding for
// its side must count itself there, or a node that others cut off would
// find its own side empty and down nobody, running on alone. Down members
// are on neither side; Exiting members are leaving anyway and are on
// neither side either.
func sides(s *State, self UniqueAddress) (reachable, unreachable []Member) {
	u := nodeCursor{list: unreachableFrom(s, self, nil)}
	for i := range s.Members {
		m := &s.Members[i]
		if m.Status == Down || m.Status == Exiting {
			continue
		}
		if m.Node != self && u.contains(m.Node) {
			unreachable = append(unreachable, *m)
		} else {
			reachable = append(reachable, *m)
		}
	}
	return reachable, unreachable
}

// unreachableSide is nodesOf of the unreachable side of sides(s, self),
// without building the sides. Its lookups share the parsed member list of
// kc (nil for none).
func unreachableSide(s *State, self UniqueAddress, kc *keyCache) []UniqueAddress {
	list := unreachableFrom(s, self, kc)
	if len(list) == 0 {
		return []UniqueAddress{}
	}
	// The result holds at most the list's nodes: one allocation.
	out := make([]UniqueAddress, 0, len(list))
	// The list is normally a subsequence of the members: one walk by
	// equality places it.
	j := 0
	for i := range s.Members {
		m := &s.Members[i]
		in := j < len(list) && list[j] == m.Node
		if in {
			j++
		}
		if in && m.Node != self && m.Status != Down && m.Status != Exiting {
			out = append(out, m.Node)
		}
	}
	if j != len(list) {
		// It named a non-member: look each member up instead.
		out = out[:0]
		u := nodeCursor{list: list}
		for i := range s.Members {
			m := &s.Members[i]
			if m.Status == Down || m.Status == Exiting {
				continue
			}
			if m.Node != self && u.contains(m.Node) {
				out = append(out, m.Node)
			}
		}
	}
	if len(out) == 0 {
		return []UniqueAddress{}
	}
	return out
}

// pendingDown lists the members marked Down that were Up, as counted
// members: they are still in the state because their removal has not
// converged.
func pendingDown(s *State) []Member {
	var out []Member
	for _, m := range s.Members {
		if m.Status == Down && m.UpNumber > 0 {
			m.Status = Up
			out = append(out, m)
		}
	}
	return out
}

// seenByOther reports whether a member other than self has seen s.
func seenByOther(s *State, self UniqueAddress) bool {
	for _, u := range s.Seen {
		if u != self {
			return true
		}
	}
	return false
}

// counted reports whether m counts toward a side's size: only Up members
// and Leaving members that were Up do, as in Akka (Joining and WeaklyUp
// members may be gone before they ever mattered). A member that leaves
// while still Joining is known to one side of a partition and not to the
// other; counting it would let both sides win.
func counted(m Member) bool { return m.Status == Up || (m.Status == Leaving && m.UpNumber > 0) }

func countSide(side []Member) int {
	n := 0
	for _, m := range side {
		if counted(m) {
			n++
		}
	}
	return n
}

// decideDowning returns the members the leader must mark Down under the
// partition strategies (KeepMajority, StaticQuorum, KeepOldest, DownAll).
// AutoDown and Manual are not decided here and return nil. It is a pure
// function of the strategy and the state.
func decideDowning(cfg DowningConfig, s *State, self UniqueAddress) []UniqueAddress {
	reachable, unreachable := sides(s, self)
	if len(unreachable) == 0 {
		return nil
	}
	keepReachable := false
	switch cfg.Strategy {
	case KeepMajority:
		others := unreachable
		if !seenByOther(s, self) {
			// No other member has seen this node's current version: it
			// has heard from nobody since it last changed, so the members
			// it marked Down meanwhile were downed on its view alone
			// (a cut-off node that had not yet flagged every member it
			// cannot reach). They count against it: a node that won a
			// tie against half the cluster and then loses sight of its
			// last peer finds itself a minority, instead of the leader
			// of a cluster of one. Downs its side has seen (a crashed
			// leader's last decision) count on no side, so the next
			// leader can finish them.
			others = append(append([]Member(nil), unreachable...), pendingDown(s)...)
		}
		r, u := countSide(reachable), countSide(others)
		switch {
		case r > u:
			keepReachable = true
		case r < u:
			keepReachable = false
		default:
			keepReachable = lowestOnSide(reachable, others)
		}
	case StaticQuorum:
		// Once the cluster has grown past 2×quorum−1 members, both sides
		// of a partition may reach the quorum; as in Akka, no side keeps
		// running then (each downs itself), rather than two.
		r, u := countSide(reachable), countSide(unreachable)
		keepReachable = r >= cfg.QuorumSize && r+u <= 2*cfg.QuorumSize-1
	case KeepOldest:
		keepReachable = oldestOnSide(reachable, unreachable)
	case DownAll:
		return nodesOf(append(append([]Member(nil), reachable...), unreachable...))
	default:
		return nil
	}
	if keepReachable {
		return nodesOf(unreachable)
	}
	return nodesOf(reachable)
}

// lowestOnSide reports whether the lowest address among the counted members
// of both sides (all members when none counts) is on side a.
func lowestOnSide(a, b []Member) bool {
	pick := func(only bool) (UniqueAddress, bool, bool) {
		var best UniqueAddress
		found, inA := false, false
		for i, side := range [][]Member{a, b} {
			for _, m := range side {
				if only && !counted(m) {
					continue
				}
				if !found || m.Node.Compare(best) < 0 {
					best, found, inA = m.Node, true, i == 0
				}
			}
		}
		return best, found, inA
	}
	if _, found, inA := pick(true); found {
		return inA
	}
	_, _, inA := pick(false)
	return inA
}

// oldestOnSide reports whether the oldest member (lowest UpNumber, then
// lowest address) of both sides is on side a. Counted members are preferred.
func oldestOnSide(a, b []Member) bool {
	var best Member
	found, inA := false, false
	for _, only := range []bool{true, false} {
		for i, side := range [][]Member{a, b} {
			for _, m := range side {
				if only && !counted(m) {
					continue
				}
				if !found || m.olderThan(best) {
					best, found, inA = m, true, i == 0
				}
			}
		}
		if found {
			return inA
		}
	}
	return inA
}

func nodesOf(ms []Member) []UniqueAddress {
	out := make([]UniqueAddress, len(ms))
	for i, m := range ms {
		out[i] = m.Node
	}
	sortNodes(out)
	return out
}

// membersAt marks, by member index, the nodes of list when they are all
// members of s in member order (a sorted list of members, as a row is),
// and returns nil otherwise or for an empty list.
func membersAt(s *State, list []UniqueAddress, kc *keyCache) []bool {
	if len(list) == 0 || len(s.Members) == 0 {
		return nil
	}
	at := make([]bool, len(s.Members))
	cur := memberCursor{s: s, kc: kc}
	last := -1
	for _, u := range list {
		i, ok := cur.index(u)
		if !ok || i <= last {
			return nil
		}
		at[i], last = true, i
	}
	return at
}

// unreachableFrom is the unreachable set as self must judge it for
// downing: self's own row, plus the rows of counting observers that self's
// own row does not mark unreachable. The rows of observers on the other
// side of a partition (or dead ones) say nothing about this side: counting
// them would let a stale row of a crashed node down healthy ones. Its
// lookups share the parsed member list of kc (nil for none).
func unreachableFrom(s *State, self UniqueAddress, kc *keyCache) []UniqueAddress {
	var own []UniqueAddress
	if row, ok := s.Reachability.Row(self); ok && s.counts(self) {
		own = row.Unreachable
	}
	var buf [8][]UniqueAddress // enough for most tables, without allocating
	lists := append(buf[:0], own)
	ownAt := membersAt(s, own, kc)          // own's nodes by member index, if all are members in order
	observers := memberCursor{s: s, kc: kc} // rows are in observer order
	for _, row := range s.Reachability.Rows {
		if row.Observer == self {
			continue
		}
		i, ok := observers.index(row.Observer)
		if !ok || s.Members[i].Status == Down || s.Members[i].Status == Exiting {
			continue // it does not count
		}
		if ownAt != nil {
			if ownAt[i] {
				continue
			}
		} else if containsNode(own, row.Observer) {
			continue
		}
		lists = append(lists, row.Unreachable)
	}
	if len(lists) == 1 {
		return own
	}
	return s.unionOf(lists, kc)
}
