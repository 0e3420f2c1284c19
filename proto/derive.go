package proto

import (
	"slices"
	"time"
)

// Per-node memos of values derived from the current state. States are
// immutable once assigned and successive states share unchanged slices
// (see share.go), so each memo is keyed by the identity of the slices its
// value depends on and survives every state that did not change them.
type derived struct {
	// Unreachable and Leader depend on Members and Reachability.Rows.
	members     []Member
	rows        []ObserverRow
	valid       bool
	unreachable []UniqueAddress
	leader      UniqueAddress
	hasLeader   bool

	// Converged depends on those and on Seen.
	seen      []UniqueAddress
	convValid bool
	converged bool

	// The ring the monitors were last chosen from (the nodes of the
	// members that are not Down, in order), kept compact: a new member
	// list is compared with it reading a node, not a whole record, of the
	// old ring. ringMembers is the last member list found to have it.
	ringNodes   []UniqueAddress
	ringMembers []Member
	ringValid   bool

	// flattenRegistry depends on Registry only.
	registry  []RegistryRow
	regValid  bool
	flattened []ServiceEntry
	// flatRows[i] is the row of registry flattened[i] came from, when
	// registry keeps its invariants (nil otherwise).
	flatRows []int32
	// flatSpare is the array of the flatRows before the last
	// reflattenRow, which the next one fills.
	flatSpare []int32

	// The members, tables and next epoch for which Allocate last changed
	// nothing.
	idleMembers []Member
	idleTables  []TypeAllocation
	idleEpoch   Epoch
	idleValid   bool
	// alloc is the scratch the leader allocates in.
	alloc allocScratch

	// trackUnreachable depends on Members and Reachability.Rows only.
	trackMembers []Member
	trackRows    []ObserverRow
	trackValid   bool

	// The last state from the network that passed validation: the parts
	// a new one shares with it need no checking again.
	validState *State
	validParts validMemo // clocks of states from the network found valid

	// The sorted UIDs of the last tombstone maps asked about
	// (tombUIDsOf), and those of the current state's map (tombUIDs) with
	// the last state found to hold that map (tombsOf).
	tombRing [tombRingSize]tombRecord
	tombNext int
	tombUIDs []UID
	tombsOf  *State
	// tombMask has bit uid%64 set for each uid of tombUIDs: a sender
	// whose bit is clear is no tombstone's, without scanning the list.
	tombMask uint64

	// Hashes of the nodes seen digests met (seenDigestOf), and the last
	// seen list digested with its digest.
	hashMemo        nodeHashMemo
	seenDigested    []UniqueAddress
	seenDigestSum   uint64
	seenDigestValid bool

	// The boxed GossipSeen bodies last sent, without and with the reply
	// flag (seenBodyFor), and what they hold.
	seenBodies [2]Body
	seenSent   [2]GossipSeen

	// The current state's clock flattened (localClock, see localFlat),
	// and the last remote one (remoteClock).
	localClock, remoteClock flatClock

	// The boxed GossipState bodies last sent (without and with the reply
	// flag), and the states they carry.
	stateBox    [2]Body
	stateBoxFor [2]*State

	// The last state in which checkSelf found this node neither Down,
	// Exiting nor Removed.
	selfFine *State

	// Scratch buffers of gossipRound.
	gossipUnseen, gossipSeen []int32 // member indexes
	// The lists are those of these members, seen set and own row list
	// (the round leaves them as it found them).
	gossipMembers []Member
	gossipOf      []UniqueAddress
	gossipOwn     []UniqueAddress
	gossipValid   bool
}

// view brings the Members/Reachability memo up to date with n.st.
func (n *Node) view() *derived {
	d := &n.derived
	s := n.st
	if !d.valid || !sameMembers(d.members, s.Members) || !sameRows(d.rows, s.Reachability.Rows) {
		d.members, d.rows, d.valid = s.Members, s.Reachability.Rows, true
		d.unreachable = s.unreachableWith(&n.keys)
		d.leader, d.hasLeader = s.leaderGiven(n.self, d.unreachable)
		d.convValid = false
	}
	return d
}

