package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/rumorhq/rumor/invariants"
	"github.com/rumorhq/rumor/proto"
)

// Violation is a broken invariant as a run reports it.
type Violation struct {
	// Phase is "safety" (checked after every node step), "liveness"
	// (checked after the heal) or "sim" (the simulator itself failed).
	Phase     string `json:"phase"`
	Invariant string `json:"invariant"`
	// Node is the incarnation whose view broke it ("n3/2": slot n3, second
	// incarnation); NodeAddr its unique address.
	Node     string  `json:"node"`
	NodeAddr string  `json:"node_addr,omitempty"`
	At       float64 `json:"at_s"`
	Detail   string  `json:"detail"`
}

// String renders the violation on one line.
func (v Violation) String() string {
	return fmt.Sprintf("%s violation %q at %s, t=%.6fs: %s", v.Phase, v.Invariant, v.Node, v.At, v.Detail)
}

// The verdicts of a run.
const (
	VerdictPass     = "pass"
	VerdictSafety   = "safety"
	VerdictLiveness = "liveness"
)

// Result is what one run reports.
type Result struct {
	Seed       int64   `json:"seed"`
	Nodes      int     `json:"nodes"`
	Faults     string  `json:"faults"`
	Config     string  `json:"config"`
	Downing    string  `json:"downing"`
	PlantedBug string  `json:"planted_bug,omitempty"`
	SimSeconds float64 `json:"sim_seconds"`
	// WallSeconds is the only wall-clock figure; it never reaches the
	// trace.
	WallSeconds float64 `json:"wall_seconds"`
	SimPerWall  float64 `json:"sim_per_wall"`
	// Events counts deliveries and timer firings handed to nodes.
	Events   uint64 `json:"events"`
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	// TraceHash is the XXH64 hash (seed 0) of the whole trace, in hex: of
	// the file -trace writes.
	TraceHash  string      `json:"trace_hash"`
	TraceLines uint64      `json:"trace_lines"`
	Verdict    string      `json:"verdict"`
	Violations []Violation `json:"violations"`
	// LivenessNote names a legitimate reason the liveness phase could not
	// demand convergence.
	LivenessNote string  `json:"liveness_note,omitempty"`
	Probes       Probes  `json:"probes"`
	Figures      Figures `json:"figures"`
	// Schedule is the executed fault schedule; with Command it reproduces
	// the run without the nemesis.
	Schedule string `json:"schedule"`
	Command  string `json:"command"`
	// ParamsText is every drawn parameter (Params.String).
	ParamsText string `json:"params"`

	Params   Params    `json:"-"`
	Options  Options   `json:"-"`
	Executed Schedule  `json:"-"`
	Timeline *Timeline `json:"-"`
}

// Failed reports whether the run broke an invariant.
func (r Result) Failed() bool { return r.Verdict != VerdictPass }

// First returns the first violation.
func (r Result) First() (Violation, bool) {
	if len(r.Violations) == 0 {
		return Violation{}, false
	}
	return r.Violations[0], true
}

// ExitCode is simrun's exit code for the run: 0 pass, 1 safety, 2
// liveness.
func (r Result) ExitCode() int {
	switch r.Verdict {
	case VerdictSafety:
		return 1
	case VerdictLiveness:
		return 2
	}
	return 0
}

// checkerStats, when set (by tests), hears the safety checker's counters
// at the end of every run.
var checkerStats func(invariants.Stats)

