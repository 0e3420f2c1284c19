package sim

import (
	"reflect"
	"strings"
	"time"
)

// Probes are "sometimes" counters: each says how often a fault or a rare
// protocol state happened in a run. A seed sweep reports how many seeds
// reached each one, which shows that every fault actually bit.
type Probes struct {
	// Messages the network dropped, by cause.
	DroppedLoss      uint64 `json:"dropped_loss"`
	DroppedPartition uint64 `json:"dropped_partition"`
	DroppedOneWay    uint64 `json:"dropped_one_way"`
	DroppedInFlight  uint64 `json:"dropped_in_flight"`
	DroppedDown      uint64 `json:"dropped_down"`
	// Messages the simulator dropped: the receiver was paused, or had
	// stopped (or never started).
	DroppedPaused  uint64 `json:"dropped_paused"`
	DroppedStopped uint64 `json:"dropped_stopped"`
	Duplicated     uint64 `json:"duplicated"`
	Reordered      uint64 `json:"reordered"`
	Clogged        uint64 `json:"clogged"`
	// PartitionsBit counts partition episodes that dropped traffic.
	PartitionsBit uint64 `json:"partitions_bit"`
	// Unreachable, Downed and Removed count distinct incarnations some node
	// saw unreachable, Down and removed.
	Unreachable uint64 `json:"unreachable"`
	Downed      uint64 `json:"downed"`
	Removed     uint64 `json:"removed"`
	// DownedStops counts nodes that stopped because they were downed.
	DownedStops     uint64 `json:"downed_stops"`
	LeaderChanges   uint64 `json:"leader_changes"`
	Rebalances      uint64 `json:"rebalances"`
	RegistryChanges uint64 `json:"registry_changes"`
	WeaklyUp        uint64 `json:"weakly_up"`
	// RestartsRejoined counts restarted incarnations that became members.
	RestartsRejoined uint64 `json:"restarts_rejoined"`
	ClockSteps       uint64 `json:"clock_steps"`
	Swizzles         uint64 `json:"swizzles"`
	// Faults applied, by kind.
	Crashes    uint64 `json:"crashes"`
	Restarts   uint64 `json:"restarts"`
	Pauses     uint64 `json:"pauses"`
	Leaves     uint64 `json:"leaves"`
	Joins      uint64 `json:"joins"`
	Partitions uint64 `json:"partitions"`
	Clogs      uint64 `json:"clogs"`
	Drifts     uint64 `json:"drifts"`
	Bursts     uint64 `json:"bursts"`
}

// Probe is one named counter.
type Probe struct {
	Name  string
	Count uint64
}

// List returns the counters in declaration order, named as in JSON.
func (p Probes) List() []Probe {
	v := reflect.ValueOf(p)
	t := v.Type()
	out := make([]Probe, t.NumField())
	for i := range out {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[i] = Probe{Name: name, Count: v.Field(i).Uint()}
	}
	return out
}

// Summary aggregates one figure over several occurrences.
type Summary struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_s"`
	Max   float64 `json:"max_s"`
}

func (s *Summary) add(d time.Duration) {
	x := d.Seconds()
	s.Mean = (s.Mean*float64(s.Count) + x) / float64(s.Count+1)
	if x > s.Max {
		s.Max = x
	}
	s.Count++
}

// Figures are what a run measured, named after the design's quality goals.
// Times are simulated seconds; a Summary with Count 0 was not measured.
type Figures struct {
	// StartupAllUp: from the start until every initial node sees every
	// initial node Up (0: never).
	StartupAllUp float64 `json:"startup_all_up_s"`
	// For each crash of a member: until the first monitor and every
	// monitor mark it unreachable in their own rows; until the first and
	// every running node sees it Down; until every running node has removed
	// it.
	CrashUnreachableFirst Summary `json:"crash_unreachable_first"`
	CrashUnreachableAll   Summary `json:"crash_unreachable_all_monitors"`
	CrashDownFirst        Summary `json:"crash_down_first"`
	CrashDownAll          Summary `json:"crash_down_all"`
	CrashRemovedAll       Summary `json:"crash_removed_all"`
	// JoinUpAll: from a join or restart until every running member sees
	// the new incarnation Up.
	JoinUpAll Summary `json:"join_up_all"`
	// LeaveRemovedAll: from a leave command until every running node has
	// removed the leaver.
	LeaveRemovedAll Summary `json:"leave_removed_all"`
	// Traffic after startup (messages and bytes sent per initial node per
	// simulated second, from StartupAllUp to the end of the safety phase).
	MsgsPerNodeSec  float64 `json:"msgs_per_node_s"`
	BytesPerNodeSec float64 `json:"bytes_per_node_s"`
	// LivenessConverged: from the heal until the liveness checks passed
	// (-1: they never did); LivenessBound is the bound allowed.
	LivenessConverged float64 `json:"liveness_converged_s"`
	LivenessBound     float64 `json:"liveness_bound_s"`
}
