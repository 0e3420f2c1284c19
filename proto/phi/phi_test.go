package phi_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto/phi"
)

// ---------------------------------------------------------------------------
// Phi: reference values.

// The reference values below are −log10(1 − Φ(y)) for the standard normal
// CDF Φ, worked out by hand from tabulated normal tail probabilities:
//
//	y = 0:     1 − Φ(0)  = 0.5            → φ = −log10 0.5 = log10 2 = 0.30103
//	y = 1:     1 − Φ(1)  = 0.158655       → φ = −log10 0.158655  = 0.79955
//	y = 2:     1 − Φ(2)  = 0.0227501      → φ = −log10 0.0227501 = 1.64302
//	y = 3:     1 − Φ(3)  = 0.0013499      → φ = −log10 0.0013499 = 2.86970
//	y = 5.612: 1 − Φ(y)  ≈ 1.00001e-8     → φ = 8 − log10 1.00001 ≈ 7.99999
//	y = −1:    1 − Φ(−1) = Φ(1) = 0.841345 → φ = −log10 0.841345 = 0.07503
//	y = −3:    1 − Φ(−3) = Φ(3) = 0.998650 → φ = −log10 0.998650 = 0.000587
//	y = 10:    1 − Φ(10) = 7.61985e-24    → φ = 24 − log10 7.61985 = 23.11805
//
// Beyond y ≈ 37.5 the tail underflows float64, so the expected value comes
// from the asymptotic series erfc(x) = e^{−x²}/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − …)
// with x = y/√2. For y = 40: x² = 800, x√π = 28.28427·1.772454 = 50.13257,
// so ln erfc(x) = −800 − ln 50.13257 + ln(1 − 0.000625 + 0.0000012)
// = −800 − 3.914671 − 0.000624 = −803.915295; ln(1 − Φ) = that − ln 2
// = −804.608442 and φ = 804.608442/ln 10 = 349.43701.
func TestPhiReferenceValues(t *testing.T) {
	const (
		mean = 10 * time.Second
		std  = time.Second
	)
	tests := []struct {
		name string
		y    float64 // standard deviations past the mean
		want float64
		tol  float64
	}{
		{"y=0 is log10(2)", 0, math.Log10(2), 1e-12},
		{"y=1", 1, 0.79955, 1e-5},
		{"y=2", 2, 1.64302, 1e-5},
		{"y=3", 3, 2.86970, 1e-5},
		{"y=5.612 is about 8", 5.612, 8.0, 1e-2},
		{"y=-1", -1, 0.07503, 1e-5},
		{"y=-3", -3, 0.000587, 1e-6},
		{"y=10", 10, 23.11805, 1e-5},
		{"y=40 far tail", 40, 349.43701, 1e-5},
		{"y=-10 is zero-ish", -10, 0, 1e-20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			elapsed := mean + time.Duration(tc.y*float64(std))
			got := phi.Phi(elapsed, mean, std)
			if math.Abs(got-tc.want) > tc.tol {
				t.Errorf("Phi(%v, %v, %v) = %.9f, want %.9f ± %g", elapsed, mean, std, got, tc.want, tc.tol)
			}
		})
	}
}

// TestPhiFarTailRelative checks the log-domain branch against
// 40-significant-digit values of −log10(½·erfc(y/√2)).
func TestPhiFarTailRelative(t *testing.T) {
	tests := []struct {
		name string
		y    float64
		want float64
	}{
		{"y=40", 40, 349.437006459345842},
		{"y=100", 100, 2173.87154286903438},
		{"y=1000", 1000, 217150.640041994386},
		{"y=1e6", 1e6, 217147240958.025004},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const std = time.Millisecond
			got := phi.Phi(time.Duration(tc.y*float64(std)), 0, std)
			if rel := math.Abs(got-tc.want) / tc.want; rel > 1e-12 {
				t.Errorf("Phi at y=%v = %.15g, want %.15g (relative error %g)", tc.y, got, tc.want, rel)
			}
		})
	}
}

