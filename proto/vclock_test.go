package proto

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// fxClock builds a clock over fxNode(i, 1) from i -> count pairs.
func fxClock(pairs map[int]uint64) VClock {
	v := VClock{}
	for i, c := range pairs {
		v[fxNode(i, 1)] = c
	}
	return v
}

var fxMirror = map[Ordering]Ordering{Same: Same, Before: After, After: Before, Concurrent: Concurrent}

func TestVClockCompare(t *testing.T) {
	cases := []struct {
		name string
		v, w VClock
		want Ordering
	}{
		{"both empty", VClock{}, VClock{}, Same},
		{"nil and empty", nil, VClock{}, Same},
		{"equal", fxClock(map[int]uint64{1: 2, 2: 3}), fxClock(map[int]uint64{1: 2, 2: 3}), Same},
		{"lower entry", fxClock(map[int]uint64{1: 1, 2: 3}), fxClock(map[int]uint64{1: 2, 2: 3}), Before},
		{"higher entry", fxClock(map[int]uint64{1: 5}), fxClock(map[int]uint64{1: 4}), After},
		{"missing key in receiver", fxClock(map[int]uint64{1: 1}), fxClock(map[int]uint64{1: 1, 2: 1}), Before},
		{"missing key in argument", fxClock(map[int]uint64{1: 1, 2: 1}), fxClock(map[int]uint64{1: 1}), After},
		{"empty before anything", VClock{}, fxClock(map[int]uint64{3: 1}), Before},
		{"anything after nil", fxClock(map[int]uint64{3: 1}), nil, After},
		{"crossing entries", fxClock(map[int]uint64{1: 2, 2: 1}), fxClock(map[int]uint64{1: 1, 2: 2}), Concurrent},
		{"disjoint keys", fxClock(map[int]uint64{1: 1}), fxClock(map[int]uint64{2: 1}), Concurrent},
		{"missing key against higher entry", fxClock(map[int]uint64{1: 3}), fxClock(map[int]uint64{1: 2, 2: 1}), Concurrent},
		{"same address, other uid", VClock{fxNode(1, 1): 1}, VClock{fxNode(1, 2): 1}, Concurrent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.Compare(tc.w); got != tc.want {
				t.Errorf("v.Compare(w) = %v, want %v", got, tc.want)
			}
			if got, want := tc.w.Compare(tc.v), fxMirror[tc.want]; got != want {
				t.Errorf("w.Compare(v) = %v, want %v", got, want)
			}
		})
	}
}

func TestVClockMerge(t *testing.T) {
	cases := []struct {
		name    string
		v, w    VClock
		want    VClock
		wantOrd [2]Ordering // merged vs v, merged vs w
	}{
		{"empty", VClock{}, VClock{}, VClock{}, [2]Ordering{Same, Same}},
		{"nil receiver", nil, fxClock(map[int]uint64{1: 1}), fxClock(map[int]uint64{1: 1}), [2]Ordering{After, Same}},
		{"dominated", fxClock(map[int]uint64{1: 1}), fxClock(map[int]uint64{1: 2, 2: 1}), fxClock(map[int]uint64{1: 2, 2: 1}), [2]Ordering{After, Same}},
		{"element-wise max", fxClock(map[int]uint64{1: 5, 2: 1}), fxClock(map[int]uint64{1: 2, 2: 7}), fxClock(map[int]uint64{1: 5, 2: 7}), [2]Ordering{After, After}},
		{"union of keys", fxClock(map[int]uint64{1: 1, 3: 4}), fxClock(map[int]uint64{2: 2}), fxClock(map[int]uint64{1: 1, 2: 2, 3: 4}), [2]Ordering{After, After}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vBefore, wBefore := tc.v.Clone(), tc.w.Clone()
			got := tc.v.Merge(tc.w)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("v.Merge(w) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, tc.w.Merge(tc.v), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("w.Merge(v) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(vBefore, tc.v, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Merge modified its receiver (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wBefore, tc.w, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Merge modified its argument (-want +got):\n%s", diff)
			}
			if o := got.Compare(tc.v); o != tc.wantOrd[0] {
				t.Errorf("merged.Compare(v) = %v, want %v", o, tc.wantOrd[0])
			}
			if o := got.Compare(tc.w); o != tc.wantOrd[1] {
				t.Errorf("merged.Compare(w) = %v, want %v", o, tc.wantOrd[1])
			}
		})
	}
}

func TestVClockIncrement(t *testing.T) {
	cases := []struct {
		name string
		v    VClock
		node UniqueAddress
		want VClock
	}{
		{"existing entry", fxClock(map[int]uint64{1: 1, 2: 5}), fxNode(2, 1), fxClock(map[int]uint64{1: 1, 2: 6})},
		{"new entry", fxClock(map[int]uint64{1: 1}), fxNode(3, 1), fxClock(map[int]uint64{1: 1, 3: 1})},
		{"empty clock", VClock{}, fxNode(1, 1), fxClock(map[int]uint64{1: 1})},
		{"nil clock", nil, fxNode(1, 1), fxClock(map[int]uint64{1: 1})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.v.Clone()
			got := tc.v.Increment(tc.node)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Increment (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.v, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Increment modified its receiver (-want +got):\n%s", diff)
			}
			if o := got.Compare(tc.v); o != After {
				t.Errorf("incremented.Compare(original) = %v, want After", o)
			}
		})
	}
}

