package proto

import (
	"maps"
	"math/bits"
	"sort"
	"time"
)

// State is the gossiped cluster state: members, reachability, the vector
// clock that versions it, the set of nodes that have seen that version, and
// tombstones of removed incarnations.
//
// A State that has been handed out (in a message or a snapshot) is never
// modified again: Node copies before it changes anything, so states can be
// shared between simulated nodes without copying.
type State struct {
	// Members is sorted by Node.
	// Invariant: no Removed status (removed members live in Tombstones), no
	// member whose Node is tombstoned.
	Members []Member
	// Reachability records who cannot reach whom.
	Reachability Reachability
	// Version is the state's vector clock.
	Version VClock
	// Seen lists the nodes that have seen exactly Version. Sorted.
	Seen []UniqueAddress
	// Tombstones maps removed incarnations to the local time this node
	// learned of the removal. Times never leave the node: merge stamps new
	// tombstones with the receiver's clock, and equality ignores them.
	Tombstones map[UniqueAddress]time.Time
	// Allocations holds one table per shard type, sorted by type name.
	Allocations []TypeAllocation
	// AllocationEpoch is the highest epoch any table carries; the leader
	// raises it by one on every allocation change. It never decreases.
	AllocationEpoch Epoch
	// Registry holds one row per owner, sorted by owner.
	// Invariant: only owners that are members and not Down have rows.
	Registry []RegistryRow
}

// NewState returns an empty state.
func NewState() *State {
	return &State{Version: VClock{}, Tombstones: map[UniqueAddress]time.Time{}}
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	out := &State{
		Members:      make([]Member, len(s.Members)),
		Reachability: s.Reachability.Clone(),
		Version:      s.Version.Clone(),
		Seen:         append([]UniqueAddress(nil), s.Seen...),
		Tombstones:   make(map[UniqueAddress]time.Time, len(s.Tombstones)),

		Allocations:     cloneAllocations(s.Allocations),
		AllocationEpoch: s.AllocationEpoch,
		Registry:        cloneRegistry(s.Registry),
	}
	for i, m := range s.Members {
		out.Members[i] = m.Clone()
	}
	for k, t := range s.Tombstones {
		out.Tombstones[k] = t
	}
	return out
}

// cloneForUpdate returns a copy of s for Node.update to change. Its parts
// are shared with s, since update and pruneTombstoned replace them rather
// than change them, except where they are not in the form Clone gives
// them: those are cloned, so that the state update builds is the one it
// would build from s.Clone(). The member list is shared with no room
// beyond its length, which tells setMember to copy it before its first
// write. The seen set and the clock are shared as they are: update
// replaces both. The tombstone map is shared too: whoever adds a
// tombstone in an update copies the map first (withTombstone), as prune
// does, so a state's map is never written once the state exists.
func (s *State) cloneForUpdate() *State {
	out := *s
	if s.Members != nil && membersNormal(s.Members) {
		out.Members = s.Members[:len(s.Members):len(s.Members)]
	} else {
		out.Members = make([]Member, len(s.Members), len(s.Members)+1)
		for i := range out.Members {
			out.Members[i] = s.Members[i].Clone()
		}
	}
	// Clone's form is a non-nil map even for none.
	if s.Tombstones == nil {
		out.Tombstones = map[UniqueAddress]time.Time{}
	}
	if !allocationsNormal(s.Allocations) {
		out.Allocations = cloneAllocations(s.Allocations)
	}
	if !registryNormal(s.Registry) {
		out.Registry = cloneRegistry(s.Registry)
	}
	return &out
}

// withTombstone returns tombs with u tombstoned at t, as a new map unless
// owned (tombs is then the caller's own, made by an earlier call). The
// maps of states are never written: a state being built takes the map of
// the state it was copied from until it adds a tombstone.
func withTombstone(tombs map[UniqueAddress]time.Time, owned bool, u UniqueAddress, t time.Time) map[UniqueAddress]time.Time {
	if !owned {
		// maps.Clone copies the map's groups as they are, without
		// hashing each key again.
		if tombs == nil {
			tombs = map[UniqueAddress]time.Time{}
		} else {
			tombs = maps.Clone(tombs)
		}
	}
	tombs[u] = t
	return tombs
}

