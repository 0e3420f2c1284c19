package proto

import "math/bits"

// Gossip: the per-round digest exchange, full states, and seen sets.
//
// Every GossipInterval a member sends a GossipStatus holding only digests of
// its version and seen set to GossipFanout peers, preferring those that
// have not seen its version. A peer whose digests match does nothing. A
// peer with the same version but another seen set answers with a
// GossipSeen (a bitmap over the members); a peer with another version
// answers with its full clock, and whichever side is newer ships its
// GossipState. After a change, every node needs the new state once; the
// seen sets that then converge cost a bitmap each instead of a state.

// onStatus answers a peer's version digest. Equal versions with equal seen
// sets cost nothing more; equal versions with other seen sets cost a seen
// bitmap; otherwise whichever side is newer sends its state. A status that
// carries a whole clock (Version) is compared exactly; rumor's own rounds
// send digests and the clock's sum only.
func (n *Node) onStatus(from UniqueAddress, g GossipStatus) {
	if n.phase != PhaseMember {
		n.stats.DroppedIgnored++
		return
	}
	// A digest-only status (no clock) is a valid clock whose entry for
	// this node is zero.
	if g.Version != nil && (validateClock(g.Version) != nil || !n.ownEntryValid(g.Version)) {
		n.stats.DroppedInvalid++
		return
	}
	if g.Version == nil {
		// A round's digest-only status.
		if g.VersionDigest == n.versionDigest() {
			if g.SeenDigest != n.seenDigest() {
				n.sendSeen(from, g.Reply)
			}
			return
		}
		// The versions differ. Clocks only grow, so the side whose
		// counters add up to more holds the newer version or a concurrent
		// one: it ships its state, and the receiver answers with its own
		// if it had something the sender lacked. (A removal prunes clock
		// entries, so a sum can mislead; the answer still completes the
		// exchange, one state later.) No clock crosses the network.
		switch {
		case n.versionSum() >= g.VersionSum:
			n.sendState(from, false)
		case !g.Reply:
			n.send(from, n.roundStatus(true))
		}
		return
	}
	local := prunedVersion(n.st.Version, n.st.Tombstones, nil)
	remote := prunedVersion(g.Version, n.st.Tombstones, nil)
	switch local.Compare(remote) {
	case Same:
		if g.SeenDigest == n.seenDigest() {
			break
		}
		// A seen bitmap names the version by its digest; clocks that are
		// the same only once tombstoned entries are dropped need the state.
		if g.Version.OrderFreeDigest() == n.versionDigest() {
			n.sendSeen(from, g.Reply)
		} else {
			n.sendState(from, g.Reply)
		}
	case After:
		n.sendState(from, true)
	case Before:
		if !g.Reply {
			n.send(from, GossipStatus{Version: n.st.Version, SeenDigest: n.seenDigest(), Reply: true})
		}
	case Concurrent:
		n.sendState(from, false)
	}
}

func (n *Node) sendState(to UniqueAddress, reply bool) {
	n.send(to, n.stateBody(reply))
	n.stats.GossipStatesOut++
}

// stateBody returns GossipState{State: n.st, Reply: reply} boxed: the box
// of the last such body when it held the same (message bodies are never
// modified, so messages may share one).
func (n *Node) stateBody(reply bool) Body {
	d := &n.derived
	k := 0
	if reply {
		k = 1
	}
	if d.stateBoxFor[k] != n.st || d.stateBox[k] == nil {
		d.stateBox[k], d.stateBoxFor[k] = GossipState{State: n.st, Reply: reply}, n.st
	}
	return d.stateBox[k]
}