// Run executes one simulation: the safety phase (faults on, invariants
// checked after every node step) for Options.Duration, then the liveness
// phase. It returns an error only for bad options.
func Run(o Options) (Result, error) {
	wall := time.Now()
	s, err := newSim(o)
	if err != nil {
		return Result{}, err
	}
	p := s.p
	t := s.tr
	for _, line := range strings.Split(p.String(), "\n") {
		t.begin(0)
		t.add("params")
		t.add(line)
		t.end()
	}
	for i := 0; i < p.Nodes; i++ {
		s.slotFor(i)
	}
	for i := 0; i < p.Nodes && !s.failed; i++ {
		s.start(s.slots[i])
	}
	if from := int64(o.TrafficFrom); from > 0 && from < s.end {
		s.run(from)
		s.fig.restartTraffic(s)
	}
	s.run(s.end)
	s.fig.finish(s)
	if !s.failed && !o.SkipLiveness {
		s.livenessPhase()
	}
	if s.simErr != nil && !s.failed {
		s.fail(Violation{Phase: "sim", Invariant: "sim-error", Detail: s.simErr.Error()})
	}
	if s.tl != nil {
		s.tl.finish(s)
	}
	if checkerStats != nil {
		checkerStats(s.chk.Stats())
	}
	st := s.net.Stats()
	s.probes.DroppedLoss = st.Dropped.Loss
	s.probes.DroppedPartition = st.Dropped.Partition
	s.probes.DroppedOneWay = st.Dropped.OneWay
	s.probes.DroppedInFlight = st.Dropped.InFlight
	s.probes.DroppedDown = st.Dropped.Down
	s.probes.Duplicated = st.Duplicated
	s.probes.Reordered = st.Reordered
	s.probes.Clogged = st.Clogged

	traceHash := s.tr.sum()
	r := Result{
		Seed:         o.Seed,
		Nodes:        p.Nodes,
		Faults:       p.Faults.String(),
		Config:       p.ConfigName.String(),
		Downing:      downingFlag(p.Config.Downing.Strategy),
		SimSeconds:   time.Duration(s.now).Seconds(),
		WallSeconds:  time.Since(wall).Seconds(),
		Events:       s.events,
		Messages:     st.Sent,
		Bytes:        st.BytesSent,
		TraceHash:    fmt.Sprintf("%016x", traceHash),
		TraceLines:   s.tr.lines,
		Verdict:      VerdictPass,
		Violations:   append([]Violation{}, s.violations...),
		LivenessNote: s.livenessNote,
		Probes:       s.probes,
		Figures:      s.fig.out,
		Schedule:     s.executed.String(),
		Command:      o.Command(),
		ParamsText:   p.String(),
		Params:       p,
		Options:      o,
		Executed:     s.executed,
		Timeline:     s.tl,
	}
	if p.Config.PlantedBug != proto.NoBug {
		r.PlantedBug = PlantedBugName(p.Config.PlantedBug)
	}
	if r.WallSeconds > 0 {
		r.SimPerWall = r.SimSeconds / r.WallSeconds
	}
	if v, ok := r.First(); ok {
		r.Verdict = VerdictSafety
		if v.Phase == "liveness" {
			r.Verdict = VerdictLiveness
		}
	}
	return r, nil
}

// Summary renders a human summary of the run: parameters, counters,
// figures and verdict.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Params.String())
	fmt.Fprintf(&b, "run: sim=%.1fs wall=%.3fs (%.0fx real time) events=%d messages=%d bytes=%d trace=%s (%d lines)\n",
		r.SimSeconds, r.WallSeconds, r.SimPerWall, r.Events, r.Messages, r.Bytes, r.TraceHash, r.TraceLines)
	switch n := len(r.Executed); {
	case n > 0 && n <= 12:
		fmt.Fprintf(&b, "faults: %s\n", r.Schedule)
	case n > 12:
		fmt.Fprintf(&b, "faults: %d executed (the JSON output's schedule lists them)\n", n)
	}
	b.WriteString("probes:")
	for i, p := range r.Probes.List() {
		if i%6 == 0 {
			b.WriteString("\n ")
		}
		fmt.Fprintf(&b, " %s=%d", p.Name, p.Count)
	}
	b.WriteString("\n")
	b.WriteString(r.Figures.String())
	switch r.Verdict {
	case VerdictPass:
		b.WriteString("verdict: PASS")
		if r.LivenessNote != "" {
			b.WriteString(" (" + r.LivenessNote + ")")
		}
		b.WriteString("\n")
	default:
		fmt.Fprintf(&b, "verdict: FAIL (%s)\n", r.Verdict)
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "  %s\n", v)
		}
		fmt.Fprintf(&b, "reproduce: %s\n", r.Command)
	}
	return b.String()
}

// String renders the figures that were measured, one per line.
func (f Figures) String() string {
	var b strings.Builder
	b.WriteString("figures:\n")
	if f.StartupAllUp > 0 {
		fmt.Fprintf(&b, "  startup: all initial nodes see all Up after %.3fs\n", f.StartupAllUp)
	}
	sum := func(name string, s Summary) {
		if s.Count > 0 {
			fmt.Fprintf(&b, "  %s: mean %.3fs max %.3fs (n=%d)\n", name, s.Mean, s.Max, s.Count)
		}
	}
	sum("crash -> unreachable at first monitor", f.CrashUnreachableFirst)
	sum("crash -> unreachable at all monitors", f.CrashUnreachableAll)
	sum("crash -> Down at first node", f.CrashDownFirst)
	sum("crash -> Down at all nodes", f.CrashDownAll)
	sum("crash -> Removed at all nodes", f.CrashRemovedAll)
	sum("join -> Up at all nodes", f.JoinUpAll)
	sum("leave -> Removed at all nodes", f.LeaveRemovedAll)
	if f.MsgsPerNodeSec > 0 {
		fmt.Fprintf(&b, "  traffic after startup: %.2f msgs and %.0f bytes per node per second\n", f.MsgsPerNodeSec, f.BytesPerNodeSec)
	}
	switch {
	case f.LivenessConverged > 0 || (f.LivenessConverged == 0 && f.LivenessBound > 0):
		fmt.Fprintf(&b, "  liveness: converged %.3fs after the heal (bound %.1fs)\n", f.LivenessConverged, f.LivenessBound)
	case f.LivenessConverged < 0:
		fmt.Fprintf(&b, "  liveness: NOT converged within the bound %.1fs\n", f.LivenessBound)
	}
	return b.String()
}
