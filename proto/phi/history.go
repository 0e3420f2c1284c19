package phi

import (
	"math"
	"time"
)

// History is the heartbeat record of one monitored subject: the instant of
// the last arrival and a bounded window of the most recent inter-arrival
// intervals (at most Config.MaxSampleSize), kept in a ring with running sums
// of the intervals and of their squares so that Mean and StdDev cost O(1).
//
// History is used by pointer, as returned by NewHistory; a copied History
// shares its ring with the original, so do not copy one. It is not safe for
// concurrent use. Its methods never read the clock: every instant is an
// argument.
type History struct {
	cfg  Config
	last time.Time
	// lastSec and lastNsec are last's Unix seconds and nanoseconds, and
	// lastWall whether since may subtract from them: last has no
	// monotonic clock reading and lies within 10^11 years of 1970.
	lastSec  int64
	lastNsec int
	lastWall bool

	// ring holds the window; once full, head is the index of the oldest
	// interval, which the next one overwrites.
	ring []time.Duration
	head int

	// The running sums are of the intervals minus shift (in ns), which
	// keeps the variance formula free of catastrophic cancellation when
	// the spread is much smaller than the mean. They are recomputed from
	// the ring, with a fresh shift, after every MaxSampleSize evictions so
	// that rounding cannot accumulate; amortised this is O(1) per arrival.
	shift      float64
	sum, sumSq float64
	evictions  int
}

// NewHistory returns an empty History for a subject whose monitoring began
// at start. The start counts as the last arrival, so a subject that never
// answers still accrues suspicion and is eventually reported unavailable
// (after ElapsedAtPhi(cfg.Threshold, cfg.FirstHeartbeatEstimate +
// cfg.AcceptableHeartbeatPause, max(cfg.FirstHeartbeatEstimate/4,
// cfg.MinStdDeviation))).
//
// NewHistory panics if cfg.Validate reports an error: validate
// configurations where they enter the program.
func NewHistory(cfg Config, start time.Time) *History {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	h := &History{cfg: cfg}
	h.setLast(start)
	return h
}

// Reset makes h what NewHistory(h.Config(), start) returns, but keeps
// the memory of its window for the intervals to come: a monitor that stops
// watching one subject and starts on another may reuse its History.
func (h *History) Reset(start time.Time) {
	*h = History{cfg: h.cfg, ring: h.ring[:0]}
	h.setLast(start)
}

// Config returns the configuration the History was created with.
func (h *History) Config() Config { return h.cfg }

// Last returns the instant of the last recorded arrival, or the start given
// to NewHistory if none has been recorded.
func (h *History) Last() time.Time { return h.last }

// Samples returns the number of intervals in the window, at most
// Config.MaxSampleSize.
func (h *History) Samples() int { return len(h.ring) }

// Heartbeat records an arrival at the instant at. The interval since the
// last arrival enters the window, evicting the oldest once the window is
// full. An arrival at or before Last (a duplicate or reordered heartbeat)
// is ignored entirely: it changes neither Last nor the window.
func (h *History) Heartbeat(at time.Time) {
	if h.lastWall {
		// since and setLast in one: at's Unix time is read once, and an
		// instant in UTC without a monotonic reading (the sim's, and a
		// wall clock reading taken in UTC) is recognised as one without Round.
		ts := at.Unix()
		if ds := ts - h.lastSec; ts > -wallRange && ts < wallRange && ds > -subSecBound && ds < subSecBound {
			tn := at.Nanosecond()
			d := time.Duration(ds)*time.Second + time.Duration(tn-h.lastNsec)
			if d <= 0 {
				return
			}
			h.last, h.lastSec, h.lastNsec = at, ts, tn
			h.lastWall = at == at.UTC() || at == at.Round(0)
			h.add(d)
			return
		}
	}
	h.heartbeat(at)
}

// heartbeat is Heartbeat by since and setLast.
func (h *History) heartbeat(at time.Time) {
	d := h.since(at)
	if d <= 0 {
		return
	}
	h.setLast(at)
	h.add(d)
}

func (h *History) add(d time.Duration) {
	x := float64(d)
	if len(h.ring) == 0 {
		h.shift = x
	}
	dx := x - h.shift
	if len(h.ring) < h.cfg.MaxSampleSize {
		if len(h.ring) == cap(h.ring) {
			h.grow()
		}
		h.ring = append(h.ring, d)
		h.sum += dx
		h.sumSq += dx * dx
		return
	}
	old := float64(h.ring[h.head]) - h.shift
	h.ring[h.head] = d
	h.head++
	if h.head == len(h.ring) {
		h.head = 0
	}
	h.sum += dx - old
	h.sumSq += dx*dx - old*old
	h.evictions++
	if h.evictions >= len(h.ring) {
		h.rebase()
	}
}

// ringStart is the number of intervals the ring first has room for when
// the window is larger (2 KB): a subject monitored for a short while
// costs no more.
const ringStart = 256

// grow gives a full ring that is smaller than the window room for more
// intervals: at first for ringStart, or for the whole window if that is
// not larger, then for the whole window. A ring grown by append would
// allocate about twice the window on the way; this allocates the window
// and at most ringStart intervals more.
func (h *History) grow() {
	n := h.cfg.MaxSampleSize
	if cap(h.ring) < ringStart {
		n = min(n, ringStart)
	}
	ring := make([]time.Duration, len(h.ring), n)
	copy(ring, h.ring)
	h.ring = ring
}

// rebase recomputes the running sums from the ring around the current mean.
func (h *History) rebase() {
	h.evictions = 0
	h.shift = math.Round(h.shift + h.sum/float64(len(h.ring)))
	h.sum, h.sumSq = 0, 0
	for _, d := range h.ring {
		dx := float64(d) - h.shift
		h.sum += dx
		h.sumSq += dx * dx
	}
}