func (n *Node) onState(from UniqueAddress, g GossipState) {
	if n.phase != PhaseMember {
		n.stats.DroppedIgnored++
		return
	}
	if g.State == nil {
		n.stats.DroppedInvalid++ // validateState's first answer
		return
	}
	d := &n.derived
	// A clock is walked once, here: its checks, the own entry and the
	// merge's comparison read the flattened entries (when the clocks are
	// small enough to flatten, see flatMax).
	var rf *flatClock
	flat := n.flattens(g.State.Version, n.st.Version)
	if flat {
		rf = n.remoteFlat(g.State.Version)
	}
	var err error
	if d.validState == nil {
		err = validateState(g.State)
	} else {
		if v := g.State.Version; flat && rf.valid && v != nil && !sameClock(v, d.validState.Version) && !d.validParts.clockValid(v) {
			d.validParts.addClock(v) // what validateStateSince would find, and remember
		}
		err = validateStateSince(g.State, d.validState, &d.validParts)
	}
	ok := err == nil
	if ok && flat {
		ok = rf.get(&n.self) <= n.localFlat().get(&n.self) // ownEntryValid, by the flattened clocks
	} else if ok {
		ok = n.ownEntryValid(g.State.Version)
	}
	if !ok {
		n.stats.DroppedInvalid++
		return
	}
	d.validState = g.State
	before := n.st
	ord := n.merge(g.State)
	if g.Reply {
		return
	}
	// Answer only when this node had something the sender lacked (ord
	// compares the clocks of before and the sender's state).
	switch {
	case ord == After || ord == Concurrent:
		n.sendState(from, true)
	case ord == Same && !subsetNodes(before.Seen, g.State.Seen):
		// The same clock has the same digest.
		if sameClock(n.st.Version, g.State.Version) || n.versionDigest() == g.State.Version.OrderFreeDigest() {
			n.sendSeen(from, true)
		} else {
			n.sendState(from, true)
		}
	}
}

// sendSeen sends the current seen set as a bitmap over the members.
func (n *Node) sendSeen(to UniqueAddress, reply bool) {
	n.seenBitmap()
	n.send(to, n.derived.seenBodyFor(GossipSeen{VersionDigest: n.versionDigest(), MembersDigest: n.membersDigest, Seen: n.seenBits, Reply: reply}))
}

// onSeen merges a peer's seen set for the version both hold. A bitmap for
// another version is ignored: the versions differ, and the next round's
// status exchange ships the newer state. A bitmap over another member list
// under the same version (which a correct peer never sends) is answered
// with this node's whole state, whose merge joins the seen sets by name.
func (n *Node) onSeen(from UniqueAddress, g GossipSeen) {
	if n.phase != PhaseMember {
		n.stats.DroppedIgnored++
		return
	}
	if g.VersionDigest != n.versionDigest() {
		n.stats.SeenIgnored++
		return
	}
	n.seenBitmap()
	if g.MembersDigest != n.membersDigest {
		n.stats.SeenIgnored++
		n.sendState(from, true)
		return
	}
	if !validSeenBits(len(n.st.Members), g.Seen) {
		n.stats.DroppedInvalid++
		return
	}
	// The union works on the bitmaps: both index the same member list.
	local := n.seenBits
	lacks, gains := false, false // local has bits the remote lacks, and the other way round
	for i, b := range local {
		lacks = lacks || b&^g.Seen[i] != 0
		gains = gains || g.Seen[i]&^b != 0
	}
	if gains {
		n.digests()
		union := make([]byte, len(local))
		digest := n.digest // the sum of the local terms, plus the added ones below
		for i, b := range local {
			union[i] = b | g.Seen[i]
			for added := g.Seen[i] &^ b; added != 0; added &= added - 1 {
				digest += n.derived.seenTermOf(&n.st.Members[i*8+bits.TrailingZeros8(added)].Node)
			}
		}
		// Adding terms is exact when every local seen node had a bit (the
		// local set held members only) and the local digest was the plain
		// sum (1 may stand for a sum of 0).
		bitsAll := len(n.st.Seen) == bitCount(local)
		exact := bitsAll && n.digest != 1
		var seen []UniqueAddress
		if len(n.st.Members) > 0 && bitCount(union) == len(n.st.Members) {
			seen = n.keys.memberNodes(n.st.Members) // every member: the shared list
		} else if bitsAll {
			seen = seenUnion(n.st.Members, local, union, n.st.Seen)
		} else {
			seen, _ = seenFromBits(n.st.Members, union)
		}
		s := *n.st
		s.Seen = seen
		n.st = &s
		n.stats.Merges++
		if exact {
			digest = seenDigestFix(digest, len(seen))
		} else {
			digest = n.derived.seenDigestOf(&s)
		}
		n.digestFor, n.digest = n.st, digest
		n.seenBitsFor, n.seenBits = n.st, union
	} else {
		n.stats.NoopMerges++
	}
	if !g.Reply && lacks {
		n.sendSeen(from, true)
	}
}