func TestPhiEdgeCases(t *testing.T) {
	const max = time.Duration(math.MaxInt64)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"negative elapsed counts as zero", phi.Phi(-time.Hour, time.Second, 100*time.Millisecond), phi.Phi(0, time.Second, 100*time.Millisecond)},
		{"zero std counts as 1ns", phi.Phi(time.Second+time.Nanosecond, time.Second, 0), phi.Phi(time.Second+time.Nanosecond, time.Second, time.Nanosecond)},
		{"negative std counts as 1ns", phi.Phi(time.Second+2*time.Nanosecond, time.Second, -time.Hour), phi.Phi(time.Second+2*time.Nanosecond, time.Second, time.Nanosecond)},
		{"far before the mean is exactly zero", phi.Phi(0, max, time.Nanosecond), 0},
		{"at the mean with 1ns std", phi.Phi(time.Second, time.Second, 0), math.Log10(2)},
		{"negative mean is past the mean", phi.Phi(0, -time.Second, time.Second), 0.79955},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 1e-5 || math.Signbit(tc.got) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	t.Run("largest inputs stay finite", func(t *testing.T) {
		got := phi.Phi(max, 0, time.Nanosecond)
		if math.IsInf(got, 0) || math.IsNaN(got) || got < 1e37 {
			t.Errorf("Phi(max, 0, 1ns) = %v, want a finite value around 1.85e37", got)
		}
	})
}

// TestPhiMonotoneSweep walks elapsed across every regime — far below the
// mean, the centre, the tail where the direct erfc is used, the switch to
// the asymptotic expansion at y = 20√2 ≈ 28.28 and beyond — and requires φ
// to be finite, non-negative and non-decreasing throughout.
func TestPhiMonotoneSweep(t *testing.T) {
	const (
		mean = time.Minute
		std  = time.Second
	)
	check := func(t *testing.T, from, to, step time.Duration) {
		t.Helper()
		prev := -1.0
		for e := from; e <= to; e += step {
			p := phi.Phi(e, mean, std)
			if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
				t.Fatalf("Phi(%v) = %v", e, p)
			}
			if p < prev {
				t.Fatalf("Phi(%v) = %.17g < Phi(%v) = %.17g", e, p, e-step, prev)
			}
			prev = p
		}
	}
	t.Run("coarse", func(t *testing.T) { check(t, 0, mean+200*std, time.Millisecond) })
	sqrt2 := math.Sqrt2
	boundary := mean + time.Duration(20*sqrt2*float64(std))
	t.Run("asymptotic switch by ns", func(t *testing.T) { check(t, boundary-100000, boundary+100000, 1) })
	t.Run("zero crossing by ns", func(t *testing.T) { check(t, mean-100000, mean+100000, 1) })
}

// ---------------------------------------------------------------------------
// ElapsedAtPhi.

