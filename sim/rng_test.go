package sim

import (
	"encoding/binary"
	"math"
	"math/rand"
	"testing"

	"pgregory.net/rapid"
)

// TestNodeRandReseeds: an rng nodeRand reseeds, whatever it drew before
// (Read's buffered bytes too), draws what newRand's new one does.
func TestNodeRandReseeds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Int64().Draw(t, "seed")
		old := nodeRand(nil, seed, stream(streamNode, 0, 1))
		for inc := 2; inc < 5; inc++ {
			draw := func(r *rand.Rand, buf []byte, op int) uint64 {
				switch op {
				case 0:
					return uint64(r.Int63())
				case 1:
					return uint64(r.Intn(1000))
				case 2:
					return math.Float64bits(r.ExpFloat64())
				default:
					r.Read(buf)
					return binary.LittleEndian.Uint64(append(buf, make([]byte, 8)...))
				}
			}
			ops := rapid.SliceOfN(rapid.IntRange(0, 3), 1, 30).Draw(t, "ops")
			for _, op := range ops {
				draw(old, make([]byte, 3), op)
			}
			idx := rapid.IntRange(0, 100).Draw(t, "slot")
			got := nodeRand(old, seed, stream(streamNode, idx, inc))
			if got != old {
				t.Fatalf("nodeRand made a new rng instead of reseeding the old one")
			}
			want := newRand(seed, stream(streamNode, idx, inc))
			for i, op := range rapid.SliceOfN(rapid.IntRange(0, 3), 1, 30).Draw(t, "after") {
				if a, b := draw(got, make([]byte, 3), op), draw(want, make([]byte, 3), op); a != b {
					t.Fatalf("draw %d (op %d) of the reseeded rng is %d, a new one draws %d", i, op, a, b)
				}
			}
		}
	})
}
