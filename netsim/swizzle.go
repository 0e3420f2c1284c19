package netsim

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// SwizzleConfig shapes a swizzle-clog (see Network.Swizzle).
type SwizzleConfig struct {
	// Window is the whole episode: clogs begin over its first half and end
	// over its second half. It must be positive.
	Window time.Duration
	// Fraction is the share of the nodes clogged, in (0, 1], rounded up
	// to at least one node. FoundationDB clogs about half.
	Fraction float64
	// PairClogs adds that many one-way link clogs between random distinct
	// nodes, each beginning anywhere in the window and lasting up to half
	// of it. FoundationDB adds ten.
	PairClogs int
}

// Validate reports every problem in c, joined with errors.Join.
func (c SwizzleConfig) Validate() error {
	var errs []error
	if c.Window <= 0 {
		errs = append(errs, fmt.Errorf("netsim: swizzle Window %v is not positive", c.Window))
	}
	if !(c.Fraction > 0 && c.Fraction <= 1) {
		errs = append(errs, fmt.Errorf("netsim: swizzle Fraction %v is not in (0, 1]", c.Fraction))
	}
	if c.PairClogs < 0 {
		errs = append(errs, fmt.Errorf("netsim: swizzle PairClogs %d is negative", c.PairClogs))
	}
	return errors.Join(errs...)
}

// ClogStep is one clog of a swizzle plan: From (a node, or the source of a
// link when To is set) is clogged from At until Until.
type ClogStep struct {
	At, Until time.Time
	From      proto.Address
	To        proto.Address // zero for a node clog
}

// IsLink reports whether the step clogs the one-way link From → To rather
// than the node From.
func (s ClogStep) IsLink() bool { return !s.To.IsZero() }

// String renders the step for a trace.
func (s ClogStep) String() string {
	target := s.From.String()
	if s.IsLink() {
		target += "->" + s.To.String()
	}
	return "clog " + target + " " + s.At.Format(time.RFC3339Nano) + ".." + s.Until.Format(time.RFC3339Nano)
}

// Swizzle schedules FoundationDB's swizzle-clog over nodes, starting at
// now: it picks ⌈Fraction×n⌉ distinct nodes at random, clogs them one by
// one at random instants in the first half of the window, and lets the
// clogs end one by one, in an independent random order, at random instants
// in the second half; then it adds PairClogs random one-way link clogs.
//
// The steps are applied by the network itself, as internal queue entries
// that Step processes silently when they fall due (each is Clog or
// ClogLink at its At), so the caller only keeps stepping. The plan is
// returned, sorted by At, for the run's trace. Duplicate addresses in nodes
// count once, and their order does not matter (they are sorted first).
// Random draws come from the network's rng.
func (n *Network) Swizzle(now time.Time, nodes []proto.Address, sc SwizzleConfig) ([]ClogStep, error) {
	errs := []error{sc.Validate()}
	nodes = slices.SortedFunc(slices.Values(nodes), proto.Address.Compare)
	nodes = slices.CompactFunc(nodes, func(a, b proto.Address) bool { return a.Compare(b) == 0 })
	if len(nodes) == 0 {
		errs = append(errs, errors.New("netsim: swizzle needs at least one node"))
	}
	if sc.PairClogs > 0 && len(nodes) < 2 {
		errs = append(errs, errors.New("netsim: swizzle pair clogs need at least two nodes"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	start := nanos(now)
	if start < n.now {
		start = n.now
	}
	half := max(int64(sc.Window)/2, 1)
	k := min(max(int(math.Ceil(sc.Fraction*float64(len(nodes)))), 1), len(nodes))
	chosen := n.rng.Perm(len(nodes))[:k] // clog order
	starts := make([]int64, k)
	ends := make([]int64, k)
	for i := range k {
		starts[i] = n.rng.Int63n(half)
		ends[i] = half + n.rng.Int63n(max(int64(sc.Window)-half, 1))
	}
	slices.Sort(starts)
	slices.Sort(ends)
	unclog := n.rng.Perm(k) // unclog order: chosen[unclog[j]] is the j-th to end
	until := make([]int64, k)
	for j, c := range unclog {
		until[c] = ends[j]
	}
	steps := make([]ClogStep, 0, k+sc.PairClogs)
	for i, c := range chosen {
		steps = append(steps, ClogStep{
			At:    instant(start + starts[i]),
			Until: instant(start + until[i]),
			From:  nodes[c],
		})
	}
	for range sc.PairClogs {
		a := n.rng.Intn(len(nodes))
		b := n.rng.Intn(len(nodes) - 1)
		if b >= a {
			b++
		}
		at := n.rng.Int63n(int64(sc.Window))
		steps = append(steps, ClogStep{
			At:    instant(start + at),
			Until: instant(start + at + 1 + n.rng.Int63n(half)),
			From:  nodes[a],
			To:    nodes[b],
		})
	}
	slices.SortStableFunc(steps, func(x, y ClogStep) int { return cmp.Compare(nanos(x.At), nanos(y.At)) })
	for _, s := range steps {
		f := fault{from: n.intern(s.From), to: -1, until: nanos(s.Until)}
		if s.IsLink() {
			f.to = n.intern(s.To)
		}
		n.scheduleFault(nanos(s.At), f)
	}
	return steps, nil
}
