package clock

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Compile-time assertions that both clocks implement Clock.
var (
	_ Clock = Real{}
	_ Clock = (*Fake)(nil)
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// event records one callback: its name and the Fake's Now when it ran.
type event struct {
	Name string
	At   time.Time
}

// recorder collects events from AfterFunc callbacks.
type recorder struct {
	mu     sync.Mutex
	events []event
}

// cb returns a callback that records name with f.Now().
func (r *recorder) cb(f *Fake, name string) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, event{Name: name, At: f.Now()})
	}
}

func (r *recorder) got() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func at(d time.Duration) time.Time { return epoch.Add(d) }

func TestFakeAdvanceFiring(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(f *Fake, r *recorder)
		advance     []time.Duration
		want        []event
		wantNow     time.Time
		wantPending int
	}{
		{
			name: "fires in deadline order regardless of creation order",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(3*time.Second, r.cb(f, "c"))
				f.AfterFunc(1*time.Second, r.cb(f, "a"))
				f.AfterFunc(2*time.Second, r.cb(f, "b"))
			},
			advance: []time.Duration{5 * time.Second},
			want: []event{
				{"a", at(1 * time.Second)},
				{"b", at(2 * time.Second)},
				{"c", at(3 * time.Second)},
			},
			wantNow: at(5 * time.Second),
		},
		{
			name: "equal deadlines fire in creation order",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(time.Second, r.cb(f, "first"))
				f.AfterFunc(time.Second, r.cb(f, "second"))
				f.AfterFunc(time.Second, r.cb(f, "third"))
			},
			advance: []time.Duration{time.Second},
			want: []event{
				{"first", at(time.Second)},
				{"second", at(time.Second)},
				{"third", at(time.Second)},
			},
			wantNow: at(time.Second),
		},
		{
			name: "only timers at or before the new time fire",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(time.Second, r.cb(f, "due"))
				f.AfterFunc(time.Second+time.Nanosecond, r.cb(f, "late"))
			},
			advance:     []time.Duration{time.Second},
			want:        []event{{"due", at(time.Second)}},
			wantNow:     at(time.Second),
			wantPending: 1,
		},
		{
			name: "successive advances fire each window in turn",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(1500*time.Millisecond, r.cb(f, "b"))
				f.AfterFunc(500*time.Millisecond, r.cb(f, "a"))
			},
			advance: []time.Duration{time.Second, time.Second},
			want: []event{
				{"a", at(500 * time.Millisecond)},
				{"b", at(1500 * time.Millisecond)},
			},
			wantNow: at(2 * time.Second),
		},
		{
			name: "Advance(0) fires zero and negative duration timers",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(0, r.cb(f, "zero"))
				f.AfterFunc(-time.Second, r.cb(f, "negative"))
				f.AfterFunc(time.Nanosecond, r.cb(f, "future"))
			},
			advance: []time.Duration{0},
			want: []event{
				{"zero", at(0)},
				{"negative", at(0)},
			},
			wantNow:     at(0),
			wantPending: 1,
		},
		{
			name: "Advance(0) fires a timer that was reset to zero",
			setup: func(f *Fake, r *recorder) {
				tm := f.AfterFunc(time.Hour, r.cb(f, "reset"))
				tm.Reset(0)
			},
			advance: []time.Duration{0},
			want:    []event{{"reset", at(0)}},
			wantNow: at(0),
		},
		{
			name: "callbacks creating timers inside the window fire in order",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(1*time.Second, func() {
					r.cb(f, "parent")()
					// Deadline 1s+2s = 3s: after "sibling" at 2s.
					f.AfterFunc(2*time.Second, func() {
						r.cb(f, "child")()
						// Deadline 3s+1s = 4s: inside the window.
						f.AfterFunc(time.Second, r.cb(f, "grandchild"))
						// Deadline 3s+10s = 13s: outside the window.
						f.AfterFunc(10*time.Second, r.cb(f, "outside"))
					})
					// Deadline 1s+0 = 1s: due now, after its parent.
					f.AfterFunc(0, r.cb(f, "immediate"))
				})
				f.AfterFunc(2*time.Second, r.cb(f, "sibling"))
				f.AfterFunc(4*time.Second, r.cb(f, "tie-older"))
			},
			advance: []time.Duration{5 * time.Second},
			want: []event{
				{"parent", at(1 * time.Second)},
				{"immediate", at(1 * time.Second)},
				{"sibling", at(2 * time.Second)},
				{"child", at(3 * time.Second)},
				{"tie-older", at(4 * time.Second)},
				{"grandchild", at(4 * time.Second)},
			},
			wantNow:     at(5 * time.Second),
			wantPending: 1,
		},
		{
			name: "stopped timer does not fire",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(time.Second, r.cb(f, "kept"))
				tm := f.AfterFunc(time.Second, r.cb(f, "stopped"))
				tm.Stop()
			},
			advance: []time.Duration{time.Hour},
			want:    []event{{"kept", at(time.Second)}},
			wantNow: at(time.Hour),
		},
		{
			name: "callback stopping a later timer prevents it firing",
			setup: func(f *Fake, r *recorder) {
				var victim Timer
				f.AfterFunc(time.Second, func() {
					r.cb(f, "killer")()
					victim.Stop()
				})
				victim = f.AfterFunc(2*time.Second, r.cb(f, "victim"))
			},
			advance: []time.Duration{time.Hour},
			want:    []event{{"killer", at(time.Second)}},
			wantNow: at(time.Hour),
		},
		{
			name: "reset timer fires at its new deadline and keeps creation order",
			setup: func(f *Fake, r *recorder) {
				a := f.AfterFunc(time.Second, r.cb(f, "a"))
				f.AfterFunc(3*time.Second, r.cb(f, "b"))
				a.Reset(3 * time.Second)
			},
			advance: []time.Duration{5 * time.Second},
			want: []event{
				{"a", at(3 * time.Second)},
				{"b", at(3 * time.Second)},
			},
			wantNow: at(5 * time.Second),
		},
		{
			name: "callback resetting its own timer re-arms it",
			setup: func(f *Fake, r *recorder) {
				var tick Timer
				n := 0
				tick = f.AfterFunc(time.Second, func() {
					r.cb(f, "tick")()
					n++
					if n < 3 {
						tick.Reset(time.Second)
					}
				})
			},
			advance: []time.Duration{10 * time.Second},
			want: []event{
				{"tick", at(1 * time.Second)},
				{"tick", at(2 * time.Second)},
				{"tick", at(3 * time.Second)},
			},
			wantNow: at(10 * time.Second),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			r := &recorder{}
			tt.setup(f, r)
			for _, d := range tt.advance {
				f.Advance(d)
			}
			if diff := cmp.Diff(tt.want, r.got()); diff != "" {
				t.Errorf("fired events mismatch (-want +got):\n%s", diff)
			}
			if got := f.Now(); !got.Equal(tt.wantNow) {
				t.Errorf("Now() = %v, want %v", got, tt.wantNow)
			}
			if got := f.Pending(); got != tt.wantPending {
				t.Errorf("Pending() = %d, want %d", got, tt.wantPending)
			}
		})
	}
}

