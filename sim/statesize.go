package sim

import (
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/rumorhq/rumor/proto"
)

// stateSizer computes the exact CBOR length of a state's wire form (the
// wireState map of proto/wire) without building or encoding it.
//
// The wire form names every identity by its ref, its 1-based position in
// the state's node table sorted by (host bytes, port, uid). The length of
// a state is therefore a fixed part (everything but the refs and the
// table), the node table, and the lengths of the refs, which depend only
// on each identity's position in the table.
//
// The parts of a state (members, reachability rows, clock, tombstones,
// allocations, registry) are shared between states: proto reuses an
// unchanged slice or map in its next state, and in the simulator a
// receiver often adopts the sender's. Each distinct part is walked once:
// its fixed length and the identities it names are cached, keyed by the
// slice's first element or the map (the key keeps that memory alive, so
// it cannot be reused by another value while cached); the seen set, new in
// almost every state, is walked every time. Identities get permanent ids,
// listed once in table order, so a state's table is found by marking the
// ids it names and walking that list, without sorting. A member list's
// own table is cached with it: it is the state's table whenever the other
// parts name only members, the common case, and gives the state's length
// too when they name a few others (tombstones) but the table stays within
// 23 identities, so that every ref is one byte. A cached part that names
// only members remembers its refs' length in the last member table it was
// measured against. A new member list mostly
// names the members of the last one, whose ids it takes by position.
type stateSizer struct {
	ids      map[proto.UniqueAddress]int32
	recent   [1 << recentBits]int32 // id+1 of an identity found lately, by its UID's hash; 0: none
	byUID    map[proto.UID]int32    // the first identity interned with each UID
	nodes    []proto.UniqueAddress  // by id
	entryLen []int                  // by id: CBOR length of its node table entry
	order    []int32                // every id, in node table order

	// The part caches, one per field of a state, so that describing a
	// state gets at most one part from each (see partCache).
	members partCache[sliceKey[proto.Member]]
	rows    partCache[sliceKey[proto.ObserverRow]]
	allocs  partCache[sliceKey[proto.TypeAllocation]]
	reg     partCache[sliceKey[proto.RegistryRow]]
	maps    partCache[unsafe.Pointer] // clocks
	tombs   partCache[unsafe.Pointer] // tombstone maps

	// Scratch for one state.
	mark   []uint32 // by id: == stamp when the id is in the table being built
	stamp  uint32
	refLen []uint8 // by id: the length of its ref in the table being built
	seen   part
	others []*part

	// last is the member list described last, a copy (its slot in
	// members may be reused), if hasLast.
	last    part
	hasLast bool
	// partSetsBits is the log2 of the number of sets of each part cache.
	partSetsBits int
}

// sliceKey identifies a slice that is never modified: its first element
// and length.
type sliceKey[T any] struct {
	first *T
	n     int
}

func keyOf[T any](s []T) sliceKey[T] { return sliceKey[T]{&s[0], len(s)} }

// part is one field of a state: its length without the refs' own bytes,
// and the ids of the identities it names, once per ref.
type part struct {
	fixed int
	ids   []int32

	// A member list: the list and its node table, naming exactly its
	// members.
	members []proto.Member
	table   int     // CBOR length of the table array
	count   int     // identities in the table
	refLen  []uint8 // by id: length of the id's ref in it; 0: not a member
	refs    int     // total length of the members' own refs

	// A cached part found to name only members of a member list whose
	// refLen starts at inMembers (member lists naming the same nodes share
	// it): its refs' total length in that list's table. Invariant: nil in
	// the scratch part seen, whose ids change.
	inMembers *uint8
	inRefs    int
}

// partCache holds recently described parts of one kind, keyed by the
// slice or map they describe, in a set-associative table: a key's set is
// found by its pointer, and a full set gives its oldest part up for a new
// one. A part is hit by every state that shares it, which happens while
// it is recent. The parts live in the table, and a part given up leaves
// its ids' array to the next part built in its place, so that a long run
// allocates no more parts than its table holds. No pointer to a part is
// kept beyond the state being measured, and a state gets at most one
// part from a cache: a get may reuse the slot of the part before it.
type partCache[K comparable] struct {
	sets  []partSet[K]
	shift uint8 // 64 - log2(len(sets))
}

// partWays is the number of parts a set of a partCache holds.
const partWays = 4

