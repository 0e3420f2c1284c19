package sim

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/rumorhq/rumor/invariants"
	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/proto/wire"
	"pgregory.net/rapid"
)

// runOK runs o and fails the test on an options error.
func runOK(t testing.TB, o Options) Result {
	t.Helper()
	r, err := Run(o)
	if err != nil {
		t.Fatalf("Run(%+v): %v", o, err)
	}
	return r
}

// traced runs o and returns its trace.
func traced(t testing.TB, o Options) (Result, string) {
	t.Helper()
	var buf bytes.Buffer
	o.Trace = &buf
	r := runOK(t, o)
	return r, buf.String()
}

// firstDiff names the first differing line of two traces, or "".
func firstDiff(a, b string) string {
	if line, p, q := FirstDiff(a, b); line > 0 {
		return fmt.Sprintf("line %d:\n  first:  %s\n  second: %s", line, p, q)
	}
	return ""
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"default", Options{Seed: 1, Duration: 90 * time.Second}},
		{"swarm", Options{Seed: 7, Faults: ProfileSwarm, Duration: 90 * time.Second}},
		{"clock", Options{Seed: 3, Faults: ProfileClock, Duration: 90 * time.Second}},
		{"crash, wan", Options{Seed: 4, Faults: ProfileCrash, Config: ConfigWAN, Duration: 90 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, tr1 := traced(t, tt.opts)
			r2, tr2 := traced(t, tt.opts)
			if d := firstDiff(tr1, tr2); d != "" {
				t.Fatalf("same seed, different traces at %s", d)
			}
			if r1.TraceHash != r2.TraceHash || r1.TraceLines != r2.TraceLines {
				t.Fatalf("same seed: hash %s/%d lines, then %s/%d", r1.TraceHash, r1.TraceLines, r2.TraceHash, r2.TraceLines)
			}
			if r1.TraceLines < 100 || r1.Events == 0 || r1.Messages == 0 {
				t.Fatalf("run did too little: %d trace lines, %d events, %d messages", r1.TraceLines, r1.Events, r1.Messages)
			}
			o := tt.opts
			o.Seed++
			r3 := runOK(t, o)
			if r3.TraceHash == r1.TraceHash {
				t.Errorf("seeds %d and %d give the same trace hash %s", tt.opts.Seed, o.Seed, r1.TraceHash)
			}
		})
	}
}

func TestTraceIsHashedWithoutWriter(t *testing.T) {
	o := Options{Seed: 5, Duration: 30 * time.Second}
	r1, tr := traced(t, o)
	r2 := runOK(t, o)
	if r1.TraceHash != r2.TraceHash {
		t.Fatalf("hash with a writer %s, without %s", r1.TraceHash, r2.TraceHash)
	}
	if len(tr) < 2*traceChunk {
		t.Fatalf("a trace of %d bytes does not span the tracer's chunks of %d", len(tr), traceChunk)
	}
	if got := fmt.Sprintf("%016x", xxhash.Sum64String(tr)); got != r1.TraceHash {
		t.Errorf("XXH64 of the written trace = %s, Result.TraceHash = %s", got, r1.TraceHash)
	}
	if n := uint64(strings.Count(tr, "\n")); n != r1.TraceLines || !strings.HasSuffix(tr, "\n") {
		t.Errorf("written trace has %d lines, Result.TraceLines = %d", n, r1.TraceLines)
	}
	line := regexp.MustCompile(`^\d{6}\.\d{6} \S+`)
	for i, l := range strings.Split(strings.TrimSuffix(tr, "\n"), "\n") {
		if !line.MatchString(l) {
			t.Fatalf("trace line %d %q does not start with fixed-width simulated time", i+1, l)
		}
	}
}

// TestScheduleReplaysRun: replaying a run's executed schedule with the
// nemesis off gives the same trace, except for the nemesis's skipped
// actions (which the executed schedule leaves out).
func TestScheduleReplaysRun(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"default", Options{Seed: 2, Duration: 2 * time.Minute}},
		{"swarm", Options{Seed: 11, Faults: ProfileSwarm, Duration: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r1, tr1 := traced(t, tt.opts)
			if len(r1.Executed) == 0 {
				t.Fatalf("the nemesis did nothing in %v", tt.opts.Duration)
			}
			o := tt.opts
			o.Schedule, o.Scripted = r1.Executed, true
			r2, tr2 := traced(t, o)
			skip := regexp.MustCompile(`(?m)^\S+ nemesis skip .*\n`)
			if d := firstDiff(skip.ReplaceAllString(tr1, ""), tr2); d != "" {
				t.Fatalf("replay of %d executed entries differs at %s", len(r1.Executed), d)
			}
			if r2.Schedule != r1.Schedule {
				t.Errorf("replay executed %q, want %q", r2.Schedule, r1.Schedule)
			}
		})
	}
}

