package proto

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fxShard is a shard whose primary is fxNode(primary, 1) (0: unallocated)
// with the given epoch and replicas fxNode(r, 1), in that order.
func fxShard(primary int, epoch Epoch, replicas ...int) ShardAllocation {
	a := ShardAllocation{Epoch: epoch}
	if primary != 0 {
		a.Primary = fxNode(primary, 1)
	}
	for _, r := range replicas {
		a.Replicas = append(a.Replicas, fxNode(r, 1))
	}
	return a
}

// fxType is the allocation table of type {name, len(shards), replicas} at
// the given epoch.
func fxType(name string, replicas int, epoch Epoch, shards ...ShardAllocation) TypeAllocation {
	return TypeAllocation{Type: ShardType{Name: name, Shards: len(shards), Replicas: replicas}, Epoch: epoch, Shards: shards}
}

// fxRoundRobin is a table of type name whose shard k has primary
// hosts[k%len(hosts)] and no replicas, all at epoch.
func fxRoundRobin(name string, shards int, epoch Epoch, hosts ...int) TypeAllocation {
	var out []ShardAllocation
	for k := 0; k < shards; k++ {
		out = append(out, fxShard(hosts[k%len(hosts)], epoch))
	}
	return fxType(name, 0, epoch, out...)
}

// fxAllocCmp compares allocation tables treating nil and empty replica
// lists alike.
var fxAllocCmp = cmpopts.EquateEmpty()