func TestFakeStop(t *testing.T) {
	tests := []struct {
		name       string
		run        func(f *Fake) (stops []bool, fired int)
		wantStops  []bool
		wantFired  int
		wantLeft   int
		wantCEmpty bool
	}{
		{
			name: "stop before deadline prevents firing",
			run: func(f *Fake) ([]bool, int) {
				fired := 0
				tm := f.AfterFunc(time.Second, func() { fired++ })
				s := tm.Stop()
				f.Advance(time.Hour)
				return []bool{s}, fired
			},
			wantStops: []bool{true},
			wantFired: 0,
		},
		{
			name: "stop twice reports false the second time",
			run: func(f *Fake) ([]bool, int) {
				fired := 0
				tm := f.AfterFunc(time.Second, func() { fired++ })
				s1 := tm.Stop()
				s2 := tm.Stop()
				f.Advance(time.Hour)
				return []bool{s1, s2}, fired
			},
			wantStops: []bool{true, false},
			wantFired: 0,
		},
		{
			name: "stop after an AfterFunc fired reports false",
			run: func(f *Fake) ([]bool, int) {
				fired := 0
				tm := f.AfterFunc(time.Second, func() { fired++ })
				f.Advance(time.Second)
				return []bool{tm.Stop()}, fired
			},
			wantStops: []bool{false},
			wantFired: 1,
		},
		{
			name: "stop removes only the stopped timer",
			run: func(f *Fake) ([]bool, int) {
				fired := 0
				tm := f.AfterFunc(time.Second, func() { fired++ })
				f.AfterFunc(time.Minute, func() { fired++ })
				return []bool{tm.Stop()}, fired
			},
			wantStops: []bool{true},
			wantFired: 0,
			wantLeft:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			stops, fired := tt.run(f)
			if diff := cmp.Diff(tt.wantStops, stops); diff != "" {
				t.Errorf("Stop results mismatch (-want +got):\n%s", diff)
			}
			if fired != tt.wantFired {
				t.Errorf("callback ran %d times, want %d", fired, tt.wantFired)
			}
			if got := f.Pending(); got != tt.wantLeft {
				t.Errorf("Pending() = %d, want %d", got, tt.wantLeft)
			}
		})
	}
}

