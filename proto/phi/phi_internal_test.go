package phi

import (
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestMaxPhiUntilMean checks the bound History.Available relies on: φ
// never exceeds maxPhiUntilMean while elapsed is at most the mean, on a
// dense grid of elapsed times and spreads, and it is reached at the mean.
func TestMaxPhiUntilMean(t *testing.T) {
	if got := Phi(time.Second, time.Second, time.Millisecond); got > maxPhiUntilMean || got < math.Log10(2)-1e-12 {
		t.Errorf("Phi at the mean = %v, want log10(2) <= %v", got, maxPhiUntilMean)
	}
	const mean = time.Second
	for _, std := range []time.Duration{1, time.Microsecond, time.Millisecond, 100 * time.Millisecond, time.Second, time.Hour} {
		for elapsed := time.Duration(0); elapsed <= mean; elapsed += mean / 20000 {
			if p := Phi(elapsed, mean, std); p > maxPhiUntilMean {
				t.Fatalf("Phi(%v, %v, %v) = %v > %v", elapsed, mean, std, p, maxPhiUntilMean)
			}
		}
	}
}

// TestSinceIsTimeSub checks History.since, which subtracts wall times
// itself when it can, against time.Time.Sub on instants near each other
// and far apart, at the ends of time.Time's range, with and without
// monotonic readings, and in locations other than UTC.
func TestSinceIsTimeSub(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	mono := time.Now()
	zone := time.FixedZone("x", 3600)
	extremes := []int64{math.MinInt64, math.MinInt64 / 2, -wallRange, -subSecBound, -1, 0, 1, subSecBound, wallRange, math.MaxInt64 / 2, math.MaxInt64}
	instant := func() time.Time {
		var at time.Time
		switch rng.Intn(6) {
		case 0:
			at = time.Unix(extremes[rng.Intn(len(extremes))]+rng.Int63n(3)-1, rng.Int63n(1e9))
		case 1:
			at = time.Unix(rng.Int63()-rng.Int63(), rng.Int63n(1e9))
		case 2:
			at = mono.Add(time.Duration(rng.Int63n(2*int64(time.Hour)) - int64(time.Hour))) // monotonic
		case 3:
			at = mono.Add(time.Duration(rng.Int63() - rng.Int63())) // monotonic, or stripped by overflow
			if rng.Intn(2) == 0 {
				at = stepWallClock(at, time.Duration(rng.Int63n(int64(time.Hour))))
			}
		case 4:
			at = time.Time{}.Add(time.Duration(rng.Int63n(1e12)))
		default:
			at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int63n(int64(time.Hour))))
		}
		if rng.Intn(4) == 0 {
			at = at.In(zone)
		}
		return at
	}
	if a, b := stepWallClock(mono, time.Minute), mono; a.Sub(b) != 0 || a.Round(0).Sub(b) != time.Minute {
		t.Fatalf("stepWallClock: the readings differ by %v, the wall times by %v", a.Sub(b), a.Round(0).Sub(b))
	}
	fast := 0
	for i := 0; i < 200000; i++ {
		a, b := instant(), instant()
		if rng.Intn(3) == 0 {
			b = a.Add(time.Duration(rng.Int63n(int64(time.Minute))) - time.Duration(rng.Int63n(int64(time.Minute))))
		}
		if rng.Intn(8) == 0 {
			b = a.Add(time.Duration(rng.Int63()) - time.Duration(rng.Int63()))
		}
		if rng.Intn(4) == 0 {
			a = a.Round(0)
		}
		h := NewHistory(DefaultConfig(), b)
		if got, want := h.since(a), a.Sub(b); got != want {
			t.Fatalf("History with last arrival %v: since(%v) = %v, want %v", b, a, got, want)
		}
		if h.lastWall && a.Sub(b) < time.Hour && a.Sub(b) > -time.Hour {
			fast++
		}
	}
	if fast < 1000 {
		t.Fatalf("only %d pairs were near each other without a monotonic reading", fast)
	}
}