func TestElapsedAtPhi(t *testing.T) {
	// For threshold 8 the crossing is at y = 5.6120012 standard deviations
	// past the mean (Φ(5.612) = 1 − 1.00001e-8, see above).
	const y8 = 5.6120012
	tests := []struct {
		name      string
		phi       float64
		mean, std time.Duration
		want      time.Duration // expected value, ± tol
		tol       time.Duration
	}{
		{"threshold 8, mean 500ms std 100ms", 8, 500 * time.Millisecond, 100 * time.Millisecond, 500*time.Millisecond + time.Duration(y8*1e8), time.Microsecond},
		{"threshold 8, mean 1.5s std 100ms", 8, 1500 * time.Millisecond, 100 * time.Millisecond, 1500*time.Millisecond + time.Duration(y8*1e8), time.Microsecond},
		{"threshold 8, mean 2s std 250ms", 8, 2 * time.Second, 250 * time.Millisecond, 2*time.Second + time.Duration(y8*2.5e8), time.Microsecond},
		{"phi log10(2) is the mean", math.Log10(2), time.Second, 100 * time.Millisecond, time.Second, time.Nanosecond},
		{"phi 1.64302 is two std past", 1.64302, time.Second, 100 * time.Millisecond, 1200 * time.Millisecond, 10 * time.Microsecond},
		{"phi 0 is immediate", 0, time.Second, 100 * time.Millisecond, 0, 0},
		{"negative phi is immediate", -3, time.Second, 100 * time.Millisecond, 0, 0},
		{"phi below Phi(0) is immediate", 1e-30, time.Second, 100 * time.Millisecond, 0, 0},
		{"NaN is never", math.NaN(), time.Second, 100 * time.Millisecond, math.MaxInt64, 0},
		{"+Inf is never", math.Inf(1), time.Second, 100 * time.Millisecond, math.MaxInt64, 0},
		{"unreachable is never", 1e300, time.Second, 100 * time.Millisecond, math.MaxInt64, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := phi.ElapsedAtPhi(tc.phi, tc.mean, tc.std)
			if d := got - tc.want; d < -tc.tol || d > tc.tol {
				t.Errorf("ElapsedAtPhi(%v, %v, %v) = %v, want %v ± %v", tc.phi, tc.mean, tc.std, got, tc.want, tc.tol)
			}
			if got > 0 && got < math.MaxInt64 {
				// Exactly the first nanosecond at which Phi reaches phi.
				if before, at := phi.Phi(got-1, tc.mean, tc.std), phi.Phi(got, tc.mean, tc.std); !(before < tc.phi && tc.phi <= at) {
					t.Errorf("Phi(d-1) = %v, Phi(d) = %v; want Phi(d-1) < %v <= Phi(d)", before, at, tc.phi)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Config.

func validConfig() phi.Config {
	return phi.Config{
		Threshold:                8,
		MaxSampleSize:            1000,
		MinStdDeviation:          100 * time.Millisecond,
		AcceptableHeartbeatPause: 0,
		FirstHeartbeatEstimate:   time.Second,
	}
}

// messages lists the messages of the errors joined in err.
func messages(err error) []string {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range j.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*phi.Config)
		want   []string
	}{
		{"valid", func(*phi.Config) {}, nil},
		{"default is valid", func(c *phi.Config) { *c = phi.DefaultConfig() }, nil},
		{"zero pause is valid", func(c *phi.Config) { c.AcceptableHeartbeatPause = 0 }, nil},
		{"sample size bounds are valid", func(c *phi.Config) { c.MaxSampleSize = phi.MaxSampleSizeLimit }, nil},
		{"negative threshold", func(c *phi.Config) { c.Threshold = -1 },
			[]string{"phi: Threshold must be > 0 and finite, got -1"}},
		{"zero threshold", func(c *phi.Config) { c.Threshold = 0 },
			[]string{"phi: Threshold must be > 0 and finite, got 0"}},
		{"NaN threshold", func(c *phi.Config) { c.Threshold = math.NaN() },
			[]string{"phi: Threshold must be > 0 and finite, got NaN"}},
		{"infinite threshold", func(c *phi.Config) { c.Threshold = math.Inf(1) },
			[]string{"phi: Threshold must be > 0 and finite, got +Inf"}},
		{"zero sample size", func(c *phi.Config) { c.MaxSampleSize = 0 },
			[]string{"phi: MaxSampleSize must be in [1, 100000], got 0"}},
		{"huge sample size", func(c *phi.Config) { c.MaxSampleSize = phi.MaxSampleSizeLimit + 1 },
			[]string{"phi: MaxSampleSize must be in [1, 100000], got 100001"}},
		{"zero min std", func(c *phi.Config) { c.MinStdDeviation = 0 },
			[]string{"phi: MinStdDeviation must be > 0, got 0s"}},
		{"negative pause", func(c *phi.Config) { c.AcceptableHeartbeatPause = -time.Millisecond },
			[]string{"phi: AcceptableHeartbeatPause must be >= 0, got -1ms"}},
		{"zero first estimate", func(c *phi.Config) { c.FirstHeartbeatEstimate = 0 },
			[]string{"phi: FirstHeartbeatEstimate must be > 0, got 0s"}},
		{"every field bad at once", func(c *phi.Config) {
			*c = phi.Config{Threshold: -1, AcceptableHeartbeatPause: -time.Second, FirstHeartbeatEstimate: -2 * time.Second}
		},
			[]string{
				"phi: Threshold must be > 0 and finite, got -1",
				"phi: MaxSampleSize must be in [1, 100000], got 0",
				"phi: MinStdDeviation must be > 0, got 0s",
				"phi: AcceptableHeartbeatPause must be >= 0, got -1s",
				"phi: FirstHeartbeatEstimate must be > 0, got -2s",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(&c)
			err := c.Validate()
			if diff := cmp.Diff(tc.want, messages(err)); diff != "" {
				t.Errorf("Validate() messages (-want +got):\n%s", diff)
			}
			if (err != nil) != errors.Is(err, phi.ErrBadConfig) {
				t.Errorf("errors.Is(%v, ErrBadConfig) = %v", err, errors.Is(err, phi.ErrBadConfig))
			}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					if !errors.Is(e, phi.ErrBadConfig) {
						t.Errorf("component %q does not match ErrBadConfig", e)
					}
				}
			}
		})
	}
}

func TestNewHistoryPanicsOnBadConfig(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, phi.ErrBadConfig) || !strings.Contains(err.Error(), "MaxSampleSize") {
			t.Errorf("recovered %v, want an ErrBadConfig naming MaxSampleSize", r)
		}
	}()
	c := validConfig()
	c.MaxSampleSize = 0
	phi.NewHistory(c, time.Unix(0, 0))
}