// memberIndex returns where u is or would be inserted among the members,
// and whether it is there.
func (s *State) memberIndex(u UniqueAddress) (int, bool) { return s.lookupMember(u, true) }

// lookupMember is memberIndex(u) if where is set. Otherwise only a member
// found matters, and a list of up to scanList members is only scanned by
// equality, without comparing addresses.
func (s *State) lookupMember(u UniqueAddress, where bool) (int, bool) {
	if len(s.Members) <= scanLimit(where) {
		if i, ok := indexMember(s.Members, &u); ok || !where || len(s.Members) == 0 {
			return i, ok
		}
	}
	k := keyOf(u)
	return s.memberIndexKey(&k)
}

// indexMember returns the index of u's member in ms, scanning by equality.
func indexMember(ms []Member, u *UniqueAddress) (int, bool) {
	uid := u.UID
	for i := range ms {
		if ms[i].Node.UID != uid {
			continue // nearly every other member: one comparison
		}
		if sameNode(&ms[i].Node, u) {
			return i, true
		}
	}
	return 0, false
}

// memberIndexKey is memberIndex(k.u).
func (s *State) memberIndexKey(k *nodeKey) (int, bool) {
	i := sort.Search(len(s.Members), func(i int) bool { return k.compareTo(s.Members[i].Node) >= 0 })
	return i, i < len(s.Members) && s.Members[i].Node == k.u
}

// cursorProbe is how many entries after the previous answer a cursor
// compares by equality before it searches.
const cursorProbe = 8

// memberCursor answers whether nodes are members, for a run of queries
// that mostly come in member order: it tries the member after the previous
// answer by equality before it searches.
type memberCursor struct {
	s    *State
	next int
	// After cursorKeysAfter searches the cursor parses every member's
	// address once (keys) and searches by the parsed words, instead of
	// parsing the members a search compares each time.
	searches int
	keys     []nodeKey
	// kc, when set, supplies the parsed words of the list (words), shared
	// with every other cursor over it; noWords: some host is not IPv4.
	kc      *keyCache
	words   []uint32
	noWords bool
}

// cursorKeysAfter is the fewest searches a cursor makes before it parses
// the member list: a long run of lookups (a whole unreachable set or
// reachability table) then costs one parse per member rather than one per
// comparison.
const cursorKeysAfter = 16

func (c *memberCursor) has(u UniqueAddress) bool {
	_, ok := c.lookup(u, false)
	return ok
}

// index is memberIndex(u).
func (c *memberCursor) index(u UniqueAddress) (int, bool) { return c.lookup(u, true) }

// lookup is index(u) if where is set; else only whether u is a member
// matters, and a short list is only scanned.
func (c *memberCursor) lookup(u UniqueAddress, where bool) (int, bool) {
	ms := c.s.Members
	if len(ms) <= shortList {
		// By equality: from the previous answer on, then from the start.
		for j := c.next; j < len(ms); j++ {
			if ms[j].Node.UID == u.UID && sameNode(&ms[j].Node, &u) {
				c.next = j + 1
				return j, true
			}
		}
		for j := 0; j < c.next && j < len(ms); j++ {
			if ms[j].Node.UID == u.UID && sameNode(&ms[j].Node, &u) {
				c.next = j + 1
				return j, true
			}
		}
		if !where {
			return 0, false
		}
		// A non-member: where it would be inserted, found as below.
	}
	return c.locate(&u)
}