// partSet is a set of a partCache. Invariant: keys[i] is the zero K
// (which no slice or map measured has) unless parts[i] describes it.
type partSet[K comparable] struct {
	keys  [partWays]K
	next  int // the way to give up next
	parts [partWays]part
}

// Bounds of the number of sets of each part cache: it grows with the
// identities the sizer has seen (a part per node of a cluster is the
// working set), up to maxPartSets, which tests lower.
const minPartSetsBits = 3

var maxPartSets = 1 << 12

// get returns the part cached under k, whose pointer is ptr, building it
// if absent. build is given a part that is zero but for ids, an empty
// slice whose array it may append to.
func (c *partCache[K]) get(k K, ptr unsafe.Pointer, build func(p *part)) *part {
	set := &c.sets[uint64(uintptr(ptr))*0x9E3779B97F4A7C15>>c.shift]
	for i := range set.keys {
		if set.keys[i] == k {
			return &set.parts[i]
		}
	}
	i := set.next
	set.next = (i + 1) % partWays
	p := &set.parts[i]
	*p = part{ids: p.ids[:0]}
	build(p)
	set.keys[i] = k
	return p
}

// resize empties c and gives it 1<<bits sets.
func (c *partCache[K]) resize(bits int) {
	c.sets = make([]partSet[K], 1<<bits)
	c.shift = uint8(64 - bits)
}

// tombsPtr is clockPtr for a tombstone map.
func tombsPtr(t map[proto.UniqueAddress]time.Time) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&t))
}

// recentBits is the log2 of the size of stateSizer.recent.
const recentBits = 8

func newStateSizer() *stateSizer {
	z := &stateSizer{ids: map[proto.UniqueAddress]int32{}, byUID: map[proto.UID]int32{}}
	z.resizeParts(min(minPartSetsBits, bits.Len(uint(maxPartSets))-1))
	return z
}

// resizeParts empties the part caches and gives each 1<<bits sets.
func (z *stateSizer) resizeParts(bits int) {
	z.partSetsBits = bits
	z.members.resize(bits)
	z.rows.resize(bits)
	z.allocs.resize(bits)
	z.reg.resize(bits)
	z.maps.resize(bits)
	z.tombs.resize(bits)
}

// id returns u's permanent id, interning it if new.
func (z *stateSizer) id(u proto.UniqueAddress) int32 {
	// recent holds the ids last found, by a hash of their UIDs; byUID
	// finds almost every other identity by its UID alone, which hashes
	// far faster than the whole address; ids is the exact index. Each
	// hit is checked against the identity itself.
	r := &z.recent[uint64(u.UID)*0x9E3779B97F4A7C15>>(64-recentBits)]
	if i := *r - 1; i >= 0 && sameIdentity(&z.nodes[i], &u) {
		return i
	}
	if i, ok := z.byUID[u.UID]; ok && sameIdentity(&z.nodes[i], &u) {
		*r = i + 1
		return i
	}
	if i, ok := z.ids[u]; ok {
		return i
	}
	i := int32(len(z.nodes))
	if _, taken := z.byUID[u.UID]; !taken {
		z.byUID[u.UID] = i
	}
	z.ids[u] = i
	z.nodes = append(z.nodes, u)
	z.entryLen = append(z.entryLen, entryLen(&u))
	z.mark = append(z.mark, 0)
	z.refLen = append(z.refLen, 0)
	at, _ := slices.BinarySearchFunc(z.order, u, func(j int32, u proto.UniqueAddress) int {
		return compareWire(z.nodes[j], u)
	})
	z.order = slices.Insert(z.order, at, i)
	return i
}

// sameIdentity is *a == *b, comparing the hosts' bytes only when they
// are not the very same bytes.
func sameIdentity(a, b *proto.UniqueAddress) bool {
	return a.UID == b.UID && a.Port == b.Port && len(a.Host) == len(b.Host) &&
		(unsafe.StringData(a.Host) == unsafe.StringData(b.Host) || a.Host == b.Host)
}

// entryLen is the length of u's node table entry, a wireNode map.
func entryLen(u *proto.UniqueAddress) int {
	n := 1 // map header
	if u.Host != "" {
		n += 1 + cborText(u.Host)
	}
	if u.Port != 0 {
		n += 1 + cborUint(uint64(u.Port))
	}
	if u.UID != 0 {
		n += 1 + cborUint(uint64(u.UID))
	}
	return n
}