// stepWallClock returns t, which must have a monotonic clock reading, with
// its wall time moved by d and the reading kept: two instants read across a
// step of the wall clock.
func stepWallClock(t time.Time, d time.Duration) time.Time {
	type layout struct { // time.Time's
		wall uint64
		ext  int64
		loc  *time.Location
	}
	if t == t.Round(0) {
		return t
	}
	mono := (*layout)(unsafe.Pointer(&t)).ext
	moved := t.Add(d)
	(*layout)(unsafe.Pointer(&moved)).ext = mono
	return moved
}

// TestFastPathsMatchSlow feeds the same random arrivals (near and far
// apart, with and without monotonic readings, in UTC and other zones, at
// the ends of time.Time's range) to Heartbeat, which reads the instant
// once and recognises UTC wall times without Round, and to heartbeat
// (since then setLast), and checks the two histories stay identical; and
// it checks Available, which computes since and the mean inline, against
// the same test written with since and Mean.
func TestFastPathsMatchSlow(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	const maxInternal = math.MaxInt64 - 62135596800
	mono := time.Now()
	zone := time.FixedZone("x", 3600)
	base := []time.Time{
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), mono, mono.UTC(), time.Unix(0, 0), time.Unix(-wallRange+5, 0).UTC(),
		time.Unix(wallRange-5, 0).UTC(), time.Unix(math.MaxInt64/2, 0).UTC(), time.Unix(1e9, 0).In(zone),
		// Unix times past maxInternal wrap round time.Time's internal
		// seconds to the bottom of their range.
		time.Unix(maxInternal-3600, 0).UTC(), time.Unix(maxInternal+1, 0).UTC(),
	}
	fast, avail := 0, 0
	for run := 0; run < 3000; run++ {
		cfg := DefaultConfig()
		cfg.MaxSampleSize = 1 + rng.Intn(8)
		start := base[rng.Intn(len(base))]
		a, b := NewHistory(cfg, start), NewHistory(cfg, start)
		at := start
		for i := 0; i < 40; i++ {
			switch r := rng.Intn(21); {
			case r < 12:
				at = at.Add(time.Duration(rng.Int63n(int64(2 * time.Second))))
			case r < 14:
				at = at.Add(-time.Duration(rng.Int63n(int64(time.Second)))) // reordered
			case r < 15:
				at = at.Round(0)
			case r < 16:
				at = at.In(zone)
			case r < 17:
				at = at.UTC()
			case r < 18:
				at = stepWallClock(at, time.Duration(rng.Int63n(int64(time.Hour))))
			case r < 19:
				at = at.Add(time.Duration(rng.Int63())) // far, or beyond the fast range
			default:
				at = base[rng.Intn(len(base))].Add(time.Duration(rng.Int63n(int64(time.Hour))))
			}
			if a.lastWall {
				fast++
			}
			a.Heartbeat(at)
			b.heartbeat(at)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("run %d, arrival %d at %v: Heartbeat left %+v, heartbeat %+v", run, i, at, a, b)
			}
			now := at.Add(time.Duration(rng.Int63n(int64(10*time.Second))) - time.Second)
			switch rng.Intn(8) {
			case 0:
				now = base[rng.Intn(len(base))].Add(time.Duration(rng.Int63n(int64(time.Hour))))
			case 1:
				now = stepWallClock(now, time.Duration(rng.Int63n(int64(time.Hour)))) // when now has a reading
			}
			if got, want := a.Available(now), slowAvailable(b, now); got != want {
				t.Fatalf("run %d: Available(%v) = %v, want %v", run, now, got, want)
			}
			if a.lastWall {
				avail++
			}
		}
	}
	if fast < 10000 || avail < 10000 {
		t.Fatalf("the fast paths ran %d and %d times: too few", fast, avail)
	}
}

// slowAvailable is Available by since and Mean.
func slowAvailable(h *History, now time.Time) bool {
	mean := h.cfg.FirstHeartbeatEstimate
	if len(h.ring) >= 2 {
		mean = h.Mean()
	}
	if mean > math.MaxInt64-h.cfg.AcceptableHeartbeatPause {
		mean = math.MaxInt64
	} else {
		mean += h.cfg.AcceptableHeartbeatPause
	}
	elapsed := h.since(now)
	if elapsed <= mean && h.cfg.Threshold > maxPhiUntilMean {
		return true
	}
	return Phi(elapsed, mean, h.estimatedStdDev()) < h.cfg.Threshold
}