// locate is index(*up) for a list longer than shortList or a non-member
// of a shorter one.
func (c *memberCursor) locate(up *UniqueAddress) (int, bool) {
	u, ms := *up, c.s.Members
	if len(ms) > shortList {
		// Queries in member order mostly skip a few members: try the
		// next ones by equality before parsing u's address.
		for j := c.next; j < len(ms) && j < c.next+cursorProbe; j++ {
			if ms[j].Node.UID == u.UID && sameNode(&ms[j].Node, &u) {
				c.next = j + 1
				return j, true
			}
		}
	}
	if c.kc != nil && c.words == nil && !c.noWords && c.keys == nil {
		c.words, c.noWords = c.kc.words(ms)
	}
	if c.words != nil {
		if k := keyOf(u); k.isV4 {
			i, ok := searchWords(ms, c.words, &k)
			c.next = i
			if ok {
				c.next++
			}
			return i, ok
		}
	}
	if len(ms) == 0 {
		return 0, false
	}
	k := keyOf(u)
	if n := c.next; (n == len(ms) || c.compareAt(&k, n) > 0) && (n == 0 || c.compareAt(&k, n-1) < 0) {
		// u falls just before c.next, where it is not: a query in
		// member order for a non-member mostly does.
		return n, false
	}
	i, ok := c.search(&k)
	c.next = i
	if ok {
		c.next++
	}
	return i, ok
}

// compareAt is k.compareTo(c.s.Members[j].Node), by the parsed words
// when the cursor has them.
func (c *memberCursor) compareAt(k *nodeKey, j int) int {
	if c.words != nil && k.isV4 {
		if w := c.words[j]; w != k.v4 {
			if w < k.v4 {
				return -1
			}
			return 1
		}
	}
	return k.compareTo(c.s.Members[j].Node)
}

// search is c.s.memberIndexKey(k), by the parsed keys once the cursor has
// searched often enough to make parsing them pay, or at once by the words
// its key cache holds (or parses) for the list.
func (c *memberCursor) search(k *nodeKey) (int, bool) {
	ms := c.s.Members
	if c.words != nil && k.isV4 { // fetched by index
		return searchWords(ms, c.words, k)
	}
	if c.keys == nil {
		// Parse the list once the searches so far have cost about as
		// many parses as that (a search compares about log2 N members):
		// never more than twice the parses either way would have cost.
		if c.searches++; c.searches < cursorKeysAfter || c.searches*bits.Len(uint(len(ms))) < len(ms) {
			return c.s.memberIndexKey(k)
		}
		c.keys = make([]nodeKey, len(ms))
		for i := range ms {
			c.keys[i] = keyOf(ms[i].Node)
		}
	}
	i := sort.Search(len(ms), func(i int) bool { return k.compareKey(&c.keys[i]) >= 0 })
	return i, i < len(ms) && ms[i].Node == k.u
}

// searchWords is memberIndexKey(k) for an IPv4 key k over a member list
// whose hosts are all IPv4, given their words: equal words mean equal
// hosts (an octet has one spelling), so only ties read the members.
func searchWords(ms []Member, words []uint32, k *nodeKey) (int, bool) {
	// The first word not below k's, by halving without branching on the
	// words (a search's branches are a coin toss each), then past the
	// members of that host that sort before k.
	v := int64(k.v4)
	base, n := 0, len(words)
	for n > 1 {
		half := n >> 1
		// base += half when the word is below v: the sign of their
		// difference, as a mask, rather than a branch.
		base += half & int((int64(words[base+half-1])-v)>>63)
		n -= half
	}
	i := base
	if n == 1 && int64(words[i]) < v {
		i++
	}
	for ; i < len(words) && int64(words[i]) == v; i++ {
		if ms[i].Node == k.u {
			return i, true
		}
		if k.compareTo(ms[i].Node) > 0 {
			break // this member sorts after k
		}
	}
	return i, false
}

// Member returns the record of incarnation u.
func (s *State) Member(u UniqueAddress) (Member, bool) {
	if i, ok := s.lookupMember(u, false); ok {
		return s.Members[i], true
	}
	return Member{}, false
}