// cborInt is the length of a signed integer in CBOR.
func cborInt(x int64) int {
	if x < 0 {
		return cborUint(uint64(-1 - x))
	}
	return cborUint(uint64(x))
}

// cborText is the length of a text string in CBOR.
func cborText(s string) int { return cborUint(uint64(len(s))) + len(s) }

// shardType is the length of a wireShardType map.
func shardTypeLen(t proto.ShardType) int {
	n := 1
	if t.Name != "" {
		n += 1 + cborText(t.Name)
	}
	if t.Shards != 0 {
		n += 1 + cborInt(int64(t.Shards))
	}
	if t.Replicas != 0 {
		n += 1 + cborInt(int64(t.Replicas))
	}
	return n
}

// ref records one reference to u in p.
func (z *stateSizer) ref(p *part, u proto.UniqueAddress) { p.ids = append(p.ids, z.id(u)) }

// refList adds a present list field of refs to p: key, array header, and
// one reference per element.
func (z *stateSizer) refList(p *part, us []proto.UniqueAddress) int {
	for _, u := range us {
		z.ref(p, u)
	}
	return 1 + cborUint(uint64(len(us)))
}

// size returns the CBOR length of s's wireState.
func (z *stateSizer) size(s *proto.State) int {
	if want := z.partSetsBits + 1; len(z.nodes) > 2<<z.partSetsBits && 1<<want <= maxPartSets {
		z.resizeParts(want)
	}
	n := 1 // map header: at most 9 fields
	var mp *part
	if len(s.Members) > 0 {
		mp = z.members.get(keyOf(s.Members), unsafe.Pointer(&s.Members[0]), func(p *part) { z.membersPart(p, s.Members) })
		n += mp.fixed
	}
	z.others = z.others[:0]
	if rows := s.Reachability.Rows; len(rows) > 0 {
		z.others = append(z.others, z.rows.get(keyOf(rows), unsafe.Pointer(&rows[0]), func(p *part) { z.rowsPart(p, rows) }))
	}
	if v := s.Version; len(v) > 0 {
		z.others = append(z.others, z.maps.get(clockPtr(v), clockPtr(v), func(p *part) { z.versionPart(p, v) }))
	}
	if len(s.Seen) > 0 {
		z.seenPart(&z.seen, s.Seen, s.Members, mp)
		z.others = append(z.others, &z.seen)
	}
	if t := s.Tombstones; len(t) > 0 {
		tp := tombsPtr(t)
		z.others = append(z.others, z.tombs.get(tp, tp, func(p *part) { z.tombstonesPart(p, t) }))
	}
	if a := s.Allocations; len(a) > 0 {
		z.others = append(z.others, z.allocs.get(keyOf(a), unsafe.Pointer(&a[0]), func(p *part) { z.allocationsPart(p, a) }))
	}
	if s.AllocationEpoch != 0 {
		n += 1 + cborUint(uint64(s.AllocationEpoch))
	}
	if r := s.Registry; len(r) > 0 {
		z.others = append(z.others, z.reg.get(keyOf(r), unsafe.Pointer(&r[0]), func(p *part) { z.registryPart(p, r) }))
	}
	for _, p := range z.others {
		n += p.fixed
	}
	if mp != nil {
		if refs, ok := z.memberRefs(mp); ok {
			return n + refs
		}
	}
	return n + z.anyRefs(mp)
}

// memberRefs returns the length of the node table field and every ref
// when the member list's table gives it: when every other part names only
// members, or when the others it names are so few that the table still
// holds at most 23 identities, so that every ref is one byte whatever the
// order, as is the table's header.
func (z *stateSizer) memberRefs(mp *part) (int, bool) {
	refs := mp.refs
	others, extra, extraLen := 0, 0, 0 // refs to non-members; distinct ones; their entries
	table := unsafe.SliceData(mp.refLen)
	for _, p := range z.others {
		if p.inMembers == table {
			refs += p.inRefs
			continue
		}
		pRefs, pOthers := 0, others
		for _, i := range p.ids {
			if int(i) < len(mp.refLen) && mp.refLen[i] != 0 {
				pRefs += int(mp.refLen[i])
				continue
			}
			if others == 0 {
				z.stamp++
			}
			others++
			if z.mark[i] != z.stamp {
				z.mark[i] = z.stamp
				extra++
				extraLen += z.entryLen[i]
				if mp.count+extra > 23 {
					return 0, false
				}
			}
		}
		if others == pOthers && p != &z.seen {
			p.inMembers, p.inRefs = table, pRefs
		}
		refs += pRefs
	}
	if others == 0 {
		return 1 + mp.table + refs, true // key of the node table
	}
	return 1 + mp.table + extraLen + refs + others, true
}

