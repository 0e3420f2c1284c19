package sim

import (
	"math"
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
