package proto

import (
	"errors"
	"fmt"
	"time"

	"github.com/rumorhq/rumor/proto/phi"
)

// ErrBadConfig wraps every error Config.Validate reports.
var ErrBadConfig = errors.New("proto: bad config")

// FailureDetectorConfig tunes the phi accrual detector. Its fields and
// meanings are casty's FailureDetectorConfig: Threshold, MaxSampleSize,
// MinStdDeviation, AcceptableHeartbeatPause, FirstHeartbeatEstimate.
type FailureDetectorConfig = phi.Config

// DowningStrategy decides what the leader does once the set of unreachable
// members has been stable for StableAfter.
type DowningStrategy uint8

// The downing strategies. See downing.go for their exact rules.
const (
	// KeepMajority keeps the side with more Up/Leaving members; on a tie, the
	// side holding the lowest address. The other side downs itself.
	KeepMajority DowningStrategy = iota
	// StaticQuorum keeps a side with at least QuorumSize Up/Leaving members;
	// a smaller side downs itself. A cluster grown past 2×QuorumSize−1
	// members downs every side of a partition, since two could reach it.
	StaticQuorum
	// KeepOldest keeps the side holding the oldest member (lowest UpNumber).
	KeepOldest
	// DownAll downs every member: the safest answer to a partition when
	// nothing may run twice.
	DownAll
	// AutoDown downs each member AutoDownAfter after it became unreachable,
	// without any majority check: casty's behaviour, for those who want it.
	// It can split the brain.
	AutoDown
	// Manual never downs by itself; only the DownNode command does.
	Manual
)

var strategyNames = [...]string{"KeepMajority", "StaticQuorum", "KeepOldest", "DownAll", "AutoDown", "Manual"}

// String names the strategy.
func (d DowningStrategy) String() string {
	if int(d) < len(strategyNames) {
		return strategyNames[d]
	}
	return fmt.Sprintf("DowningStrategy(%d)", d)
}

// DowningConfig selects a downing strategy and its parameters.
type DowningConfig struct {
	Strategy DowningStrategy
	// QuorumSize is StaticQuorum's minimum side size. It should be more than
	// half the largest cluster you run, or both sides of a partition may stay.
	QuorumSize int
	// AutoDownAfter is AutoDown's delay from unreachable to Down.
	AutoDownAfter time.Duration
}

// Config tunes one Node. Names and values follow casty where they are sound;
// every field says its unit, default and trade-off.
type Config struct {
	// NodeID is the node's human label. Default "" means the address text.
	NodeID NodeID
	// Roles are free labels gossiped with the member record.
	Roles []string

	// GossipInterval is the time between gossip rounds. Default 1 s (casty).
	// Shorter spreads changes faster and costs more small messages.
	GossipInterval time.Duration
	// GossipFanout is how many peers each round contacts. Default 3 (casty).
	GossipFanout int

	// HeartbeatInterval is the time between heartbeat requests a monitor
	// sends each subject. Default 0.5 s (casty).
	HeartbeatInterval time.Duration
	// AvailabilityInterval is the time between checks of the detector that
	// mark subjects unreachable or reachable. Default 0.5 s; casty's 2 s
	// adds up to 2 s to every detection, which breaks the goal of a crash
	// seen unreachable by every monitor within 3 s. A check is a few float
	// operations per monitored subject, so checking often costs nothing.
	AvailabilityInterval time.Duration
	// MonitoredBy is how many monitors watch each node (all others when the
	// cluster is smaller). Default 5: enough independent opinions for
	// downing, while heartbeat traffic per node stays flat in cluster size.
	MonitoredBy int
	// FailureDetector tunes phi accrual. Defaults are casty's (threshold 8,
	// 200 samples, 100 ms minimum deviation) except two.
	// FirstHeartbeatEstimate is 0.5 s instead of 1 s: it stands in for the
	// mean interval until two answers arrived, and the interval is 0.5 s
	// (Akka sets both to 1 s for the same reason); with 1 s a node that
	// crashes soon after joining takes 3.4 s to be flagged, with 0.5 s
	// about 2.2 s, the same as a node that never answered at all.
	// AcceptableHeartbeatPause is 1 s instead of 0. With 0, two lost round
	// trips in a row (about 1% of heartbeats at 5% packet loss) cross the
	// threshold; with 1 s it takes about five, which at 5% loss happens to a
	// given monitor-subject pair less than once an hour, while a crash is
	// still flagged about 2.1 s after the last answer.
	FailureDetector FailureDetectorConfig

	// JoinRetryInterval is the time between join attempts to the seeds.
	// Default 1 s (casty's hard-coded value).
	JoinRetryInterval time.Duration
	// SeedNodeTimeout is how long the first seed waits for another seed to
	// answer before it forms a cluster alone. Default 5 s (Akka).
	SeedNodeTimeout time.Duration
	// WeaklyUpAfter is how long a member stays Joining while convergence is
	// blocked before the leader moves it to WeaklyUp. Default 7 s (Akka);
	// 0 disables WeaklyUp.
	WeaklyUpAfter time.Duration
	// LeaveTimeout bounds a graceful leave: a leaving node stops after this
	// long even if it never saw itself Exiting. Default 15 s.
	LeaveTimeout time.Duration
	// TombstoneTTL is how long a removed incarnation's tombstone is kept so
	// that late gossip cannot bring it back. Default 24 h (Akka).
	TombstoneTTL time.Duration
	// StableAfter is how long the set of unreachable members must stay the
	// same before the leader applies the downing strategy. Default 5 s:
	// crash to Down then takes about 2.5 s + 5 s + a gossip round, against
	// memberlist's 7-12 s to dead; transient unreachability at 5% loss lasts
	// well under a second and never stays stable that long. Akka's 20 s is
	// safer on GC-heavy runtimes; raise it where pauses are long.
	StableAfter time.Duration
	// Downing selects the downing strategy. Default KeepMajority.
	Downing DowningConfig
	// RebalanceMaxMoves bounds how many primaries the leader moves per
	// allocation round when rebalancing after a join. Default 3 (Akka's
	// max-simultaneous-rebalance): more converges faster, fewer limits
	// the handoff work in flight.
	RebalanceMaxMoves int

	// PlantedBug deliberately breaks one protocol rule. It exists only for
	// the simulator's self-test, which proves that a short seed sweep
	// catches the breakage. Never set it outside that test.
	PlantedBug PlantedBug
}

