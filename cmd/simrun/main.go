// Command simrun runs rumor's deterministic simulator (package sim): one
// seed, a sweep of seeds, a determinism check, a shrink of a failing seed,
// or a scripted scenario that measures the design's quality goals.
//
// With no flags it runs seed 1: 5 nodes, the default fault profile, 10
// simulated minutes, and prints the drawn parameters, probe counters,
// figures and verdict.
//
// Flags:
//
//	-seed N               the seed (default 1)
//	-seeds A-B            sweep seeds A..B on -workers goroutines (default
//	                      GOMAXPROCS); output in seed order, then a probe
//	                      coverage table (seeds reaching each probe)
//	-nodes N              initial cluster size (default 5; swarm draws it)
//	-duration D           simulated length of the safety phase (default 10m)
//	-faults P             none|crash|partition|lossy|clock|default|swarm
//	-config C             default|lan|wan|local (proto config profile)
//	-downing S            keep-majority|static-quorum|keep-oldest
//	-json                 one JSON object per seed
//	-trace FILE           write the trace (it is hashed either way)
//	-html FILE            write a self-contained HTML timeline
//	-check-determinism    run twice, compare traces line by line
//	-shrink               minimise a failing seed; prints a -schedule command
//	-schedule S           run exactly this fault schedule instead of the
//	                      nemesis ("12.5s crash n3; 20s heal", or @FILE; the
//	                      syntax is sim.Schedule's)
//	-scenario NAME        crash|join|leave|partition|steady: scripted runs
//	                      printing the quality-goal figures
//	-planted-bug B        skip-convergence|status-regress (self-test only)
//	-workload=false       no seeded registry commands
//	-liveness=false       safety phase only
//	-cpuprofile FILE      write a CPU profile (go tool pprof FILE)
//	-memprofile FILE      write a heap profile at exit
//
// simrun runs Go's garbage collector less often than the default (GOGC=400
// with an 8 GiB soft memory limit); the GOGC and GOMEMLIMIT environment
// variables override either.
//
// Every failure prints the invariant, the incarnation ("n3/2": slot n3,
// second incarnation), the simulated time and a paste-able
// "go run ./cmd/simrun ..." line. Exit codes: 0 nothing violated, 1 a
// safety violation (or a non-deterministic run), 2 a liveness violation,
// 3 bad usage.
//
// Examples:
//
//	simrun -seed 7 -faults swarm
//	simrun -seeds 1-200 -faults swarm -json
//	simrun -seed 7 -trace /tmp/t.txt -html /tmp/t.html
//	simrun -seed 7 -faults swarm -shrink
//	simrun -seed 3 -nodes 4 -duration 40s -schedule "12.5s crash n3; 20s restart n3"
//	simrun -scenario crash -nodes 20
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rumorhq/rumor/sim"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Garbage collector settings, unless GOGC or GOMEMLIMIT set them. Every
// merge on every node allocates a new gossip state, garbage within a few
// rounds, so with Go's default target (GOGC=100: twice the live heap) the
// collector is marking, and every pointer write pays its write barrier,
// for much of a run. Letting the heap grow to five times the live heap
// cuts the collections fourfold; the soft limit keeps a large cluster (a
// 1,000-node run holds about 0.8 GB live) from growing past it.
const (
	gcPercent   = 400
	memoryLimit = 8 << 30
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// Exit codes.
const (
	exitOK       = 0
	exitSafety   = 1
	exitLiveness = 2
	exitUsage    = 3
)

// usageError is a bad command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// config is the parsed command line.
type config struct {
	opts        sim.Options
	from, to    int64
	sweep       bool
	workers     int
	json        bool
	trace, html string
	determinism bool
	shrink      bool
	shrinkRuns  int
	scenario    string
	cpuprofile  string
	memprofile  string
}

// run is simrun without the process: it parses args, runs, writes to
// stdout and stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		fmt.Fprintln(stderr, "run 'simrun -h' for the flags")
		return exitUsage
	}
	if c.cpuprofile != "" {
		stop, err := startCPUProfile(c.cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "simrun: -cpuprofile: %v\n", err)
			return exitUsage
		}
		defer stop()
	}
	if c.memprofile != "" {
		defer func() {
			if err := writeHeapProfile(c.memprofile); err != nil {
				fmt.Fprintf(stderr, "simrun: -memprofile: %v\n", err)
			}
		}()
	}
	switch {
	case c.scenario != "":
		return runScenario(c, stdout, stderr)
	case c.sweep:
		return runSweep(c, stdout, stderr)
	case c.determinism:
		return runDeterminism(c, stdout, stderr)
	case c.shrink:
		return runShrink(c, stdout, stderr)
	}
	return runOne(c, stdout, stderr)
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("simrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Int64("seed", 1, "the seed to run")
	seeds := fs.String("seeds", "", "sweep the seeds `A-B` (inclusive)")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "goroutines for a sweep")
	nodes := fs.Int("nodes", 0, "initial cluster size (default 5; swarm draws it)")
	duration := fs.Duration("duration", sim.DefaultDuration, "simulated length of the safety phase")
	faults := fs.String("faults", "default", "fault profile: none|crash|partition|lossy|clock|default|swarm")
	cfgName := fs.String("config", "default", "proto config profile: default|lan|wan|local")
	downing := fs.String("downing", "", "downing strategy: keep-majority|static-quorum|keep-oldest (default: profile's)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per seed")
	fs.StringVar(&c.trace, "trace", "", "write the trace to `FILE`")
	fs.StringVar(&c.html, "html", "", "write an HTML timeline to `FILE`")
	fs.BoolVar(&c.determinism, "check-determinism", false, "run the seed twice and compare the traces line by line")
	fs.BoolVar(&c.shrink, "shrink", false, "minimise a failing seed's fault schedule and cluster size")
	fs.IntVar(&c.shrinkRuns, "shrink-runs", 400, "most simulations a shrink may try")
	schedule := fs.String("schedule", "", "run exactly this fault `SCHEDULE` (\"12.5s crash n3; 20s heal\", or @FILE) instead of the nemesis")
	fs.StringVar(&c.scenario, "scenario", "", "scripted scenario: crash|join|leave|partition|steady")
	planted := fs.String("planted-bug", "", "run with a planted protocol bug: skip-convergence|status-regress")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile to `FILE` (go tool pprof)")
	fs.StringVar(&c.memprofile, "memprofile", "", "write a heap profile to `FILE` at exit")
	workload := fs.Bool("workload", true, "issue seeded registry commands")
	liveness := fs.Bool("liveness", true, "run the liveness phase after the safety phase (false: safety only)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simrun [flags]")
		fmt.Fprintln(stderr, "Runs rumor's deterministic simulator. Exit: 0 ok, 1 safety violation, 2 liveness violation, 3 bad usage.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	o := &c.opts
	o.Seed = *seed
	var err error
	if o.Faults, err = sim.ParseProfile(*faults); err != nil {
		return c, usagef("-faults: %v", err)
	}
	if o.Config, err = sim.ParseConfigName(*cfgName); err != nil {
		return c, usagef("-config: %v", err)
	}
	if *downing != "" {
		d, err := sim.ParseDowning(*downing)
		if err != nil {
			return c, usagef("-downing: %v", err)
		}
		o.Downing = &d
	}
	if *planted != "" {
		b, err := sim.ParsePlantedBug(*planted)
		if err != nil {
			return c, usagef("-planted-bug: %v", err)
		}
		o.PlantedBug = b
	}
	if *nodes < 0 || *nodes > sim.MaxNodes || set["nodes"] && *nodes == 0 {
		return c, usagef("-nodes must be in 1..%d, got %d", sim.MaxNodes, *nodes)
	}
	o.Nodes = *nodes
	if *duration <= 0 || *duration > 30*24*time.Hour {
		return c, usagef("-duration must be in (0, 720h], got %v", *duration)
	}
	if set["duration"] || c.scenario == "" {
		o.Duration = *duration
	}
	o.NoWorkload = !*workload
	o.SkipLiveness = !*liveness
	if set["schedule"] {
		text := *schedule
		if strings.HasPrefix(text, "@") {
			b, err := os.ReadFile(text[1:])
			if err != nil {
				return c, usagef("-schedule: %v", err)
			}
			text = string(b)
		}
		s, err := sim.ParseSchedule(text)
		if err != nil {
			return c, usagef("-schedule: %v", err)
		}
		o.Schedule, o.Scripted = s, true
	}
	if c.workers < 1 {
		return c, usagef("-workers must be >= 1, got %d", c.workers)
	}
	if c.shrinkRuns < 1 {
		return c, usagef("-shrink-runs must be >= 1, got %d", c.shrinkRuns)
	}
	if set["seeds"] {
		if set["seed"] {
			return c, usagef("-seed and -seeds are exclusive")
		}
		a, b, ok := strings.Cut(*seeds, "-")
		from, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		to, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if !ok || err1 != nil || err2 != nil || from > to || to-from >= 10_000_000 {
			return c, usagef("-seeds wants A-B with A <= B (at most 10,000,000 seeds), got %q", *seeds)
		}
		c.from, c.to, c.sweep = from, to, true
		for _, f := range []string{"trace", "html", "check-determinism", "shrink", "scenario"} {
			if set[f] {
				return c, usagef("-%s runs one seed; it cannot be combined with -seeds", f)
			}
		}
	}
	if c.scenario != "" {
		if set["schedule"] || set["faults"] || c.shrink || c.determinism {
			return c, usagef("-scenario scripts its own faults; drop -schedule, -faults, -shrink and -check-determinism")
		}
		if _, err := sim.ScenarioOptions(c.scenario, *o); err != nil {
			return c, usagef("-scenario: %v", err)
		}
	}
	if c.shrink && c.determinism {
		return c, usagef("-shrink and -check-determinism are exclusive")
	}
	if err := o.Validate(); err != nil {
		return c, usagef("%v", err)
	}
	return c, nil
}

