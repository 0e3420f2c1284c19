package phi

import (
	"math"
	"testing"
	"time"
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