// PlantedBug names a protocol rule the simulator's self-test breaks.
type PlantedBug uint8

// The plantable bugs.
const (
	// NoBug: the protocol as designed.
	NoBug PlantedBug = iota
	// BugSkipConvergence: the leader acts without waiting for convergence.
	BugSkipConvergence
	// BugStatusRegress: a concurrent merge keeps the lower status, so a
	// member can move backwards.
	BugStatusRegress
)

// DefaultConfig returns the defaults documented on each field.
func DefaultConfig() Config {
	return Config{
		GossipInterval:       time.Second,
		GossipFanout:         3,
		HeartbeatInterval:    500 * time.Millisecond,
		AvailabilityInterval: 500 * time.Millisecond,
		MonitoredBy:          5,
		FailureDetector: FailureDetectorConfig{
			Threshold:                8,
			MaxSampleSize:            200,
			MinStdDeviation:          100 * time.Millisecond,
			AcceptableHeartbeatPause: time.Second,
			FirstHeartbeatEstimate:   500 * time.Millisecond,
		},
		JoinRetryInterval: time.Second,
		SeedNodeTimeout:   5 * time.Second,
		WeaklyUpAfter:     7 * time.Second,
		LeaveTimeout:      15 * time.Second,
		TombstoneTTL:      24 * time.Hour,
		StableAfter:       5 * time.Second,
		Downing:           DowningConfig{Strategy: KeepMajority},
		RebalanceMaxMoves: 3,
	}
}

// LANConfig is DefaultConfig: the defaults are chosen for one data centre.
func LANConfig() Config { return DefaultConfig() }

// WANConfig suits links with 50-300 ms latency and bursty loss: slower
// gossip and heartbeats, a longer acceptable pause, a higher threshold and a
// longer StableAfter, trading detection time (about 6 s) for no false
// unreachability.
func WANConfig() Config {
	c := DefaultConfig()
	c.GossipInterval = 2 * time.Second
	c.GossipFanout = 4
	c.HeartbeatInterval = time.Second
	c.AvailabilityInterval = time.Second
	c.FailureDetector.Threshold = 10
	c.FailureDetector.AcceptableHeartbeatPause = 3 * time.Second
	c.FailureDetector.FirstHeartbeatEstimate = time.Second
	c.FailureDetector.MinStdDeviation = 200 * time.Millisecond
	c.JoinRetryInterval = 2 * time.Second
	c.SeedNodeTimeout = 10 * time.Second
	c.LeaveTimeout = 30 * time.Second
	c.StableAfter = 15 * time.Second
	return c
}