// validSeenBits reports whether bits is a bitmap over members members: the
// right length, and no bit past the last member.
func validSeenBits(members int, bits []byte) bool {
	if len(bits) != (members+7)/8 {
		return false
	}
	r := members % 8
	return r == 0 || bits[len(bits)-1]>>r == 0
}

// bitCount is the number of set bits.
func bitCount(bs []byte) int {
	n := 0
	for _, b := range bs {
		n += bits.OnesCount8(b)
	}
	return n
}

// seenFromBits lists the members whose bits are set, in member order
// (which is the order of a seen set). It fails for a bitmap of another
// length or with bits past the last member.
func seenFromBits(members []Member, bs []byte) ([]UniqueAddress, bool) {
	if !validSeenBits(len(members), bs) {
		return nil, false
	}
	out := make([]UniqueAddress, 0, bitCount(bs))
	for i, b := range bs {
		for ; b != 0; b &= b - 1 {
			out = append(out, members[i*8+bits.TrailingZeros8(b)].Node)
		}
	}
	return out, true
}

// seenUnion is seenFromBits(members, union) for a union of bitmaps over
// members of which local is the bitmap of old, a list of members in member
// order (one node per bit): the nodes of local's bits are copied from old
// in order, and only the added ones are read from the members.
func seenUnion(members []Member, local, union []byte, old []UniqueAddress) []UniqueAddress {
	out := make([]UniqueAddress, 0, bitCount(union))
	k := 0
	for i, b := range union {
		for ; b != 0; b &= b - 1 {
			bit := b & -b
			if local[i]&bit != 0 {
				out = append(out, old[k])
				k++
			} else {
				out = append(out, members[i*8+bits.TrailingZeros8(b)].Node)
			}
		}
	}
	return out
}

// seenBits is the bitmap of seen over members (both sorted by node); seen
// nodes that are not members have no bit.
func seenBits(members []Member, seen []UniqueAddress) []byte {
	bs := make([]byte, (len(members)+7)/8)
	// A node's own seen set is a subsequence of its members: one walk by
	// equality places every bit.
	j := 0
	for i, m := range members {
		if j < len(seen) && seen[j].UID == m.Node.UID && seen[j] == m.Node {
			bs[i/8] |= 1 << (i % 8)
			j++
		}
	}
	if j == len(seen) {
		return bs
	}
	// Some seen node is not a member: walk again, skipping those.
	clear(bs)
	j = 0
	for i, m := range members {
		for j < len(seen) && seen[j].Compare(m.Node) < 0 {
			j++
		}
		if j < len(seen) && seen[j] == m.Node {
			bs[i/8] |= 1 << (i % 8)
			j++
		}
	}
	return bs
}

// membersDigestOf names a member list by its nodes, in order.
func membersDigestOf(members []Member) uint64 {
	h := newHasher()
	h.addUint(uint64(len(members)))
	for _, m := range members {
		h.addNode(m.Node)
	}
	return h.sum
}

// seenBitmap brings n.seenBits and n.membersDigest up to date with the
// current state, once per state (and once per member list for the
// digest).
func (n *Node) seenBitmap() {
	if n.seenBitsFor == n.st {
		return
	}
	if ms := n.st.Members; !n.membersDigestValid || !sameMembers(n.membersDigestFor, ms) {
		// The digest names the nodes only: a new list of the same nodes
		// (statuses changed) keeps it.
		if !n.membersDigestValid || len(n.membersDigestFor) != len(ms) || !sameNodeSeq(n.membersDigestFor, ms) {
			n.membersDigest, n.membersDigestValid = membersDigestOf(ms), true
		}
		n.membersDigestFor = ms
	}
	n.seenBitsFor, n.seenBits = n.st, seenBits(n.st.Members, n.st.Seen)
}