// unreachable is n.st.Unreachable(); the result must not be modified.
func (n *Node) unreachable() []UniqueAddress { return n.view().unreachable }

// leader is n.st.Leader(n.self).
func (n *Node) leader() (UniqueAddress, bool) {
	d := n.view()
	return d.leader, d.hasLeader
}

// converged is n.st.Converged().
func (n *Node) converged() bool {
	d := n.view()
	if !d.convValid || !sameNodes(d.seen, n.st.Seen) {
		d.seen, d.convValid = n.st.Seen, true
		d.converged = n.st.convergedGiven(d.unreachable)
	}
	return d.converged
}

// ringChanged reports whether the ring (the members that are not Down, in
// order) differs from the one of the last call that returned true, and
// remembers the current one.
func (n *Node) ringChanged() bool {
	d := &n.derived
	if d.ringValid && (sameMembers(d.ringMembers, n.st.Members) || ringIs(d.ringNodes, n.st.Members)) {
		d.ringMembers = n.st.Members
		return false
	}
	d.ringNodes, d.ringMembers, d.ringValid = ringOf(n.st.Members), n.st.Members, true
	return true
}

// ringOf lists the nodes of the members that are not Down, in order.
func ringOf(ms []Member) []UniqueAddress {
	out := make([]UniqueAddress, 0, len(ms))
	for i := range ms {
		if ms[i].Status != Down {
			out = append(out, ms[i].Node)
		}
	}
	return out
}

// ringIs reports whether ringOf(ms) equals nodes, reading one side
// compact.
func ringIs(nodes []UniqueAddress, ms []Member) bool {
	k := 0
	for i := range ms {
		if ms[i].Status == Down {
			continue
		}
		if k == len(nodes) || nodes[k] != ms[i].Node {
			return false
		}
		k++
	}
	return k == len(nodes)
}

// flatRegistry is flattenRegistry(n.st.Registry); the result must not be
// modified.
func (n *Node) flatRegistry() []ServiceEntry {
	d := &n.derived
	rows := n.st.Registry
	if !d.regValid || !sameRegistry(d.registry, rows) {
		// Registries held in other slices mostly hold equal rows, or
		// rows of which one changed.
		if !d.regValid || !registryEqual(d.registry, rows) {
			if c, ok := oneRowChanged(d.registry, rows); ok && d.flatRows != nil && rowKept(rows[c]) {
				flat, from := reflattenRow(d.flattened, d.flatRows, rows[c].Entries, int32(c), d.flatSpare[:0])
				d.flattened, d.flatRows, d.flatSpare = flat, from, d.flatRows
			} else {
				d.flattened, d.flatRows = flattenIndexed(rows)
			}
		}
		d.registry, d.regValid = rows, true
	}
	return d.flattened
}

// oneRowChanged reports the one row of rows whose entries differ from
// prev's, when both list the same owners in the same places.
func oneRowChanged(prev, rows []RegistryRow) (int, bool) {
	if len(prev) != len(rows) {
		return 0, false
	}
	changed := -1
	for i := range rows {
		if rows[i].Owner != prev[i].Owner {
			return 0, false
		}
		if sameEntries(rows[i].Entries, prev[i].Entries) || entriesEqual(rows[i].Entries, prev[i].Entries) {
			continue
		}
		if changed >= 0 {
			return 0, false
		}
		changed = i
	}
	return changed, changed >= 0
}

// rowKept reports whether a row keeps the registry's invariants: its
// entries the owner's, in strictly increasing (key, path) order.
func rowKept(r RegistryRow) bool {
	for j := range r.Entries {
		if r.Entries[j].Node != r.Owner || (j > 0 && !entryLess(r.Entries[j-1], r.Entries[j])) {
			return false
		}
	}
	return true
}

