package sim

import (
	"strings"
	"testing"

	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/proto/wire"
	"pgregory.net/rapid"
)

// TestEnvelopeCacheIsExact: measure, reading frames from its envelope
// cache, gives wire.Size's length for a stream of messages between ends
// that share UIDs, hosts of equal length, ports and zero fields in every
// combination, and pairs enough to evict entries from both ways of a set.
func TestEnvelopeCacheIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		hosts := []string{"", "10.0.0.1", "10.0.0.2", "10.0.0.12", "a", strings.Repeat("h", 23), strings.Repeat("h", 24), strings.Repeat("h", 300)}
		ports := []uint16{0, 1, 23, 24, 255, 256, 7000}
		uids := []proto.UID{0, 1, 23, 24, 1 << 8, 1 << 16, 1 << 40, 0x9E3779B97F4A7C15}
		end := func(label string) proto.UniqueAddress {
			return proto.UniqueAddress{
				Address: proto.Address{
					Host: rapid.SampledFrom(hosts).Draw(t, label+" host"),
					Port: rapid.SampledFrom(ports).Draw(t, label+" port"),
				},
				UID: rapid.SampledFrom(uids).Draw(t, label+" uid"),
			}
		}
		ends := make([]proto.UniqueAddress, rapid.IntRange(1, 40).Draw(t, "ends"))
		for i := range ends {
			ends[i] = end("end")
		}
		bodies := []proto.Body{proto.InitJoin{}, proto.Heartbeat{Seq: 30}, proto.HeartbeatAck{Seq: 0}}
		z := newSizer()
		for i := range rapid.IntRange(1, 2000).Draw(t, "messages") {
			from := ends[rapid.IntRange(0, len(ends)-1).Draw(t, "from")]
			to := ends[rapid.IntRange(0, len(ends)-1).Draw(t, "to")]
			m := proto.Message{From: from, To: to.Address, ToUID: to.UID, Body: bodies[i%len(bodies)]}
			if got, want := z.measure(&m), wire.Size(m); got != want {
				t.Fatalf("message %d %+v: size %d, wire.Size %d", i, m, got, want)
			}
		}
	})
}

// TestJoinBodyMatchesWire: a join's computed length is wire.Size's, for
// labels and roles empty or not, of every text length class, invalid
// UTF-8 included.
func TestJoinBodyMatchesWire(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.OneOf(
			rapid.SampledFrom([]string{"", "a", "\xff\xfe", strings.Repeat("r", 23), strings.Repeat("r", 24), strings.Repeat("r", 256)}),
			rapid.String(),
		)
		j := proto.Join{ID: proto.NodeID(text.Draw(t, "id"))}
		if rapid.Bool().Draw(t, "roles") {
			j.Roles = rapid.SliceOfN(text, 0, 30).Draw(t, "roles")
		}
		m := proto.Message{From: poolNode(1), To: poolNode(2).Address, ToUID: poolNode(2).UID, Body: j}
		if got, want := newSizer().measure(&m), wire.Size(m); got != want {
			t.Fatalf("join %q %q: size %d, wire.Size %d", j.ID, j.Roles, got, want)
		}
	})
}

// TestStateCacheIsExact: state lengths read back from the sizer's cache
// of states are wire.Size's, for states measured again in any order, more
// of them than the cache holds, so that both ways of a set hit and give
// way.
func TestStateCacheIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var states []*proto.State
		var prev *proto.State
		for range rapid.IntRange(1, 150).Draw(t, "states") {
			s := drawState(t, prev, 8)
			states = append(states, s)
			prev = s
		}
		from, to := poolNode(0), poolNode(1)
		want := make([]int, len(states))
		for i, s := range states {
			want[i] = wire.Size(proto.Message{From: from, To: to.Address, ToUID: to.UID, Body: proto.GossipState{State: s}})
		}
		z := newSizer()
		for _, i := range rapid.SliceOfN(rapid.IntRange(0, len(states)-1), 1, 1000).Draw(t, "order") {
			m := proto.Message{From: from, To: to.Address, ToUID: to.UID, Body: proto.GossipState{State: states[i]}}
			if got := z.measure(&m); got != want[i] {
				t.Fatalf("state %d: size %d, wire.Size %d", i, got, want[i])
			}
		}
	})
}