// Status returns u's status: Removed if tombstoned, 0 if unknown.
func (s *State) Status(u UniqueAddress) MemberStatus {
	if m, ok := s.Member(u); ok {
		return m.Status
	}
	if _, ok := s.Tombstones[u]; ok {
		return Removed
	}
	return 0
}

// memberWith is Member(u), its lookup sharing the parsed member list of
// kc (nil for none).
func (s *State) memberWith(u UniqueAddress, kc *keyCache) (Member, bool) {
	cur := memberCursor{s: s, kc: kc}
	if i, ok := cur.index(u); ok {
		return s.Members[i], true
	}
	return Member{}, false
}

// statusWith is Status(u), its lookup sharing the parsed member list of
// kc (nil for none).
func (s *State) statusWith(u UniqueAddress, kc *keyCache) MemberStatus {
	if m, ok := s.memberWith(u, kc); ok {
		return m.Status
	}
	if _, ok := s.Tombstones[u]; ok {
		return Removed
	}
	return 0
}

// setMember inserts or replaces m. The state must be owned by the caller,
// but for a member list with no room beyond its length, which may be
// another state's (see cloneForUpdate): that one is copied, with room for
// one more, before it is written.
func (s *State) setMember(m Member) {
	i, ok := s.memberIndex(m.Node)
	if ok {
		if cap(s.Members) == len(s.Members) {
			s.Members = append(make([]Member, 0, len(s.Members)+1), s.Members...)
		}
		s.Members[i] = m
		return
	}
	if cap(s.Members) == len(s.Members) {
		grown := make([]Member, len(s.Members)+1)
		copy(grown, s.Members[:i])
		copy(grown[i+1:], s.Members[i:])
		grown[i] = m
		s.Members = grown
		return
	}
	s.Members = append(s.Members, Member{})
	copy(s.Members[i+1:], s.Members[i:])
	s.Members[i] = m
}

// HasSeen reports whether u has seen the current version.
func (s *State) HasSeen(u UniqueAddress) bool { return containsNode(s.Seen, u) }

// counts reports whether observer's reachability row counts: its author
// must be a member that is not Down or Exiting. A downed node's opinions
// must not block the convergence that would remove it.
func (s *State) counts(observer UniqueAddress) bool {
	m, ok := s.Member(observer)
	return ok && m.Status != Down && m.Status != Exiting
}

// IsUnreachable reports whether any counting observer marks u unreachable.
func (s *State) IsUnreachable(u UniqueAddress) bool {
	for _, row := range s.Reachability.Rows {
		if containsNode(row.Unreachable, u) && s.counts(row.Observer) {
			return true
		}
	}
	return false
}

// Unreachable lists the members that some counting observer marks
// unreachable, in address order.
func (s *State) Unreachable() []UniqueAddress { return s.unreachableWith(nil) }

// unreachableWith is Unreachable, its lookups sharing the parsed member
// list of kc (nil for none).
func (s *State) unreachableWith(kc *keyCache) []UniqueAddress {
	var buf [8][]UniqueAddress // most clusters have few rows: no allocation
	lists := buf[:0]
	observers := memberCursor{s: s, kc: kc} // rows are in observer order
	for _, row := range s.Reachability.Rows {
		if s.countsAt(&observers, row.Observer) {
			lists = append(lists, row.Unreachable)
		}
	}
	if len(lists) == 0 {
		return nil
	}
	return s.unionOf(lists, kc)
}

// countsAt is counts(observer), looking the observer up with cur.
func (s *State) countsAt(cur *memberCursor, observer UniqueAddress) bool {
	i, ok := cur.index(observer)
	return ok && s.Members[i].Status != Down && s.Members[i].Status != Exiting
}

