package clock

import "time"

// Clock is a source of the current time and of timers.
//
// Implementations must be safe for concurrent use by multiple goroutines.
// Clock has no Sleep method: code that waits does so by receiving from a
// Timer's channel or by scheduling a callback with AfterFunc, so that a fake
// clock controls every wait.
type Clock interface {
	// Now returns the current time according to the clock.
	Now() time.Time

	// NewTimer returns a Timer that sends the time on its channel once at
	// least d has elapsed on the clock. A d of zero or less makes the timer
	// due immediately.
	NewTimer(d time.Duration) Timer

	// AfterFunc returns a Timer that calls f in its own goroutine (Real) or
	// in the goroutine that advances the clock (Fake) once at least d has
	// elapsed on the clock. The returned Timer's C method returns nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single-shot timer created by a Clock.
//
// A Timer's methods are safe for concurrent use by multiple goroutines,
// including concurrently with the clock firing the timer.
type Timer interface {
	// C returns the channel on which the timer delivers the time it fired.
	// The channel has a buffer of one value and the timer never blocks
	// sending on it. C returns nil for timers created by AfterFunc.
	C() <-chan time.Time

	// Stop prevents the timer from firing. It returns true if the call
	// stopped the timer, and false if the timer had already fired and its
	// value (if any) had been received, or had already been stopped. After
	// Stop returns, no value from an earlier firing is received from C.
	// Stop does not wait for an AfterFunc callback that is already running.
	Stop() bool

	// Reset re-arms the timer to fire once d has elapsed from the clock's
	// current time. It returns true if the timer was pending (armed and not
	// yet fired, or fired with its value not yet received) and false
	// otherwise. After Reset returns, no value from an earlier firing is
	// received from C.
	Reset(d time.Duration) bool
}

// Real is a Clock backed by the standard time package. The zero value is
// ready to use and is safe for concurrent use.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer returns a Timer wrapping time.NewTimer(d).
func (Real) NewTimer(d time.Duration) Timer {
	return realTimer{t: time.NewTimer(d)}
}

// AfterFunc returns a Timer wrapping time.AfterFunc(d, f). The callback runs
// in its own goroutine.
func (Real) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

// realTimer adapts *time.Timer to the Timer interface.
type realTimer struct {
	t *time.Timer
}

var _ Timer = realTimer{}

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
