package sim

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestSimTimeIsEpochAdd: simTime builds the same time.Time value as
// epoch.Add, field for field (== compares them), at every magnitude and
// sign, and sinceEpoch is Sub(epoch), saturation included.
func TestSimTimeIsEpochAdd(t *testing.T) {
	checkNs := func(t interface{ Fatalf(string, ...any) }, ns int64) {
		if got, want := simTime(ns), epoch.Add(time.Duration(ns)); got != want {
			t.Fatalf("simTime(%d) = %v, epoch.Add gives %v", ns, got, want)
		}
	}
	checkTime := func(t interface{ Fatalf(string, ...any) }, tm time.Time) {
		if got, want := sinceEpoch(tm), int64(tm.Sub(epoch)); got != want {
			t.Fatalf("sinceEpoch(%v) = %d, Sub gives %d", tm, got, want)
		}
	}
	edges := []int64{math.MinInt64, math.MinInt64 + 1, -1e9 - 1, -1e9, -999999999, -1, 0, 1, 999999999, 1e9, 1e9 + 1, math.MaxInt64 - 1, math.MaxInt64}
	for _, ns := range edges {
		checkNs(t, ns)
		checkTime(t, epoch.Add(time.Duration(ns)))
	}
	for _, tm := range []time.Time{{}, time.Unix(math.MaxInt64/2, 0), time.Unix(math.MinInt64/2, 0), epoch.In(time.FixedZone("x", 3600))} {
		checkTime(t, tm)
	}
	rapid.Check(t, func(t *rapid.T) {
		ns := rapid.OneOf(rapid.Int64(), rapid.Int64Range(-1e13, 1e13)).Draw(t, "ns")
		checkNs(t, ns)
		checkTime(t, epoch.Add(time.Duration(ns)))
		sec := rapid.OneOf(rapid.Int64Range(-2e10, 2e10), rapid.Int64Range(epochSec-1e10, epochSec+1e10)).Draw(t, "sec")
		checkTime(t, time.Unix(sec, rapid.Int64Range(0, 1e9-1).Draw(t, "nsec")))
	})
}

// TestKeptTimerIsSimAt: whenever timerHolds lets a node keep the timer
// schedule set for an unchanged deadline, simAt at that instant gives the
// timer's instant, on undrifted and drifted clocks, at instants around
// the ones where the search's float estimate and the clock's reading
// round, and after the clock changed. Spans up to 1e17 ns make the estimate miss by several
// nanoseconds; rapid's draws favour small numbers, so the clocks come from
// a seeded generator.
func TestKeptTimerIsSimAt(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	kept := 0
	for i := range 100000 {
		span := int64(1e12)
		if i%2 == 0 {
			span = 1e17
		}
		c := lclock{t0: r.Int63n(1e12), l0: r.Int63n(2e12) - 1e12, rate: 1}
		if i%4 < 2 {
			c.rate = 1 + (r.Float64()-0.5)*0.4
		}
		now0 := c.t0 + r.Int63n(span)
		local := c.at(now0+r.Int63n(span)-10) + r.Int63n(5) - 2
		at, start := c.search(local, now0)
		sl := &slot{clock: c, timer: at, timerLocal: local, timerStart: start, timerClock: c}
		switch i % 8 { // the clock changes after schedule (which, in a run, reschedules)
		case 5:
			sl.clock.step(now0, r.Int63n(2e9)-1e9)
		case 6:
			sl.clock.setRate(now0, 1+(r.Float64()-0.5)*0.4)
		}
		nows := []int64{now0, at, at - 1, at - 2, start, start - 1, start - 2, start + 1}
		for range 4 {
			nows = append(nows, now0+r.Int63n(max(1, at-now0+1)))
		}
		for _, now := range nows {
			if now < now0 || now > at || !sl.timerHolds(now) {
				continue
			}
			kept++
			if got := sl.clock.simAt(local, now); got != at {
				t.Fatalf("clock %+v: kept the timer at %d for local %d at %d, simAt gives %d", sl.clock, at, local, now, got)
			}
		}
	}
	if kept == 0 {
		t.Fatalf("no timer kept")
	}
}