func subsetNodes(a, b []UniqueAddress) bool {
	if sameNodes(a, b) {
		return true
	}
	in := nodeCursor{list: b}
	for _, u := range a {
		if !in.contains(u) {
			return false
		}
	}
	return true
}

// merge folds a remote state into the local one. If the remote version is
// older nothing happens; the same version merges seen sets; a newer version
// is adopted (through the lattice join, so no member ever moves backwards);
// concurrent versions are joined and seen only by this node. The clock is
// never bumped by a merge.
//
// It returns how the local clock compared with the remote one, both
// without the entries either side has tombstoned.
func (n *Node) merge(remote *State) Ordering {
	local := n.st
	ord, clean := n.clockOrder(local, remote)
	if ord == After {
		n.stats.NoopMerges++
		return ord
	}
	if ord == Same {
		n.mergeSeen(remote.Seen)
		return ord
	}
	version := remote.Version
	// Unpruned clocks hold no tombstoned entry, and so neither does their
	// join.
	switch {
	case ord == Concurrent && clean:
		// Neither clock dominates: mergeShared would join them.
		version = local.Version.Merge(remote.Version)
	case ord != Before || !clean:
		// Only an unpruned Before says the remote clock dominates.
		version = mergeShared(local.Version, remote.Version)
	}
	merged := mergeContentKnown(local, remote, n.now, version, clean, n.localTombUIDs(), &n.keys)
	if n.cfg.PlantedBug == BugStatusRegress && ord == Concurrent {
		regress(merged, local, remote)
	}
	// A node that learns from this merge that it was removed has seen
	// nothing and writes nothing: it only stops (checkSelf).
	var self []UniqueAddress
	_, member := merged.memberWith(n.self, &n.keys)
	if member {
		self = n.selfOnly()
	}
	if ord == Before {
		// Does the join hold what remote holds, once remote is pruned by
		// the merged tombstones? If it holds what remote holds, yes:
		// the join is pruned, and pruning (a function of the contents
		// and the tombstones) leaves pruned contents as they are.
		// Otherwise remote is pruned to see.
		equal := contentEqual(merged, remote)
		if !equal {
			// pruneTombstoned copies on write, so a shallow copy of
			// remote is safe to prune. It writes no tombstone into the
			// map merged may share with local: a Removed member of
			// remote would be one of the join, whose map is then its own.
			norm := *remote
			norm.Tombstones = merged.Tombstones
			norm.pruneTombstonedWith(n.now, &n.keys)
			equal = contentEqual(merged, &norm)
		}
		if equal || !member {
			// self, when set, is a member of merged.
			merged.Seen = filteredUnion(merged, remote.Seen, self, &n.keys)
			n.st = merged
			n.stats.Merges++
			return ord
		}
		// The remote claimed to be newer but lacked something this node
		// had: treat the join as a new local version.
		merged.Version = merged.Version.Increment(n.self)
	}
	merged.Seen = self
	n.st = merged
	n.stats.Merges++
	return ord
}

// mergeSeen joins a seen set of the current version into the local one,
// keeping only members.
func (n *Node) mergeSeen(remote []UniqueAddress) {
	local := n.st
	if seenCovers(local, remote, &n.keys) {
		// The union, filtered to members, is local.Seen itself.
		n.stats.NoopMerges++
		return
	}
	seen := filteredUnion(local, local.Seen, remote, &n.keys)
	if nodesEqual(seen, local.Seen) {
		n.stats.NoopMerges++
		return
	}
	s := *local
	s.Seen = seen
	n.st = &s
	n.stats.Merges++
	if n.digestFor == local {
		// Same version: only the seen digest changes.
		n.digestFor, n.digest = n.st, n.derived.seenDigestOf(n.st)
	}
}