// unionOf returns the union of sorted node lists, in address order, as a
// new slice: unionNodes folded over the lists. Lists of members (as
// reachability rows are) are merged by marking their members, which needs
// no address comparisons. Its lookups share the parsed member list of kc
// (nil for none).
//
// With kc, the result may instead be one of the lists, or kc's list of
// every member (memberNodes), when that holds the whole union: lists in
// states are never modified, and the callers that pass kc modify no
// result.
func (s *State) unionOf(lists [][]UniqueAddress, kc *keyCache) []UniqueAddress {
	var small [64]bool
	marked := small[:0]
	if len(s.Members) <= len(small) {
		marked = small[:len(s.Members)]
	} else {
		marked = make([]bool, len(s.Members))
	}
	count, widest := 0, 0             // widest: the longest list
	cur := memberCursor{s: s, kc: kc} // one cursor, so its parsed keys serve every list
	for l, list := range lists {
		if len(list) > len(lists[widest]) {
			widest = l
		}
		cur.next = 0
		last := -1
		for _, u := range list {
			i, ok := cur.index(u)
			if !ok || i <= last {
				// A non-member, or a list out of order: fold as defined.
				var out []UniqueAddress
				for _, l := range lists {
					out = unionNodes(out, l)
				}
				return out
			}
			last = i
			if !marked[i] {
				marked[i] = true
				count++
			}
		}
	}
	// Every list names distinct members: one as long as the union is it.
	switch {
	case kc == nil || count == 0:
	case len(lists[widest]) == count:
		return lists[widest]
	case count == len(s.Members):
		return kc.memberNodes(s.Members)
	}
	out := make([]UniqueAddress, 0, count)
	for i, in := range marked {
		if in {
			out = append(out, s.Members[i].Node)
		}
	}
	return out
}

// Converged reports whether every member that is not Down or Exiting is
// reachable and has seen the current version.
//
// This is Akka's rule and stricter than "every reachable member has seen
// it": an unreachable member that is not yet Down blocks convergence, so the
// two sides of a partition never both run leader actions (allocations
// included). Downing (see downing.go) is what unblocks it.
func (s *State) Converged() bool {
	if len(s.Members) == 0 {
		return false
	}
	return s.convergedGiven(s.Unreachable())
}

// convergedGiven is Converged with s.Unreachable() already computed.
func (s *State) convergedGiven(unreachable []UniqueAddress) bool {
	if len(s.Members) == 0 {
		return false
	}
	// The seen set and the unreachable list are mostly subsequences of
	// the members: walk them along by equality, comparing addresses (and
	// so parsing them) only to settle a mismatch, and walk by comparison
	// (convergedWalk) where they hold a non-member.
	si, ui := 0, 0
	for i := range s.Members {
		m := &s.Members[i]
		inU := ui < len(unreachable) && unreachable[ui].UID == m.Node.UID && unreachable[ui] == m.Node
		if inU {
			ui++
		}
		inS := si < len(s.Seen) && s.Seen[si].UID == m.Node.UID && s.Seen[si] == m.Node
		if inS {
			si++
		}
		if m.Status == Down || m.Status == Exiting {
			continue
		}
		if inU {
			return false
		}
		if !inS {
			// A later member sorts after m: when the next seen node is
			// one, no address needs comparing.
			if si == len(s.Seen) || indexSameNode(s.Members[i+1:], &s.Seen[si]) || s.Seen[si].Compare(m.Node) > 0 {
				return false // the seen nodes left all sort after m
			}
			return s.convergedWalk(unreachable)
		}
	}
	if ui == len(unreachable) {
		return true // every unreachable node was placed: none is live
	}
	return s.convergedWalk(unreachable)
}

// indexSameNode reports whether u is the node of one of ms.
func indexSameNode(ms []Member, u *UniqueAddress) bool {
	for i := range ms {
		if sameNode(&ms[i].Node, u) {
			return true
		}
	}
	return false
}

// convergedWalk is convergedGiven by walking the sorted lists together,
// comparing at every step.
func (s *State) convergedWalk(unreachable []UniqueAddress) bool {
	if len(s.Members) == 0 {
		return false
	}
	si, ui := 0, 0
	for _, m := range s.Members {
		for ui < len(unreachable) && unreachable[ui].Compare(m.Node) < 0 {
			ui++
		}
		for si < len(s.Seen) && s.Seen[si].Compare(m.Node) < 0 {
			si++
		}
		if m.Status == Down || m.Status == Exiting {
			continue
		}
		if (ui < len(unreachable) && unreachable[ui] == m.Node) || si == len(s.Seen) || s.Seen[si] != m.Node {
			return false
		}
	}
	return true
}