// flattenIndexed is flattenRegistry(rows) and, when the rows keep their
// invariants, the row each entry came from (nil otherwise).
func flattenIndexed(rows []RegistryRow) ([]ServiceEntry, []int32) {
	total, kept := registryShape(rows)
	if !kept || total == 0 {
		return flattenRegistry(rows), nil
	}
	// The stable order by key of the rows' entries, in row order, as
	// mergeRowsByKey takes it, without a bound on the rows.
	from := make([]int32, 0, total)
	out := mergeByKey(rows, total, make([]int, len(rows)), &from)
	return out, from
}

// reflattenRow is flattenIndexed of rows whose flattening (flat, from)
// it was, but for row c, whose entries (kept: the owner's, in strictly
// increasing (key, path) order) are now entries: the entries of the other
// rows keep their order, and c's are merged in by (key, row). The rows
// go into buf (appended; it must not share from's array); the entries
// into a new list of exactly their number.
func reflattenRow(flat []ServiceEntry, from []int32, entries []ServiceEntry, c int32, buf []int32) ([]ServiceEntry, []int32) {
	n := len(flat) + len(entries)
	for _, r := range from {
		if r == c {
			n--
		}
	}
	out := make([]ServiceEntry, 0, n)
	outFrom := buf
	j := 0
	for i := range flat {
		if from[i] == c {
			continue
		}
		// c's entries that sort before flat[i]: a lower key, or the
		// same key and c an earlier row.
		for j < len(entries) && (entries[j].Key < flat[i].Key || (entries[j].Key == flat[i].Key && c < from[i])) {
			out, outFrom = append(out, entries[j]), append(outFrom, c)
			j++
		}
		out, outFrom = append(out, flat[i]), append(outFrom, from[i])
	}
	for ; j < len(entries); j++ {
		out, outFrom = append(out, entries[j]), append(outFrom, c)
	}
	if len(out) == 0 {
		return nil, outFrom // flattenRegistry flattens no entries to nil
	}
	return out, outFrom
}

// tombRingSize is how many tombstone maps tombUIDsOf remembers: this
// node's and a few peers'.
const tombRingSize = 8

// tombRecord holds the sorted UIDs of a tombstone map, and the map, so
// that its memory is not reused while it is remembered.
type tombRecord struct {
	tombs map[UniqueAddress]time.Time
	at    uintptr // the map's identity
	uids  []UID
}

// tombUIDsOf returns the sorted UIDs of the keys of t, a map held in a
// state (so never changed again). The result must not be modified.
func (d *derived) tombUIDsOf(t map[UniqueAddress]time.Time) []UID {
	if len(t) == 0 {
		return nil
	}
	at := uintptr(mapPointer(t))
	for i := range d.tombRing {
		if r := &d.tombRing[i]; r.at == at && r.tombs != nil {
			return r.uids
		}
	}
	uids := make([]UID, 0, len(t))
	for k := range t {
		uids = append(uids, k.UID)
	}
	slices.Sort(uids)
	d.tombRing[d.tombNext] = tombRecord{tombs: t, at: at, uids: uids}
	d.tombNext = (d.tombNext + 1) % tombRingSize
	return uids
}

// tombstoned reports whether u is in the state's tombstones. Every message
// asks it of its sender: the tombstones' UIDs, collected once per tombstone
// map (maps are never changed once in a state), rule most senders out
// without hashing an address. The map is recognised by the state that
// holds it first (states are never modified once assigned), so a run of
// messages under one state compares no map.
func (n *Node) tombstoned(u *UniqueAddress) bool {
	t := n.st.Tombstones
	d := &n.derived
	if d.tombsOf != n.st {
		d.tombUIDs, d.tombsOf = d.tombUIDsOf(t), n.st
		d.tombMask = uidMask(d.tombUIDs)
	}
	if d.tombMask&(1<<(u.UID%64)) == 0 || !containsUID(d.tombUIDs, u.UID) {
		return false
	}
	_, dead := t[*u]
	return dead
}