// seenCovers reports whether filterMembers(s, unionNodes(s.Seen, other))
// equals s.Seen: every node of s.Seen is a member and every node of other
// is in s.Seen or not a member. It allocates nothing (but what kc, nil
// for none, parses).
func seenCovers(s *State, other []UniqueAddress, kc *keyCache) bool {
	cur := memberCursor{s: s, kc: kc}
	for _, u := range s.Seen {
		if !cur.has(u) {
			return false
		}
	}
	in := nodeCursor{list: s.Seen}
	cur = memberCursor{s: s, kc: kc}
	for _, u := range other {
		if !in.contains(u) && cur.has(u) {
			return false
		}
	}
	return true
}

// filteredUnion is filterMembers(s, unionNodes(a, b)) in one pass, its
// lookups sharing the parsed member list of kc (nil for none).
func filteredUnion(s *State, a, b []UniqueAddress, kc *keyCache) []UniqueAddress {
	if out, ok := unionByIndex(s, a, b, kc); ok {
		return out
	}
	out := make([]UniqueAddress, 0, len(a)+len(b))
	cur := memberCursor{s: s, kc: kc}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var u UniqueAddress
		switch {
		case j == len(b):
			u = a[i]
			i++
		case i == len(a):
			u = b[j]
			j++
		case a[i] == b[j]:
			u = a[i]
			i++
			j++
		default:
			if c := a[i].Compare(b[j]); c < 0 {
				u = a[i]
				i++
			} else if c > 0 {
				u = b[j]
				j++
			} else {
				u = a[i]
				i++
				j++
			}
		}
		if cur.has(u) {
			out = append(out, u)
		}
	}
	return out
}

// unionByIndex is filteredUnion(s, a, b, kc) for lists of members in
// member order, as seen sets are, over at most 64 members: the members
// either list marks, in order, with no address compared. It fails for a
// list naming a non-member, or out of order.
func unionByIndex(s *State, a, b []UniqueAddress, kc *keyCache) ([]UniqueAddress, bool) {
	if len(s.Members) > 64 {
		return nil, false
	}
	var masks [2]uint64
	for l, list := range [2][]UniqueAddress{a, b} {
		cur := memberCursor{s: s, kc: kc}
		last := -1
		for k := range list {
			i, ok := cur.lookup(list[k], true)
			if !ok || i <= last {
				return nil, false
			}
			last = i
			masks[l] |= 1 << uint(i)
		}
	}
	// Lists in states are never modified: a list that holds the whole
	// union is the union, and so is the shared list of every member.
	mask := masks[0] | masks[1]
	switch {
	case mask == 0:
	case mask == masks[0]:
		return a, true
	case mask == masks[1]:
		return b, true
	case kc != nil && bits.OnesCount64(mask) == len(s.Members):
		return kc.memberNodes(s.Members), true
	}
	out := make([]UniqueAddress, 0, bits.OnesCount64(mask))
	for m := mask; m != 0; m &= m - 1 {
		out = append(out, s.Members[bits.TrailingZeros64(m)].Node)
	}
	return out, true
}

// filterMembers keeps the nodes of list that are members of s.
func filterMembers(s *State, list []UniqueAddress) []UniqueAddress {
	out := make([]UniqueAddress, 0, len(list))
	cur := memberCursor{s: s}
	for _, u := range list {
		if cur.has(u) {
			out = append(out, u)
		}
	}
	return out
}

