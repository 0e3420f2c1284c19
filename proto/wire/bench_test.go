package wire

import (
	"testing"

	"github.com/rumorhq/rumor/proto"
)

func benchState() *proto.State { return buildState(benchSpec) }

func BenchmarkEncodeState100(b *testing.B) {
	m := header(proto.GossipState{State: benchState()})
	frame, err := Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Encode(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(frame)), "frame-bytes")
}

func BenchmarkDecodeState100(b *testing.B) {
	frame, err := Encode(header(proto.GossipState{State: benchState()}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSizeState100(b *testing.B) {
	m := header(proto.GossipState{State: benchState()})
	b.ReportAllocs()
	for b.Loop() {
		if Size(m) < 0 {
			b.Fatal("no size")
		}
	}
}