// openOut creates an output file, buffered.
func openOut(path string) (*os.File, *bufio.Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, bufio.NewWriterSize(f, 1<<16), nil
}

func report(c config, r sim.Result, stdout io.Writer) {
	if c.json {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	fmt.Fprint(stdout, r.Summary())
}

func runOne(c config, stdout, stderr io.Writer) int {
	r, ok := execute(c, stderr)
	if !ok {
		return exitUsage
	}
	report(c, r, stdout)
	return r.ExitCode()
}

// execute runs c.opts once, writing the trace and HTML files asked for.
func execute(c config, stderr io.Writer) (sim.Result, bool) {
	o := c.opts
	var tf *os.File
	var tw *bufio.Writer
	if c.trace != "" {
		var err error
		if tf, tw, err = openOut(c.trace); err != nil {
			fmt.Fprintf(stderr, "simrun: -trace: %v\n", err)
			return sim.Result{}, false
		}
		o.Trace = tw
	}
	o.Timeline = c.html != ""
	r, err := sim.Run(o)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return r, false
	}
	if tw != nil {
		if err := errors.Join(tw.Flush(), tf.Close()); err != nil {
			fmt.Fprintf(stderr, "simrun: -trace: %v\n", err)
		}
	}
	if c.html != "" {
		f, w, err := openOut(c.html)
		if err == nil {
			err = sim.WriteHTML(w, r)
			err = errors.Join(err, w.Flush(), f.Close())
		}
		if err != nil {
			fmt.Fprintf(stderr, "simrun: -html: %v\n", err)
		}
	}
	return r, true
}

