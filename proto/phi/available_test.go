package phi

import (
	"math/rand"
	"testing"
	"time"
)

// TestAvailableAtTheMean checks Available, which compares the elapsed time
// with the unrounded mean before it rounds one, against slowAvailable at
// and around the estimated mean, to the nanosecond, where rounding
// decides: means with and without a fraction of a nanosecond, pauses of
// 0 to hours, and windows of every size.
func TestAvailableAtTheMean(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	decided, crossed := 0, 0
	for run := 0; run < 3000; run++ {
		cfg := DefaultConfig()
		cfg.MaxSampleSize = 1 + rng.Intn(12)
		cfg.Threshold = []float64{0.1, 0.302, 0.5, 0.5, 8}[rng.Intn(5)]
		if rng.Intn(4) != 0 {
			// φ then climbs from log10 2 at the mean to 0.8 a
			// nanosecond later: a threshold of 0.5 is crossed there.
			cfg.MinStdDeviation = 1
		}
		cfg.AcceptableHeartbeatPause = []time.Duration{0, 1, time.Second, time.Duration(rng.Int63n(int64(time.Hour)))}[rng.Intn(4)]
		h := NewHistory(cfg, t0)
		at := t0
		base := time.Duration(1 + rng.Int63n(int64(2*time.Second)))
		tight := rng.Intn(3) != 0 // intervals within a few ns: φ rises steeply past the mean
		for i, k := 0, rng.Intn(20); i < k; i++ {
			switch {
			case tight:
				at = at.Add(base + time.Duration(rng.Intn(3)))
			case rng.Intn(2) == 0:
				at = at.Add(time.Duration(1 + rng.Int63n(int64(3*time.Second))))
			default:
				at = at.Add(time.Duration(1 + rng.Intn(4)))
			}
			h.Heartbeat(at)
		}
		mean := h.estimatedMean()
		for d := time.Duration(-3); d <= 3; d++ {
			elapsed := mean + d
			now := h.Last().Add(elapsed)
			if got, want := h.Available(now), slowAvailable(h, now); got != want {
				t.Fatalf("run %d: %d intervals, mean %v (unrounded %v ns), pause %v: Available at elapsed %v = %v, want %v",
					run, len(h.ring), mean, h.shift+h.sum/float64(max(1, len(h.ring))), cfg.AcceptableHeartbeatPause, elapsed, got, want)
			}
			if len(h.ring) >= 2 && d == 0 && cfg.Threshold > maxPhiUntilMean {
				decided++
				if !h.Available(now.Add(1)) {
					crossed++ // the next nanosecond is past the threshold
				}
			}
		}
	}
	if decided < 1000 || crossed < 300 {
		t.Fatalf("only %d checks at the mean of a window of two or more, %d where the next nanosecond crosses the threshold", decided, crossed)
	}
}
