package sim

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// TestTraceTimestamp: begin renders a line's time as the plain
// zero-padded formatting of its seconds and microseconds, at every
// magnitude.
func TestTraceTimestamp(t *testing.T) {
	naive := func(ns int64) string {
		ns = max(ns, 0)
		return fmt.Sprintf("%06d.%06d", ns/1000/1000000, ns/1000%1000000)
	}
	check := func(t interface{ Fatalf(string, ...any) }, ns int64) {
		tr := newTracer(nil)
		tr.begin(ns)
		if got, want := string(tr.buf), naive(ns); got != want {
			t.Fatalf("begin(%d) renders %q, want %q", ns, got, want)
		}
	}
	for _, ns := range []int64{math.MinInt64, -1, 0, 999, 1000, 999999999, 1e9, 12345678901, 999999999999999, 1e15, math.MaxInt64} {
		check(t, ns)
	}
	rapid.Check(t, func(t *rapid.T) {
		check(t, rapid.OneOf(rapid.Int64Range(-1e12, 1e16), rapid.Int64()).Draw(t, "ns"))
	})
}
