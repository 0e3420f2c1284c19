package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// ErrBadOptions wraps every error Options.Validate reports.
var ErrBadOptions = errors.New("sim: bad options")

// Profile is a fault profile: which faults the nemesis injects and how
// often.
type Profile uint8

// The fault profiles.
const (
	// ProfileDefault mixes every fault at moderate rates and keeps a
	// majority of the initial nodes running at all times.
	ProfileDefault Profile = iota
	// ProfileNone injects nothing: a clean network, no nemesis.
	ProfileNone
	// ProfileCrash crashes, restarts, pauses, leaves and joins nodes.
	ProfileCrash
	// ProfilePartition partitions (split, isolate one, one-way), clogs and
	// swizzle-clogs.
	ProfilePartition
	// ProfileLossy runs on a lossy, duplicating network with loss bursts
	// and clogs.
	ProfileLossy
	// ProfileClock drifts and steps node clocks.
	ProfileClock
	// ProfileSwarm draws every parameter from the seed: cluster size,
	// fault mix and rates, network, config knobs and downing strategy. It
	// may take down a majority.
	ProfileSwarm
)

var profileNames = [...]string{"default", "none", "crash", "partition", "lossy", "clock", "swarm"}

// String names the profile as the -faults flag spells it.
func (p Profile) String() string {
	if int(p) < len(profileNames) {
		return profileNames[p]
	}
	return "profile(" + strconv.Itoa(int(p)) + ")"
}

