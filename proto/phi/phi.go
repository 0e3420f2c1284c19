package phi

import (
	"math"
	"time"
)

// asymptoticFrom is the erfc argument from which log(erfc(x)) is taken from
// its asymptotic expansion rather than from math.Erfc. At x = 20 erfc is
// about 5e-176, comfortably normal, and the expansion below converges to
// full float64 precision in under ten terms, so the two branches meet
// within rounding. (math.Erfc itself underflows to subnormals near x ≈ 26.5
// and to 0 at x = 28.)
const asymptoticFrom = 20

// logErfc returns ln(erfc(x)) for x >= 0, finite for every finite x.
func logErfc(x float64) float64 {
	if x < asymptoticFrom {
		return math.Log(math.Erfc(x))
	}
	// erfc(x) = e^{-x²}/(x√π) · Σ_{n≥0} (-1)ⁿ (2n-1)!! / (2x²)ⁿ.
	// The terms shrink while n < x², i.e. for hundreds of terms here;
	// stop once they no longer affect the sum.
	inv := 1 / (2 * x * x)
	sum, term := 1.0, 1.0
	for n := 1; n < 64; n++ {
		term *= -float64(2*n-1) * inv
		if math.Abs(term) < 1e-18 {
			break
		}
		sum += term
	}
	return -x*x - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(sum)
}

// maxPhiUntilMean bounds Phi while elapsed is at most the mean: φ is then
// −log10(1 − Φ(y)) with y <= 0, so Φ(y) <= ½ and φ <= log10 2 ≈ 0.30103.
// The bound is rounded up past any rounding error of the computation.
const maxPhiUntilMean = 0.3011

// phiAtY returns −log10(1 − Φ(y)) for the standard normal CDF Φ.
func phiAtY(y float64) float64 {
	if y <= 0 {
		// 1 − Φ(y) = 1 − ½erfc(−y/√2); log1p keeps the small φ of an
		// early check accurate. Clamp the −0 of a vanishing tail.
		p := -math.Log1p(-0.5*math.Erfc(-y/math.Sqrt2)) / math.Ln10
		if p <= 0 {
			return 0
		}
		return p
	}
	// 1 − Φ(y) = ½erfc(y/√2), evaluated in the log domain so it never
	// underflows to 0 (which would make φ = +Inf).
	return -(logErfc(y/math.Sqrt2) - math.Ln2) / math.Ln10
}

// Phi returns the suspicion level φ = −log10(1 − Φ((elapsed − mean)/std))
// for a subject last heard from elapsed ago whose inter-arrival times are
// normally distributed with the given mean and standard deviation; Φ is the
// exact standard normal CDF. The tail is computed as ½·erfc(y/√2), and in
// the log domain via the asymptotic expansion of erfc once it would
// underflow, so the result is finite for all inputs.
//
// A negative elapsed is treated as 0 and a std below 1ns as 1ns. The result
// is never negative and never NaN, and it is non-decreasing in elapsed.
// Reference points: elapsed = mean gives log10(2) ≈ 0.30103, one standard
// deviation later ≈ 0.79955, two ≈ 1.64302, three ≈ 2.86970, and
// ≈ 5.612 standard deviations give φ ≈ 8.
func Phi(elapsed, mean, std time.Duration) float64 {
	if elapsed < 0 {
		elapsed = 0
	}
	if std < 1 {
		std = 1
	}
	y := (float64(elapsed) - float64(mean)) / float64(std)
	return phiAtY(y)
}

// ElapsedAtPhi returns the smallest elapsed time d >= 0 at which
// Phi(d, mean, std) >= phi, i.e. the detection time for threshold phi:
// Phi(d-1, mean, std) < phi <= Phi(d, mean, std) unless d is 0. It returns 0
// when phi <= Phi(0, mean, std), and saturates at the maximum Duration when
// phi is NaN or not reached by then. It works by bisection over whole
// nanoseconds, relying on Phi being non-decreasing; for finite phi it costs
// about 63 evaluations of Phi.
func ElapsedAtPhi(phi float64, mean, std time.Duration) time.Duration {
	const never = time.Duration(math.MaxInt64)
	if Phi(0, mean, std) >= phi {
		return 0
	}
	if !(Phi(never, mean, std) >= phi) {
		return never
	}
	// Invariant: Phi(lo) < phi <= Phi(hi).
	lo, hi := time.Duration(0), never
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if Phi(mid, mean, std) >= phi {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
