package invariants

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto"
)

// cluster is a minimal in-test driver of real proto.Nodes (a FIFO of
// messages, a clock, crashes and partitions) that hands every node's view
// to a Checker after each of its steps, as the simulator does.
type cluster struct {
	t          *testing.T
	cfg        proto.Config
	rng        *rand.Rand
	now        time.Time
	nodes      map[proto.Address]*proto.Node
	order      []proto.Address
	crashed    map[proto.Address]bool
	cut        map[[2]proto.Address]bool
	inbox      []proto.Message
	topo       map[proto.Address]proto.TopologySnapshot
	checker    *Checker
	shadow     *Checker // without memos: must report the same
	violations []Violation
}

func newCluster(t *testing.T, cfg proto.Config, seed int64) *cluster {
	return &cluster{
		t: t, cfg: cfg, rng: rand.New(rand.NewSource(seed)), now: t0,
		nodes: map[proto.Address]*proto.Node{}, crashed: map[proto.Address]bool{},
		cut: map[[2]proto.Address]bool{}, topo: map[proto.Address]proto.TopologySnapshot{},
		checker: NewChecker(), shadow: shadowChecker(),
	}
}

func addrOf(i int) proto.Address { return nd(i).Address }

// start creates (or restarts, as a new incarnation) node i and joins it
// through seed node 1.
func (c *cluster) start(i int) *proto.Node {
	a := addrOf(i)
	n, err := proto.New(c.cfg, a, rand.New(rand.NewSource(c.rng.Int63())))
	if err != nil {
		c.t.Fatalf("New(%v): %v", a, err)
	}
	if _, ok := c.nodes[a]; !ok {
		c.order = append(c.order, a)
	}
	c.nodes[a] = n
	delete(c.crashed, a)
	delete(c.topo, a)
	c.command(n, proto.JoinSeeds{Seeds: []proto.Address{addrOf(1)}})
	return n
}

func (c *cluster) command(n *proto.Node, b proto.Body) {
	if err := n.Step(c.now, proto.Message{From: n.Self(), Body: b}); err != nil {
		c.t.Fatalf("%v %s: %v", n.Self(), b.Kind(), err)
	}
	c.after(n, false)
}

func (c *cluster) view(n *proto.Node) View {
	a := n.Self().Address
	return View{Addr: a, Self: n.Self(), Live: !c.crashed[a], Phase: n.Phase(), State: n.State(), Topology: c.topo[a]}
}

// after drains n's output and observes its view; ticked says the step was
// a Tick.
func (c *cluster) after(n *proto.Node, ticked bool) {
	out := n.Output()
	c.inbox = append(c.inbox, out.Messages...)
	if len(out.Snapshots) > 0 {
		c.topo[n.Self().Address] = out.Snapshots[len(out.Snapshots)-1]
	}
	v := c.view(n)
	v.Ticked = ticked
	vs := c.checker.Observe(v)
	if diff := cmp.Diff(c.shadow.Observe(v), vs); diff != "" {
		c.t.Fatalf("t=%v: violations differ from a checker without memos (-without +with):\n%s", c.now.Sub(t0), diff)
	}
	for _, v := range vs {
		c.violations = append(c.violations, v)
		c.t.Logf("t=%v %v", c.now.Sub(t0), v)
	}
}

func (c *cluster) run(d time.Duration) {
	const dt = 10 * time.Millisecond
	end := c.now.Add(d)
	for c.now.Before(end) {
		c.now = c.now.Add(dt)
		for _, a := range c.order {
			if n := c.nodes[a]; !c.crashed[a] && n.Phase() != proto.PhaseStopped {
				n.Tick(c.now)
				c.after(n, true)
			}
		}
		for limit := 0; limit < 100000 && len(c.inbox) > 0; limit++ {
			m := c.inbox[0]
			c.inbox = c.inbox[1:]
			n, ok := c.nodes[m.To]
			if !ok || c.crashed[m.To] || c.cut[[2]proto.Address{m.From.Address, m.To}] {
				continue
			}
			if err := n.Step(c.now, m); err != nil {
				c.t.Fatalf("step %v <- %s: %v", m.To, m.Body.Kind(), err)
			}
			c.after(n, false)
		}
	}
}

// isolate cuts every link between node i and the others, both ways.
func (c *cluster) isolate(i int) {
	for _, b := range c.order {
		if b != addrOf(i) {
			c.cut[[2]proto.Address{addrOf(i), b}] = true
			c.cut[[2]proto.Address{b, addrOf(i)}] = true
		}
	}
}

func (c *cluster) heal() { c.cut = map[[2]proto.Address]bool{} }

func (c *cluster) views() []View {
	var out []View
	for _, a := range c.order {
		out = append(out, c.view(c.nodes[a]))
	}
	return out
}

func names(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Invariant)
	}
	return out
}

