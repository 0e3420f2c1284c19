package proto

import "time"

// keyCacheSize is how many member lists a keyCache remembers.
const keyCacheSize = 4

// keyCache remembers, for the member lists a node searched last, the
// parsed IPv4 words of their hosts (so that every cursor over one list
// shares one parse) and the last reachability table found to name only
// their members (so that a table shared by successive states is looked up
// in a member list once).
//
// It is keyed by the lists' identity (backing array and length): a list's
// nodes never change once it is in an assigned state, and each record
// holds the lists it is keyed by, so that their arrays cannot be reused
// while they are remembered.
//
// Invariant: only lists of states that are no longer modified are looked
// up (a state being built by update may still move its members).
type keyCache struct {
	recs [keyCacheSize]keyRecord
	next int

	// The last tombstonesCover answers, by the maps' identity: maps of
	// assigned states are never modified, and a node merges with the
	// same few peers' maps while its own map holds.
	covers    [coverMemoSize]coverRecord
	coverNext int

	// The last allocation lists found in the form cloneAllocations gives
	// (allocationsNormal), by identity: lists in states are never
	// modified, and a list travels through many states and snapshots.
	normal     [normalMemoSize][]TypeAllocation
	normalNext int
}

// normalMemoSize is how many normal allocation lists a keyCache remembers.
const normalMemoSize = 4

// allocationsNormal is allocationsNormal(ts) for a list held in a state,
// remembered when true (c may be nil: then it is computed).
func (c *keyCache) allocationsNormal(ts []TypeAllocation) bool {
	if c == nil || len(ts) == 0 {
		return allocationsNormal(ts)
	}
	for i := range c.normal {
		if sameAllocations(c.normal[i], ts) {
			return true
		}
	}
	if !allocationsNormal(ts) {
		return false
	}
	c.normal[c.normalNext] = ts
	c.normalNext = (c.normalNext + 1) % normalMemoSize
	return true
}

// coverMemoSize is how many tombstonesCover answers a keyCache remembers.
const coverMemoSize = 4

// coverRecord is tombstonesCover(a, b); it holds the maps, so that their
// memory is not reused while they are remembered.
type coverRecord struct {
	a, b    map[UniqueAddress]time.Time
	covered bool
}

// tombstonesCover is tombstonesCover(a, b) for two maps of assigned
// states, remembered (c may be nil: then it is computed).
func (c *keyCache) tombstonesCover(a, b map[UniqueAddress]time.Time) bool {
	if c == nil || len(b) == 0 || len(b) > len(a) {
		return tombstonesCover(a, b)
	}
	pa, pb := mapPointer(a), mapPointer(b)
	for i := range c.covers {
		if r := &c.covers[i]; r.a != nil && mapPointer(r.a) == pa && mapPointer(r.b) == pb {
			return r.covered
		}
	}
	covered := tombstonesCover(a, b)
	c.covers[c.coverNext] = coverRecord{a: a, b: b, covered: covered}
	c.coverNext = (c.coverNext + 1) % coverMemoSize
	return covered
}

type keyRecord struct {
	members []Member
	words   []uint32 // nil when some host is not IPv4
	// keptRows is the last reachability table found to name members
	// only (rowsKept), held so that its array is not reused.
	keptRows []ObserverRow
	// nodes is the members' nodes in order (memberNodes), nil until
	// asked for; records of the same nodes share it.
	nodes []UniqueAddress
}

// memberNodes returns the nodes of ms in order (ms must not be empty): one
// list for every call with ms or a list of the same nodes, which must not
// be modified. Lists of nodes in states are never modified, so states
// whose seen set is every member may share it.
func (c *keyCache) memberNodes(ms []Member) []UniqueAddress {
	r := c.record(ms)
	if r.nodes == nil {
		r.nodes = make([]UniqueAddress, len(ms))
		for i := range ms {
			r.nodes[i] = ms[i].Node
		}
	}
	return r.nodes
}

// record returns the record of ms, making one if there is none. ms must
// not be empty. A new list mostly has the nodes of a remembered one, in
// the same places (only statuses or declarations changed): it then shares
// that one's words and table rather than parsing afresh.
func (c *keyCache) record(ms []Member) *keyRecord {
	for i := range c.recs {
		if r := &c.recs[i]; sameMembers(r.members, ms) {
			return r
		}
	}
	for k := 1; k <= keyCacheSize; k++ { // the newest first
		r := &c.recs[(c.next-k+keyCacheSize)%keyCacheSize]
		if len(r.members) == len(ms) && sameNodeSeq(r.members, ms) {
			n := &c.recs[c.next]
			*n = keyRecord{members: ms, words: r.words, keptRows: r.keptRows, nodes: r.nodes}
			c.next = (c.next + 1) % keyCacheSize
			return n
		}
	}
	words := make([]uint32, len(ms))
	for i := range ms {
		w, ok := parseIPv4Word(ms[i].Node.Host)
		if !ok {
			words = nil
			break
		}
		words[i] = w
	}
	r := &c.recs[c.next]
	*r = keyRecord{members: ms, words: words}
	c.next = (c.next + 1) % keyCacheSize
	return r
}

// sameNodeSeq reports whether a and b, of equal length, list the same
// nodes in the same order.
func sameNodeSeq(a, b []Member) bool {
	for i := range a {
		if a[i].Node != b[i].Node {
			return false
		}
	}
	return true
}

// words returns the IPv4 words of ms's hosts, parsing them once per list,
// or reports none (true) when some host is not IPv4.
func (c *keyCache) words(ms []Member) (words []uint32, none bool) {
	if len(ms) == 0 {
		return nil, true
	}
	r := c.record(ms)
	return r.words, r.words == nil
}
