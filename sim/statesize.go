package sim

import (
	"slices"
	"strings"

	"github.com/rumorhq/rumor/proto"
)

// stateSizer computes the exact CBOR length of a state's wire form (the
// wireState map of proto/wire) without building or encoding it.
//
// The wire form names every identity by its ref, its 1-based position in
// the state's node table sorted by (host bytes, port, uid). The length of
// a state is therefore a fixed part (everything but the refs) plus the
// lengths of the refs, which depend only on each identity's position. One
// walk over the state computes the fixed part and counts each identity's
// references (interning it in order of first appearance, as the encoder
// does); the table is then sorted once, or reused when the state names the
// same identities in the same first-appearance order as the last state
// measured, which is the common case (a new version of the same cluster).
type stateSizer struct {
	ids   map[proto.UniqueAddress]uint32 // provisional ref - 1
	byUID map[proto.UID]uint32           // the first identity interned with each UID
	nodes []proto.UniqueAddress          // by provisional ref - 1
	uses  []int                          // references per provisional ref - 1

	// The table of the last state measured.
	prevNodes []proto.UniqueAddress
	prevRefs  []int // CBOR length of each provisional ref's final ref
	prevTable int   // CBOR length of the node table array
	order     []int

	// The members of the last state measured, their part of the length
	// and the interning state right after them: a new version of the same
	// cluster usually shares its members slice with the last one.
	members      []proto.Member
	haveMembers  bool
	membersLen   int
	membersNodes int
	membersUses  []int
}

func sameMemberSlice(a, b []proto.Member) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func newStateSizer() *stateSizer {
	return &stateSizer{ids: map[proto.UniqueAddress]uint32{}, byUID: map[proto.UID]uint32{}}
}

// ref counts one reference to u.
func (z *stateSizer) ref(u proto.UniqueAddress) {
	// byUID finds almost every identity by its UID alone, which hashes
	// far faster than the whole address; ids is the exact index.
	if i, ok := z.byUID[u.UID]; ok && z.nodes[i] == u {
		z.uses[i]++
		return
	}
	if i, ok := z.ids[u]; ok {
		z.uses[i]++
		return
	}
	if _, taken := z.byUID[u.UID]; !taken {
		z.byUID[u.UID] = uint32(len(z.nodes))
	}
	z.ids[u] = uint32(len(z.nodes))
	z.nodes = append(z.nodes, u)
	z.uses = append(z.uses, 1)
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

// refList adds a present list field of refs: key, array header, and one
// reference per element (whose lengths come later).
func (z *stateSizer) refList(us []proto.UniqueAddress) int {
	for _, u := range us {
		z.ref(u)
	}
	return 1 + cborUint(uint64(len(us)))
}

// size returns the CBOR length of s's wireState.
func (z *stateSizer) size(s *proto.State) int {
	n := 1 // map header: at most 9 fields
	if z.haveMembers && sameMemberSlice(z.members, s.Members) {
		// Undo everything after the members' refs.
		for i, u := range z.nodes[z.membersNodes:] {
			delete(z.ids, u)
			if j, ok := z.byUID[u.UID]; ok && int(j) == z.membersNodes+i {
				delete(z.byUID, u.UID)
			}
		}
		z.nodes = z.nodes[:z.membersNodes]
		z.uses = append(z.uses[:0], z.membersUses...)
		n += z.membersLen
	} else {
		clear(z.ids)
		clear(z.byUID)
		z.nodes = z.nodes[:0]
		z.uses = z.uses[:0]
		m := z.membersSize(s.Members)
		n += m
		z.members, z.haveMembers, z.membersLen = s.Members, true, m
		z.membersNodes = len(z.nodes)
		z.membersUses = append(z.membersUses[:0], z.uses...)
	}
	return n + z.restSize(s)
}

// membersSize refs the members' identities and returns the length of the
// members field.
func (z *stateSizer) membersSize(members []proto.Member) int {
	n := 0
	if len(members) > 0 {
		n += 1 + cborUint(uint64(len(members)))
		for i := range members {
			m := &members[i]
			z.ref(m.Node)
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
	}
	return n
}

// restSize refs the identities of every field after the members and
// returns the length of the rest of the state.
func (z *stateSizer) restSize(s *proto.State) int {
	n := 0
	if rows := s.Reachability.Rows; len(rows) > 0 {
		n += 1 + cborUint(uint64(len(rows)))
		for _, row := range rows {
			z.ref(row.Observer)
			n += 1 + 1
			if row.Version != 0 {
				n += 1 + cborUint(row.Version)
			}
			if len(row.Unreachable) > 0 {
				n += z.refList(row.Unreachable)
			}
		}
	}
	if len(s.Version) > 0 {
		n += 1 + cborUint(uint64(len(s.Version)))
		for u, c := range s.Version {
			z.ref(u)
			n += 1 + cborUint(c) // [ref, count]
		}
	}
	if len(s.Seen) > 0 {
		n += z.refList(s.Seen)
	}
	if len(s.Tombstones) > 0 {
		n += 1 + cborUint(uint64(len(s.Tombstones)))
		for u := range s.Tombstones {
			z.ref(u)
		}
	}
	if len(s.Allocations) > 0 {
		n += 1 + cborUint(uint64(len(s.Allocations)))
		for _, ta := range s.Allocations {
			n += 1 + 1 + shardTypeLen(ta.Type)
			if ta.Epoch != 0 {
				n += 1 + cborUint(uint64(ta.Epoch))
			}
			if len(ta.Shards) > 0 {
				n += 1 + cborUint(uint64(len(ta.Shards)))
				for _, a := range ta.Shards {
					n++
					if a.Primary != (proto.UniqueAddress{}) {
						z.ref(a.Primary)
						n++
					}
					if len(a.Replicas) > 0 {
						n += z.refList(a.Replicas)
					}
					if a.Epoch != 0 {
						n += 1 + cborUint(uint64(a.Epoch))
					}
				}
			}
		}
	}
	if s.AllocationEpoch != 0 {
		n += 1 + cborUint(uint64(s.AllocationEpoch))
	}
	if len(s.Registry) > 0 {
		n += 1 + cborUint(uint64(len(s.Registry)))
		for _, row := range s.Registry {
			z.ref(row.Owner)
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
						z.ref(e.Node)
						n++
					}
				}
			}
		}
	}
	if len(z.nodes) == 0 {
		return n
	}
	z.table()
	n += 1 + z.prevTable // key of the node table
	for i, k := range z.uses {
		n += k * z.prevRefs[i]
	}
	return n
}

// table makes prevRefs and prevTable describe z.nodes.
func (z *stateSizer) table() {
	if slices.Equal(z.nodes, z.prevNodes) {
		return
	}
	z.prevNodes = append(z.prevNodes[:0], z.nodes...)
	z.order = z.order[:0]
	for i := range z.nodes {
		z.order = append(z.order, i)
	}
	slices.SortFunc(z.order, func(a, b int) int { return compareWire(z.nodes[a], z.nodes[b]) })
	z.prevRefs = slices.Grow(z.prevRefs[:0], len(z.nodes))[:len(z.nodes)]
	t := cborUint(uint64(len(z.nodes)))
	for final, p := range z.order {
		z.prevRefs[p] = cborUint(uint64(final + 1))
		u := z.nodes[p]
		t++ // map header
		if u.Host != "" {
			t += 1 + cborText(u.Host)
		}
		if u.Port != 0 {
			t += 1 + cborUint(uint64(u.Port))
		}
		if u.UID != 0 {
			t += 1 + cborUint(uint64(u.UID))
		}
	}
	z.prevTable = t
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
