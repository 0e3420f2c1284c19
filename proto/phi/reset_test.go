package phi

import (
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestResetIsNew: a History reset after any number of arrivals behaves as
// NewHistory's: the same last arrival, window, estimates, φ and verdicts
// after every arrival that follows, whatever its ring held before.
func TestResetIsNew(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewSource(3))
	for run := 0; run < 60; run++ {
		cfg := DefaultConfig()
		cfg.MaxSampleSize = 1 + rng.Intn(300)
		at := t0.Add(time.Duration(rng.Int63n(int64(time.Hour))))
		used := NewHistory(cfg, at)
		for k := rng.Intn(2 * cfg.MaxSampleSize); k > 0; k-- {
			at = at.Add(time.Duration(1 + rng.Int63n(int64(3*time.Second))))
			used.Heartbeat(at)
		}
		start := at.Add(time.Duration(rng.Int63n(int64(time.Minute))))
		used.Reset(start)
		fresh := NewHistory(cfg, start)
		at = start
		for k := 0; k < 3*cfg.MaxSampleSize/2+3; k++ {
			if k > 0 {
				at = at.Add(time.Duration(1 + rng.Int63n(int64(2*time.Second))))
				used.Heartbeat(at)
				fresh.Heartbeat(at)
			}
			probe := at.Add(time.Duration(rng.Int63n(int64(10 * time.Second))))
			if used.Last() != fresh.Last() || used.Samples() != fresh.Samples() || used.Mean() != fresh.Mean() ||
				used.StdDev() != fresh.StdDev() || used.Phi(probe) != fresh.Phi(probe) ||
				used.Available(probe) != fresh.Available(probe) || used.Config() != fresh.Config() {
				t.Fatalf("run %d, after %d arrivals: reset history %+v, new one %+v", run, k, used, fresh)
			}
			// Inside too: the same fields, the ring's room aside.
			u, f := *used, *fresh
			u.ring, f.ring = nil, nil
			if !reflect.DeepEqual(u, f) || !slices.Equal(used.ring, fresh.ring) {
				t.Fatalf("run %d, after %d arrivals: reset history %+v, new one %+v", run, k, used, fresh)
			}
		}
		if cap(used.ring) > cfg.MaxSampleSize {
			t.Fatalf("run %d: a reset ring has room for %d intervals, more than the window %d", run, cap(used.ring), cfg.MaxSampleSize)
		}
	}
}