func TestVClockNodesAndDigest(t *testing.T) {
	v := VClock{fxNode(10, 1): 3, fxNode(9, 2): 1, fxNode(9, 1): 7}
	wantNodes := []UniqueAddress{fxNode(9, 1), fxNode(9, 2), fxNode(10, 1)}
	t.Run("nodes in address order", func(t *testing.T) {
		if diff := cmp.Diff(wantNodes, v.Nodes()); diff != "" {
			t.Errorf("Nodes() (-want +got):\n%s", diff)
		}
	})
	t.Run("digest", func(t *testing.T) {
		// FNV-1a over, per entry in address order: host length (8 bytes
		// little-endian), host bytes, port and UID and count (8 bytes
		// little-endian each).
		var b []byte
		for _, n := range wantNodes {
			b = binary.LittleEndian.AppendUint64(b, uint64(len(n.Host)))
			b = append(b, n.Host...)
			b = binary.LittleEndian.AppendUint64(b, uint64(n.Port))
			b = binary.LittleEndian.AppendUint64(b, uint64(n.UID))
			b = binary.LittleEndian.AppendUint64(b, v[n])
		}
		if got, want := v.Digest(), fxFNV1a64(b); got != want {
			t.Errorf("Digest() = %#x, want %#x", got, want)
		}
		if got, want := (VClock{}).Digest(), fxFNV1a64(nil); got != want {
			t.Errorf("empty Digest() = %#x, want %#x", got, want)
		}
	})
}

// naiveCompare is VClock.Compare by its definition: over the union of the
// keys (a missing entry counts as zero), whether some entry of v is lower
// and whether some entry is higher.
func naiveCompare(v, w VClock) Ordering {
	less, more := false, false
	for _, pair := range [2][2]VClock{{v, w}, {w, v}} {
		for k := range pair[0] {
			a, b := v[k], w[k]
			less = less || a < b
			more = more || a > b
		}
	}
	switch {
	case less && more:
		return Concurrent
	case less:
		return Before
	case more:
		return After
	}
	return Same
}

// TestVClockCompareMatchesNaive checks Compare and mergeShared, whose fast
// paths recognise a clock compared with itself, against their definitions
// on random pairs: distinct clocks, equal copies and the very same map.
func TestVClockCompareMatchesNaive(t *testing.T) {
	runLaws(t, func(p *gopter.Properties) {
		p.Property("Compare is the naive comparison", prop.ForAll(func(a, b VClock) string {
			for _, pair := range [][2]VClock{{a, b}, {a, a}, {a, a.Clone()}, {b, b}, {nil, a}, {a, nil}} {
				if got, want := pair[0].Compare(pair[1]), naiveCompare(pair[0], pair[1]); got != want {
					return fmt.Sprintf("%v.Compare(%v) = %v, naive %v", pair[0], pair[1], got, want)
				}
			}
			return ""
		}, genClock(), genClock()))
		p.Property("mergeShared is Merge", prop.ForAll(func(a, b VClock) string {
			for _, pair := range [][2]VClock{{a, b}, {a, a}, {a, a.Clone()}, {nil, a}, {a, nil}} {
				if d := lawDiff("mergeShared vs Merge", pair[0].Merge(pair[1]), mergeShared(pair[0], pair[1])); d != "" {
					return d
				}
			}
			return ""
		}, genClock(), genClock()))
	})
}