// TestLocalTimeIsSimTime: a slot's localAt gives simTime's value of its
// clock's reading, field for field, along runs of instants that step
// forward within and across seconds, jump back, cross zero and land on
// second boundaries, from a fresh slot and from one that built another
// second, on an undrifted clock (whose readings are the instants) and on
// drifting ones.
func TestLocalTimeIsSimTime(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sl := &slot{secStart: math.MinInt64, clock: lclock{rate: 1}}
		if rapid.Bool().Draw(t, "drift") {
			sl.clock = lclock{t0: rapid.Int64Range(-3e9, 3e9).Draw(t, "t0"), l0: rapid.Int64Range(-3e9, 3e9).Draw(t, "l0"),
				rate: rapid.Float64Range(0.9, 1.1).Draw(t, "rate")}
		}
		ns := rapid.Int64Range(-3e9, 3e9).Draw(t, "start")
		for range rapid.IntRange(1, 50).Draw(t, "steps") {
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0:
				ns += rapid.Int64Range(0, 1e6).Draw(t, "small")
			case 1:
				ns += rapid.Int64Range(-2e9, 2e9).Draw(t, "jump")
			case 2:
				ns = rapid.Int64Range(-3, 3).Draw(t, "sec")*1e9 + rapid.Int64Range(-1, 1).Draw(t, "edge")
			case 3:
				ns = rapid.Int64Range(-1e15, 1e15).Draw(t, "far")
			default:
				if sl.secStart != math.MinInt64 && sl.clock.rate == 1 {
					// the cached second's edges: its last instant, the
					// next second's first, the previous second's last
					ns = sl.clock.t0 - sl.clock.l0 + sl.secStart + rapid.SampledFrom([]int64{1e9 - 1, 1e9, -1, 0}).Draw(t, "edge")
				}
			}
			if got, want := sl.localAt(ns), simTime(sl.clock.at(ns)); got != want {
				t.Fatalf("localAt(%d) = %v, simTime of the reading %d gives %v", ns, got, sl.clock.at(ns), want)
			}
		}
	})
}

// TestClockHold: the bound lclock.hold works out once answers, at every
// instant, what timerHolds asks of the clock (the search started from the
// clock alone at or after now, and the clock reads less than the local
// instant), on undrifted and drifting clocks, around the bound's edges
// and for local instants at the edge of the range it works out exactly.
func TestClockHold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := lclock{t0: rapid.Int64Range(0, 1e12).Draw(t, "t0"), l0: rapid.Int64Range(-1e12, 1e12).Draw(t, "l0"), rate: 1}
		if rapid.Bool().Draw(t, "drift") {
			c.rate = rapid.Float64Range(0.5, 1.5).Draw(t, "rate")
		}
		// (Far beyond 2^61 the search itself overflows.)
		local := rapid.OneOf(rapid.Int64Range(-1e12, 3e12), rapid.Int64Range(1<<61-1e9, 1<<61+1e9)).Draw(t, "local")
		from := rapid.Int64Range(0, 2e12).Draw(t, "from")
		_, start := c.search(local, from)
		until, checkAt := c.hold(local, start)
		x := local - c.l0 + c.t0 // the first instant an undrifted clock reads local
		nows := []int64{0, 1, from, start - 1, start, start + 1, x - 2, x - 1, x, x + 1, until - 1, until, until + 1}
		for _, now := range append(nows, rapid.SliceOfN(rapid.Int64Range(0, 3e12), 0, 10).Draw(t, "nows")...) {
			if now < 0 {
				continue
			}
			want := start >= now && c.at(now) < local
			got := now <= until && (!checkAt || c.at(now) < local)
			if got != want {
				t.Fatalf("at %d, search start %d, bound %d (checkAt %v): hold says %v, timerHolds' test %v", now, start, until, checkAt, got, want)
			}
		}
	})
}