// gossipRound sends the version digest to up to GossipFanout peers,
// preferring those that have not seen the current version.
func (n *Node) gossipRound() {
	// The lists live in scratch buffers of the node: only the first
	// GossipFanout targets outlive the round (in the messages, by value).
	// They hold member indexes, which are shuffled as the nodes would be.
	d := &n.derived
	var own nodeCursor // n.st.Reachability.Observes(n.self, ·)
	own.list = n.ownUnreachable()
	ms, sn := n.st.Members, n.st.Seen
	if !d.gossipValid || !sameMembers(d.gossipMembers, ms) || !sameNodes(d.gossipOf, sn) || !sameNodes(d.gossipOwn, own.list) {
		// Seen is a sorted subset of the members, so one walk in step
		// with them tells seen from unseen.
		unseen, seen := d.gossipUnseen[:0], d.gossipSeen[:0]
		j := 0
		for i := range ms {
			m := &ms[i]
			isSeen := j < len(sn) && sn[j].UID == m.Node.UID && sn[j] == m.Node
			if isSeen {
				j++
			}
			if m.Status == Down || (m.Node.UID == n.self.UID && m.Node == n.self) || own.contains(m.Node) {
				continue
			}
			if isSeen {
				seen = append(seen, int32(i))
			} else {
				unseen = append(unseen, int32(i))
			}
		}
		d.gossipUnseen, d.gossipSeen = unseen, seen
		d.gossipMembers, d.gossipOf, d.gossipOwn, d.gossipValid = ms, sn, own.list, true
	}
	// One boxed status serves every target: message bodies are never
	// modified.
	status := n.roundBodyFor(n.roundStatus(false))
	left := n.cfg.GossipFanout
	for _, list := range [2][]int32{d.gossipUnseen, d.gossipSeen} {
		// A partial Fisher-Yates shuffle draws the targets uniformly
		// without shuffling the whole list; the swaps are undone after,
		// so that the next round over the same state finds the list as
		// it was built.
		var swaps [8]int
		drawn := 0
		for i := 0; i < len(list) && left > 0; i++ {
			k := i + n.rng.Intn(len(list)-i)
			list[i], list[k] = list[k], list[i]
			n.send(ms[list[i]].Node, status)
			left--
			if drawn < len(swaps) {
				swaps[drawn] = k
			}
			drawn++
		}
		if drawn > len(swaps) {
			d.gossipValid = false // too many to undo: build afresh next time
			continue
		}
		for i := drawn - 1; i >= 0; i-- {
			k := swaps[i]
			list[i], list[k] = list[k], list[i]
		}
	}
}

// seenDigest is the current state's SeenDigest, computed once per state.
func (n *Node) seenDigest() uint64 {
	n.digests()
	return n.digest
}

// versionDigest is the current version's OrderFreeDigest, computed once
// per state.
func (n *Node) versionDigest() uint64 {
	n.digests()
	return n.vdigest
}

// versionSum is the sum of the current version's counters (saturating),
// computed once per state.
func (n *Node) versionSum() uint64 {
	n.digests()
	return n.vsum
}

// roundStatus is the digest-only status of the current state.
func (n *Node) roundStatus(reply bool) GossipStatus {
	n.digests()
	return GossipStatus{VersionDigest: n.vdigest, SeenDigest: n.digest, VersionSum: n.vsum, Reply: reply}
}

// roundBodyFor returns st, a round's digest-only status, boxed: the body
// of the last round when that carried the same digests (message bodies
// are never modified, so rounds may share one).
func (n *Node) roundBodyFor(st GossipStatus) Body {
	if n.roundBody == nil || st.Version != nil || n.roundFor.VersionDigest != st.VersionDigest ||
		n.roundFor.SeenDigest != st.SeenDigest || n.roundFor.VersionSum != st.VersionSum || n.roundFor.Reply != st.Reply {
		n.roundBody, n.roundFor = st, st
	}
	return n.roundBody
}

func (n *Node) digests() {
	if n.digestFor != n.st {
		n.digestFor, n.digest = n.st, n.derived.seenDigestOf(n.st)
		if !n.vdigestValid || !sameClock(n.vdigestOf, n.st.Version) {
			if n.flattens(n.st.Version, nil) {
				n.vdigest, n.vsum = n.localFlat().digestAndSum()
			} else {
				n.vdigest, n.vsum = n.st.Version.digestAndSum()
			}
			n.vdigestOf, n.vdigestValid = n.st.Version, true
		}
	}
}
