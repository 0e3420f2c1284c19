package sim

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// ErrBadSchedule wraps every error ParseSchedule reports.
var ErrBadSchedule = errors.New("sim: bad schedule")

// Op names one action of a fault schedule: a fault, its undo, or a workload
// command.
type Op uint8

// The schedule actions. Node arguments are slot names ("n3"): a slot is one
// address, and each restart there is a new incarnation.
const (
	// OpCrash kills the process at a slot (it keeps its address).
	OpCrash Op = iota + 1
	// OpRestart starts a new incarnation at a crashed or stopped slot; it
	// rejoins through the seeds.
	OpRestart
	// OpPause freezes a slot: it receives nothing and ticks nothing.
	OpPause
	// OpResume ends a pause; the node sees its clock jump.
	OpResume
	// OpLeave makes the node leave gracefully.
	OpLeave
	// OpJoin starts a new slot that joins through the seeds.
	OpJoin
	// OpPartition splits the slots into groups (symmetric).
	OpPartition
	// OpIsolate cuts one slot off from every other.
	OpIsolate
	// OpCut drops traffic from one slot to another, not back (one-way).
	OpCut
	// OpHeal removes every partition, isolation and one-way cut.
	OpHeal
	// OpClog holds (delays, never drops) traffic of a slot or a directed
	// link for a while.
	OpClog
	// OpSwizzle runs FoundationDB's swizzle-clog over all slots.
	OpSwizzle
	// OpDrift sets a slot's clock rate to 1+Rate.
	OpDrift
	// OpStep jumps a slot's clock by Dur (negative: backwards).
	OpStep
	// OpLoss sets the network-wide loss probability (Rate; Base restores
	// the run's drawn value).
	OpLoss
	// OpDup sets the network-wide duplication probability, like OpLoss.
	OpDup
	// OpRegister registers a service entry at a slot (Key, Path).
	OpRegister
	// OpDeregister removes a service entry at a slot.
	OpDeregister
	// OpHost declares a shard type at a slot.
	OpHost
	// OpUnhost withdraws a shard type declaration at a slot.
	OpUnhost
)

var opNames = [...]string{"", "crash", "restart", "pause", "resume", "leave", "join", "partition", "isolate",
	"cut", "heal", "clog", "swizzle", "drift", "step", "loss", "dup", "register", "deregister", "host", "unhost"}