// anyRefs returns the length of the node table field and every ref, for
// a state that names identities beyond its members (or has none).
func (z *stateSizer) anyRefs(mp *part) int {
	z.stamp++
	all := z.others
	if mp != nil {
		all = append(all, mp)
	}
	for _, p := range all {
		for _, i := range p.ids {
			z.mark[i] = z.stamp
		}
	}
	table, count := z.rank()
	if count == 0 {
		return 0
	}
	n := 1 + table // key of the node table
	for _, p := range all {
		for _, i := range p.ids {
			n += int(z.refLen[i])
		}
	}
	return n
}

// rank sets refLen for every marked id to the length of its ref in the
// table of the marked ids, and returns that table's length and size.
func (z *stateSizer) rank() (table, count int) {
	for _, i := range z.order {
		if z.mark[i] == z.stamp {
			count++
			z.refLen[i] = uint8(cborUint(uint64(count)))
			table += z.entryLen[i]
		}
	}
	return table + cborUint(uint64(count)), count
}

// membersPart describes a member list, with its own node table. A list
// naming the same identities as the last one described (a new version of
// the same cluster: a status changed) shares its ids and table.
func (z *stateSizer) membersPart(p *part, members []proto.Member) {
	p.members = members
	p.fixed = membersLen(members)
	if last := &z.last; z.hasLast && sameNodes(last.members, members) {
		p.ids, p.table, p.count, p.refLen, p.refs = last.ids, last.table, last.count, last.refLen, last.refs
		z.last.members = members
		return
	}
	// A new array: the slot's old one may be shared with z.last and
	// other lists of the same nodes.
	p.ids = make([]int32, 0, len(members))
	z.memberIDs(p, members)
	z.stamp++
	for _, i := range p.ids {
		z.mark[i] = z.stamp
	}
	p.table, p.count = z.rank()
	p.refLen = make([]uint8, len(z.nodes))
	for _, i := range p.ids {
		p.refLen[i] = z.refLen[i]
		p.refs += int(z.refLen[i])
	}
	z.last, z.hasLast = *p, true
}

// memberIDs refs the members' nodes in p. A list usually differs from the
// last one described by a few members joined or removed, so it walks both
// and takes an id from the last list where the nodes match, interning
// (hashing) only the others.
func (z *stateSizer) memberIDs(p *part, members []proto.Member) {
	var last []proto.Member
	if z.hasLast {
		last = z.last.members
	}
	j := 0
	for i := range members {
		u := members[i].Node
		switch {
		case j < len(last) && sameIdentity(&last[j].Node, &u):
			p.ids = append(p.ids, z.last.ids[j])
			j++
		case j+1 < len(last) && sameIdentity(&last[j+1].Node, &u): // last[j] was removed
			p.ids = append(p.ids, z.last.ids[j+1])
			j += 2
		default: // u joined, or the lists part ways
			z.ref(p, u)
		}
	}
}

// sameNodes reports whether two member lists name the same nodes in the
// same order.
func sameNodes(a, b []proto.Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameIdentity(&a[i].Node, &b[i].Node) {
			return false
		}
	}
	return true
}

// membersLen is the length of a present members field without its refs.
func membersLen(members []proto.Member) int {
	n := 1 + cborUint(uint64(len(members)))
	for i := range members {
		m := &members[i]
		n += 1 + 1 // map header, key of the node ref
		if m.ID != "" {
			n += 1 + cborText(string(m.ID))
		}
		if m.Status != 0 {
			n += 1 + cborUint(uint64(m.Status))
		}
		if len(m.Roles) > 0 {
			n += 1 + cborUint(uint64(len(m.Roles)))
			for _, r := range m.Roles {
				n += cborText(r)
			}
		}
		if m.UpNumber != 0 {
			n += 1 + cborInt(m.UpNumber)
		}
		if len(m.Hosts) > 0 {
			n += 1 + cborUint(uint64(len(m.Hosts)))
			for _, h := range m.Hosts {
				n += shardTypeLen(h)
			}
		}
		if m.HostsVersion != 0 {
			n += 1 + cborUint(m.HostsVersion)
		}
	}
	return n
}

