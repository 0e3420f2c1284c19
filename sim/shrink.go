package sim

import (
	"fmt"
	"time"
)

// ShrinkResult is the smallest reproduction Shrink found.
type ShrinkResult struct {
	// Target is the violation every candidate had to reproduce (same
	// phase and invariant).
	Target Violation
	// Options reproduce Target with a scripted schedule; Result is their
	// run.
	Options Options
	Result  Result
	// Runs counts the simulations tried.
	Runs int
	// Reproduced is false when even the full executed schedule did not
	// reproduce the failure (Options is then the original run's).
	Reproduced bool
}

// Shrink minimises a failing run: it replays the run's executed fault
// schedule as a script, then cuts the duration to just past the violation,
// drops schedule entries by delta debugging (halves, quarters, ... single
// entries), lowers the cluster size and turns the workload off, keeping
// each change only while the same invariant still fails in the same
// phase. It stops after maxRuns simulations. progress, when set, hears
// about every accepted step.
func Shrink(o Options, failed Result, maxRuns int, progress func(string)) ShrinkResult {
	target, ok := failed.First()
	res := ShrinkResult{Target: target, Options: o, Result: failed}
	if !ok {
		return res
	}
	say := func(format string, args ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, args...))
		}
	}
	o.Trace, o.Timeline = nil, false
	try := func(c Options) (Result, bool) {
		if res.Runs >= maxRuns {
			return Result{}, false
		}
		res.Runs++
		r, err := Run(c)
		if err != nil {
			return r, false
		}
		v, ok := r.First()
		return r, ok && v.Phase == target.Phase && v.Invariant == target.Invariant
	}
	cur := o
	cur.Schedule, cur.Scripted = append(Schedule{}, failed.Executed...), true
	r, ok := try(cur)
	if !ok {
		say("the executed schedule does not reproduce %q; keeping the seed alone", target.Invariant)
		return res
	}
	res.Reproduced = true
	best := r
	accept := func(c Options, r Result, what string) {
		cur, best = c, r
		say("%s: %d entries, %d nodes, %v", what, len(cur.Schedule), best.Nodes, durationOf(cur))
	}
	// Duration: a safety violation stops the run, so a run that ends just
	// after it is the same run.
	if target.Phase == "safety" {
		d := (time.Duration(best.Violations[0].At*float64(time.Second)) + time.Second).Truncate(time.Second)
		if d < durationOf(cur) {
			c := cur
			c.Duration = d
			if r, ok := try(c); ok {
				accept(c, r, "cut duration")
			}
		}
	}
	for pass := 0; pass < 3 && res.Runs < maxRuns; pass++ {
		changed := false
		// Schedule entries.
		entries := ddmin(cur.Schedule, func(sub Schedule) bool {
			c := cur
			c.Schedule = sub
			r, ok := try(c)
			if ok {
				best = r
			}
			return ok
		})
		if len(entries) < len(cur.Schedule) {
			cur.Schedule = entries
			changed = true
			say("dropped faults: %d entries left", len(entries))
		}
		// Cluster size, smallest first.
		for n := 1; n < best.Nodes && res.Runs < maxRuns; n++ {
			c := cur
			c.Nodes = n
			c.Schedule = withoutSlots(cur.Schedule, n, best.Nodes)
			if r, ok := try(c); ok {
				accept(c, r, fmt.Sprintf("%d nodes", n))
				changed = true
				break
			}
		}
		// Workload.
		if !cur.NoWorkload {
			c := cur
			c.NoWorkload = true
			if r, ok := try(c); ok {
				accept(c, r, "workload off")
				changed = true
			}
		}
		// Duration: the smallest of a few candidates after the last entry
		// (for a liveness failure the heal must still come late enough).
		last := time.Duration(0)
		for _, e := range cur.Schedule {
			last = max(last, e.At)
		}
		for _, d := range []time.Duration{last + time.Second, last + 5*time.Second, last + 15*time.Second, last + 30*time.Second, durationOf(cur) / 2} {
			d = d.Truncate(time.Second)
			if d <= last || d >= durationOf(cur) || res.Runs >= maxRuns {
				continue
			}
			c := cur
			c.Duration = d
			if r, ok := try(c); ok {
				accept(c, r, "cut duration")
				changed = true
				break
			}
		}
		if !changed {
			break
		}
	}
	res.Options, res.Result = cur, best
	return res
}

func durationOf(o Options) time.Duration {
	if o.Duration == 0 {
		return DefaultDuration
	}
	return o.Duration
}

// withoutSlots drops the entries naming initial slots that a smaller
// cluster of n nodes (down from old) no longer has.
func withoutSlots(s Schedule, n, old int) Schedule {
	var out Schedule
	for _, e := range s {
		keep := true
		for _, x := range e.nodes() {
			if x >= n && x < old {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// ddmin is Zeller's delta debugging: it returns a subsequence of items on
// which fails still holds, trying to remove chunks of halving size.
func ddmin(items Schedule, fails func(Schedule) bool) Schedule {
	if len(items) == 0 {
		return items
	}
	if fails(Schedule{}) {
		return Schedule{}
	}
	n := 2
	for len(items) >= 2 {
		chunk := (len(items) + n - 1) / n
		reduced := false
		for i := 0; i*chunk < len(items); i++ {
			lo, hi := i*chunk, min((i+1)*chunk, len(items))
			rest := append(append(Schedule{}, items[:lo]...), items[hi:]...)
			if fails(rest) {
				items = rest
				n = max(n-1, 2)
				reduced = true
				break
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(2*n, len(items))
		}
	}
	return items
}