// LocalConfig is fast, for tests and single-host clusters: every interval
// and timeout is about a fifth of the default.
func LocalConfig() Config {
	c := DefaultConfig()
	c.GossipInterval = 200 * time.Millisecond
	c.HeartbeatInterval = 100 * time.Millisecond
	c.AvailabilityInterval = 100 * time.Millisecond
	c.FailureDetector.MinStdDeviation = 50 * time.Millisecond
	c.FailureDetector.AcceptableHeartbeatPause = 300 * time.Millisecond
	c.FailureDetector.FirstHeartbeatEstimate = 200 * time.Millisecond
	c.JoinRetryInterval = 200 * time.Millisecond
	c.SeedNodeTimeout = time.Second
	c.WeaklyUpAfter = 2 * time.Second
	c.LeaveTimeout = 3 * time.Second
	c.StableAfter = time.Second
	return c
}

// DetectionBound bounds how long a monitor takes to mark a silent subject
// unreachable: the phi threshold crossing for a steady history (heartbeats
// every HeartbeatInterval) or for a fresh one that never heard the subject
// (FirstHeartbeatEstimate, see phi.NewHistory), whichever is later, plus
// one availability check and one heartbeat interval.
func (c Config) DetectionBound() time.Duration {
	fd := c.FailureDetector
	steady := phi.ElapsedAtPhi(fd.Threshold, c.HeartbeatInterval+fd.AcceptableHeartbeatPause, fd.MinStdDeviation)
	fresh := phi.ElapsedAtPhi(fd.Threshold, fd.FirstHeartbeatEstimate+fd.AcceptableHeartbeatPause, max(fd.FirstHeartbeatEstimate/4, fd.MinStdDeviation))
	return max(steady, fresh) + c.AvailabilityInterval + c.HeartbeatInterval
}

// Validate reports every bad field at once (errors.Join), each wrapping
// ErrBadConfig. It never fills in defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...))
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			bad("%s must be > 0, got %v", name, d)
		}
	}
	positive("GossipInterval", c.GossipInterval)
	positive("HeartbeatInterval", c.HeartbeatInterval)
	positive("AvailabilityInterval", c.AvailabilityInterval)
	positive("JoinRetryInterval", c.JoinRetryInterval)
	positive("SeedNodeTimeout", c.SeedNodeTimeout)
	positive("LeaveTimeout", c.LeaveTimeout)
	positive("TombstoneTTL", c.TombstoneTTL)
	positive("StableAfter", c.StableAfter)
	if c.GossipFanout < 1 || c.GossipFanout > 64 {
		bad("GossipFanout must be in 1..64, got %d", c.GossipFanout)
	}
	if c.MonitoredBy < 1 || c.MonitoredBy > 64 {
		bad("MonitoredBy must be in 1..64, got %d", c.MonitoredBy)
	}
	if c.RebalanceMaxMoves < 1 || c.RebalanceMaxMoves > MaxShardsPerType {
		bad("RebalanceMaxMoves must be in 1..%d, got %d", MaxShardsPerType, c.RebalanceMaxMoves)
	}
	if c.PlantedBug > BugStatusRegress {
		bad("PlantedBug %d is not a known bug", c.PlantedBug)
	}
	if c.WeaklyUpAfter < 0 {
		bad("WeaklyUpAfter must be >= 0 (0 disables), got %v", c.WeaklyUpAfter)
	}
	if err := c.FailureDetector.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: FailureDetector: %w", ErrBadConfig, err))
	}
	switch c.Downing.Strategy {
	case KeepMajority, KeepOldest, DownAll, Manual:
	case StaticQuorum:
		if c.Downing.QuorumSize < 1 {
			bad("Downing.QuorumSize must be >= 1 for StaticQuorum, got %d", c.Downing.QuorumSize)
		}
	case AutoDown:
		if c.Downing.AutoDownAfter <= 0 {
			bad("Downing.AutoDownAfter must be > 0 for AutoDown, got %v", c.Downing.AutoDownAfter)
		}
	default:
		bad("Downing.Strategy %d is not a known strategy", c.Downing.Strategy)
	}
	for i, r := range c.Roles {
		if r == "" {
			bad("Roles[%d] is empty", i)
		}
	}
	if c.TombstoneTTL > 0 && c.TombstoneTTL < 10*c.GossipInterval {
		bad("TombstoneTTL (%v) must be at least 10 gossip intervals (%v) so late gossip cannot resurrect a removed member", c.TombstoneTTL, 10*c.GossipInterval)
	}
	return errors.Join(errs...)
}