func TestShortSweepPasses(t *testing.T) {
	for _, p := range []Profile{ProfileDefault, ProfileCrash, ProfilePartition, ProfileLossy, ProfileClock} {
		t.Run(p.String(), func(t *testing.T) {
			for seed := int64(3); seed <= 5; seed++ {
				r := runOK(t, Options{Seed: seed, Faults: p, Duration: 2 * time.Minute})
				if r.Failed() {
					t.Errorf("seed %d: %s\n%v\nreproduce: %s", seed, r.Verdict, r.Violations, r.Command)
				}
			}
		})
	}
}

// plantedSweep runs seeds 1..n under swarm, safety phase only, and
// returns the failing seeds with their first violation.
func plantedSweep(t *testing.T, bug proto.PlantedBug, n int64) map[int64]Violation {
	t.Helper()
	out := map[int64]Violation{}
	for seed := int64(1); seed <= n; seed++ {
		r := runOK(t, Options{Seed: seed, Faults: ProfileSwarm, Duration: 3 * time.Minute, PlantedBug: bug, SkipLiveness: true})
		if v, ok := r.First(); ok {
			out[seed] = v
		}
	}
	return out
}

// TestPlantedBugsAreCaught is the simulator's self-test: a short sweep
// catches each planted protocol bug, and the same sweep without it passes.
func TestPlantedBugsAreCaught(t *testing.T) {
	const seeds = 5
	clean := plantedSweep(t, proto.NoBug, seeds)
	if len(clean) > 0 {
		t.Fatalf("the sweep fails without a planted bug: %v", clean)
	}
	for _, bug := range []proto.PlantedBug{proto.BugStatusRegress, proto.BugSkipConvergence} {
		t.Run(PlantedBugName(bug), func(t *testing.T) {
			caught := plantedSweep(t, bug, seeds)
			if len(caught) == 0 {
				t.Fatalf("seeds 1-%d of swarm never caught planted bug %s", seeds, PlantedBugName(bug))
			}
			for seed, v := range caught {
				if v.Phase != "safety" {
					t.Errorf("seed %d caught %s only as %s violation %q", seed, PlantedBugName(bug), v.Phase, v.Invariant)
				}
			}
		})
	}
}

func TestShrinkReducesPlantedBug(t *testing.T) {
	var o Options
	var failed Result
	found := false
	for seed := int64(1); seed <= 12 && !found; seed++ {
		o = Options{Seed: seed, Faults: ProfileSwarm, Duration: 3 * time.Minute, PlantedBug: proto.BugStatusRegress, SkipLiveness: true}
		failed = runOK(t, o)
		found = failed.Failed()
	}
	if !found {
		t.Fatal("no seed in 1-12 failed with the status-regress bug planted")
	}
	want, _ := failed.First()
	sr := Shrink(o, failed, 80, nil)
	if !sr.Reproduced {
		t.Fatalf("seed %d: the executed schedule did not reproduce %v", o.Seed, want)
	}
	got, ok := sr.Result.First()
	if !ok || got.Invariant != want.Invariant || got.Phase != want.Phase {
		t.Fatalf("shrunk run fails with %v, want invariant %q", got, want.Invariant)
	}
	if len(sr.Options.Schedule) > len(failed.Executed) || sr.Result.Nodes > failed.Nodes {
		t.Fatalf("shrinking grew the case: %d entries/%d nodes from %d/%d", len(sr.Options.Schedule), sr.Result.Nodes, len(failed.Executed), failed.Nodes)
	}
	if len(sr.Options.Schedule) == len(failed.Executed) && sr.Result.Nodes == failed.Nodes && durationOf(sr.Options) == durationOf(o) {
		t.Fatalf("shrinking reduced nothing: %d entries, %d nodes", len(failed.Executed), failed.Nodes)
	}
	// The printed command must reproduce the shrunk failure.
	again := runOK(t, sr.Options)
	if v, _ := again.First(); v.Invariant != want.Invariant {
		t.Errorf("rerunning %s gave %v, want %q", sr.Options.Command(), again.Violations, want.Invariant)
	}
	t.Logf("shrunk in %d runs to %s", sr.Runs, sr.Options.Command())
}

