package sim

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Scenarios are scripted runs that measure the design's quality goals.
var Scenarios = []string{"crash", "join", "leave", "partition", "steady"}

// ScenarioOptions builds the options of a scripted scenario: no nemesis,
// a clean network (the fault profile "none"), and one scripted fault once
// the cluster has formed. Nodes, Config, Seed, Downing and PlantedBug are
// taken from o; Duration too when set, otherwise it is long enough for the
// fault to play out.
func ScenarioOptions(name string, o Options) (Options, error) {
	o.Faults = ProfileNone
	o.Scripted = true
	o.Schedule = Schedule{}
	p, err := DrawParams(o)
	if err != nil {
		return o, err
	}
	cfg := p.Config
	n := p.Nodes
	logN := time.Duration(math.Ceil(math.Log2(float64(n + 1))))
	// The fault comes once the cluster has formed: the first seed's
	// timeout plus some gossip rounds per doubling.
	at := (2 * (cfg.SeedNodeTimeout + cfg.GossipInterval*(4+2*logN))).Round(time.Second)
	settle := LivenessBound(cfg, n+1, ordersType.Shards+billingType.Shards, 0)
	last := n - 1
	switch name {
	case "steady":
		// Measure once formation and the rebalancing after it are over.
		o.TrafficFrom = at + settle/2
	case "crash":
		o.Schedule = Schedule{{At: at, Op: OpCrash, Node: last, Peer: -1}}
	case "join":
		o.Schedule = Schedule{{At: at, Op: OpJoin, Node: n, Peer: -1}}
	case "leave":
		o.Schedule = Schedule{{At: at, Op: OpLeave, Node: last, Peer: -1}}
	case "partition":
		if n < 2 {
			return o, fmt.Errorf("%w: the partition scenario needs at least 2 nodes", ErrBadOptions)
		}
		var major, minor []int
		for i := 0; i < n; i++ {
			if i < n/2+1 {
				major = append(major, i)
			} else {
				minor = append(minor, i)
			}
		}
		if len(minor) == 0 {
			minor, major = major[len(major)-1:], major[:len(major)-1]
		}
		o.Schedule = Schedule{
			{At: at, Op: OpPartition, Groups: [][]int{major, minor}, Peer: -1},
			{At: at + settle, Op: OpHeal, Peer: -1},
		}
		settle *= 2
	default:
		return o, fmt.Errorf("%w: unknown scenario %q (want %s)", ErrBadOptions, name, strings.Join(Scenarios, "|"))
	}
	if o.Duration == 0 {
		o.Duration = at + settle
	}
	return o, nil
}

// ScenarioReport renders the figures a scenario exists to measure.
func ScenarioReport(name string, r Result) string {
	var b strings.Builder
	f := r.Figures
	fmt.Fprintf(&b, "scenario %s: %d nodes, config %s, seed %d\n", name, r.Nodes, r.Config, r.Seed)
	line := func(what string, s Summary) {
		if s.Count == 0 {
			fmt.Fprintf(&b, "  %-44s not reached\n", what)
			return
		}
		fmt.Fprintf(&b, "  %-44s %8.3f s\n", what, s.Mean)
	}
	if f.StartupAllUp > 0 {
		fmt.Fprintf(&b, "  %-44s %8.3f s\n", "start -> all N see all N Up", f.StartupAllUp)
	} else {
		fmt.Fprintf(&b, "  %-44s not reached\n", "start -> all N see all N Up")
	}
	switch name {
	case "crash":
		line("crash -> unreachable at the first monitor", f.CrashUnreachableFirst)
		line("crash -> unreachable at all monitors", f.CrashUnreachableAll)
		line("crash -> Down at the first node", f.CrashDownFirst)
		line("crash -> Down at all nodes", f.CrashDownAll)
		line("crash -> Removed at all nodes", f.CrashRemovedAll)
	case "join":
		line("join -> Up at all nodes", f.JoinUpAll)
	case "leave":
		line("leave -> Removed at all nodes", f.LeaveRemovedAll)
	case "partition":
		fmt.Fprintf(&b, "  %-44s %8d\n", "members that saw someone unreachable", r.Probes.Unreachable)
		fmt.Fprintf(&b, "  %-44s %8d\n", "minority nodes stopped by downing", r.Probes.DownedStops)
		if f.LivenessConverged >= 0 {
			fmt.Fprintf(&b, "  %-44s %8.3f s\n", "heal -> liveness checks pass", f.LivenessConverged)
		}
	case "steady":
	}
	traffic := "traffic per node per second after startup"
	if name == "steady" {
		traffic = "steady traffic per node per second"
	}
	fmt.Fprintf(&b, "  %-44s %8.2f msgs %8.0f bytes\n", traffic, f.MsgsPerNodeSec, f.BytesPerNodeSec)
	fmt.Fprintf(&b, "  %-44s %8.0f x real time (%d events, %.3f s wall)\n", "simulator speed", r.SimPerWall, r.Events, r.WallSeconds)
	return b.String()
}

// Coverage aggregates probes over a sweep: how many seeds reached each.
type Coverage struct {
	Seeds                    int
	Passed, Safety, Liveness int
	Failing                  []int64
	SimSeconds, WallSeconds  float64
	Events, Messages         uint64
	reached                  []Probe
}

// Add folds one run into the coverage.
func (c *Coverage) Add(r Result) {
	c.Seeds++
	switch r.Verdict {
	case VerdictPass:
		c.Passed++
	case VerdictSafety:
		c.Safety++
		c.Failing = append(c.Failing, r.Seed)
	case VerdictLiveness:
		c.Liveness++
		c.Failing = append(c.Failing, r.Seed)
	}
	c.SimSeconds += r.SimSeconds
	c.WallSeconds += r.WallSeconds
	c.Events += r.Events
	c.Messages += r.Messages
	list := r.Probes.List()
	if c.reached == nil {
		c.reached = make([]Probe, len(list))
		for i, p := range list {
			c.reached[i].Name = p.Name
		}
	}
	for i, p := range list {
		if p.Count > 0 {
			c.reached[i].Count++
		}
	}
}

// Reached lists, per probe, how many seeds reached it.
func (c Coverage) Reached() []Probe { return append([]Probe(nil), c.reached...) }

// String renders the coverage table.
func (c Coverage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seeds: %d  pass: %d  safety: %d  liveness: %d", c.Seeds, c.Passed, c.Safety, c.Liveness)
	if len(c.Failing) > 0 {
		fmt.Fprintf(&b, "  failing: %v", c.Failing)
	}
	speed := 0.0
	if c.WallSeconds > 0 {
		speed = c.SimSeconds / c.WallSeconds
	}
	fmt.Fprintf(&b, "\nsimulated %.0f s in %.1f s of run time (%.0fx), %d events, %d messages\n", c.SimSeconds, c.WallSeconds, speed, c.Events, c.Messages)
	b.WriteString("probe coverage (seeds reaching each):\n")
	for _, p := range c.reached {
		mark := ""
		if p.Count == 0 {
			mark = "   <- never reached"
		}
		fmt.Fprintf(&b, "  %-20s %4d/%d%s\n", p.Name, p.Count, c.Seeds, mark)
	}
	return b.String()
}
