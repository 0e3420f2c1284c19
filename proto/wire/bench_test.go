package wire

import (
	"testing"

	"github.com/rumorhq/rumor/proto"
)

// The benchmark messages: a heartbeat, a gossip status whose clock has 3
// entries, and a gossip state of 100 members with reachability rows, 2
// shard types x 64 shards with 1 replica, and 50 registry entries.
func benchMessages() map[string]proto.Message {
	return map[string]proto.Message{
		"Heartbeat":      header(proto.Heartbeat{Seq: 42}),
		"GossipStatus3":  sampleMessages()["gossip-status"],
		"GossipState100": header(proto.GossipState{State: buildState(benchSpec)}),
	}
}

// TestEncodedSizes reports the sizes of the benchmark messages and holds
// them to budgets: steady-state traffic (heartbeats, statuses) must stay a
// few dozen bytes, and a 100-member state well under a UDP-unfriendly
// size.
func TestEncodedSizes(t *testing.T) {
	budgets := map[string]int{"Heartbeat": 64, "GossipStatus3": 192, "GossipState100": 12 << 10}
	msgs := benchMessages()
	for _, name := range sortedNames(msgs) {
		t.Run(name, func(t *testing.T) {
			frame, err := Encode(msgs[name])
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes", name, len(frame))
			if len(frame) > budgets[name] {
				t.Errorf("%s encodes to %d bytes, budget %d", name, len(frame), budgets[name])
			}
		})
	}
}

func benchEach(b *testing.B, f func(b *testing.B, m proto.Message, frame []byte)) {
	msgs := benchMessages()
	for _, name := range sortedNames(msgs) {
		m := msgs[name]
		frame, err := Encode(m)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(frame)), "frame-bytes")
			f(b, m, frame)
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	benchEach(b, func(b *testing.B, m proto.Message, _ []byte) {
		for b.Loop() {
			if _, err := Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	benchEach(b, func(b *testing.B, _ proto.Message, frame []byte) {
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			if _, err := Decode(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSize(b *testing.B) {
	benchEach(b, func(b *testing.B, m proto.Message, frame []byte) {
		for b.Loop() {
			if Size(m) != len(frame) {
				b.Fatal("Size disagrees with Encode")
			}
		}
	})
}

// BenchmarkValidateState100 is the share of Encode and Decode that is
// proto.ValidateState's, for comparison.
func BenchmarkValidateState100(b *testing.B) {
	s := buildState(benchSpec)
	for b.Loop() {
		if err := proto.ValidateState(s); err != nil {
			b.Fatal(err)
		}
	}
}
