package phi

import (
	"math/rand"
	"testing"
	"time"
)

// TestRingGrowth: the ring, which grows in a few steps of its own instead
// of by append, holds exactly the last MaxSampleSize intervals in arrival
// order (oldest at head), never has room for more than the window, and
// costs one allocation for a window of up to ringStart intervals and two
// for a larger one.
func TestRingGrowth(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		window, allocs int // allocs: the ring's, filled past the window
	}{
		{1, 1}, {2, 1}, {7, 1}, {200, 1}, {ringStart - 1, 1}, {ringStart, 1},
		{ringStart + 1, 2}, {1000, 2}, {5000, 2},
	} {
		cfg := DefaultConfig()
		cfg.MaxSampleSize = tc.window
		rng := rand.New(rand.NewSource(int64(tc.window)))
		intervals := make([]time.Duration, tc.window+tc.window/2+3)
		for i := range intervals {
			intervals[i] = time.Duration(1 + rng.Int63n(int64(2*time.Second)))
		}
		h := NewHistory(cfg, t0)
		at := t0
		for i, d := range intervals {
			at = at.Add(d)
			h.Heartbeat(at)
			want := intervals[max(0, i+1-tc.window) : i+1]
			if len(h.ring) != len(want) || cap(h.ring) > tc.window {
				t.Fatalf("window %d, after %d arrivals: %d intervals in room for %d, want %d", tc.window, i+1, len(h.ring), cap(h.ring), len(want))
			}
			for k, w := range want {
				if got := h.ring[(h.head+k)%len(h.ring)]; got != w {
					t.Fatalf("window %d, after %d arrivals: interval %d from the oldest is %v, want %v", tc.window, i+1, k, got, w)
				}
			}
		}
		allocs := testing.AllocsPerRun(3, func() {
			h := NewHistory(cfg, t0)
			at := t0
			for _, d := range intervals {
				at = at.Add(d)
				h.Heartbeat(at)
			}
		})
		if want := float64(1 + tc.allocs); allocs != want {
			t.Errorf("window %d: a history filled past its window allocates %v times, want %v (itself and its ring %d)", tc.window, allocs, want, tc.allocs)
		}
	}
}
