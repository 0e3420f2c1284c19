package clock

import (
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBackwards is returned by [Fake.Set] when asked to move the clock to a
// time before its current time. The clock is left unchanged.
var ErrBackwards = errors.New("clock: fake clock cannot move backwards")

// Fake is a deterministic Clock whose time changes only through Advance and
// Set. Its timers fire during those calls, in order of deadline, with equal
// deadlines fired in the order the timers were created by NewTimer or
// AfterFunc (Reset does not change that order).
//
// Fake is safe for concurrent use by multiple goroutines. AfterFunc callbacks
// run synchronously in the goroutine calling Advance or Set, without the
// Fake's mutex held, so they may use the Fake and its timers freely.
// Concurrent calls to Advance or Set each fire every due timer exactly once,
// but the interleaving of their firings is unspecified.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	nextSeq uint64
	queue   timerQueue
}

var _ Clock = (*Fake)(nil)

// NewFake returns a Fake whose current time is start and which has no
// pending timers.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start}
}

// Now returns the Fake's current time. While a timer fires, Now returns that
// timer's deadline.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a Timer that sends its deadline on its channel when the
// Fake reaches Now()+d. A d of zero or less makes the timer due at the
// current time; it fires on the next call to Advance or Set.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return f.newTimer(d, make(chan time.Time, 1), nil)
}

// AfterFunc returns a Timer that calls fn when the Fake reaches Now()+d.
// fn runs in the goroutine calling Advance or Set, after the Fake's time has
// been set to the timer's deadline. The returned Timer's C method returns
// nil. AfterFunc panics if fn is nil.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	if fn == nil {
		panic("clock: AfterFunc called with nil func")
	}
	return f.newTimer(d, nil, fn)
}

func (f *Fake) newTimer(d time.Duration, ch chan time.Time, fn func()) *fakeTimer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{fake: f, seq: f.nextSeq, ch: ch, fn: fn, index: -1}
	f.nextSeq++
	f.arm(t, d)
	return t
}

// arm schedules t at f.now+d. The caller holds f.mu and t is not queued.
func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	t.deadline = f.now.Add(d)
	heap.Push(&f.queue, t)
}

// Advance moves the Fake's time forward by d and fires, in order, every timer
// whose deadline is at or before the resulting time, including timers
// created or reset by callbacks during the call. Each timer fires with the
// Fake's time set to its deadline. Advance(0) fires timers that are already
// due. Advance panics if d is negative.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("clock: Fake.Advance called with negative duration %v", d))
	}
	f.mu.Lock()
	target := f.now.Add(d)
	f.mu.Unlock()
	f.runUntil(target)
}

// Set moves the Fake's time to t, firing timers as Advance does. If t is
// before the current time, Set changes nothing, fires nothing and returns an
// error wrapping ErrBackwards. Setting the current time fires timers that
// are already due.
func (f *Fake) Set(t time.Time) error {
	f.mu.Lock()
	now := f.now
	f.mu.Unlock()
	if t.Before(now) {
		return fmt.Errorf("%w: current time %v, requested %v", ErrBackwards, now, t)
	}
	f.runUntil(t)
	return nil
}

// runUntil fires due timers one at a time, releasing f.mu around each
// callback, then sets the time to target unless it is already later.
func (f *Fake) runUntil(target time.Time) {
	for {
		f.mu.Lock()
		if len(f.queue) == 0 || f.queue[0].deadline.After(target) {
			if target.After(f.now) {
				f.now = target
			}
			f.mu.Unlock()
			return
		}
		t := heap.Pop(&f.queue).(*fakeTimer)
		if t.deadline.After(f.now) {
			f.now = t.deadline
		}
		fn := t.fn
		if t.ch != nil {
			select {
			case t.ch <- f.now:
			default:
			}
		}
		f.mu.Unlock()
		if fn != nil {
			fn()
		}
	}
}

// Next returns the earliest deadline among pending timers and true, or the
// zero time and false if no timer is pending.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return time.Time{}, false
	}
	return f.queue[0].deadline, true
}

// Pending returns the number of timers that are armed and have not yet fired
// or been stopped.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// fakeTimer is a Timer belonging to a Fake. Its deadline and index are
// guarded by fake.mu; index is -1 when the timer is not queued.
type fakeTimer struct {
	fake     *Fake
	deadline time.Time
	seq      uint64
	index    int
	ch       chan time.Time
	fn       func()
}

var _ Timer = (*fakeTimer)(nil)

func (t *fakeTimer) C() <-chan time.Time {
	if t.ch == nil {
		return nil
	}
	return t.ch
}

func (t *fakeTimer) Stop() bool {
	f := t.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	return t.disarm()
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	pending := t.disarm()
	f.arm(t, d)
	return pending
}

// disarm removes t from the queue and discards an unreceived value from its
// channel, reporting whether either was present. The caller holds fake.mu.
func (t *fakeTimer) disarm() bool {
	pending := false
	if t.index >= 0 {
		heap.Remove(&t.fake.queue, t.index)
		pending = true
	}
	if t.ch != nil {
		select {
		case <-t.ch:
			pending = true
		default:
		}
	}
	return pending
}

// timerQueue is a min-heap of timers ordered by deadline, then creation
// sequence.
type timerQueue []*fakeTimer

func (q timerQueue) Len() int { return len(q) }

func (q timerQueue) Less(i, j int) bool {
	if !q[i].deadline.Equal(q[j].deadline) {
		return q[i].deadline.Before(q[j].deadline)
	}
	return q[i].seq < q[j].seq
}

func (q timerQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *timerQueue) Push(x any) {
	t := x.(*fakeTimer)
	t.index = len(*q)
	*q = append(*q, t)
}

func (q *timerQueue) Pop() any {
	old := *q
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*q = old[:n-1]
	return t
}