func TestClockNeverRunsBackUnlessStepped(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := lclock{l0: rapid.Int64Range(-1e10, 1e10).Draw(t, "offset"), rate: 1}
		now := int64(0)
		last := c.at(now)
		for i := 0; i < 20; i++ {
			now += rapid.Int64Range(0, 5e9).Draw(t, "advance")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				c.setRate(now, 1+rapid.Float64Range(-0.2, 0.2).Draw(t, "drift"))
			case 1:
				d := rapid.Int64Range(-5e9, 5e9).Draw(t, "step")
				c.step(now, d)
				last = c.at(now)
			}
			if got := c.at(now); got < last {
				t.Fatalf("clock went back from %d to %d without a step", last, got)
			}
			last = c.at(now)
			target := last + rapid.Int64Range(-1e9, 1e10).Draw(t, "deadline")
			at := c.simAt(target, now)
			if at < now || c.at(at) < target {
				t.Fatalf("simAt(%d, now=%d) = %d, where the clock reads %d", target, now, at, c.at(at))
			}
			// simAt may overshoot by a few nanoseconds, never by more.
			if at-16 >= now && c.at(at-16) >= target {
				t.Fatalf("simAt(%d) = %d is late: the clock read %d at %d", target, at, c.at(at-16), at-16)
			}
		}
	})
}

func TestScenarioCrashFigures(t *testing.T) {
	o, err := ScenarioOptions("crash", Options{Seed: 1, Nodes: 5})
	if err != nil {
		t.Fatal(err)
	}
	r := runOK(t, o)
	if r.Failed() {
		t.Fatalf("crash scenario failed: %v", r.Violations)
	}
	f := r.Figures
	for name, s := range map[string]Summary{
		"unreachable first": f.CrashUnreachableFirst, "unreachable all": f.CrashUnreachableAll,
		"down first": f.CrashDownFirst, "down all": f.CrashDownAll, "removed all": f.CrashRemovedAll,
	} {
		if s.Count != 1 {
			t.Errorf("%s measured %d times, want once", name, s.Count)
		}
	}
	order := []float64{f.CrashUnreachableFirst.Max, f.CrashUnreachableAll.Max, f.CrashDownAll.Max, f.CrashRemovedAll.Max}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Errorf("crash figures out of order (unreachable first, all, down all, removed all): %v", order)
		}
	}
	if f.StartupAllUp <= 0 || f.MsgsPerNodeSec <= 0 || f.BytesPerNodeSec <= 0 {
		t.Errorf("startup %.3fs, traffic %.2f msgs %.0f bytes per node per second: want all > 0", f.StartupAllUp, f.MsgsPerNodeSec, f.BytesPerNodeSec)
	}
	report := ScenarioReport("crash", r)
	if !strings.Contains(report, "crash -> unreachable at all monitors") || strings.Contains(report, "not reached") {
		t.Errorf("report misses a figure:\n%s", report)
	}
}

func TestWriteHTML(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantArrows bool
	}{
		{"small run draws messages", Options{Seed: 1, Nodes: 3, Faults: ProfileNone, Duration: 8 * time.Second, SkipLiveness: true, Timeline: true}, true},
		{"large run omits them", Options{Seed: 1, Duration: 2 * time.Minute, Timeline: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOK(t, tt.opts)
			var buf bytes.Buffer
			if err := WriteHTML(&buf, r); err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			for _, want := range []string{"<svg", ">n1</text>", "Up ", "reproduce: " + r.Command} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if got := strings.Contains(page, "marker-end"); got != tt.wantArrows {
				t.Errorf("arrows drawn = %v, want %v (%d messages)", got, tt.wantArrows, r.Timeline.Messages)
			}
			if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
				t.Error("page loads an external asset")
			}
		})
	}
}

func TestDrawParamsOverrideOnlyWhatIsGiven(t *testing.T) {
	base, err := DrawParams(Options{Seed: 9, Faults: ProfileSwarm})
	if err != nil {
		t.Fatal(err)
	}
	keep := proto.KeepOldest
	got, err := DrawParams(Options{Seed: 9, Faults: ProfileSwarm, Nodes: base.Nodes + 4, Downing: &keep})
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Nodes = base.Nodes + 4
	want.MaxSlots = got.MaxSlots
	want.Config.Downing = proto.DowningConfig{Strategy: proto.KeepOldest}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overriding nodes and downing changed other parameters (-want +got):\n%s", diff)
	}
}

func TestCoverageCountsSeedsReachingEachProbe(t *testing.T) {
	var c Coverage
	c.Add(Result{Seed: 1, Verdict: VerdictPass, Probes: Probes{Crashes: 2, Swizzles: 1}})
	c.Add(Result{Seed: 2, Verdict: VerdictSafety, Probes: Probes{Crashes: 1}})
	c.Add(Result{Seed: 3, Verdict: VerdictLiveness})
	got := map[string]uint64{}
	for _, p := range c.Reached() {
		got[p.Name] = p.Count
	}
	if got["crashes"] != 2 || got["swizzles"] != 1 || got["downed"] != 0 {
		t.Errorf("reached crashes=%d swizzles=%d downed=%d, want 2, 1, 0", got["crashes"], got["swizzles"], got["downed"])
	}
	if diff := cmp.Diff([]int64{2, 3}, c.Failing); diff != "" || c.Passed != 1 || c.Safety != 1 || c.Liveness != 1 {
		t.Errorf("verdict counts pass=%d safety=%d liveness=%d, failing (-want +got):\n%s", c.Passed, c.Safety, c.Liveness, diff)
	}
}

