package netsim

import (
	"errors"
	"fmt"
	"math/rand"
	"time"
)

// Latency is a one-way delay distribution. Sample draws one delay from r;
// it must draw only from r, so that a seed fixes every delay. String names
// the distribution for the parameter line a simulator prints at start.
//
// A Latency may also implement Validate() error; Config.Validate and
// LinkConfig.Validate call it. Every distribution in this package does.
type Latency interface {
	Sample(r *rand.Rand) time.Duration
	String() string
}

// Constant returns a Latency that always delays by d. Without Jitter, a
// constant latency keeps every directed path FIFO.
func Constant(d time.Duration) Latency { return constant{d} }

// Uniform returns a Latency drawn uniformly from [min, max], inclusive.
func Uniform(min, max time.Duration) Latency { return uniform{min, max} }

// ExponentialCap is how many means an Exponential sample may reach: longer
// draws are cut to ExponentialCap×mean, so one unlucky draw cannot park a
// message for the rest of the run.
const ExponentialCap = 20

// Exponential returns a Latency drawn from an exponential distribution with
// the given mean, capped at ExponentialCap×mean. Combine it with Shifted for
// TigerBeetle's "min + exponential(mean)" one-way delay.
func Exponential(mean time.Duration) Latency { return exponential{mean} }

// Shifted returns base plus a sample of l: a floor under a distribution.
func Shifted(base time.Duration, l Latency) Latency { return shifted{base, l} }

// Jitter returns l plus a uniform extra delay in [0, j], so that messages
// sent in order on one path may arrive out of order.
func Jitter(l Latency, j time.Duration) Latency { return jitter{l, j} }

type constant struct{ d time.Duration }

func (c constant) Sample(*rand.Rand) time.Duration { return c.d }
func (c constant) String() string                  { return "constant(" + c.d.String() + ")" }

// Validate reports a negative delay.
func (c constant) Validate() error {
	if c.d < 0 {
		return fmt.Errorf("constant latency %v is negative", c.d)
	}
	return nil
}

type uniform struct{ min, max time.Duration }

func (u uniform) Sample(r *rand.Rand) time.Duration {
	if u.max <= u.min {
		return u.min
	}
	return u.min + time.Duration(r.Int63n(int64(u.max-u.min)+1))
}

func (u uniform) String() string { return "uniform(" + u.min.String() + ".." + u.max.String() + ")" }

// Validate reports a negative minimum or a maximum below the minimum.
func (u uniform) Validate() error {
	var errs []error
	if u.min < 0 {
		errs = append(errs, fmt.Errorf("uniform latency min %v is negative", u.min))
	}
	if u.max < u.min {
		errs = append(errs, fmt.Errorf("uniform latency max %v is below min %v", u.max, u.min))
	}
	return errors.Join(errs...)
}

type exponential struct{ mean time.Duration }

func (e exponential) Sample(r *rand.Rand) time.Duration {
	if e.mean <= 0 {
		return 0
	}
	f := r.ExpFloat64()
	if f > ExponentialCap {
		f = ExponentialCap
	}
	return time.Duration(f * float64(e.mean))
}

func (e exponential) String() string {
	return "exponential(mean=" + e.mean.String() + ",max=" + (ExponentialCap * e.mean).String() + ")"
}

// Validate reports a negative mean.
func (e exponential) Validate() error {
	if e.mean < 0 {
		return fmt.Errorf("exponential latency mean %v is negative", e.mean)
	}
	return nil
}

type shifted struct {
	base time.Duration
	l    Latency
}

func (s shifted) Sample(r *rand.Rand) time.Duration { return s.base + s.l.Sample(r) }
func (s shifted) String() string                    { return s.base.String() + "+" + latencyString(s.l) }

// Validate reports a negative base and the inner distribution's problems.
func (s shifted) Validate() error {
	var errs []error
	if s.base < 0 {
		errs = append(errs, fmt.Errorf("shifted latency base %v is negative", s.base))
	}
	errs = append(errs, validateLatency(s.l))
	return errors.Join(errs...)
}

type jitter struct {
	l Latency
	j time.Duration
}

func (j jitter) Sample(r *rand.Rand) time.Duration {
	d := j.l.Sample(r)
	if j.j > 0 {
		d += time.Duration(r.Int63n(int64(j.j) + 1))
	}
	return d
}

func (j jitter) String() string { return latencyString(j.l) + "+jitter(" + j.j.String() + ")" }

// Validate reports a negative jitter and the inner distribution's problems.
func (j jitter) Validate() error {
	var errs []error
	if j.j < 0 {
		errs = append(errs, fmt.Errorf("jitter %v is negative", j.j))
	}
	errs = append(errs, validateLatency(j.l))
	return errors.Join(errs...)
}

func latencyString(l Latency) string {
	if l == nil {
		return "constant(0s)"
	}
	return l.String()
}

// validateLatency checks l if it can check itself. A nil inner distribution
// of Shifted or Jitter is an error; a nil Config.Latency is not (it means
// zero delay) and is handled by the caller.
func validateLatency(l Latency) error {
	if l == nil {
		return errors.New("latency distribution is nil")
	}
	if v, ok := l.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// sampler draws from a Latency without an interface call for the common
// distributions: a constant, and an exponential with or without a shift
// (the simulator's "min + exponential(mean)"). Its draws and results are
// exactly those of the Latency's Sample.
type sampler struct {
	kind       samplerKind
	base, mean time.Duration // samplerConstant: base; samplerShiftedExp: base + Exponential(mean)
	l          Latency       // samplerOther
}

type samplerKind uint8

const (
	samplerOther samplerKind = iota
	samplerConstant
	samplerShiftedExp
)

func newSampler(l Latency) sampler {
	switch v := l.(type) {
	case constant:
		return sampler{kind: samplerConstant, base: v.d}
	case exponential:
		return sampler{kind: samplerShiftedExp, mean: v.mean}
	case shifted:
		if e, ok := v.l.(exponential); ok {
			return sampler{kind: samplerShiftedExp, base: v.base, mean: e.mean}
		}
	}
	return sampler{kind: samplerOther, l: l}
}

// sample is l.Sample(r) for the l the sampler was made from.
func (s *sampler) sample(r *rand.Rand) time.Duration {
	switch s.kind {
	case samplerConstant:
		return s.base
	case samplerShiftedExp:
		if s.mean <= 0 {
			return s.base
		}
		return s.fromExp(r.ExpFloat64())
	}
	return s.l.Sample(r)
}

// drawsExp reports whether sample is fromExp(r.ExpFloat64()), for a
// caller that makes that draw itself to spare a call.
func (s *sampler) drawsExp() bool { return s.kind == samplerShiftedExp && s.mean > 0 }

// fromExp is the sample of a shifted exponential whose standard
// exponential draw was f.
func (s *sampler) fromExp(f float64) time.Duration {
	if f > ExponentialCap {
		f = ExponentialCap
	}
	return s.base + time.Duration(f*float64(s.mean))
}