// seenPart describes a seen set in p (reused scratch), finding its ids by
// position in the member list when it is a subsequence of it, the usual
// case.
func (z *stateSizer) seenPart(p *part, seen []proto.UniqueAddress, members []proto.Member, mp *part) {
	p.ids = p.ids[:0]
	p.fixed = 1 + cborUint(uint64(len(seen)))
	if mp != nil {
		j := 0
		for i := range members {
			if j == len(seen) {
				break
			}
			if sameIdentity(&seen[j], &members[i].Node) {
				p.ids = append(p.ids, mp.ids[i])
				j++
			}
		}
		if j == len(seen) {
			return
		}
		p.ids = p.ids[:0]
	}
	for _, u := range seen {
		z.ref(p, u)
	}
}

func (z *stateSizer) rowsPart(p *part, rows []proto.ObserverRow) {
	k := 0
	for _, row := range rows {
		k += 1 + len(row.Unreachable)
	}
	p.ids = slices.Grow(p.ids, k)
	n := 1 + cborUint(uint64(len(rows)))
	for _, row := range rows {
		z.ref(p, row.Observer)
		n += 1 + 1
		if row.Version != 0 {
			n += 1 + cborUint(row.Version)
		}
		if len(row.Unreachable) > 0 {
			n += z.refList(p, row.Unreachable)
		}
	}
	p.fixed = n
}

func (z *stateSizer) versionPart(p *part, v proto.VClock) {
	p.ids = slices.Grow(p.ids, len(v))
	n := 1 + cborUint(uint64(len(v)))
	for u, c := range v {
		z.ref(p, u)
		n += 1 + cborUint(c) // [ref, count]
	}
	p.fixed = n
}

func (z *stateSizer) tombstonesPart(p *part, t map[proto.UniqueAddress]time.Time) {
	p.ids = p.ids[:0]
	for u := range t {
		z.ref(p, u)
	}
	p.fixed = 1 + cborUint(uint64(len(t)))
}

func (z *stateSizer) allocationsPart(p *part, allocs []proto.TypeAllocation) {
	k := 0
	for _, ta := range allocs {
		for _, a := range ta.Shards {
			k += 1 + len(a.Replicas)
		}
	}
	p.ids = slices.Grow(p.ids, k)
	n := 1 + cborUint(uint64(len(allocs)))
	for _, ta := range allocs {
		n += 1 + 1 + shardTypeLen(ta.Type)
		if ta.Epoch != 0 {
			n += 1 + cborUint(uint64(ta.Epoch))
		}
		if len(ta.Shards) > 0 {
			n += 1 + cborUint(uint64(len(ta.Shards)))
			for _, a := range ta.Shards {
				n++
				if a.Primary != (proto.UniqueAddress{}) {
					z.ref(p, a.Primary)
					n++
				}
				if len(a.Replicas) > 0 {
					n += z.refList(p, a.Replicas)
				}
				if a.Epoch != 0 {
					n += 1 + cborUint(uint64(a.Epoch))
				}
			}
		}
	}
	p.fixed = n
}

func (z *stateSizer) registryPart(p *part, reg []proto.RegistryRow) {
	k := 0
	for _, row := range reg {
		k += 1 + len(row.Entries)
	}
	p.ids = slices.Grow(p.ids, k)
	n := 1 + cborUint(uint64(len(reg)))
	for _, row := range reg {
		z.ref(p, row.Owner)
		n += 1 + 1
		if row.Version != 0 {
			n += 1 + cborUint(row.Version)
		}
		if len(row.Entries) > 0 {
			n += 1 + cborUint(uint64(len(row.Entries)))
			for _, e := range row.Entries {
				n++
				if e.Key != "" {
					n += 1 + cborText(e.Key)
				}
				if e.Path != "" {
					n += 1 + cborText(e.Path)
				}
				if e.Node != row.Owner {
					z.ref(p, e.Node)
					n++
				}
			}
		}
	}
	p.fixed = n
}

// compareWire is the wire node table's order: host bytes, port, uid.
func compareWire(a, b proto.UniqueAddress) int {
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	switch {
	case a.Port != b.Port:
		if a.Port < b.Port {
			return -1
		}
		return 1
	case a.UID != b.UID:
		if a.UID < b.UID {
			return -1
		}
		return 1
	}
	return 0
}