func runSweep(c config, stdout, stderr io.Writer) int {
	n := c.to - c.from + 1
	workers := int64(c.workers)
	if workers > n {
		workers = n
	}
	type done struct {
		r   sim.Result
		err error
	}
	next := c.from
	var mu sync.Mutex
	results := make(chan done, workers)
	var wg sync.WaitGroup
	for w := int64(0); w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				seed := next
				next++
				mu.Unlock()
				if seed > c.to {
					return
				}
				o := c.opts
				o.Seed = seed
				r, err := sim.Run(o)
				results <- done{r, err}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	// Print in seed order: hold results until their turn.
	held := map[int64]sim.Result{}
	want := c.from
	var cov sim.Coverage
	code := exitOK
	var runErr error
	for d := range results {
		if d.err != nil {
			runErr = d.err // options were validated: cannot happen; drain the workers anyway
			continue
		}
		held[d.r.Seed] = d.r
		for {
			r, ok := held[want]
			if !ok {
				break
			}
			delete(held, want)
			want++
			cov.Add(r)
			code = worse(code, r.ExitCode())
			if c.json {
				report(c, r, stdout)
				continue
			}
			line := fmt.Sprintf("seed %d: %s nodes=%d sim=%.0fs wall=%.2fs (%.0fx) events=%d hash=%s", r.Seed, strings.ToUpper(r.Verdict),
				r.Nodes, r.SimSeconds, r.WallSeconds, r.SimPerWall, r.Events, r.TraceHash)
			if v, ok := r.First(); ok {
				line += fmt.Sprintf("\n  %s\n  reproduce: %s", v, r.Command)
			}
			fmt.Fprintln(stdout, line)
		}
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", runErr)
		return exitUsage
	}
	if c.json {
		fmt.Fprint(stderr, cov.String())
	} else {
		fmt.Fprint(stdout, cov.String())
	}
	return code
}