// received reports what a non-blocking receive from c yields.
func received(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

// chanResult is the observable outcome of a channel timer scenario.
type chanResult struct {
	Results []bool    // return values of Stop/Reset calls, in order
	Got     bool      // whether a value was waiting on C at the end
	Value   time.Time // that value, if any
}

func TestFakeChannelTimer(t *testing.T) {
	tests := []struct {
		name string
		run  func(f *Fake, tm Timer) []bool
		want chanResult
	}{
		{
			name: "delivers its deadline once due",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(3 * time.Second)
				return nil
			},
			want: chanResult{Got: true, Value: at(2 * time.Second)},
		},
		{
			name: "delivers nothing before its deadline",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(2*time.Second - time.Nanosecond)
				return nil
			},
			want: chanResult{},
		},
		{
			name: "stop before deadline prevents delivery",
			run: func(f *Fake, tm Timer) []bool {
				s := tm.Stop()
				f.Advance(time.Hour)
				return []bool{s}
			},
			want: chanResult{Results: []bool{true}},
		},
		{
			name: "stop after unreceived firing discards the value",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(time.Hour)
				return []bool{tm.Stop()}
			},
			want: chanResult{Results: []bool{true}},
		},
		{
			name: "stop after received firing reports false",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(time.Hour)
				<-tm.C()
				return []bool{tm.Stop()}
			},
			want: chanResult{Results: []bool{false}},
		},
		{
			name: "reset of pending timer re-arms at new deadline",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(time.Second)
				r := tm.Reset(5 * time.Second) // due at 6s
				f.Advance(4 * time.Second)     // 5s: not yet
				if _, ok := received(tm.C()); ok {
					t.Errorf("value received before reset deadline")
				}
				f.Advance(time.Second) // 6s
				return []bool{r}
			},
			want: chanResult{Results: []bool{true}, Got: true, Value: at(6 * time.Second)},
		},
		{
			name: "reset after unreceived firing drops the stale value",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(2 * time.Second)
				r := tm.Reset(time.Second) // due at 3s
				if v, ok := received(tm.C()); ok {
					t.Errorf("stale value %v received after Reset", v)
				}
				f.Advance(time.Second)
				return []bool{r}
			},
			want: chanResult{Results: []bool{true}, Got: true, Value: at(3 * time.Second)},
		},
		{
			name: "reset after received firing reports false and fires again",
			run: func(f *Fake, tm Timer) []bool {
				f.Advance(2 * time.Second)
				<-tm.C()
				r := tm.Reset(time.Second) // due at 3s
				f.Advance(time.Second)
				return []bool{r}
			},
			want: chanResult{Results: []bool{false}, Got: true, Value: at(3 * time.Second)},
		},
		{
			name: "reset of stopped timer re-arms it",
			run: func(f *Fake, tm Timer) []bool {
				s := tm.Stop()
				r := tm.Reset(time.Minute)
				f.Advance(time.Minute)
				return []bool{s, r}
			},
			want: chanResult{Results: []bool{true, false}, Got: true, Value: at(time.Minute)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			tm := f.NewTimer(2 * time.Second)
			if tm.C() == nil {
				t.Fatal("NewTimer returned a timer with nil C()")
			}
			var got chanResult
			got.Results = tt.run(f, tm)
			got.Value, got.Got = received(tm.C())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFakeChannelDoesNotBlockAdvance(t *testing.T) {
	f := NewFake(epoch)
	tm := f.NewTimer(time.Second)
	// Nobody receives; Advance must return and leave one value buffered.
	f.Advance(time.Second)
	if got := cap(tm.C()); got != 1 {
		t.Errorf("cap(C()) = %d, want 1", got)
	}
	if got := len(tm.C()); got != 1 {
		t.Errorf("len(C()) = %d, want 1", got)
	}
}

func TestFakeAfterFuncHasNilChannel(t *testing.T) {
	f := NewFake(epoch)
	tm := f.AfterFunc(time.Second, func() {})
	if tm.C() != nil {
		t.Errorf("AfterFunc timer C() = %v, want nil", tm.C())
	}
}

func TestFakeNextAndPending(t *testing.T) {
	tests := []struct {
		name        string
		durations   []time.Duration
		stop        []int // indexes of timers to stop
		advance     time.Duration
		wantNext    time.Time
		wantOK      bool
		wantPending int
	}{
		{
			name:   "no timers",
			wantOK: false,
		},
		{
			name:        "earliest of several",
			durations:   []time.Duration{3 * time.Second, time.Second, 2 * time.Second},
			wantNext:    at(time.Second),
			wantOK:      true,
			wantPending: 3,
		},
		{
			name:        "stopped earliest is skipped",
			durations:   []time.Duration{3 * time.Second, time.Second, 2 * time.Second},
			stop:        []int{1},
			wantNext:    at(2 * time.Second),
			wantOK:      true,
			wantPending: 2,
		},
		{
			name:        "fired timers are no longer pending",
			durations:   []time.Duration{3 * time.Second, time.Second, 2 * time.Second},
			advance:     2 * time.Second,
			wantNext:    at(3 * time.Second),
			wantOK:      true,
			wantPending: 1,
		},
		{
			name:        "all fired",
			durations:   []time.Duration{time.Second},
			advance:     time.Second,
			wantOK:      false,
			wantPending: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			var timers []Timer
			for _, d := range tt.durations {
				timers = append(timers, f.NewTimer(d))
			}
			for _, i := range tt.stop {
				timers[i].Stop()
			}
			f.Advance(tt.advance)
			next, ok := f.Next()
			if ok != tt.wantOK || !next.Equal(tt.wantNext) {
				t.Errorf("Next() = (%v, %v), want (%v, %v)", next, ok, tt.wantNext, tt.wantOK)
			}
			if got := f.Pending(); got != tt.wantPending {
				t.Errorf("Pending() = %d, want %d", got, tt.wantPending)
			}
		})
	}
}

func TestFakeSet(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *Fake, r *recorder)
		to      time.Time
		wantErr error
		wantNow time.Time
		want    []event
	}{
		{
			name: "forward fires due timers in order",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(3*time.Second, r.cb(f, "c"))
				f.AfterFunc(1*time.Second, r.cb(f, "a"))
				f.AfterFunc(2*time.Second, r.cb(f, "b"))
			},
			to:      at(2 * time.Second),
			wantNow: at(2 * time.Second),
			want: []event{
				{"a", at(1 * time.Second)},
				{"b", at(2 * time.Second)},
			},
		},
		{
			name: "current time fires already due timers",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(0, r.cb(f, "due"))
				f.AfterFunc(time.Second, r.cb(f, "later"))
			},
			to:      at(0),
			wantNow: at(0),
			want:    []event{{"due", at(0)}},
		},
		{
			name: "backwards is rejected and fires nothing",
			setup: func(f *Fake, r *recorder) {
				f.AfterFunc(0, r.cb(f, "due"))
			},
			to:      at(-time.Nanosecond),
			wantErr: ErrBackwards,
			wantNow: at(0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(epoch)
			r := &recorder{}
			tt.setup(f, r)
			err := f.Set(tt.to)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Set(%v) error = %v, want %v", tt.to, err, tt.wantErr)
			}
			if got := f.Now(); !got.Equal(tt.wantNow) {
				t.Errorf("Now() = %v, want %v", got, tt.wantNow)
			}
			if diff := cmp.Diff(tt.want, r.got()); diff != "" {
				t.Errorf("fired events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFakeAdvanceNegativePanics(t *testing.T) {
	f := NewFake(epoch)
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1) did not panic")
		}
		if got := f.Now(); !got.Equal(epoch) {
			t.Errorf("Now() = %v after panicking Advance, want %v", got, epoch)
		}
	}()
	f.Advance(-1)
}