// BenchmarkEventLoop measures the whole event loop (netsim, proto nodes,
// safety checks, trace hashing, byte accounting) on a fault-free cluster:
// events per second, simulated seconds per wall second, and allocations
// per event.
func BenchmarkEventLoop(b *testing.B) {
	for _, n := range []int{5, 100} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			var events uint64
			var simSecs float64
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < b.N; i++ {
				r := runOK(b, Options{Seed: int64(i + 1), Nodes: n, Faults: ProfileNone, Duration: time.Minute, SkipLiveness: true, NoWorkload: true})
				events += r.Events
				simSecs += r.SimSeconds
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(simSecs/b.Elapsed().Seconds(), "sim-s/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
		})
	}
}

// BenchmarkDefaultRun measures the README's main command: seed 1, five
// nodes, the default fault profile, ten simulated minutes and the liveness
// phase, workload on.
func BenchmarkDefaultRun(b *testing.B) {
	var events uint64
	var simSecs float64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < b.N; i++ {
		r := runOK(b, Options{Seed: 1})
		if r.Failed() {
			b.Fatalf("seed 1 failed: %v", r.Violations)
		}
		events += r.Events
		simSecs += r.SimSeconds
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(simSecs/b.Elapsed().Seconds(), "sim-s/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(events), "allocs/event")
}

// TestSizesAreExact: the cached sizes the byte counters use are
// wire.Size's, message for message.
func TestSizesAreExact(t *testing.T) {
	var checked, wrong int
	var first string
	sizeCheck = func(m proto.Message, got int) {
		checked++
		if want := wire.Size(m); got != want {
			if wrong == 0 {
				first = fmt.Sprintf("%s %v -> %v: size %d, wire.Size %d", m.Body.Kind(), m.From, m.To, got, want)
			}
			wrong++
		}
	}
	defer func() { sizeCheck = nil }()
	for _, o := range []Options{
		{Seed: 3, Faults: ProfileSwarm, Duration: time.Minute},
		{Seed: 4, Duration: time.Minute},
	} {
		runOK(t, o)
	}
	if checked < 1000 || wrong > 0 {
		t.Errorf("%d of %d sizes differ from wire.Size; first: %s", wrong, checked, first)
	}
}

// TestShortcutsChangeNothing: the views observe (or afterStep) skips as
// already seen are ones the checker finds nothing in, the timers afterStep keeps are the
// ones schedule would set, and the startup figure's remembered counts are
// the counts, on clean runs, on runs whose planted bugs the
// checker catches, and on larger clusters.
func TestShortcutsChangeNothing(t *testing.T) {
	checkShortcuts = true
	defer func() { checkShortcuts = false }()
	caught := 0
	for _, bug := range []proto.PlantedBug{proto.NoBug, proto.BugStatusRegress, proto.BugSkipConvergence} {
		for seed := int64(1); seed <= 3; seed++ {
			r := runOK(t, Options{Seed: seed, Faults: ProfileSwarm, Duration: 3 * time.Minute, PlantedBug: bug, SkipLiveness: true})
			if r.Failed() {
				caught++
			}
		}
	}
	if caught == 0 {
		t.Errorf("no run caught a planted bug: the skipped views were never checked against a violation")
	}
	for _, n := range []int{12, 40} {
		if r := runOK(t, Options{Seed: 1, Nodes: n, Faults: ProfileNone, Duration: time.Minute, SkipLiveness: true}); r.Figures.StartupAllUp == 0 {
			t.Errorf("%d nodes: no startup figure", n)
		}
	}
}

// TestLeaderAllocationsAreJudged: ticks reach the checker as Ticked views,
// so the leader's part of allocation-valid (every allocated primary and
// replica an Up member hosting the type) runs in simulations, and a run
// with shard traffic judges its leaders' tables.
func TestLeaderAllocationsAreJudged(t *testing.T) {
	var got invariants.Stats
	checkerStats = func(st invariants.Stats) { got = st }
	defer func() { checkerStats = nil }()
	runOK(t, Options{Seed: 1, Duration: 2 * time.Minute})
	if got.LeaderChecks == 0 {
		t.Fatalf("no leader allocation judged in a 2-minute run: %+v", got)
	}
	if got.Views == 0 || got.LeaderChecks > got.Views {
		t.Fatalf("checker counters out of range: %+v", got)
	}
}
