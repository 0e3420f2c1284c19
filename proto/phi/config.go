package phi

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxSampleSizeLimit is the largest MaxSampleSize that Config.Validate
// accepts.
const MaxSampleSizeLimit = 100000

// ErrBadConfig is wrapped by every error returned from Config.Validate, so
// callers can test for it with errors.Is.
var ErrBadConfig = errors.New("phi: bad config")

// Config parameterises a History.
type Config struct {
	// Threshold is the φ at or above which a subject is considered
	// unavailable. It must be finite and > 0.
	Threshold float64
	// MaxSampleSize is the number of most recent inter-arrival intervals
	// kept. It must be in [1, MaxSampleSizeLimit].
	MaxSampleSize int
	// MinStdDeviation is the floor applied to the standard deviation, so
	// that very regular heartbeats do not make φ jump on the slightest
	// delay. It must be > 0.
	MinStdDeviation time.Duration
	// AcceptableHeartbeatPause is added to the mean interval, tolerating
	// pauses (GC, network blips) of that length without suspicion. It must
	// be >= 0.
	AcceptableHeartbeatPause time.Duration
	// FirstHeartbeatEstimate is the mean interval assumed while fewer than
	// two intervals have been observed; the standard deviation is then
	// taken as a quarter of it. It must be > 0.
	FirstHeartbeatEstimate time.Duration
}

// DefaultConfig returns a Config with conventional values: Threshold 8,
// MaxSampleSize 1000, MinStdDeviation 100ms, AcceptableHeartbeatPause 1s and
// FirstHeartbeatEstimate 1s.
func DefaultConfig() Config {
	return Config{
		Threshold:                8,
		MaxSampleSize:            1000,
		MinStdDeviation:          100 * time.Millisecond,
		AcceptableHeartbeatPause: time.Second,
		FirstHeartbeatEstimate:   time.Second,
	}
}

// configError is one invalid field; it unwraps to ErrBadConfig.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }
func (e *configError) Unwrap() error { return ErrBadConfig }

func badField(format string, args ...any) error {
	return &configError{msg: "phi: " + fmt.Sprintf(format, args...)}
}

// Validate reports every invalid field of c at once, joined with
// errors.Join, or nil if c is valid. Each error names the field and the
// offending value and matches ErrBadConfig under errors.Is.
func (c Config) Validate() error {
	var errs []error
	if !(c.Threshold > 0) || math.IsInf(c.Threshold, 1) {
		errs = append(errs, badField("Threshold must be > 0 and finite, got %v", c.Threshold))
	}
	if c.MaxSampleSize < 1 || c.MaxSampleSize > MaxSampleSizeLimit {
		errs = append(errs, badField("MaxSampleSize must be in [1, %d], got %d", MaxSampleSizeLimit, c.MaxSampleSize))
	}
	if c.MinStdDeviation <= 0 {
		errs = append(errs, badField("MinStdDeviation must be > 0, got %v", c.MinStdDeviation))
	}
	if c.AcceptableHeartbeatPause < 0 {
		errs = append(errs, badField("AcceptableHeartbeatPause must be >= 0, got %v", c.AcceptableHeartbeatPause))
	}
	if c.FirstHeartbeatEstimate <= 0 {
		errs = append(errs, badField("FirstHeartbeatEstimate must be > 0, got %v", c.FirstHeartbeatEstimate))
	}
	return errors.Join(errs...)
}
