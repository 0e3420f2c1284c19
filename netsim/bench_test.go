package netsim

import (
	"testing"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// BenchmarkSendDeliver measures one Send plus one delivery in a 1,000-node
// network kept at 10,000 messages in flight: each op steps the earliest
// event and sends a message to a peer, plus refills for copies lost to
// faults. "ring" sends each node's traffic to 8 fixed peers (heartbeat-like,
// 8,000 paths); "spread" cycles through all million directed paths, the
// cache-unfriendly worst case of long random gossip.
func BenchmarkSendDeliver(b *testing.B) {
	type bench struct {
		name   string
		cfg    Config
		spread bool
	}
	var tests []bench
	for _, spread := range []bool{false, true} {
		for _, c := range []bench{
			{name: "perfect", cfg: Config{Latency: Constant(ms(1))}},
			{name: "faulty", cfg: Config{Latency: Jitter(Shifted(ms(1), Exponential(ms(3))), ms(1)), Loss: 0.05, Duplicate: 0.05, MaxInFlight: 64}},
		} {
			c.spread = spread
			c.name = map[bool]string{false: "ring/", true: "spread/"}[spread] + c.name
			tests = append(tests, c)
		}
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			const nodes, inFlight = 1000, 10000
			addrs := make([]proto.Address, nodes)
			for i := range addrs {
				addrs[i] = proto.Address{Host: "10.0." + itoa(i/256) + "." + itoa(i%256), Port: 7000}
			}
			var body proto.Body = proto.Heartbeat{Seq: 1} // boxed once: the caller's cost, not the network's
			peer := func(f, round int) int {
				if tt.spread {
					return (f*7919 + round + 1) % nodes
				}
				return (f + 1 + round%8*37) % nodes
			}
			message := func(i int) proto.Message {
				f := i % nodes
				return proto.Message{
					From: proto.UniqueAddress{Address: addrs[f], UID: proto.UID(f + 1)},
					To:   addrs[peer(f, i/nodes)],
					Body: body,
				}
			}
			n := newNet(b, 1, tt.cfg)
			now := epoch
			for i := range inFlight {
				n.Send(now, message(i))
			}
			i := inFlight
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ev, ok := n.Step()
				if !ok {
					b.Fatal("queue ran dry")
				}
				now = ev.At
				i++
				n.Send(now, message(i))
				for n.InFlight() < inFlight { // refill what loss and cuts took
					i++
					n.Send(now, message(i))
				}
			}
			b.StopTimer()
			s := n.Stats()
			b.ReportMetric(float64(s.Delivered)/float64(b.N), "deliveries/op")
			b.ReportMetric(float64(time.Duration(now.Sub(epoch)))/float64(b.N), "sim-ns/op")
		})
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