// TestProtoClusterKeepsInvariants drives five real nodes through joins,
// shard hosting, registrations, a crash, a graceful leave and a restart:
// no safety invariant may fail at any step, and every liveness invariant
// must hold once the cluster has settled.
func TestProtoClusterKeepsInvariants(t *testing.T) {
	c := newCluster(t, proto.LocalConfig(), 1)
	typ := proto.ShardType{Name: "orders", Shards: 8, Replicas: 1}
	for i := 1; i <= 5; i++ {
		n := c.start(i)
		c.command(n, proto.HostShards{Type: typ})
		c.command(n, proto.Register{Key: "svc", Path: fmt.Sprintf("/node%d", i)})
		c.run(300 * time.Millisecond)
	}
	c.run(5 * time.Second)
	crashed := c.nodes[addrOf(3)].Self()
	c.crashed[addrOf(3)] = true
	c.run(10 * time.Second)
	left := c.nodes[addrOf(4)].Self()
	c.command(c.nodes[addrOf(4)], proto.Leave{})
	c.run(10 * time.Second)
	c.start(3)
	c.command(c.nodes[addrOf(3)], proto.HostShards{Type: typ})
	c.run(10 * time.Second)

	if len(c.violations) > 0 {
		t.Errorf("safety violations: %v", c.violations)
	}
	var joined []proto.UniqueAddress
	for _, i := range []int{1, 2, 3, 5} {
		joined = append(joined, c.nodes[addrOf(i)].Self())
	}
	got := liveness(t, c.views(), Expectation{Crashed: []proto.UniqueAddress{crashed}, Left: []proto.UniqueAddress{left}, Joined: joined})
	if diff := cmp.Diff([]Violation(nil), got); diff != "" {
		t.Errorf("liveness violations (-want +got):\n%s", diff)
	}
	if s := c.checker.Stats(); s.Unchanged == 0 || s.Checked == 0 || s.Validations >= s.Checked {
		t.Errorf("stats %+v: want some views unchanged and some validated by the seen-only walk", s)
	}
}

// leaveOnBothSides cuts node 3 off, starts a leave on each side and heals,
// so that healing merges concurrent versions that both changed statuses.
func leaveOnBothSides(c *cluster) {
	for i := 1; i <= 3; i++ {
		c.start(i)
		c.run(300 * time.Millisecond)
	}
	c.run(3 * time.Second)
	c.isolate(3)
	c.command(c.nodes[addrOf(3)], proto.Leave{})
	c.command(c.nodes[addrOf(2)], proto.Leave{})
	c.run(200 * time.Millisecond)
	c.heal()
	c.run(3 * time.Second)
}

// unhostOnBothSides splits five shard hosts 2|3 and has one node on each
// side stop hosting the type, then heals. Only a leader that acts without
// convergence reallocates during the split, and then both sides do.
func unhostOnBothSides(c *cluster) {
	typ := proto.ShardType{Name: "orders", Shards: 8, Replicas: 1}
	for i := 1; i <= 5; i++ {
		c.command(c.start(i), proto.HostShards{Type: typ})
		c.run(300 * time.Millisecond)
	}
	c.run(3 * time.Second)
	for _, a := range []int{1, 2} {
		for _, b := range []int{3, 4, 5} {
			c.cut[[2]proto.Address{addrOf(a), addrOf(b)}] = true
			c.cut[[2]proto.Address{addrOf(b), addrOf(a)}] = true
		}
	}
	c.command(c.nodes[addrOf(2)], proto.StopHosting{Name: "orders"})
	c.command(c.nodes[addrOf(4)], proto.StopHosting{Name: "orders"})
	c.run(5 * time.Second)
	c.heal()
	c.run(5 * time.Second)
}

// TestProtoPlantedBugs runs scenarios with proto's planted bugs and
// without: each bug must be caught, by the invariant named, on every seed
// tried, and the correct protocol must pass the same scenarios.
// BugSkipConvergence is left to the simulator's sweep
// (sim.TestPlantedBugsAreCaught): since allocation epochs skip past
// leadership changes, two sides that allocate at once no longer collide on
// an epoch, and the jumps it causes elsewhere need the nemesis's timing.
func TestProtoPlantedBugs(t *testing.T) {
	cases := []struct {
		name     string
		scenario func(*cluster)
		bug      proto.PlantedBug
		want     []string
	}{
		{name: "leave on both sides, no bug", scenario: leaveOnBothSides, bug: proto.NoBug},
		{name: "leave on both sides, status regress", scenario: leaveOnBothSides, bug: proto.BugStatusRegress, want: []string{AllowedTransition}},
		{name: "unhost on both sides, no bug", scenario: unhostOnBothSides, bug: proto.NoBug},
	}
	for _, tc := range cases {
		for seed := int64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				cfg := proto.LocalConfig()
				cfg.PlantedBug = tc.bug
				c := newCluster(t, cfg, seed)
				tc.scenario(c)
				got := dedupe(names(c.violations))
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("distinct violations (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