// ParseProfile is the inverse of String.
func ParseProfile(s string) (Profile, error) {
	for i, n := range profileNames {
		if n == s {
			return Profile(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown fault profile %q (want %s)", ErrBadOptions, s, strings.Join(profileNames[:], "|"))
}

// ConfigName selects the proto config profile the nodes run.
type ConfigName uint8

// The config profiles (proto.DefaultConfig, LANConfig, WANConfig,
// LocalConfig).
const (
	ConfigDefault ConfigName = iota
	ConfigLAN
	ConfigWAN
	ConfigLocal
)

var configNames = [...]string{"default", "lan", "wan", "local"}

// String names the config profile as the -config flag spells it.
func (c ConfigName) String() string {
	if int(c) < len(configNames) {
		return configNames[c]
	}
	return "config(" + strconv.Itoa(int(c)) + ")"
}

// ParseConfigName is the inverse of String.
func ParseConfigName(s string) (ConfigName, error) {
	for i, n := range configNames {
		if n == s {
			return ConfigName(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown config %q (want %s)", ErrBadOptions, s, strings.Join(configNames[:], "|"))
}

func (c ConfigName) config() proto.Config {
	switch c {
	case ConfigLAN:
		return proto.LANConfig()
	case ConfigWAN:
		return proto.WANConfig()
	case ConfigLocal:
		return proto.LocalConfig()
	}
	return proto.DefaultConfig()
}

// downingNames are the strategies the simulator draws from, as flags spell
// them.
var downingNames = map[string]proto.DowningStrategy{
	"keep-majority": proto.KeepMajority,
	"static-quorum": proto.StaticQuorum,
	"keep-oldest":   proto.KeepOldest,
}

// ParseDowning maps "keep-majority", "static-quorum" or "keep-oldest" to a
// strategy.
func ParseDowning(s string) (proto.DowningStrategy, error) {
	if d, ok := downingNames[s]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("%w: unknown downing strategy %q (want keep-majority|static-quorum|keep-oldest)", ErrBadOptions, s)
}

func downingFlag(d proto.DowningStrategy) string {
	switch d {
	case proto.StaticQuorum:
		return "static-quorum"
	case proto.KeepOldest:
		return "keep-oldest"
	}
	return "keep-majority"
}

// PlantedBugName spells a planted bug as the -planted-bug flag does.
func PlantedBugName(b proto.PlantedBug) string {
	switch b {
	case proto.BugSkipConvergence:
		return "skip-convergence"
	case proto.BugStatusRegress:
		return "status-regress"
	}
	return "none"
}

// ParsePlantedBug is the inverse of PlantedBugName.
func ParsePlantedBug(s string) (proto.PlantedBug, error) {
	for _, b := range []proto.PlantedBug{proto.NoBug, proto.BugSkipConvergence, proto.BugStatusRegress} {
		if PlantedBugName(b) == s {
			return b, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown planted bug %q (want skip-convergence|status-regress)", ErrBadOptions, s)
}

// DefaultDuration is the length of a run's safety phase when Options
// leaves it zero.
const DefaultDuration = 10 * time.Minute

// MaxNodes bounds Options.Nodes.
const MaxNodes = 5000

// Options selects one run. The zero value plus a seed is the default run:
// 5 nodes, default faults, default config, 10 simulated minutes.
type Options struct {
	Seed int64
	// TrafficFrom, when after startup, starts the traffic window at that
	// simulated time instead of when every node first saw every node Up,
	// so that the figure leaves out the rebalancing that follows startup.
	TrafficFrom time.Duration
	// Nodes is the initial cluster size; 0 means 5 (swarm: drawn).
	Nodes int
	// Duration is the safety phase's simulated length; 0 means 10 min.
	Duration time.Duration
	Faults   Profile
	Config   ConfigName
	// Downing, when non-nil, overrides the downing strategy (otherwise
	// KeepMajority, or drawn under swarm). StaticQuorum uses a majority of
	// the initial size.
	Downing *proto.DowningStrategy
	// Schedule, when non-nil, replaces the nemesis: exactly these actions
	// run (the seed still drives the network, the nodes and the workload).
	Schedule Schedule
	// Scripted is set when Schedule is meant even if empty ("no faults
	// at all, but the profile's network").
	Scripted bool
	// NoWorkload turns off the seeded service registrations.
	NoWorkload bool
	// PlantedBug is set in every node's proto.Config.
	PlantedBug proto.PlantedBug
	// Trace, when set, receives the trace; it is hashed either way.
	Trace io.Writer
	// Timeline records what an HTML timeline needs (Result.Timeline).
	Timeline bool
	// SkipLiveness ends the run after the safety phase.
	SkipLiveness bool
}

// Validate reports bad options.
func (o Options) Validate() error {
	var errs []error
	if o.Nodes < 0 || o.Nodes > MaxNodes {
		errs = append(errs, fmt.Errorf("%w: nodes must be in 1..%d, got %d", ErrBadOptions, MaxNodes, o.Nodes))
	}
	if o.Duration < 0 || o.Duration > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("%w: duration must be in (0, 720h], got %v", ErrBadOptions, o.Duration))
	}
	if int(o.Faults) >= len(profileNames) {
		errs = append(errs, fmt.Errorf("%w: unknown profile %d", ErrBadOptions, o.Faults))
	}
	if int(o.Config) >= len(configNames) {
		errs = append(errs, fmt.Errorf("%w: unknown config %d", ErrBadOptions, o.Config))
	}
	if o.PlantedBug > proto.BugStatusRegress {
		errs = append(errs, fmt.Errorf("%w: unknown planted bug %d", ErrBadOptions, o.PlantedBug))
	}
	return errors.Join(errs...)
}

// Command renders the options as a simrun command line that reproduces
// the run.
func (o Options) Command() string {
	var b strings.Builder
	b.WriteString("go run ./cmd/simrun -seed ")
	b.WriteString(strconv.FormatInt(o.Seed, 10))
	if o.Faults != ProfileDefault {
		b.WriteString(" -faults " + o.Faults.String())
	}
	if o.Config != ConfigDefault {
		b.WriteString(" -config " + o.Config.String())
	}
	if o.Nodes != 0 {
		b.WriteString(" -nodes " + strconv.Itoa(o.Nodes))
	}
	if o.Duration != 0 && o.Duration != DefaultDuration {
		b.WriteString(" -duration " + o.Duration.String())
	}
	if o.Downing != nil {
		b.WriteString(" -downing " + downingFlag(*o.Downing))
	}
	if o.PlantedBug != proto.NoBug {
		b.WriteString(" -planted-bug " + PlantedBugName(o.PlantedBug))
	}
	if o.NoWorkload {
		b.WriteString(" -workload=false")
	}
	if o.SkipLiveness {
		b.WriteString(" -liveness=false")
	}
	if o.Schedule != nil || o.Scripted {
		b.WriteString(" -schedule " + strconv.Quote(o.Schedule.String()))
	}
	return b.String()
}

// faultKind is one thing the nemesis can do.
type faultKind uint8

const (
	kindCrash faultKind = iota
	kindRestart
	kindPause
	kindLeave
	kindJoin
	kindPartition
	kindIsolate
	kindOneWay
	kindClog
	kindSwizzle
	kindDrift
	kindStep
	kindBurst
	kindCount
)

var kindNames = [kindCount]string{"crash", "restart", "pause", "leave", "join", "partition", "isolate", "one-way",
	"clog", "swizzle", "drift", "step", "burst"}

// Params is everything a run draws from its seed (or takes from Options):
// the swarm parameters. String prints them all.
type Params struct {
	Seed       int64
	Nodes      int
	Faults     Profile
	ConfigName ConfigName
	// Config is every node's proto config (NodeID is set per node).
	Config   proto.Config
	Duration time.Duration

	// One-way delay is LatencyMin + Exponential(LatencyMean).
	LatencyMin, LatencyMean time.Duration
	// Loss and Dup are the network-wide base probabilities.
	Loss, Dup float64
	// MaxInFlight bounds copies per directed path (0: unbounded).
	MaxInFlight int

	// FaultEvery is the mean gap between nemesis actions (0: no nemesis).
	FaultEvery time.Duration
	// Weights are the relative odds of each fault kind.
	Weights [kindCount]int
	// KeepMajority: the nemesis never crashes, pauses or removes a node
	// when that would leave fewer than a majority of the initial nodes
	// running.
	KeepMajority bool
	// DownFor is the mean time a crashed node stays down before the
	// nemesis restarts it; RestartOdds the chance it does.
	DownFor     time.Duration
	RestartOdds float64
	// PartitionFor is the mean length of a partition.
	PartitionFor time.Duration
	// PauseMax, ClogMax bound a pause and a clog.
	PauseMax, ClogMax time.Duration
	// BurstFor is the mean length of a loss/dup burst of BurstLoss/BurstDup.
	BurstFor            time.Duration
	BurstLoss, BurstDup float64
	// MaxDrift bounds clock drift (rate 1±MaxDrift); MaxStep a clock step;
	// ClockOffset the initial clock offsets (±).
	MaxDrift    float64
	MaxStep     time.Duration
	ClockOffset time.Duration
	// MaxSlots bounds initial plus joined slots.
	MaxSlots int

	// WorkloadEvery is the mean gap between registry commands (0: off).
	WorkloadEvery time.Duration
}

// String renders every parameter on a few lines.
func (p Params) String() string {
	var b strings.Builder
	c := p.Config
	fmt.Fprintf(&b, "seed=%d nodes=%d faults=%s config=%s duration=%v downing=%s", p.Seed, p.Nodes, p.Faults, p.ConfigName, p.Duration, c.Downing.Strategy)
	if c.Downing.Strategy == proto.StaticQuorum {
		fmt.Fprintf(&b, "(%d)", c.Downing.QuorumSize)
	}
	if c.PlantedBug != proto.NoBug {
		fmt.Fprintf(&b, " planted-bug=%s", PlantedBugName(c.PlantedBug))
	}
	fmt.Fprintf(&b, "\nnetwork: latency=%v+exp(%v) loss=%.3f dup=%.3f max-in-flight=%d", p.LatencyMin, p.LatencyMean, p.Loss, p.Dup, p.MaxInFlight)
	fmt.Fprintf(&b, "\nconfig: gossip=%v fanout=%d heartbeat=%v availability=%v monitored-by=%d phi=%.1f pause=%v first=%v stable-after=%v weakly-up=%v seed-timeout=%v leave-timeout=%v rebalance=%d",
		c.GossipInterval, c.GossipFanout, c.HeartbeatInterval, c.AvailabilityInterval, c.MonitoredBy, c.FailureDetector.Threshold,
		c.FailureDetector.AcceptableHeartbeatPause, c.FailureDetector.FirstHeartbeatEstimate, c.StableAfter, c.WeaklyUpAfter,
		c.SeedNodeTimeout, c.LeaveTimeout, c.RebalanceMaxMoves)
	if p.FaultEvery > 0 {
		fmt.Fprintf(&b, "\nnemesis: every=%v keep-majority=%v", p.FaultEvery, p.KeepMajority)
		for k, w := range p.Weights {
			if w > 0 {
				fmt.Fprintf(&b, " %s=%d", kindNames[k], w)
			}
		}
		fmt.Fprintf(&b, " down-for=%v restart=%.2f partition-for=%v pause<=%v clog<=%v burst=%v@%.2f/%.2f drift<=%.4f step<=%v offset<=%v max-slots=%d",
			p.DownFor, p.RestartOdds, p.PartitionFor, p.PauseMax, p.ClogMax, p.BurstFor, p.BurstLoss, p.BurstDup,
			p.MaxDrift, p.MaxStep, p.ClockOffset, p.MaxSlots)
	} else {
		b.WriteString("\nnemesis: off")
	}
	if p.WorkloadEvery > 0 {
		fmt.Fprintf(&b, "\nworkload: every=%v", p.WorkloadEvery)
	}
	return b.String()
}

// Seed streams: every consumer of randomness gets its own generator, so a
// change in one never shifts another's draws.
const (
	streamParams uint64 = iota + 1
	streamNet
	streamNemesis
	streamWorkload
	streamClock   // per slot: its initial clock offset
	streamBilling // per slot: whether it hosts billing at first
	streamNode    // per slot and incarnation: the node's rng
)

// stream names the stream of kind for slot a, incarnation b.
func stream(kind uint64, a, b int) uint64 {
	return kind<<56 | uint64(a)<<24 | uint64(b)&(1<<24-1)
}

// subSeed derives an independent seed for a stream (splitmix64).
func subSeed(seed int64, stream uint64) int64 {
	z := uint64(seed) + 0x9e3779b97f4a7c15*(stream+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64(z ^ (z >> 31))
}

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewSource(subSeed(seed, stream)))
}

// DrawParams draws a run's parameters from its seed and applies the
// overrides in o. Every draw happens whatever the overrides, in a fixed
// order, so overriding one parameter (say the node count) never changes
// the others.
func DrawParams(o Options) (Params, error) {
	if err := o.Validate(); err != nil {
		return Params{}, err
	}
	r := newRand(o.Seed, streamParams)
	u := func(lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }
	dur := func(lo, hi time.Duration) time.Duration {
		return (lo + time.Duration(r.Int63n(int64(hi-lo)+1))).Round(time.Millisecond)
	}
	scale := func(d time.Duration, lo, hi float64) time.Duration {
		return time.Duration(float64(d) * u(lo, hi)).Round(time.Millisecond)
	}

	p := Params{Seed: o.Seed, Faults: o.Faults, ConfigName: o.Config, Duration: o.Duration}
	if p.Duration == 0 {
		p.Duration = DefaultDuration
	}
	cfg := o.Config.config()

	// Swarm draws (always drawn, used only by swarm).
	swarmNodes := 3 + r.Intn(8) // 3..10
	var swarmCfg proto.Config = cfg
	swarmCfg.GossipInterval = scale(cfg.GossipInterval, 0.5, 2)
	swarmCfg.GossipFanout = 1 + r.Intn(5)
	swarmCfg.HeartbeatInterval = scale(cfg.HeartbeatInterval, 0.5, 2)
	swarmCfg.AvailabilityInterval = scale(cfg.AvailabilityInterval, 0.5, 2)
	swarmCfg.MonitoredBy = 2 + r.Intn(5)
	swarmCfg.FailureDetector.Threshold = float64(int(u(6, 12)*10)) / 10
	swarmCfg.FailureDetector.AcceptableHeartbeatPause = scale(cfg.FailureDetector.AcceptableHeartbeatPause, 0.5, 3)
	swarmCfg.StableAfter = scale(cfg.StableAfter, 0.5, 3)
	if r.Intn(5) == 0 {
		swarmCfg.WeaklyUpAfter = 0
	} else {
		swarmCfg.WeaklyUpAfter = scale(cfg.WeaklyUpAfter, 0.3, 2)
	}
	swarmCfg.RebalanceMaxMoves = 1 + r.Intn(5)
	swarmCfg.SeedNodeTimeout = scale(cfg.SeedNodeTimeout, 0.5, 2)
	swarmCfg.JoinRetryInterval = scale(cfg.JoinRetryInterval, 0.5, 2)
	swarmCfg.LeaveTimeout = scale(cfg.LeaveTimeout, 0.5, 2)
	swarmDowning := []proto.DowningStrategy{proto.KeepMajority, proto.StaticQuorum, proto.KeepOldest}[r.Intn(3)]
	swarmKeepMajority := r.Intn(4) != 0
	var swarmWeights [kindCount]int
	for k := range swarmWeights {
		swarmWeights[k] = r.Intn(6)
	}
	swarmEvery := dur(2*time.Second, 40*time.Second)
	swarmLoss, swarmDup := u(0, 0.08), u(0, 0.05)
	if r.Intn(3) == 0 {
		swarmLoss = 0
	}
	swarmInFlight := 0
	if r.Intn(2) == 0 {
		swarmInFlight = 8 + r.Intn(57)
	}

	// Network draws.
	switch o.Config {
	case ConfigWAN:
		p.LatencyMin, p.LatencyMean = dur(20*time.Millisecond, 80*time.Millisecond), dur(10*time.Millisecond, 80*time.Millisecond)
	case ConfigLocal:
		p.LatencyMin, p.LatencyMean = dur(50*time.Microsecond, 500*time.Microsecond), dur(100*time.Microsecond, time.Millisecond)
	default:
		p.LatencyMin, p.LatencyMean = dur(200*time.Microsecond, time.Millisecond), dur(500*time.Microsecond, 5*time.Millisecond)
	}
	p.LatencyMin, p.LatencyMean = p.LatencyMin.Round(10*time.Microsecond), p.LatencyMean.Round(10*time.Microsecond)
	lowLoss, lowDup := u(0, 0.01), u(0, 0.01)
	lossyLoss, lossyDup := u(0.01, 0.05), u(0, 0.03)

	// Fault-shape draws.
	p.DownFor = dur(5*time.Second, 60*time.Second)
	p.RestartOdds = float64(int(u(0.6, 0.95)*100)) / 100
	p.PartitionFor = dur(3*time.Second, 45*time.Second)
	p.PauseMax = dur(2*time.Second, 20*time.Second)
	p.ClogMax = dur(500*time.Millisecond, 8*time.Second)
	p.BurstFor = dur(2*time.Second, 20*time.Second)
	p.BurstLoss = float64(int(u(0.1, 0.5)*100)) / 100
	p.BurstDup = float64(int(u(0, 0.3)*100)) / 100
	p.MaxDrift = float64(int(u(0.0001, 0.02)*1e4)) / 1e4
	p.MaxStep = dur(100*time.Millisecond, 5*time.Second)
	p.ClockOffset = dur(0, 10*time.Second)
	workloadEvery := dur(3*time.Second, 20*time.Second)

	// Assemble per profile.
	p.Nodes = 5
	p.Config = cfg
	p.KeepMajority = true
	p.FaultEvery = 20 * time.Second
	w := &p.Weights
	switch o.Faults {
	case ProfileNone:
		p.FaultEvery = 0
		p.ClockOffset = 0
	case ProfileCrash:
		w[kindCrash], w[kindRestart], w[kindPause], w[kindLeave], w[kindJoin] = 4, 3, 3, 1, 2
		p.ClockOffset = 0
	case ProfilePartition:
		w[kindPartition], w[kindIsolate], w[kindOneWay], w[kindClog], w[kindSwizzle] = 4, 3, 2, 3, 1
		p.ClockOffset = 0
	case ProfileLossy:
		w[kindBurst], w[kindClog] = 5, 2
		p.Loss, p.Dup = lossyLoss, lossyDup
		p.ClockOffset = 0
	case ProfileClock:
		w[kindDrift], w[kindStep] = 4, 3
	case ProfileDefault:
		for k := range w {
			w[k] = 2
		}
		w[kindCrash], w[kindRestart], w[kindPartition] = 3, 3, 3
		p.Loss, p.Dup = lowLoss, lowDup
	case ProfileSwarm:
		p.Nodes = swarmNodes
		p.Config = swarmCfg
		p.Config.Downing = proto.DowningConfig{Strategy: swarmDowning}
		p.KeepMajority = swarmKeepMajority
		p.Weights = swarmWeights
		p.FaultEvery = swarmEvery
		p.Loss, p.Dup, p.MaxInFlight = swarmLoss, swarmDup, swarmInFlight
		p.MaxDrift *= 3
	}
	if p.FaultEvery > 0 {
		any := false
		for _, x := range p.Weights {
			any = any || x > 0
		}
		if !any {
			p.Weights[kindCrash], p.Weights[kindRestart] = 1, 1
		}
	}
	if !o.NoWorkload {
		p.WorkloadEvery = workloadEvery
	}
	if o.Nodes > 0 {
		p.Nodes = o.Nodes
	}
	if o.Downing != nil {
		p.Config.Downing = proto.DowningConfig{Strategy: *o.Downing}
	}
	if p.Config.Downing.Strategy == proto.StaticQuorum {
		p.Config.Downing.QuorumSize = p.Nodes/2 + 1
	}
	p.Config.PlantedBug = o.PlantedBug
	p.MaxSlots = p.Nodes + 2 + p.Nodes/2
	if err := p.Config.Validate(); err != nil {
		return Params{}, fmt.Errorf("%w: drawn config is invalid: %w", ErrBadOptions, err)
	}
	return p, nil
}