// worse orders exit codes: safety beats liveness beats success.
func worse(a, b int) int {
	rank := func(x int) int {
		switch x {
		case exitSafety:
			return 2
		case exitLiveness:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func runDeterminism(c config, stdout, stderr io.Writer) int {
	var traces [2]bytes.Buffer
	var rs [2]sim.Result
	for i := range traces {
		o := c.opts
		o.Trace = &traces[i]
		r, err := sim.Run(o)
		if err != nil {
			fmt.Fprintf(stderr, "simrun: %v\n", err)
			return exitUsage
		}
		rs[i] = r
	}
	if line, x, y := sim.FirstDiff(traces[0].String(), traces[1].String()); line > 0 {
		fmt.Fprintf(stdout, "NON-DETERMINISTIC: seed %d: the traces differ first at line %d\n  run 1: %s\n  run 2: %s\n", c.opts.Seed, line, x, y)
		return exitSafety
	}
	if rs[0].TraceHash != rs[1].TraceHash {
		fmt.Fprintf(stdout, "NON-DETERMINISTIC: seed %d: equal traces but hashes %s and %s\n", c.opts.Seed, rs[0].TraceHash, rs[1].TraceHash)
		return exitSafety
	}
	fmt.Fprintf(stdout, "deterministic: seed %d ran twice with identical traces (%d lines, hash %s)\n", c.opts.Seed, rs[0].TraceLines, rs[0].TraceHash)
	report(c, rs[0], stdout)
	return rs[0].ExitCode()
}

func runShrink(c config, stdout, stderr io.Writer) int {
	r, err := sim.Run(c.opts)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	v, ok := r.First()
	if !ok {
		fmt.Fprintf(stdout, "seed %d passes: nothing to shrink\n", c.opts.Seed)
		return exitOK
	}
	fmt.Fprintf(stdout, "seed %d fails: %s\nshrinking (at most %d runs)...\n", c.opts.Seed, v, c.shrinkRuns)
	sr := sim.Shrink(c.opts, r, c.shrinkRuns, func(msg string) { fmt.Fprintf(stdout, "  %s\n", msg) })
	if !sr.Reproduced {
		fmt.Fprintf(stdout, "could not replay the failure from its fault schedule; reproduce with the seed:\n  %s\n", r.Command)
		return r.ExitCode()
	}
	fv, _ := sr.Result.First()
	fmt.Fprintf(stdout, "shrunk in %d runs: %d nodes, %d schedule entries (from %d nodes, %d entries)\n",
		sr.Runs, sr.Result.Nodes, len(sr.Options.Schedule), r.Nodes, len(r.Executed))
	fmt.Fprintf(stdout, "violation: %s\n", fv)
	fmt.Fprintf(stdout, "reproduce: %s\n", sr.Options.Command())
	return sr.Result.ExitCode()
}

func runScenario(c config, stdout, stderr io.Writer) int {
	o, err := sim.ScenarioOptions(c.scenario, c.opts)
	if err != nil {
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		return exitUsage
	}
	c.opts = o
	r, ok := execute(c, stderr)
	if !ok {
		return exitUsage
	}
	if c.json {
		report(c, r, stdout)
	} else {
		fmt.Fprint(stdout, sim.ScenarioReport(c.scenario, r))
		if v, ok := r.First(); ok {
			fmt.Fprintf(stdout, "FAIL: %s\nreproduce: %s\n", v, r.Command)
		}
	}
	return r.ExitCode()
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeHeapProfile writes the live heap (after a GC) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