// Leader returns the leader of this state as seen by self: the first member
// in address order among reachable Up or Leaving members; failing that, the
// first member that is not Down or Exiting and that self itself can reach
// (self included). It returns false when the state has no such member.
func (s *State) Leader(self UniqueAddress) (UniqueAddress, bool) {
	return s.leaderGiven(self, s.Unreachable())
}

// leaderGiven is Leader with s.Unreachable() already computed.
func (s *State) leaderGiven(self UniqueAddress, unreachable []UniqueAddress) (UniqueAddress, bool) {
	for i := range s.Members {
		m := &s.Members[i]
		if (m.Status == Up || m.Status == Leaving) && !containsNode(unreachable, m.Node) {
			return m.Node, true
		}
	}
	for i := range s.Members {
		m := &s.Members[i]
		if m.Status == Down || m.Status == Exiting {
			continue
		}
		if m.Node == self || !s.Reachability.Observes(self, m.Node) {
			return m.Node, true
		}
	}
	return UniqueAddress{}, false
}

// SeenDigest is a stable hash of the seen set: the sum of its nodes'
// mixed hashes (plus one for a non-empty set summing to zero), so a node
// joining the set adds its own term and nothing else is rehashed.
func (s *State) SeenDigest() uint64 {
	var sum uint64
	for _, u := range s.Seen {
		sum += seenTerm(u)
	}
	return seenDigestFix(sum, len(s.Seen))
}

// seenTerm is u's term in a seen digest.
func seenTerm(u UniqueAddress) uint64 { return fmix64(u.Hash() + seenTermSalt) }

// seenTermSalt keeps seen terms apart from other hashes of a node.
const seenTermSalt = 0x632be59bd9b4e019

// seenDigestFix keeps the digest of a non-empty set away from zero, the
// digest of the empty set.
func seenDigestFix(sum uint64, n int) uint64 {
	if sum == 0 && n > 0 {
		return 1
	}
	return sum
}

// contentEqual reports whether two states hold the same members,
// reachability, allocations and registry, ignoring version, seen set and tombstones (a removal also
// deletes the member, and tombstones expire locally).
func contentEqual(a, b *State) bool {
	return membersEqual(a.Members, b.Members) && a.AllocationEpoch == b.AllocationEpoch && reachabilityEqual(a.Reachability, b.Reachability) &&
		allocationsEqual(a.Allocations, b.Allocations) && registryEqual(a.Registry, b.Registry)
}

// mergeContent joins the contents of a and b: tombstones by union (stamping
// new ones with now), members record by record by status precedence,
// reachability row by row by observer version, the clock element-wise, and
// then drops everything that names a tombstoned incarnation. The seen set of
// the result is empty; the caller decides it. The operation is commutative,
// associative and idempotent on contents.
func mergeContent(a, b *State, now time.Time) *State {
	return mergeContentClock(a, b, now, mergeShared(a.Version, b.Version), nil)
}

// mergeContentClock is mergeContent with the merged clock already known
// (the caller compared the clocks and found one dominating).
// Its lookups share the parsed member lists of kc (nil for none).
func mergeContentClock(a, b *State, now time.Time, version VClock, kc *keyCache) *State {
	return mergeContentKnown(a, b, now, version, false, nil, kc)
}