// String names the op as the schedule syntax spells it.
func (o Op) String() string {
	if int(o) < len(opNames) && o != 0 {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Workload reports whether the op is a workload command rather than a fault.
func (o Op) Workload() bool { return o >= OpRegister }

// Entry is one timed action. Which fields matter depends on Op; the rest
// are zero.
type Entry struct {
	// At is the time since the start of the run.
	At time.Duration
	Op Op
	// Node is the slot index (0 for "n1"); Peer the second slot of a
	// one-way cut or a link clog (-1 when unused).
	Node, Peer int
	// Groups lists the slot indices of each side of a partition.
	Groups [][]int
	// Dur is a clog's length, a swizzle's window or a clock step.
	Dur time.Duration
	// Rate is a drift (rate - 1) or a loss/duplication probability.
	Rate float64
	// Base marks loss/dup entries that restore the drawn value.
	Base bool
	// Key and Path name a service entry.
	Key, Path string
	// Shards is a shard type declaration (OpHost) or its name (OpUnhost).
	Shards proto.ShardType
}

// Schedule is an ordered list of timed actions. Its text form is
// "AT ACTION; AT ACTION; ...", for example
//
//	12.5s crash n3; 20s restart n3; 30s partition n1,n2|n3,n4,n5; 45s heal
//
// AT is a Go duration since the start of the run. The actions:
//
//	crash nK | restart nK | pause nK | resume nK | leave nK | join nK
//	partition nA,nB|nC,... | isolate nK | cut nA>nB | heal
//	clog nK DUR | clog nA>nB DUR | swizzle DUR
//	drift nK RATE (clock rate 1+RATE) | step nK DUR (clock jump, may be negative)
//	loss P|base | dup P|base
//	register nK KEY PATH | deregister nK KEY PATH | host nK TYPE SHARDS REPLICAS | unhost nK TYPE
//
// Entries may also be separated by newlines; "#" starts a comment.
type Schedule []Entry

// String renders the schedule in the syntax ParseSchedule reads; the two
// round-trip.
func (s Schedule) String() string {
	var b strings.Builder
	for i, e := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// Faults returns the entries that are not workload commands.
func (s Schedule) Faults() Schedule {
	var out Schedule
	for _, e := range s {
		if !e.Op.Workload() {
			out = append(out, e)
		}
	}
	return out
}

func slotName(i int) string { return "n" + strconv.Itoa(i+1) }

// String renders one entry.
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(e.At.String())
	b.WriteByte(' ')
	b.WriteString(e.Action())
	return b.String()
}

// Action renders the entry without its time.
func (e Entry) Action() string {
	n := slotName(e.Node)
	switch e.Op {
	case OpCrash, OpRestart, OpPause, OpResume, OpLeave, OpJoin, OpIsolate:
		return e.Op.String() + " " + n
	case OpPartition:
		groups := make([]string, len(e.Groups))
		for i, g := range e.Groups {
			names := make([]string, len(g))
			for j, x := range g {
				names[j] = slotName(x)
			}
			groups[i] = strings.Join(names, ",")
		}
		return "partition " + strings.Join(groups, "|")
	case OpCut:
		return "cut " + n + ">" + slotName(e.Peer)
	case OpHeal:
		return "heal"
	case OpClog:
		if e.Peer >= 0 {
			return "clog " + n + ">" + slotName(e.Peer) + " " + e.Dur.String()
		}
		return "clog " + n + " " + e.Dur.String()
	case OpSwizzle:
		return "swizzle " + e.Dur.String()
	case OpDrift:
		return "drift " + n + " " + strconv.FormatFloat(e.Rate, 'g', -1, 64)
	case OpStep:
		return "step " + n + " " + e.Dur.String()
	case OpLoss, OpDup:
		if e.Base {
			return e.Op.String() + " base"
		}
		return e.Op.String() + " " + strconv.FormatFloat(e.Rate, 'g', -1, 64)
	case OpRegister, OpDeregister:
		return e.Op.String() + " " + n + " " + e.Key + " " + e.Path
	case OpHost:
		return fmt.Sprintf("host %s %s %d %d", n, e.Shards.Name, e.Shards.Shards, e.Shards.Replicas)
	case OpUnhost:
		return "unhost " + n + " " + e.Shards.Name
	}
	return e.Op.String()
}

// nodes lists every slot the entry names.
func (e Entry) nodes() []int {
	switch e.Op {
	case OpHeal, OpSwizzle, OpLoss, OpDup:
		return nil
	case OpPartition:
		var out []int
		for _, g := range e.Groups {
			out = append(out, g...)
		}
		return out
	case OpCut:
		return []int{e.Node, e.Peer}
	case OpClog:
		if e.Peer >= 0 {
			return []int{e.Node, e.Peer}
		}
	}
	return []int{e.Node}
}

// maxSlot is the highest slot index an entry may name.
const maxSlot = 9999

// ParseSchedule reads the text form described at Schedule. Entries are
// sorted by time (stably, so entries at one instant keep their order).
func ParseSchedule(text string) (Schedule, error) {
	var out Schedule
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			e, err := parseEntry(part)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, nil
}

func parseEntry(text string) (Entry, error) {
	bad := func(format string, args ...any) (Entry, error) {
		return Entry{}, fmt.Errorf("%w: %q: %s", ErrBadSchedule, text, fmt.Sprintf(format, args...))
	}
	f := strings.Fields(text)
	if len(f) < 2 {
		return bad("want TIME ACTION")
	}
	at, err := time.ParseDuration(f[0])
	if err != nil || at < 0 {
		return bad("time %q must be a duration >= 0 such as 12.5s", f[0])
	}
	e := Entry{At: at, Node: 0, Peer: -1}
	args := f[2:]
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%w: %q: %s takes %d argument(s), got %d", ErrBadSchedule, text, f[1], n, len(args))
		}
		return nil
	}
	switch f[1] {
	case "crash", "restart", "pause", "resume", "leave", "join", "isolate":
		if err := want(1); err != nil {
			return Entry{}, err
		}
		for i, name := range opNames {
			if name == f[1] {
				e.Op = Op(i)
			}
		}
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
	case "partition":
		if err := want(1); err != nil {
			return Entry{}, err
		}
		e.Op = OpPartition
		seen := map[int]bool{}
		for _, g := range strings.Split(args[0], "|") {
			var group []int
			for _, name := range strings.Split(g, ",") {
				x, err := parseSlot(name)
				if err != nil {
					return bad("%v", err)
				}
				if seen[x] {
					return bad("%s is in two groups", name)
				}
				seen[x] = true
				group = append(group, x)
			}
			e.Groups = append(e.Groups, group)
		}
		if len(e.Groups) < 2 {
			return bad("a partition needs at least two groups separated by |")
		}
	case "cut":
		if err := want(1); err != nil {
			return Entry{}, err
		}
		e.Op = OpCut
		if e.Node, e.Peer, err = parseLink(args[0]); err != nil {
			return bad("%v", err)
		}
	case "heal", "swizzle":
		if f[1] == "heal" {
			e.Op = OpHeal
			if err := want(0); err != nil {
				return Entry{}, err
			}
			break
		}
		e.Op = OpSwizzle
		if err := want(1); err != nil {
			return Entry{}, err
		}
		if e.Dur, err = time.ParseDuration(args[0]); err != nil || e.Dur <= 0 {
			return bad("window %q must be a positive duration", args[0])
		}
	case "clog":
		if err := want(2); err != nil {
			return Entry{}, err
		}
		e.Op = OpClog
		if strings.Contains(args[0], ">") {
			e.Node, e.Peer, err = parseLink(args[0])
		} else {
			e.Node, err = parseSlot(args[0])
		}
		if err != nil {
			return bad("%v", err)
		}
		if e.Dur, err = time.ParseDuration(args[1]); err != nil || e.Dur <= 0 {
			return bad("clog length %q must be a positive duration", args[1])
		}
	case "drift":
		if err := want(2); err != nil {
			return Entry{}, err
		}
		e.Op = OpDrift
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
		if e.Rate, err = strconv.ParseFloat(args[1], 64); err != nil || e.Rate <= -0.5 || e.Rate >= 0.5 {
			return bad("drift %q must be a number in (-0.5, 0.5)", args[1])
		}
	case "step":
		if err := want(2); err != nil {
			return Entry{}, err
		}
		e.Op = OpStep
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
		if e.Dur, err = time.ParseDuration(args[1]); err != nil || e.Dur == 0 || e.Dur > time.Hour || e.Dur < -time.Hour {
			return bad("clock step %q must be a non-zero duration within ±1h", args[1])
		}
	case "loss", "dup":
		if err := want(1); err != nil {
			return Entry{}, err
		}
		e.Op = OpLoss
		if f[1] == "dup" {
			e.Op = OpDup
		}
		if args[0] == "base" {
			e.Base = true
			break
		}
		if e.Rate, err = strconv.ParseFloat(args[0], 64); err != nil || !(e.Rate >= 0 && e.Rate <= 1) {
			return bad("%s %q must be a probability in [0, 1] or base", f[1], args[0])
		}
	case "register", "deregister":
		if err := want(3); err != nil {
			return Entry{}, err
		}
		e.Op = OpRegister
		if f[1] == "deregister" {
			e.Op = OpDeregister
		}
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
		e.Key, e.Path = args[1], args[2]
	case "host":
		if err := want(4); err != nil {
			return Entry{}, err
		}
		e.Op = OpHost
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
		shards, err1 := strconv.Atoi(args[2])
		replicas, err2 := strconv.Atoi(args[3])
		e.Shards = proto.ShardType{Name: args[1], Shards: shards, Replicas: replicas}
		if err1 != nil || err2 != nil || e.Shards.Validate() != nil {
			return bad("want host nK NAME SHARDS REPLICAS with 1..%d shards and 0..%d replicas", proto.MaxShardsPerType, proto.MaxReplicas)
		}
	case "unhost":
		if err := want(2); err != nil {
			return Entry{}, err
		}
		e.Op = OpUnhost
		if e.Node, err = parseSlot(args[0]); err != nil {
			return bad("%v", err)
		}
		e.Shards.Name = args[1]
	default:
		return bad("unknown action %q", f[1])
	}
	return e, nil
}

func parseSlot(s string) (int, error) {
	if len(s) < 2 || s[0] != 'n' {
		return 0, fmt.Errorf("node %q: want n1, n2, ...", s)
	}
	k, err := strconv.Atoi(s[1:])
	if err != nil || k < 1 || k > maxSlot+1 || strconv.Itoa(k) != s[1:] {
		return 0, fmt.Errorf("node %q: want n1 to n%d", s, maxSlot+1)
	}
	return k - 1, nil
}

func parseLink(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, ">")
	if !ok {
		return 0, 0, fmt.Errorf("link %q: want nA>nB", s)
	}
	x, err := parseSlot(a)
	if err != nil {
		return 0, 0, err
	}
	y, err := parseSlot(b)
	if err != nil {
		return 0, 0, err
	}
	if x == y {
		return 0, 0, fmt.Errorf("link %q: the two ends must differ", s)
	}
	return x, y, nil
}