// surelyLive reports, inline, the common answer of tombstoned: u's UID
// bit is clear under the state whose tombstones were collected last.
// False means tombstoned must be asked.
func (n *Node) surelyLive(u *UniqueAddress) bool {
	d := &n.derived
	return d.tombsOf == n.st && d.tombMask>>(u.UID&63)&1 == 0
}

// uidMask has bit uid%64 set for each uid of list.
func uidMask(list []UID) uint64 {
	var m uint64
	for _, x := range list {
		m |= 1 << (x % 64)
	}
	return m
}

// pruneUpdate is s.pruneTombstonedWith(n.now, &n.keys) for s, a state
// Node.update builds from the current one. The current clock names no
// tombstoned incarnation (every state this node assigns is pruned, and
// only its own entry is added after), so while s keeps the current clock
// and tombstone map, the clock needs no pruning and the members are ruled
// out by the tombstones' known UIDs first.
func (n *Node) pruneUpdate(s *State) {
	if len(s.Tombstones) > 0 && sameClock(s.Version, n.st.Version) && sameTombstones(s.Tombstones, n.st.Tombstones) {
		s.prune(n.now, &n.keys, true, n.localTombUIDs())
		return
	}
	s.pruneTombstonedWith(n.now, &n.keys)
}

// localTombUIDs is the sorted UIDs of the current state's tombstones.
func (n *Node) localTombUIDs() []UID {
	d := &n.derived
	if d.tombsOf == n.st {
		return d.tombUIDs // the sender check collected them
	}
	return d.tombUIDsOf(n.st.Tombstones)
}

// prunedVersions returns prunedVersion of the local and the remote clock
// by both tombstone maps. Most clocks name no tombstoned incarnation, and
// most UIDs none a tombstone has: the clocks' UIDs are looked up in the
// maps' (remembered) UIDs first, and only a hit prunes.
func (n *Node) prunedVersions(local, remote *State) (lv, rv VClock) {
	lv, rv = local.Version, remote.Version
	if len(local.Tombstones) == 0 && len(remote.Tombstones) == 0 {
		return lv, rv
	}
	d := &n.derived
	var lu []UID
	if local == n.st {
		lu = n.localTombUIDs()
	} else {
		lu = d.tombUIDsOf(local.Tombstones)
	}
	ru := d.tombUIDsOf(remote.Tombstones)
	if !namesUID(lv, lu, ru) && (sameClock(lv, rv) || !namesUID(rv, lu, ru)) {
		return lv, rv
	}
	return prunedVersion(lv, local.Tombstones, remote.Tombstones), prunedVersion(rv, local.Tombstones, remote.Tombstones)
}

// flatMax is the most entries a clock has for a node to flatten it:
// flattening sorts (or places) the entries, O(n log n) in UID
// comparisons that miss the cache for a large clock, while the map's
// walks and lookups it replaces cost O(n); it pays for the clocks of
// clusters up to a few hundred nodes.
const flatMax = 128

// flattens reports whether the clocks a and b are both small enough for
// the node to compare them flattened.
func (n *Node) flattens(a, b VClock) bool { return len(a) <= n.flatMax && len(b) <= n.flatMax }

// localFlat returns the flattening of the current state's clock. A clock
// adopted from the last remote state is flattened already.
func (n *Node) localFlat() *flatClock {
	d := &n.derived
	v := n.st.Version
	if l, r := &d.localClock, &d.remoteClock; !(l.filled && sameClock(l.of, v)) && r.filled && sameClock(r.of, v) {
		*l, *r = *r, *l
	}
	d.localClock.flatten(v)
	return &d.localClock
}

// remoteFlat returns the flattening of v, a remote state's clock.
func (n *Node) remoteFlat(v VClock) *flatClock {
	n.derived.remoteClock.flatten(v)
	return &n.derived.remoteClock
}

