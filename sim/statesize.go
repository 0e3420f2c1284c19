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
	nodes []proto.UniqueAddress          // by provisional ref - 1
	uses  []int                          // references per provisional ref - 1

	// The table of the last state measured.
	prevNodes []proto.UniqueAddress
	prevRefs  []int // CBOR length of each provisional ref's final ref
	prevTable int   // CBOR length of the node table array
	order     []int
}

func newStateSizer() *stateSizer {
	return &stateSizer{ids: map[proto.UniqueAddress]uint32{}}
}

// ref counts one reference to u.
func (z *stateSizer) ref(u proto.UniqueAddress) {
	if i, ok := z.ids[u]; ok {
		z.uses[i]++
		return
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
	clear(z.ids)
	z.nodes = z.nodes[:0]
	z.uses = z.uses[:0]
	n := 1 // map header: at most 9 fields
	if len(s.Members) > 0 {
		n += 1 + cborUint(uint64(len(s.Members)))
		for i := range s.Members {
			m := &s.Members[i]
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
