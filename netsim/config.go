package netsim

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/rumorhq/rumor/proto"
)

// Config is the network-wide fault model. The zero Config is a perfect
// network: zero delay, no loss, no duplication, unbounded paths.
type Config struct {
	// Latency is the one-way delay of every path without a LinkConfig
	// override. Nil means zero delay.
	Latency Latency
	// Loss is the probability, in [0, 1], that one copy of a message is
	// lost. Each copy (original and duplicate) is rolled separately.
	Loss float64
	// Duplicate is the probability, in [0, 1], that a sent message is
	// scheduled twice, each copy with its own latency draw. A message is
	// duplicated at most once.
	Duplicate float64
	// MaxInFlight bounds the copies in flight on one directed path (sender
	// address to receiver address), counting copies held by a clog. A copy
	// that would exceed the bound is dropped at send time and counted in
	// Stats.Dropped.InFlight. Zero means unbounded.
	MaxInFlight int
	// Sizer returns the bytes a message takes on the wire, for
	// Stats.BytesSent and Stats.BytesDelivered. Nil counts zero bytes.
	// It is given the message sent, to read, not to keep or modify.
	Sizer func(*proto.Message) int
}

// Validate reports every problem in c, joined with errors.Join; nil if c is
// usable.
func (c Config) Validate() error {
	var errs []error
	if c.Latency != nil {
		if err := validateLatency(c.Latency); err != nil {
			errs = append(errs, fmt.Errorf("netsim: Latency: %w", err))
		}
	}
	errs = append(errs, checkProbability("Loss", c.Loss), checkProbability("Duplicate", c.Duplicate))
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("netsim: MaxInFlight %d is negative (0 means unbounded)", c.MaxInFlight))
	}
	return errors.Join(errs...)
}

// String renders the fault model on one line for a run's parameter print.
func (c Config) String() string {
	return "latency=" + latencyString(c.Latency) +
		" loss=" + strconv.FormatFloat(c.Loss, 'g', -1, 64) +
		" duplicate=" + strconv.FormatFloat(c.Duplicate, 'g', -1, 64) +
		" max-in-flight=" + strconv.Itoa(c.MaxInFlight)
}

// LinkConfig overrides the fault model of one directed path (see
// Network.SetLink). It replaces Config's Latency, Loss and Duplicate for
// that path as a whole: a nil Latency keeps the network's latency, but Loss
// and Duplicate are taken as given, so zero means none on that path.
type LinkConfig struct {
	Latency   Latency
	Loss      float64
	Duplicate float64
}

// Validate reports every problem in l, joined with errors.Join.
func (l LinkConfig) Validate() error {
	var errs []error
	if l.Latency != nil {
		if err := validateLatency(l.Latency); err != nil {
			errs = append(errs, fmt.Errorf("netsim: link Latency: %w", err))
		}
	}
	errs = append(errs, checkProbability("link Loss", l.Loss), checkProbability("link Duplicate", l.Duplicate))
	return errors.Join(errs...)
}

func checkProbability(name string, p float64) error {
	if p >= 0 && p <= 1 { // false for NaN too
		return nil
	}
	return fmt.Errorf("netsim: %s %v is not a probability in [0, 1]", name, p)
}
