package proto

import (
	"fmt"
	"testing"
)

// benchMembers returns n Up members at 10.0.i/256.i%256, as the simulator
// addresses them, each hosting one shard type.
func benchMembers(n int) []Member {
	out := make([]Member, n)
	for i := range out {
		u := UniqueAddress{Address: Address{Host: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: 7000}, UID: UID(i + 1)}
		out[i] = Member{Node: u, ID: NodeID(fmt.Sprintf("n%d", i)), Status: Up, UpNumber: int64(i + 1),
			Hosts: []ShardType{{Name: "kv", Shards: 64, Replicas: 2}}, HostsVersion: 1}
	}
	return out
}

// benchState is a state of n members whose clock has an entry per member.
func benchState(members []Member) *State {
	s := NewState()
	s.Members = members
	for _, m := range members {
		s.Version[m.Node] = 3
	}
	return s
}

// BenchmarkValidateStateKnowing validates a 1,000-member state whose
// members differ from the last validated list in one status, as most
// gossiped states do.
func BenchmarkValidateStateKnowing(b *testing.B) {
	known := benchMembers(1000)
	next := append([]Member(nil), known...)
	next[500].Status = Leaving
	s := benchState(next)
	b.Run("known", func(b *testing.B) {
		for b.Loop() {
			if err := validateStateKnowing(s, known, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unknown", func(b *testing.B) {
		for b.Loop() {
			if err := validateStateKnowing(s, nil, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