// Mean returns the mean of the intervals in the window, rounded to the
// nanosecond, or 0 if the window is empty. It is computed in float64, so it
// is exact to the nanosecond only while intervals are below about 2^52 ns
// (52 days); beyond that it is accurate to float64 precision.
func (h *History) Mean() time.Duration {
	n := len(h.ring)
	if n == 0 {
		return 0
	}
	return toDuration(h.shift + h.sum/float64(n))
}

// StdDev returns the sample standard deviation (denominator n−1) of the
// intervals in the window, rounded to the nanosecond, or 0 if the window
// holds fewer than two intervals.
func (h *History) StdDev() time.Duration {
	n := float64(len(h.ring))
	if n < 2 {
		return 0
	}
	v := (h.sumSq - h.sum*h.sum/n) / (n - 1)
	if !(v > 0) {
		return 0
	}
	return toDuration(math.Sqrt(v))
}

// Estimate returns the mean and standard deviation that Phi uses: with
// fewer than two intervals, Config.FirstHeartbeatEstimate and a quarter of
// it, otherwise Mean and StdDev; the standard deviation is then raised to at
// least Config.MinStdDeviation and Config.AcceptableHeartbeatPause is added
// to the mean (saturating at the maximum Duration).
func (h *History) Estimate() (mean, std time.Duration) {
	return h.estimatedMean(), h.estimatedStdDev()
}

// estimatedMean is the mean of Estimate.
func (h *History) estimatedMean() time.Duration {
	mean := h.cfg.FirstHeartbeatEstimate
	if n := len(h.ring); n >= 2 {
		mean = toDuration(h.shift + h.sum/float64(n)) // Mean, inline
	}
	if mean > math.MaxInt64-h.cfg.AcceptableHeartbeatPause {
		return math.MaxInt64
	}
	return mean + h.cfg.AcceptableHeartbeatPause
}

// estimatedStdDev is the standard deviation of Estimate.
func (h *History) estimatedStdDev() time.Duration {
	std := h.cfg.FirstHeartbeatEstimate / 4
	if len(h.ring) >= 2 {
		std = h.StdDev()
	}
	return max(std, h.cfg.MinStdDeviation)
}

// Phi returns the suspicion level at the instant now: the package-level Phi
// of the time since Last under the parameters from Estimate. An instant
// before Last counts as no time elapsed.
func (h *History) Phi(now time.Time) float64 {
	mean, std := h.Estimate()
	return Phi(h.since(now), mean, std)
}

// Available reports whether the subject is considered reachable at now,
// that is whether Phi(now) is below Config.Threshold.
func (h *History) Available(now time.Time) bool {
	// Up to the estimated mean φ is at most maxPhiUntilMean (Phi is
	// non-decreasing in elapsed), so a threshold above that is not yet
	// reached and φ need not be computed: the usual case of a subject that
	// answers on time.
	var elapsed time.Duration
	// since, inline. With lastSec within wallRange, a difference below
	// subSecBound puts now's Unix time within 2^62+subSecBound seconds of
	// 1970, where it does not wrap.
	if ds := now.Unix() - h.lastSec; h.lastWall && ds > -subSecBound && ds < subSecBound {
		elapsed = time.Duration(ds)*time.Second + time.Duration(now.Nanosecond()-h.lastNsec)
	} else {
		elapsed = h.since(now)
	}
	if n := len(h.ring); n >= 2 && h.cfg.Threshold > maxPhiUntilMean {
		// elapsed <= estimatedMean() without rounding the mean: with x
		// the unrounded mean, Round(x) >= x-½, so elapsed-pause <= x-½
		// is enough. Below 2^52 the integers convert to float64 exactly
		// and x-½ is exact, and no sum saturates.
		x := h.shift + h.sum/float64(n)
		pause := h.cfg.AcceptableHeartbeatPause
		if elapsed >= 0 && elapsed < 1<<52 && pause < 1<<52 && x < 1<<52 && float64(elapsed-pause) <= x-0.5 {
			return true
		}
	}
	mean := h.estimatedMean()
	if elapsed <= mean && h.cfg.Threshold > maxPhiUntilMean {
		return true
	}
	return Phi(elapsed, mean, h.estimatedStdDev()) < h.cfg.Threshold
}

// Bounds on the instants since subtracts itself: within wallRange seconds
// of 1970 (10^11 years) and less than subSecBound seconds (285 years)
// apart, the difference in nanoseconds fits a Duration and no Unix time
// overflows.
const (
	wallRange   = 1 << 62
	subSecBound = 9_000_000_000
)

// setLast makes at the last arrival.
func (h *History) setLast(at time.Time) {
	h.last = at
	h.lastSec, h.lastNsec = at.Unix(), at.Nanosecond()
	h.lastWall = at == at.Round(0) && h.lastSec > -wallRange && h.lastSec < wallRange
}

// since returns t.Sub(h.Last()). When the last arrival has no monotonic
// clock reading, Sub subtracts wall times, and so does since from the
// Unix time kept by setLast, for instants near enough: that is exact and
// skips the overflow check that makes Sub costly.
func (h *History) since(t time.Time) time.Duration {
	if h.lastWall {
		ts := t.Unix()
		if ds := ts - h.lastSec; ts > -wallRange && ts < wallRange && ds > -subSecBound && ds < subSecBound {
			return time.Duration(ds)*time.Second + time.Duration(t.Nanosecond()-h.lastNsec)
		}
	}
	return t.Sub(h.last)
}

// toDuration rounds ns to a Duration, saturating instead of overflowing.
func toDuration(ns float64) time.Duration {
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(math.Round(ns))
}