// mergeContentKnown is mergeContentClock, told whether version is known to
// hold no entry of a's or b's tombstones (clean: the clock then needs no
// pruning unless the merge tombstones a Removed member), and given the
// sorted UIDs of a's tombstones (aUIDs, nil when not known).
func mergeContentKnown(a, b *State, now time.Time, version VClock, clean bool, aUIDs []UID, kc *keyCache) *State {
	out := &State{
		Members: mergeMembers(a.Members, b.Members),
		Version: version,
	}
	var uids []UID // of out.Tombstones, when known
	if a.Tombstones != nil && !anyRemoved(out.Members) && kc.tombstonesCover(a.Tombstones, b.Tombstones) {
		// The union is a's map, times and all. With no member Removed,
		// pruning only reads the map, so the result may share it: maps
		// are never changed once in a state.
		out.Tombstones, uids = a.Tombstones, aUIDs
	} else {
		out.Tombstones = make(map[UniqueAddress]time.Time, len(a.Tombstones)+len(b.Tombstones))
		for k, t := range a.Tombstones {
			out.Tombstones[k] = t
		}
		for k := range b.Tombstones {
			if _, ok := out.Tombstones[k]; !ok {
				out.Tombstones[k] = now
			}
		}
	}
	// The merged rows share their lists with a and b: pruneTombstoned
	// copies before it changes anything.
	out.Reachability = mergeReachability(a.Reachability, b.Reachability)
	out.Allocations = mergeAllocationsWith(a.Allocations, b.Allocations, kc)
	out.AllocationEpoch = a.AllocationEpoch
	if b.AllocationEpoch > out.AllocationEpoch {
		out.AllocationEpoch = b.AllocationEpoch
	}
	out.Registry = mergeRegistry(a.Registry, b.Registry)
	out.prune(now, kc, clean, uids)
	return out
}

// anyRemoved reports whether a member is Removed.
func anyRemoved(ms []Member) bool {
	for i := range ms {
		if ms[i].Status == Removed {
			return true
		}
	}
	return false
}

// tombstonesCover reports whether every key of b is a key of a.
func tombstonesCover(a, b map[UniqueAddress]time.Time) bool {
	if len(b) > len(a) {
		return false
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return false
		}
	}
	return true
}

// pruneTombstoned drops members, clock entries, seen entries and
// reachability rows and subjects of tombstoned incarnations, registry rows
// of owners that are Down or gone, and Removed
// members (which become tombstones, stamped now, if they are not already).
// The state must
// be owned by the caller.
func (s *State) pruneTombstoned(now time.Time) { s.pruneTombstonedWith(now, nil) }

// pruneTombstonedWith is pruneTombstoned, its lookups sharing the parsed
// member lists of kc (nil for none). The member list it leaves must not
// be modified afterwards (see keyCache).
func (s *State) pruneTombstonedWith(now time.Time, kc *keyCache) { s.prune(now, kc, false, nil) }

