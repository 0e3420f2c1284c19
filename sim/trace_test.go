package sim

import (
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// TestTraceTimestamp: begin renders a line's time as the plain
// zero-padded formatting of its seconds and microseconds, at every
// magnitude, whatever time the line before had and however much room the
// line buffer has left.
func TestTraceTimestamp(t *testing.T) {
	naive := func(ns int64) string {
		ns = max(ns, 0)
		return fmt.Sprintf("%06d.%06d", ns/1000/1000000, ns/1000%1000000)
	}
	tr := newTracer(nil) // shared: each check follows another timestamp
	check := func(t interface{ Fatalf(string, ...any) }, ns int64) {
		for _, room := range []int{-1, 0, 12, 13, 23, 24} {
			if room < 0 {
				tr.buf = tr.buf[:0] // lines collect in buf: look at this one alone
			} else {
				tr.buf = make([]byte, 0, room)
			}
			tr.begin(ns)
			if got, want := string(tr.buf), naive(ns); got != want {
				t.Fatalf("begin(%d) renders %q, want %q", ns, got, want)
			}
		}
	}
	for _, ns := range []int64{math.MinInt64, -1, 0, 999, 1000, 1999, 999999999, 1e9, 12345678901, 999999999999999, 1e15, math.MaxInt64, 0} {
		check(t, ns)
	}
	rapid.Check(t, func(t *rapid.T) {
		for _, ns := range rapid.SliceOfN(rapid.OneOf(rapid.Int64Range(-1e12, 1e16), rapid.Int64Range(0, 3000), rapid.Int64()), 1, 10).Draw(t, "ns") {
			check(t, ns)
		}
	})
}