// ---------------------------------------------------------------------------
// History.

// state is the observable state of a History, compared with cmp.Diff.
type state struct {
	Last         time.Time
	Samples      int
	Mean, StdDev time.Duration
	EstMean      time.Duration
	EstStd       time.Duration
}

func stateOf(h *phi.History) state {
	m, s := h.Estimate()
	return state{Last: h.Last(), Samples: h.Samples(), Mean: h.Mean(), StdDev: h.StdDev(), EstMean: m, EstStd: s}
}

// naive is the reference model of a History's window: a plain slice,
// trimmed from the front, with two-pass mean and standard deviation.
type naive struct {
	max  int
	last time.Time
	xs   []time.Duration
}

func (m *naive) heartbeat(at time.Time) {
	d := at.Sub(m.last)
	if d <= 0 {
		return
	}
	m.last = at
	m.xs = append(m.xs, d)
	if len(m.xs) > m.max {
		m.xs = m.xs[1:]
	}
}

func (m *naive) mean() float64 {
	if len(m.xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range m.xs {
		s += float64(x)
	}
	return s / float64(len(m.xs))
}

func (m *naive) std() float64 {
	if len(m.xs) < 2 {
		return 0
	}
	mu := m.mean()
	var s float64
	for _, x := range m.xs {
		s += (float64(x) - mu) * (float64(x) - mu)
	}
	return math.Sqrt(s / float64(len(m.xs)-1))
}

// closeTo reports whether the Duration got is want within 1ns plus a
// relative 1e-9 of scale.
func closeTo(got time.Duration, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 1+1e-9*scale
}

// agrees compares h with the model m, returning a description of the first
// mismatch or "".
func agrees(h *phi.History, m *naive) string {
	var b strings.Builder
	if !h.Last().Equal(m.last) {
		b.WriteString("Last " + h.Last().String() + " != " + m.last.String() + "; ")
	}
	if h.Samples() != len(m.xs) {
		b.WriteString("Samples differ; ")
	}
	mu, sd := m.mean(), m.std()
	if !closeTo(h.Mean(), mu, mu) {
		b.WriteString("Mean " + h.Mean().String() + " != " + time.Duration(mu).String() + "; ")
	}
	if !closeTo(h.StdDev(), sd, mu) {
		b.WriteString("StdDev " + h.StdDev().String() + " != " + time.Duration(sd).String() + "; ")
	}
	return b.String()
}

var t0 = time.Date(2004, 10, 18, 12, 0, 0, 0, time.UTC)

// arrive feeds heartbeats at t0 plus each offset and returns the History.
func arrive(cfg phi.Config, offsets ...time.Duration) *phi.History {
	h := phi.NewHistory(cfg, t0)
	for _, o := range offsets {
		h.Heartbeat(t0.Add(o))
	}
	return h
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestHistoryStatistics(t *testing.T) {
	cfg := validConfig()
	small := cfg
	small.MaxSampleSize = 3
	tests := []struct {
		name    string
		cfg     phi.Config
		offsets []time.Duration // arrival instants after t0
		want    state
	}{
		{
			name: "fresh history uses the first-heartbeat estimate",
			cfg:  cfg,
			// mean = 1s, std = 1s/4 = 250ms (above the 100ms floor).
			want: state{Last: t0, EstMean: time.Second, EstStd: 250 * time.Millisecond},
		},
		{
			name:    "one interval still uses the estimate",
			cfg:     cfg,
			offsets: []time.Duration{ms(700)},
			want:    state{Last: t0.Add(ms(700)), Samples: 1, Mean: ms(700), EstMean: time.Second, EstStd: 250 * time.Millisecond},
		},
		{
			// Intervals 1s, 2s, 3s, 4s: mean 2.5s; squared deviations
			// 2.25+0.25+0.25+2.25 = 5 s², /(n−1) = 5/3 s², std =
			// √(5/3) s = 1.290994449s.
			name:    "known intervals",
			cfg:     cfg,
			offsets: []time.Duration{ms(1000), ms(3000), ms(6000), ms(10000)},
			want: state{Last: t0.Add(ms(10000)), Samples: 4, Mean: ms(2500), StdDev: 1290994449,
				EstMean: ms(2500), EstStd: 1290994449},
		},
		{
			// Intervals 1s..5s with a window of 3 keep 3s, 4s, 5s:
			// mean 4s, deviations 1, 0, 1 → variance 2/2 = 1 s², std 1s.
			name:    "ring evicts the oldest",
			cfg:     small,
			offsets: []time.Duration{ms(1000), ms(3000), ms(6000), ms(10000), ms(15000)},
			want: state{Last: t0.Add(ms(15000)), Samples: 3, Mean: ms(4000), StdDev: ms(1000),
				EstMean: ms(4000), EstStd: ms(1000)},
		},
		{
			// Regular 500ms heartbeats: std 0, floored to 100ms.
			name:    "std is floored",
			cfg:     cfg,
			offsets: []time.Duration{ms(500), ms(1000), ms(1500), ms(2000)},
			want: state{Last: t0.Add(ms(2000)), Samples: 4, Mean: ms(500), StdDev: 0,
				EstMean: ms(500), EstStd: ms(100)},
		},
		{
			name: "pause is added to the estimate",
			cfg: func() phi.Config {
				c := cfg
				c.AcceptableHeartbeatPause = time.Second
				return c
			}(),
			offsets: []time.Duration{ms(500), ms(1000), ms(1500)},
			want: state{Last: t0.Add(ms(1500)), Samples: 3, Mean: ms(500), StdDev: 0,
				EstMean: ms(1500), EstStd: ms(100)},
		},
		{
			// The duplicate at 1s, the reordered 800ms and the one at
			// t0 itself are ignored: intervals stay 1s, 1s.
			name:    "duplicates and out-of-order arrivals are ignored",
			cfg:     cfg,
			offsets: []time.Duration{0, ms(1000), ms(1000), ms(800), ms(2000), ms(2000), -time.Hour},
			want: state{Last: t0.Add(ms(2000)), Samples: 2, Mean: ms(1000), StdDev: 0,
				EstMean: ms(1000), EstStd: ms(100)},
		},
		{
			// Three intervals of 2^61 ns (~73 years) each do not overflow.
			name:    "huge intervals",
			cfg:     cfg,
			offsets: []time.Duration{1 << 61, 2 << 61, 3 << 61},
			want: state{Last: t0.Add(3 << 61), Samples: 3, Mean: 1 << 61, StdDev: 0,
				EstMean: 1 << 61, EstStd: ms(100)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := arrive(tc.cfg, tc.offsets...)
			if diff := cmp.Diff(tc.want, stateOf(h)); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistoryEstimateSaturates(t *testing.T) {
	c := validConfig()
	c.AcceptableHeartbeatPause = math.MaxInt64/2 + 10
	h := arrive(c, math.MaxInt64/2, math.MaxInt64/2*2)
	if m, _ := h.Estimate(); m != math.MaxInt64 {
		t.Errorf("Estimate mean = %v, want saturation at %v", m, time.Duration(math.MaxInt64))
	}
}

// TestHistoryDuplicateLeavesStateUnchanged checks that a duplicate or
// out-of-order heartbeat is a no-op on every observable.
func TestHistoryDuplicateLeavesStateUnchanged(t *testing.T) {
	h := arrive(validConfig(), ms(1000), ms(2100), ms(2900))
	before := stateOf(h)
	phiBefore := h.Phi(t0.Add(ms(4000)))
	for _, name := range []string{"same instant", "earlier", "start", "long before"} {
		t.Run(name, func(t *testing.T) {
			at := map[string]time.Time{
				"same instant": t0.Add(ms(2900)),
				"earlier":      t0.Add(ms(2500)),
				"start":        t0,
				"long before":  t0.Add(-24 * time.Hour),
			}[name]
			h.Heartbeat(at)
			if diff := cmp.Diff(before, stateOf(h)); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			if got := h.Phi(t0.Add(ms(4000))); got != phiBefore {
				t.Errorf("Phi changed from %v to %v", phiBefore, got)
			}
		})
	}
}

func TestHistoryMatchesNaive(t *testing.T) {
	tests := []struct {
		name     string
		max      int
		n        int
		interval func(i int) time.Duration
	}{
		{"fill below capacity", 100, 50, func(i int) time.Duration { return ms(900 + (i*37)%200) }},
		{"window of one", 1, 20, func(i int) time.Duration { return ms(100 + i) }},
		{"many rebases", 7, 1000, func(i int) time.Duration { return ms(1 + (i*7919)%5000) }},
		{"small jitter on a large mean", 50, 10000, func(i int) time.Duration { return time.Hour + time.Duration((i*104729)%2001-1000) }},
		{"regime change", 20, 400, func(i int) time.Duration {
			if i < 200 {
				return ms(10000)
			}
			return ms(10 + i%3)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.MaxSampleSize = tc.max
			h := phi.NewHistory(c, t0)
			m := &naive{max: tc.max, last: t0}
			at := t0
			for i := 0; i < tc.n; i++ {
				at = at.Add(tc.interval(i))
				h.Heartbeat(at)
				m.heartbeat(at)
				if msg := agrees(h, m); msg != "" {
					t.Fatalf("after %d arrivals: %s", i+1, msg)
				}
			}
		})
	}
}

// TestHistoryDetectionTime checks Available flips exactly at the elapsed
// time ElapsedAtPhi predicts, including for a subject that never answers.
func TestHistoryDetectionTime(t *testing.T) {
	withPause := func(c phi.Config, p time.Duration) phi.Config { c.AcceptableHeartbeatPause = p; return c }
	steady := []time.Duration{ms(500), ms(1000), ms(1500), ms(2000), ms(2500)}
	tests := []struct {
		name      string
		cfg       phi.Config
		offsets   []time.Duration
		mean, std time.Duration // expected Estimate
		approx    time.Duration // expected detection time, ± 1µs
	}{
		// mean 500ms, std 0 floored to 100ms: 500ms + 5.6120012·100ms.
		{"steady 500ms, no pause", validConfig(), steady, ms(500), ms(100), 1061200120},
		// The 1s pause shifts the mean to 1.5s.
		{"steady 500ms, pause 1s", withPause(validConfig(), time.Second), steady, ms(1500), ms(100), 2061200120},
		// Never answered: mean 1s + 1s pause, std 1s/4 = 250ms:
		// 2s + 5.6120012·250ms.
		{"never answered, pause 1s", withPause(validConfig(), time.Second), nil, ms(2000), ms(250), 3403000300},
		// Never answered, no pause: 1s + 5.6120012·250ms.
		{"never answered, no pause", validConfig(), nil, ms(1000), ms(250), 2403000300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := arrive(tc.cfg, tc.offsets...)
			mean, std := h.Estimate()
			if diff := cmp.Diff([2]time.Duration{tc.mean, tc.std}, [2]time.Duration{mean, std}); diff != "" {
				t.Fatalf("Estimate (-want +got):\n%s", diff)
			}
			d := phi.ElapsedAtPhi(tc.cfg.Threshold, mean, std)
			if diff := d - tc.approx; diff < -time.Microsecond || diff > time.Microsecond {
				t.Errorf("detection after %v, want ≈ %v", d, tc.approx)
			}
			last := h.Last()
			if !h.Available(last.Add(d - 1)) {
				t.Errorf("unavailable already at %v (phi %v)", d-1, h.Phi(last.Add(d-1)))
			}
			if h.Available(last.Add(d)) {
				t.Errorf("still available at %v (phi %v)", d, h.Phi(last.Add(d)))
			}
			if !h.Available(last) || !h.Available(last.Add(-time.Hour)) {
				t.Errorf("unavailable at or before the last arrival")
			}
		})
	}
}

func TestHistoryPhiBeforeLastIsPhiAtLast(t *testing.T) {
	h := arrive(validConfig(), ms(1000), ms(2000), ms(3000))
	if a, b := h.Phi(t0), h.Phi(t0.Add(ms(3000))); a != b {
		t.Errorf("Phi before last = %v, Phi at last = %v", a, b)
	}
}

func TestDefaultConfig(t *testing.T) {
	want := phi.Config{
		Threshold:                8,
		MaxSampleSize:            1000,
		MinStdDeviation:          100 * time.Millisecond,
		AcceptableHeartbeatPause: time.Second,
		FirstHeartbeatEstimate:   time.Second,
	}
	if diff := cmp.Diff(want, phi.DefaultConfig()); diff != "" {
		t.Errorf("DefaultConfig (-want +got):\n%s", diff)
	}
	h := phi.NewHistory(phi.DefaultConfig(), t0)
	if diff := cmp.Diff(phi.DefaultConfig(), h.Config()); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
}

// ---------------------------------------------------------------------------
// Benchmarks.

var sink float64

func BenchmarkPhi(b *testing.B) {
	cases := []struct {
		name    string
		elapsed time.Duration
	}{
		{"before mean", 800 * time.Millisecond},
		{"threshold region", 1560 * time.Millisecond},
		{"asymptotic tail", 10 * time.Second},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				sink += phi.Phi(c.elapsed, time.Second, 100*time.Millisecond)
			}
		})
	}
	b.Run("History.Phi", func(b *testing.B) {
		h := arrive(validConfig(), ms(1000), ms(2010), ms(2990), ms(4000))
		now := t0.Add(ms(5500))
		for b.Loop() {
			sink += h.Phi(now)
		}
	})
	b.Run("History.Heartbeat full ring", func(b *testing.B) {
		c := validConfig()
		c.MaxSampleSize = 100
		h := phi.NewHistory(c, t0)
		at := t0
		for b.Loop() {
			at = at.Add(time.Second)
			h.Heartbeat(at)
		}
	})
	b.Run("ElapsedAtPhi", func(b *testing.B) {
		for b.Loop() {
			sink += float64(phi.ElapsedAtPhi(8, time.Second, 100*time.Millisecond))
		}
	})
}
