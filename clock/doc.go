// Package clock abstracts the passage of time so that rumor's protocol core
// can run as a pure state machine driven by an injected clock.
//
// Production code uses [Real], which delegates to the standard time package.
// Tests and simulations use [Fake], whose time moves only when [Fake.Advance]
// or [Fake.Set] is called and whose timers fire in a deterministic order:
// by deadline, with equal deadlines fired in the order the timers were
// created.
//
// # Concurrency contract
//
// Every [Clock] and [Timer] implementation in this package is safe for
// concurrent use by multiple goroutines. [Fake] guards its state with a mutex
// and never holds that mutex while running an AfterFunc callback, so a
// callback may call any method of the Fake or of its timers, including
// creating, stopping and resetting timers.
//
// Timer channels behave like those of [time.Timer] since Go 1.23: a fired
// timer delivers one value without blocking, and after Stop or Reset returns
// no stale value from an earlier firing is received.
package clock