func TestSameClock(t *testing.T) {
	a := fxClock(map[int]uint64{1: 1})
	cases := []struct {
		name string
		v, w VClock
		want bool
	}{
		{"same map", a, a, true},
		{"equal copy", a, a.Clone(), false},
		{"both nil", nil, nil, true},
		{"nil and empty", nil, VClock{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameClock(tc.v, tc.w); got != tc.want {
				t.Errorf("sameClock = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCloneIsAnIndependentCopy: Clone gives an equal map that changes
// apart from the original, and a nil clock an empty, non-nil one.
func TestCloneIsAnIndependentCopy(t *testing.T) {
	a, b := UniqueAddress{Address: Address{Host: "10.0.0.1", Port: 1}, UID: 1}, UniqueAddress{Address: Address{Host: "10.0.0.2", Port: 1}, UID: 2}
	v := VClock{a: 1, b: 2}
	c := v.Clone()
	if diff := cmp.Diff(v, c); diff != "" {
		t.Fatalf("Clone (-want +got):\n%s", diff)
	}
	c[a] = 5
	delete(c, b)
	if v[a] != 1 || v[b] != 2 {
		t.Errorf("changing the clone changed the original: %v", v)
	}
	if n := VClock(nil).Clone(); n == nil || len(n) != 0 {
		t.Errorf("Clone of nil = %#v, want an empty non-nil clock", n)
	}
}

// TestDigestAndSumMatchesBoth: the one-walk digest and sum equal
// OrderFreeDigest and Sum, for empty, small and saturating clocks.
func TestDigestAndSumMatchesBoth(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	counts := []uint64{1, 2, 7, math.MaxUint64 / 3, math.MaxUint64 / 2, math.MaxUint64 - 1, math.MaxUint64}
	for round := 0; round < 3000; round++ {
		var v VClock // nil in every seventh round
		if round%7 != 0 {
			v = VClock{}
		}
		for _, u := range lawSubset(rng, valPool, 1+rng.Intn(4)) {
			if v == nil {
				break
			}
			v[u] = counts[rng.Intn(len(counts))]
			if rng.Intn(2) == 0 {
				v[u] = uint64(1 + rng.Intn(100))
			}
		}
		d, s := v.digestAndSum()
		if d != v.OrderFreeDigest() || s != v.Sum() {
			t.Fatalf("clock %v: digestAndSum = %x, %d; want %x, %d", v, d, s, v.OrderFreeDigest(), v.Sum())
		}
	}
}

// TestMapPointerIsReflectsIdentity: mapPointer names a map as reflect
// does, so sameClock and sameTombstones answer as reflect's identity
// test would.
func TestMapPointerIsReflectsIdentity(t *testing.T) {
	a := VClock{{Address: Address{Host: "10.0.0.1", Port: 1}, UID: 1}: 3}
	clocks := []VClock{nil, {}, a, a, a.Clone(), maps.Clone(a), VClock{}}
	for i, v := range clocks {
		if got, want := mapPointer(v), reflect.ValueOf(v).UnsafePointer(); got != want {
			t.Fatalf("clock %d: mapPointer = %p, reflect says %p", i, got, want)
		}
		for j, w := range clocks {
			want := reflect.ValueOf(v).UnsafePointer() == reflect.ValueOf(w).UnsafePointer()
			if got := sameClock(v, w); got != want {
				t.Fatalf("sameClock(clock %d, clock %d) = %v, want %v", i, j, got, want)
			}
		}
	}
	tb := map[UniqueAddress]time.Time{{UID: 2}: {}}
	tombs := []map[UniqueAddress]time.Time{nil, {}, tb, tb, maps.Clone(tb)}
	for i, x := range tombs {
		for j, y := range tombs {
			want := reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
			if got := sameTombstones(x, y); got != want {
				t.Fatalf("sameTombstones(map %d, map %d) = %v, want %v", i, j, got, want)
			}
		}
	}
	if !sameClock(clocks[2], clocks[3]) || sameClock(clocks[2], clocks[4]) {
		t.Fatalf("identity not told apart from equal contents")
	}
}
