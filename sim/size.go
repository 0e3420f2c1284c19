package sim

import "github.com/rumorhq/rumor/proto"

// sizer returns the bytes a message takes on the wire, for the byte
// counters. Full states are immutable once sent, so their sizes are cached
// by pointer (the cache is only looked up, never iterated).
type sizer struct {
	states map[*proto.State]int
}

func newSizer() *sizer { return &sizer{states: map[*proto.State]int{}} }

func (z *sizer) size(m proto.Message) int {
	return z.estimate(m)
}

// Wire-size estimate: a compact binary encoding with length-prefixed
// strings and varints. It is replaced by the codec's exact size when one
// exists.
const (
	frameBytes   = 4 // length prefix
	kindBytes    = 1
	uidBytes     = 8
	varintBytes  = 2 // typical small counter
	counterBytes = 8
)

func addrSize(a proto.Address) int { return 1 + len(a.Host) + 2 }

func uaSize(u proto.UniqueAddress) int { return addrSize(u.Address) + uidBytes }

func (z *sizer) estimate(m proto.Message) int {
	n := frameBytes + kindBytes + uaSize(m.From) + addrSize(m.To) + uidBytes
	switch b := m.Body.(type) {
	case proto.Heartbeat, proto.HeartbeatAck:
		n += counterBytes
	case proto.GossipStatus:
		n += clockSize(b.Version) + counterBytes + 1
	case proto.GossipState:
		n += z.stateSize(b.State) + 1
	case proto.Welcome:
		n += z.stateSize(b.State)
	case proto.Join:
		n += 1 + len(b.ID) + 1
		for _, r := range b.Roles {
			n += 1 + len(r)
		}
	}
	return n
}

func clockSize(v proto.VClock) int {
	n := varintBytes
	for u := range v { // summing sizes: order does not matter
		n += uaSize(u) + varintBytes
	}
	return n
}

func (z *sizer) stateSize(s *proto.State) int {
	if s == nil {
		return 1
	}
	if n, ok := z.states[s]; ok {
		return n
	}
	n := varintBytes
	for _, m := range s.Members {
		n += uaSize(m.Node) + 1 + len(m.ID) + 1 + varintBytes + 1 + varintBytes
		for _, r := range m.Roles {
			n += 1 + len(r)
		}
		for _, h := range m.Hosts {
			n += 1 + len(h.Name) + 2*varintBytes
		}
	}
	n += varintBytes
	for _, row := range s.Reachability.Rows {
		n += uaSize(row.Observer) + varintBytes + varintBytes
		for _, u := range row.Unreachable {
			n += uaSize(u)
		}
	}
	n += clockSize(s.Version)
	n += varintBytes
	for _, u := range s.Seen {
		n += uaSize(u)
	}
	n += varintBytes
	for u := range s.Tombstones {
		n += uaSize(u)
	}
	n += varintBytes + counterBytes
	for _, t := range s.Allocations {
		n += 1 + len(t.Type.Name) + 2*varintBytes + counterBytes + varintBytes
		for _, a := range t.Shards {
			n += uaSize(a.Primary) + varintBytes + 1
			for _, r := range a.Replicas {
				n += uaSize(r)
			}
		}
	}
	n += varintBytes
	for _, row := range s.Registry {
		n += uaSize(row.Owner) + varintBytes + varintBytes
		for _, e := range row.Entries {
			n += 1 + len(e.Key) + 1 + len(e.Path)
		}
	}
	if len(z.states) >= 4096 {
		clear(z.states)
	}
	z.states[s] = n
	return n
}