// prune is pruneTombstonedWith, told whether the clock is known to hold no
// entry of the tombstones (clean), and given the sorted UIDs of the
// tombstones (uids; nil when not known), which rule most members out
// without hashing them. The tombstone map is replaced only to tombstone a
// Removed member, which a known uids must not come with.
func (s *State) prune(now time.Time, kc *keyCache, clean bool, uids []UID) {
	// Copy on write: the slices, the clock and the tombstone map may be
	// shared with other states, so they are replaced, never changed in
	// place.
	var members []Member
	// Tombstones are mostly few: when looking each up among the members
	// costs less than looking every member up among them, mark the
	// tombstoned members first.
	var dead []bool
	if t := len(s.Tombstones); t > 0 && t*bits.Len(uint(len(s.Members))) < len(s.Members) {
		dead = make([]bool, len(s.Members))
		cur := memberCursor{s: s, kc: kc}
		for k := range s.Tombstones {
			if i, ok := cur.index(k); ok {
				dead[i] = true
			}
		}
	}
	added := false // a tombstone the clock was not checked against
	for i := range s.Members {
		m := &s.Members[i]
		drop := false
		if m.Status == Removed {
			if _, ok := s.Tombstones[m.Node]; !ok {
				// The map may be another state's: copied on the first
				// write.
				s.Tombstones = withTombstone(s.Tombstones, added, m.Node, now)
				added = true
			}
			drop = true
		} else if dead != nil {
			drop = dead[i]
		} else if len(s.Tombstones) > 0 && (uids == nil || containsUID(uids, m.Node.UID)) {
			_, drop = s.Tombstones[m.Node]
		}
		if drop && members == nil {
			members = append(make([]Member, 0, len(s.Members)), s.Members[:i]...)
		} else if !drop && members != nil {
			members = append(members, *m)
		}
	}
	if members != nil {
		s.Members = members
	}
	// Seen sets and reachability rows name members only: a peer's state
	// may carry observers or subjects this node has already forgotten.
	if s.Seen != nil {
		var seen []UniqueAddress
		cur := memberCursor{s: s, kc: kc}
		for i, u := range s.Seen {
			keep := cur.has(u)
			if !keep && seen == nil {
				seen = append(s.Seen[:0:0], s.Seen[:i]...)
			} else if keep && seen != nil {
				seen = append(seen, u)
			}
		}
		if seen != nil {
			s.Seen = seen
		} else if len(s.Seen) == 0 {
			s.Seen = s.Seen[:0:0]
		}
	}
	observers, subjects := memberCursor{s: s, kc: kc}, memberCursor{s: s, kc: kc}
	if kc == nil || len(s.Members) == 0 || s.Reachability.Rows == nil ||
		!rowsKept(s.Reachability.Rows, kc.record(s.Members), &observers, &subjects) {
		s.Reachability = s.Reachability.prune(observers.has, subjects.has)
	}
	if len(s.Registry) > 0 {
		// Rows are sorted by owner, as members are by node: one cursor
		// walks both.
		owners := memberCursor{s: s, kc: kc}
		liveOwner := func(u UniqueAddress) bool {
			i, ok := owners.index(u)
			return ok && s.Members[i].Status != Down
		}
		keep := true
		for _, r := range s.Registry {
			if !liveOwner(r.Owner) {
				keep = false
				break
			}
		}
		if !keep {
			owners = memberCursor{s: s, kc: kc}
			rows := make([]RegistryRow, 0, len(s.Registry))
			for _, r := range s.Registry {
				if liveOwner(r.Owner) {
					rows = append(rows, r)
				}
			}
			s.Registry = rows
		}
	}
	if len(s.Tombstones) == 0 || (clean && !added) {
		return
	}
	// Tombstones are few and clocks large: look the tombstones up.
	copied := false
	for k := range s.Tombstones {
		if _, ok := s.Version[k]; ok {
			if !copied {
				s.Version, copied = s.Version.Clone(), true
			}
			delete(s.Version, k)
		}
	}
}

// rowsKept is Reachability{rows}.pruneKeepsAll(observers.has,
// subjects.has) for cursors over rec's members, except that a table rec
// last found to name members only needs no lookups.
func rowsKept(rows []ObserverRow, rec *keyRecord, observers, subjects *memberCursor) bool {
	if len(rows) > 0 && sameRows(rec.keptRows, rows) {
		return true
	}
	for _, row := range rows {
		if !observers.has(row.Observer) || row.Unreachable == nil {
			return false
		}
		for _, u := range row.Unreachable {
			if !subjects.has(u) {
				return false
			}
		}
	}
	rec.keptRows = rows
	return true
}

// prunedVersion returns v without the entries of incarnations in either
// tombstone set, so clocks compare alike on both sides of a removal.
func prunedVersion(v VClock, a, b map[UniqueAddress]time.Time) VClock {
	// Tombstones are few and clocks are large: look the tombstones up in
	// the clock rather than the other way round.
	hit := false
	for k := range a {
		if _, ok := v[k]; ok {
			hit = true
			break
		}
	}
	if !hit {
		for k := range b {
			if _, ok := v[k]; ok {
				hit = true
				break
			}
		}
	}
	if !hit {
		return v
	}
	out := v.Clone()
	for k := range a {
		delete(out, k)
	}
	for k := range b {
		delete(out, k)
	}
	return out
}