func TestFakeConcurrentUse(t *testing.T) {
	const (
		workers   = 8
		perWorker = 50
	)
	f := NewFake(epoch)
	var (
		mu    sync.Mutex
		fired = map[int]int{}
		wg    sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				id := w*perWorker + i
				f.AfterFunc(time.Duration(i+1)*time.Millisecond, func() {
					mu.Lock()
					fired[id]++
					mu.Unlock()
				})
				f.Advance(time.Millisecond / 2)
				_ = f.Now()
				_, _ = f.Next()
			}
		}()
	}
	wg.Wait()
	// Every timer's deadline is at most perWorker ms after the latest
	// creation time, so one more window of that size fires the rest.
	f.Advance(time.Duration(perWorker+1) * time.Millisecond)

	want := map[int]int{}
	for id := 0; id < workers*perWorker; id++ {
		want[id] = 1
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, fired); diff != "" {
		t.Errorf("fire counts mismatch (-want +got):\n%s", diff)
	}
	if got := f.Pending(); got != 0 {
		t.Errorf("Pending() = %d, want 0", got)
	}
}

// waitLimit bounds how long the Real tests wait for a timer; it is a
// deadlock guard, not a speed assertion.
const waitLimit = 5 * time.Second

func TestRealTimers(t *testing.T) {
	tests := []struct {
		name string
		make func(c Clock) (Timer, <-chan struct{})
	}{
		{
			name: "NewTimer delivers on C",
			make: func(c Clock) (Timer, <-chan struct{}) {
				tm := c.NewTimer(time.Millisecond)
				done := make(chan struct{})
				go func() {
					<-tm.C()
					close(done)
				}()
				return tm, done
			},
		},
		{
			name: "AfterFunc runs its callback",
			make: func(c Clock) (Timer, <-chan struct{}) {
				done := make(chan struct{})
				tm := c.AfterFunc(time.Millisecond, func() { close(done) })
				return tm, done
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Clock = Real{}
			_, done := tt.make(c)
			limit := time.NewTimer(waitLimit)
			defer limit.Stop()
			select {
			case <-done:
			case <-limit.C:
				t.Fatalf("1ms real timer did not fire within %v", waitLimit)
			}
		})
	}
}

func TestRealStopPreventsFiring(t *testing.T) {
	var c Clock = Real{}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("Stop() on pending real timer = false, want true")
	}
	if tm.Stop() {
		t.Error("second Stop() on real timer = true, want false")
	}
	if tm.C() == nil {
		t.Error("real NewTimer C() = nil, want channel")
	}
	if got := c.AfterFunc(time.Hour, func() {}); got.C() != nil || !got.Stop() {
		t.Error("real AfterFunc timer: want nil C() and Stop() = true")
	}
}

func TestRealNowTracksTime(t *testing.T) {
	before := time.Now()
	got := Real{}.Now()
	after := time.Now()
	if got.Before(before) || got.After(after) {
		t.Errorf("Real{}.Now() = %v, want within [%v, %v]", got, before, after)
	}
}