func TestAllocate(t *testing.T) {
	orders := ShardType{Name: "orders", Shards: 6, Replicas: 1}
	cases := []struct {
		name     string
		current  []TypeAllocation
		types    []ShardType
		hosts    map[string][]UniqueAddress
		next     Epoch
		maxMoves int
		want     []TypeAllocation
		changed  bool
	}{
		{
			// Primaries round robin (fewest primaries, ties to the lowest
			// address); each replica goes to the host with the fewest
			// replicas that is not the primary.
			name:  "first allocation",
			types: []ShardType{orders}, hosts: map[string][]UniqueAddress{"orders": fxNodes(1, 2, 3)},
			next: 1, maxMoves: 3,
			want: []TypeAllocation{fxType("orders", 1, 1,
				fxShard(1, 1, 2), fxShard(2, 1, 1), fxShard(3, 1, 1), fxShard(1, 1, 3), fxShard(2, 1, 3), fxShard(3, 1, 2))},
			changed: true,
		},
		{
			name:  "ties go to the lowest address, ordered numerically",
			types: []ShardType{{Name: "t", Shards: 3}}, hosts: map[string][]UniqueAddress{"t": fxNodes(9, 10)},
			next: 1, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 1, fxShard(9, 1), fxShard(10, 1), fxShard(9, 1))},
			changed: true,
		},
		{
			name:    "an unallocated shard goes to the host with the fewest primaries",
			current: []TypeAllocation{fxType("t", 0, 1, fxShard(1, 1), fxShard(2, 1), fxShard(0, 0))},
			types:   []ShardType{{Name: "t", Shards: 3}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2, 3)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 2, fxShard(1, 1), fxShard(2, 1), fxShard(3, 2))},
			changed: true,
		},
		{
			// n1 is the new primary (no primaries); of n2 (one replica), n3
			// and n4 (none), the replica goes to n3.
			name:    "a replica goes to the host with the fewest replicas, not the lowest",
			current: []TypeAllocation{fxType("t", 1, 1, fxShard(2, 1, 1), fxShard(3, 1, 1), fxShard(4, 1, 2), fxShard(0, 0))},
			types:   []ShardType{{Name: "t", Shards: 4, Replicas: 1}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2, 3, 4)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 2, fxShard(2, 1, 1), fxShard(3, 1, 1), fxShard(4, 1, 2), fxShard(1, 2, 3))},
			changed: true,
		},
		{
			name:  "only the eligible hosts of each type",
			types: []ShardType{{Name: "b", Shards: 2, Replicas: 1}, {Name: "a", Shards: 2, Replicas: 1}},
			hosts: map[string][]UniqueAddress{"a": fxNodes(1), "b": fxNodes(2, 3)},
			next:  1, maxMoves: 3,
			want: []TypeAllocation{
				fxType("a", 1, 1, fxShard(1, 1), fxShard(1, 1)),
				fxType("b", 1, 1, fxShard(2, 1, 3), fxShard(3, 1, 2)),
			},
			changed: true,
		},
		{
			// The primary keeps its epoch: only the replica list changed.
			name:    "an ineligible replica is dropped and refilled",
			current: []TypeAllocation{fxType("t", 1, 1, fxShard(1, 1, 4))},
			types:   []ShardType{{Name: "t", Shards: 1, Replicas: 1}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 2, fxShard(1, 1, 2))},
			changed: true,
		},
		{
			// n1 is gone: shard 0 promotes its replica n2 at epoch 2 and
			// gets n3 as its new replica; shard 2 loses replica n1 and gets
			// n2, keeping its epoch.
			name:    "holder lost: its first live replica is promoted at the new epoch",
			current: []TypeAllocation{fxType("t", 1, 1, fxShard(1, 1, 2), fxShard(2, 1, 3), fxShard(3, 1, 1))},
			types:   []ShardType{{Name: "t", Shards: 3, Replicas: 1}}, hosts: map[string][]UniqueAddress{"t": fxNodes(2, 3)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 2, fxShard(2, 2, 3), fxShard(2, 1, 3), fxShard(3, 1, 2))},
			changed: true,
		},
		{
			name:    "promotion follows replica order, not address order",
			current: []TypeAllocation{fxType("t", 2, 1, fxShard(1, 1, 3, 2))},
			types:   []ShardType{{Name: "t", Shards: 1, Replicas: 2}}, hosts: map[string][]UniqueAddress{"t": fxNodes(2, 3)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 2, 2, fxShard(3, 2, 2))},
			changed: true,
		},
		{
			name:    "first replica lost too: the next live replica is promoted",
			current: []TypeAllocation{fxType("t", 2, 1, fxShard(1, 1, 2, 3))},
			types:   []ShardType{{Name: "t", Shards: 1, Replicas: 2}}, hosts: map[string][]UniqueAddress{"t": fxNodes(3, 4)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 2, 2, fxShard(3, 2, 4))},
			changed: true,
		},
		{
			name:    "no live replica: a new primary by load at the new epoch",
			current: []TypeAllocation{fxType("t", 0, 1, fxShard(1, 1), fxShard(2, 1))},
			types:   []ShardType{{Name: "t", Shards: 2}}, hosts: map[string][]UniqueAddress{"t": fxNodes(2, 3)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 2, fxShard(3, 2), fxShard(2, 1))},
			changed: true,
		},
		{
			name:  "no eligible host: the table exists, every shard unallocated",
			types: []ShardType{{Name: "t", Shards: 2, Replicas: 1}},
			next:  1, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 1, fxShard(0, 0), fxShard(0, 0))},
			changed: true,
		},
		{
			name:    "every host lost: shards become unallocated",
			current: []TypeAllocation{fxType("t", 1, 1, fxShard(1, 1, 2), fxShard(2, 1, 1))},
			types:   []ShardType{{Name: "t", Shards: 2, Replicas: 1}}, hosts: map[string][]UniqueAddress{"t": nil},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 2, fxShard(0, 0), fxShard(0, 0))},
			changed: true,
		},
		{
			// Counts 4,4,4,0: the first move takes n1's first shard, the
			// second n2's (now the first most loaded host), then the
			// budget is spent.
			name:    "rebalance moves at most maxMoves primaries",
			current: []TypeAllocation{fxRoundRobin("t", 12, 1, 1, 2, 3)},
			types:   []ShardType{{Name: "t", Shards: 12}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2, 3, 4)},
			next: 2, maxMoves: 2,
			want: []TypeAllocation{fxType("t", 0, 2, fxShard(4, 2), fxShard(4, 2), fxShard(3, 1), fxShard(1, 1),
				fxShard(2, 1), fxShard(3, 1), fxShard(1, 1), fxShard(2, 1), fxShard(3, 1), fxShard(1, 1), fxShard(2, 1), fxShard(3, 1))},
			changed: true,
		},
		{
			name:    "the move budget is shared by all types, in name order",
			current: []TypeAllocation{fxRoundRobin("a", 4, 1, 1), fxRoundRobin("b", 4, 1, 1)},
			types:   []ShardType{{Name: "b", Shards: 4}, {Name: "a", Shards: 4}},
			hosts:   map[string][]UniqueAddress{"a": fxNodes(1, 2), "b": fxNodes(1, 2)},
			next:    2, maxMoves: 1,
			want: []TypeAllocation{
				fxType("a", 0, 2, fxShard(2, 2), fxShard(1, 1), fxShard(1, 1), fxShard(1, 1)),
				fxRoundRobin("b", 4, 1, 1),
			},
			changed: true,
		},
		{
			name:    "balanced to within one: nothing moves",
			current: []TypeAllocation{fxType("t", 0, 3, fxShard(1, 1), fxShard(1, 2), fxShard(1, 3), fxShard(2, 1), fxShard(2, 3))},
			types:   []ShardType{{Name: "t", Shards: 5}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2)},
			next: 4, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 3, fxShard(1, 1), fxShard(1, 2), fxShard(1, 3), fxShard(2, 1), fxShard(2, 3))},
			changed: false,
		},
		{
			name: "a settled allocation is a fixed point",
			current: []TypeAllocation{fxType("orders", 1, 1,
				fxShard(1, 1, 2), fxShard(2, 1, 1), fxShard(3, 1, 1), fxShard(1, 1, 3), fxShard(2, 1, 3), fxShard(3, 1, 2))},
			types: []ShardType{orders}, hosts: map[string][]UniqueAddress{"orders": fxNodes(1, 2, 3)},
			next: 2, maxMoves: 3,
			want: []TypeAllocation{fxType("orders", 1, 1,
				fxShard(1, 1, 2), fxShard(2, 1, 1), fxShard(3, 1, 1), fxShard(1, 1, 3), fxShard(2, 1, 3), fxShard(3, 1, 2))},
			changed: false,
		},
		{
			// The shard count changed, so every entity maps elsewhere
			// (ShardOf): the table starts afresh at the new epoch.
			name:    "a changed shard count reallocates the type",
			current: []TypeAllocation{fxType("t", 0, 1, fxShard(2, 1), fxShard(1, 1))},
			types:   []ShardType{{Name: "t", Shards: 3}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 2, fxShard(1, 2), fxShard(2, 2), fxShard(1, 2))},
			changed: true,
		},
		{
			// Any declaration change starts the table afresh, a changed
			// replica count included: both primaries move.
			name:    "a changed replica count reallocates the type",
			current: []TypeAllocation{fxType("t", 0, 1, fxShard(2, 1), fxShard(1, 1))},
			types:   []ShardType{{Name: "t", Shards: 2, Replicas: 1}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1, 2)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 1, 2, fxShard(1, 2, 2), fxShard(2, 2, 1))},
			changed: true,
		},
		{
			name:    "an emptied undeclared table stays as it is",
			current: []TypeAllocation{fxType("t", 0, 5, fxShard(0, 0), fxShard(0, 0))},
			next:    6, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 5, fxShard(0, 0), fxShard(0, 0))},
			changed: false,
		},
		{
			name:    "an emptied table declared again is allocated at the new epoch",
			current: []TypeAllocation{fxType("t", 0, 5, fxShard(0, 0), fxShard(0, 0))},
			types:   []ShardType{{Name: "t", Shards: 2}}, hosts: map[string][]UniqueAddress{"t": fxNodes(1)},
			next: 6, maxMoves: 3,
			want:    []TypeAllocation{fxType("t", 0, 6, fxShard(1, 6), fxShard(1, 6))},
			changed: true,
		},
		{
			name:    "an undeclared table is emptied beside a declared one",
			current: []TypeAllocation{fxType("a", 0, 1, fxShard(1, 1)), fxType("b", 0, 1, fxShard(1, 1))},
			types:   []ShardType{{Name: "b", Shards: 1}}, hosts: map[string][]UniqueAddress{"b": fxNodes(1)},
			next: 2, maxMoves: 3,
			want:    []TypeAllocation{fxType("a", 0, 2, fxShard(0, 0)), fxType("b", 0, 1, fxShard(1, 1))},
			changed: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			current, types := cloneAllocations(tc.current), append([]ShardType(nil), tc.types...)
			hosts := map[string][]UniqueAddress{}
			for k, v := range tc.hosts {
				hosts[k] = append([]UniqueAddress(nil), v...)
			}
			got, changed := Allocate(tc.current, tc.types, tc.hosts, tc.next, tc.maxMoves)
			if diff := cmp.Diff(tc.want, got, fxAllocCmp); diff != "" {
				t.Errorf("Allocate tables (-want +got):\n%s", diff)
			}
			if changed != tc.changed {
				t.Errorf("Allocate changed = %v, want %v", changed, tc.changed)
			}
			if diff := cmp.Diff(current, tc.current, fxAllocCmp); diff != "" {
				t.Errorf("Allocate modified current (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(types, tc.types, fxAllocCmp); diff != "" {
				t.Errorf("Allocate modified types (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(hosts, tc.hosts, fxAllocCmp); diff != "" {
				t.Errorf("Allocate modified hosts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAllocateRounds applies Allocate round after round with the same
// hosts, as the leader does once per converged allocation, and checks the
// primaries per host after each round.
func TestAllocateRounds(t *testing.T) {
	cases := []struct {
		name     string
		current  []TypeAllocation
		typ      ShardType
		hosts    []UniqueAddress
		maxMoves int
		want     [][]int // primaries of each host after each changing round
	}{
		{
			// The story in testdata/scenarios/shards.txt: 6/6 on two
			// hosts, a third joins; three moves, then one.
			name:    "a joiner receives shards, three moves per round",
			current: []TypeAllocation{fxRoundRobin("t", 12, 1, 1, 3)},
			typ:     ShardType{Name: "t", Shards: 12}, hosts: fxNodes(1, 3, 4), maxMoves: 3,
			want: [][]int{{4, 5, 3}, {4, 4, 4}},
		},
		{
			name:    "one move per round",
			current: []TypeAllocation{fxRoundRobin("t", 9, 1, 1)},
			typ:     ShardType{Name: "t", Shards: 9}, hosts: fxNodes(1, 2, 3), maxMoves: 1,
			want: [][]int{{8, 1, 0}, {7, 1, 1}, {6, 2, 1}, {5, 2, 2}, {4, 3, 2}, {3, 3, 3}},
		},
		{
			name:    "two joiners at once",
			current: []TypeAllocation{fxRoundRobin("t", 10, 1, 1, 2)},
			typ:     ShardType{Name: "t", Shards: 10}, hosts: fxNodes(1, 2, 3, 4), maxMoves: 3,
			want: [][]int{{3, 4, 2, 1}, {3, 3, 2, 2}},
		},
		{
			name:    "fewer shards than hosts",
			current: []TypeAllocation{fxRoundRobin("t", 3, 1, 1)},
			typ:     ShardType{Name: "t", Shards: 3}, hosts: fxNodes(1, 2, 3, 4, 5), maxMoves: 3,
			want: [][]int{{1, 1, 1, 0, 0}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur, next := tc.current, Epoch(2)
			var got [][]int
			for round := 0; round < 20; round++ {
				out, changed := Allocate(cur, []ShardType{tc.typ}, map[string][]UniqueAddress{tc.typ.Name: tc.hosts}, next, tc.maxMoves)
				if !changed {
					break
				}
				moved := 0
				for i, a := range out[0].Shards {
					if a.Primary != cur[0].Shards[i].Primary {
						moved++
						if a.Epoch != next {
							t.Errorf("round %d: shard %d moved to %v at epoch %d, want %d", round, i, a.Primary, a.Epoch, next)
						}
					}
				}
				if moved > tc.maxMoves {
					t.Errorf("round %d moved %d primaries, budget %d", round, moved, tc.maxMoves)
				}
				counts := make([]int, len(tc.hosts))
				for _, a := range out[0].Shards {
					for h, u := range tc.hosts {
						if a.Primary == u {
							counts[h]++
						}
					}
				}
				got = append(got, counts)
				cur, next = out, next+1
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("primaries per host after each round (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShardTypeValidate(t *testing.T) {
	long := string(make([]byte, MaxNameLen+1))
	cases := []struct {
		name string
		typ  ShardType
		bad  bool
	}{
		{"smallest", ShardType{Name: "t", Shards: 1}, false},
		{"largest", ShardType{Name: "t", Shards: MaxShardsPerType, Replicas: MaxReplicas}, false},
		{"empty name", ShardType{Shards: 1}, true},
		{"name too long", ShardType{Name: long, Shards: 1}, true},
		{"no shards", ShardType{Name: "t"}, true},
		{"too many shards", ShardType{Name: "t", Shards: MaxShardsPerType + 1}, true},
		{"negative replicas", ShardType{Name: "t", Shards: 1, Replicas: -1}, true},
		{"too many replicas", ShardType{Name: "t", Shards: 1, Replicas: MaxReplicas + 1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.typ.Validate()
			if got := err != nil; got != tc.bad {
				t.Fatalf("Validate(%+v) = %v, want error %v", tc.typ, err, tc.bad)
			}
			if err != nil && !errors.Is(err, ErrBadShardType) {
				t.Errorf("Validate error %v does not wrap ErrBadShardType", err)
			}
			if got := tc.typ.valid(); got != !tc.bad {
				t.Errorf("valid(%+v) = %v, want %v", tc.typ, got, !tc.bad)
			}
		})
	}
}

// fxShardOf is ShardOf written independently from its documentation: 64-bit
// FNV-1a (hash/fnv), MurmurHash3's fmix64 finaliser, and the high word of
// the 128-bit product with the shard count (math/bits).
func fxShardOf(id string, shards int) int {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	hi, _ := bits.Mul64(x, uint64(shards))
	return int(hi)
}

func TestShardOfGolden(t *testing.T) {
	// Computed once with fxShardOf. These values must never change: a
	// change would move every entity of every deployed cluster.
	cases := []struct {
		id                   string
		at1, at7, at64, at1k int
	}{
		{"", 0, 6, 59, 936},
		{"a", 0, 3, 32, 510},
		{"order-1", 0, 1, 18, 285},
		{"order-2", 0, 4, 42, 667},
		{"order-42", 0, 3, 35, 555},
		{"user:alice", 0, 6, 55, 860},
		{"10.0.0.9", 0, 2, 21, 330},
		{"日本語", 0, 6, 56, 879},
		{"a much longer entity identifier, 60 bytes long............", 0, 6, 63, 985},
	}
	for _, tc := range cases {
		t.Run(strconv.Quote(tc.id), func(t *testing.T) {
			want := []int{tc.at1, tc.at7, tc.at64, tc.at1k}
			var got, ref []int
			for _, n := range []int{1, 7, 64, 1000} {
				got = append(got, ShardOf(tc.id, n))
				ref = append(ref, fxShardOf(tc.id, n))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ShardOf(%q, 1/7/64/1000) (-want +got):\n%s", tc.id, diff)
			}
			if diff := cmp.Diff(want, ref); diff != "" {
				t.Errorf("reference at 1/7/64/1000 (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShardOfEdges(t *testing.T) {
	cases := []struct {
		name   string
		id     string
		shards int
		want   int
	}{
		{"zero shards", "x", 0, 0},
		{"negative shards", "x", -3, 0},
		{"one shard", "anything", 1, 0},
		{"largest shard count", "order-1", MaxShardsPerType, fxShardOf("order-1", MaxShardsPerType)},
		{"beyond 32 bits", "order-1", math.MaxInt64, fxShardOf("order-1", math.MaxInt64)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShardOf(tc.id, tc.shards); got != tc.want {
				t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.id, tc.shards, got, tc.want)
			}
		})
	}
}

// TestMul64 checks the hand-written 128-bit multiply against math/bits.
func TestMul64(t *testing.T) {
	vals := []uint64{0, 1, 2, 0xffffffff, 1 << 32, 0xffffffffffffffff, 0x8000000000000000, 0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53, 1000, 65536}
	for _, x := range vals {
		for _, y := range vals {
			t.Run(fmt.Sprintf("%#x*%#x", x, y), func(t *testing.T) {
				hi, lo := mul64(x, y)
				wantHi, wantLo := bits.Mul64(x, y)
				if diff := cmp.Diff([2]uint64{wantHi, wantLo}, [2]uint64{hi, lo}); diff != "" {
					t.Errorf("mul64 (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestShardOfDistribution maps 100,000 ids to each shard count and checks
// that every shard gets its share: each within 6 standard deviations of
// the binomial mean, and Pearson's chi-squared statistic within 6 of its
// own standard deviations of k-1. For uniform placement both fail with
// probability far below 1e-6; the ids are fixed, so the test is
// deterministic.
func TestShardOfDistribution(t *testing.T) {
	const ids = 100_000
	for _, k := range []int{2, 7, 64, 1000} {
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			counts := make([]int, k)
			for i := 0; i < ids; i++ {
				s := ShardOf("entity-"+strconv.Itoa(i), k)
				if s < 0 || s >= k {
					t.Fatalf("ShardOf(entity-%d, %d) = %d, out of range", i, k, s)
				}
				counts[s]++
			}
			mean := float64(ids) / float64(k)
			sd := math.Sqrt(mean * (1 - 1/float64(k)))
			chi2 := 0.0
			for s, c := range counts {
				if d := math.Abs(float64(c) - mean); d > 6*sd {
					t.Errorf("shard %d of %d holds %d ids, mean %.1f, sd %.1f", s, k, c, mean, sd)
				}
				chi2 += (float64(c) - mean) * (float64(c) - mean) / mean
			}
			dof := float64(k - 1)
			if limit := dof + 6*math.Sqrt(2*dof); chi2 > limit {
				t.Errorf("chi-squared %.1f over %d shards, limit %.1f", chi2, k, limit)
			}
		})
	}
}

// TestShardOfSpreadsNeighbours checks the point of the fmix64 finaliser:
// ids that differ only in their last byte do not crowd a few shards.
func TestShardOfSpreadsNeighbours(t *testing.T) {
	cases := []struct {
		name   string
		prefix string
		shards int
		min    int // distinct shards the 64 ids must reach
	}{
		{"short ids over 64 shards", "", 64, 35},
		{"long prefix over 64 shards", "tenant-0001/orders/", 64, 35},
		{"short ids over 8 shards", "x", 8, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[int]bool{}
			for b := 0; b < 64; b++ {
				seen[ShardOf(tc.prefix+string(rune('0'+b)), tc.shards)] = true
			}
			if len(seen) < tc.min {
				t.Errorf("64 neighbouring ids reach %d of %d shards, want at least %d", len(seen), tc.shards, tc.min)
			}
		})
	}
}

// TestMergeAllocationsSharesTables: a merge that takes tables from both
// sides builds a new list, but the tables in it are the inputs' own (they
// are never written in place); only a table not in cloned form is copied.
func TestMergeAllocationsSharesTables(t *testing.T) {
	a := []TypeAllocation{fxType("x", 1, 3, fxShard(1, 3, 2)), fxType("y", 1, 1, fxShard(1, 1, 2))}
	b := []TypeAllocation{fxType("x", 1, 2, fxShard(2, 2, 1)), fxType("y", 1, 4, fxShard(2, 4, 1))}
	got := mergeAllocations(a, b)
	if len(got) != 2 || &got[0] == &a[0] || &got[0] == &b[0] {
		t.Fatalf("mixed merge returned an input's list or %d tables", len(got))
	}
	if &got[0].Shards[0] != &a[0].Shards[0] || &got[1].Shards[0] != &b[1].Shards[0] {
		t.Errorf("mixed merge copied its tables, want a's x and b's y shared")
	}
	denormal := fxType("y", 1, 4, fxShard(2, 4))
	denormal.Shards[0].Replicas = []UniqueAddress{}
	got = mergeAllocations(a, []TypeAllocation{denormal})
	if &got[1].Shards[0] == &denormal.Shards[0] || got[1].Shards[0].Replicas != nil {
		t.Errorf("a table with empty non-nil replicas was shared, want it cloned")
	}
	if diff := cmp.Diff(fxType("y", 1, 4, fxShard(2, 4)), got[1]); diff != "" {
		t.Errorf("merged y (-want +got):\n%s", diff)
	}
}