// clockOrder is how the clocks prunedVersions(local, remote) gives
// compare, and whether they are local's and remote's own (clean). local
// must be the current state. Most clocks name no tombstoned incarnation:
// then the flattened clocks are compared, hashing no key.
func (n *Node) clockOrder(local, remote *State) (ord Ordering, clean bool) {
	if sameClock(local.Version, remote.Version) {
		return Same, true // pruned alike, if at all
	}
	if !n.flattens(local.Version, remote.Version) {
		lv, rv := n.prunedVersions(local, remote)
		return lv.Compare(rv), sameClock(lv, local.Version) && sameClock(rv, remote.Version)
	}
	lf, rf := n.localFlat(), n.remoteFlat(remote.Version)
	if len(local.Tombstones) > 0 || len(remote.Tombstones) > 0 {
		lu, ru := n.localTombUIDs(), n.derived.tombUIDsOf(remote.Tombstones)
		if (lf.mask|rf.mask)&(uidMask(lu)|uidMask(ru)) != 0 && (lf.namesUID(lu, ru) || rf.namesUID(lu, ru)) {
			lv, rv := n.prunedVersions(local, remote)
			return lv.Compare(rv), sameClock(lv, local.Version) && sameClock(rv, remote.Version)
		}
	}
	return compareFlatClocks(lf.entries, rf.entries), true
}

// namesUID reports whether some entry of v has a UID in a or b (sorted).
func namesUID(v VClock, a, b []UID) bool {
	for k := range v {
		if containsUID(a, k.UID) || containsUID(b, k.UID) {
			return true
		}
	}
	return false
}

// containsUID reports whether a sorted list holds uid: by a scan while
// the list is short (tombstones mostly are), else by halving.
func containsUID(list []UID, uid UID) bool {
	if len(list) > 8 {
		_, found := slices.BinarySearch(list, uid)
		return found
	}
	for _, x := range list {
		if x >= uid {
			return x == uid
		}
	}
	return false
}

// nodeHashMemo remembers node hashes, one node per slot by UID: the
// digests hash the same few nodes over and over. Nodes with UID 0 are
// never kept (an empty slot holds the zero node).
type nodeHashMemo struct {
	nodes  [nodeHashSlots]UniqueAddress
	hashes [nodeHashSlots]uint64
}

const nodeHashSlots = 16

// hash is u.Hash().
func (m *nodeHashMemo) hash(u *UniqueAddress) uint64 {
	i := uint64(u.UID) % nodeHashSlots
	if u.UID != 0 && sameNode(&m.nodes[i], u) {
		return m.hashes[i]
	}
	h := u.Hash()
	if u.UID != 0 {
		m.nodes[i], m.hashes[i] = *u, h
	}
	return h
}

// seenTermOf is seenTerm(*u).
func (d *derived) seenTermOf(u *UniqueAddress) uint64 {
	return fmix64(d.hashMemo.hash(u) + seenTermSalt)
}

// seenDigestOf is s.SeenDigest(): the same again for the seen list last
// digested (lists in states never change), else by the hash memo.
func (d *derived) seenDigestOf(s *State) uint64 {
	if d.seenDigestValid && sameNodes(d.seenDigested, s.Seen) {
		return d.seenDigestSum
	}
	var sum uint64
	for i := range s.Seen {
		sum += d.seenTermOf(&s.Seen[i])
	}
	sum = seenDigestFix(sum, len(s.Seen))
	d.seenDigested, d.seenDigestSum, d.seenDigestValid = s.Seen, sum, true
	return sum
}

// seenBodyFor returns g boxed: the body last boxed for g's reply flag
// when that holds the same digests and the very same bitmap (message
// bodies and the bitmaps they carry are never modified, so messages may
// share one).
func (d *derived) seenBodyFor(g GossipSeen) Body {
	i := 0
	if g.Reply {
		i = 1
	}
	if s := &d.seenSent[i]; d.seenBodies[i] == nil || s.VersionDigest != g.VersionDigest || s.MembersDigest != g.MembersDigest ||
		len(s.Seen) != len(g.Seen) || (len(g.Seen) > 0 && &s.Seen[0] != &g.Seen[0]) {
		d.seenBodies[i], *s = g, g
	}
	return d.seenBodies[i]
}
