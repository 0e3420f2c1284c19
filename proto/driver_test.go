package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// testCluster is a tiny in-memory driver for proto tests: nodes, a FIFO of
// messages in flight, a clock, partitions and drop/duplicate controls. It
// is deliberately simple; the real simulator lives in sim/.
type testCluster struct {
	t       testing.TB
	cfg     Config
	rng     *rand.Rand
	now     time.Time
	nodes   map[Address]*Node
	order   []Address // creation order, for stable iteration
	crashed map[Address]bool
	inbox   []Message
	cut     map[[2]Address]bool // directed links that drop messages
	events  map[Address][]Event
	history map[Address][]TopologySnapshot
	dropped int
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestCluster(t testing.TB, cfg Config, seed int64) *testCluster {
	return &testCluster{
		t: t, cfg: cfg, rng: rand.New(rand.NewSource(seed)), now: epoch,
		nodes: map[Address]*Node{}, crashed: map[Address]bool{}, cut: map[[2]Address]bool{},
		events: map[Address][]Event{}, history: map[Address][]TopologySnapshot{},
	}
}

func addr(i int) Address { return Address{Host: fmt.Sprintf("10.0.0.%d", i), Port: 7000} }

// start creates (or restarts, with a new UID) the node at a and sends it
// JoinSeeds.
func (c *testCluster) start(a Address, seeds ...Address) *Node {
	n, err := New(c.cfg, a, rand.New(rand.NewSource(c.rng.Int63())))
	if err != nil {
		c.t.Fatalf("New(%v): %v", a, err)
	}
	if _, ok := c.nodes[a]; !ok {
		c.order = append(c.order, a)
	}
	c.nodes[a] = n
	delete(c.crashed, a)
	if err := n.Step(c.now, Message{From: n.Self(), Body: JoinSeeds{Seeds: seeds}}); err != nil {
		c.t.Fatalf("join %v: %v", a, err)
	}
	c.collect(a)
	return n
}

func (c *testCluster) collect(a Address) {
	n := c.nodes[a]
	out := n.Output()
	c.inbox = append(c.inbox, out.Messages...)
	c.events[a] = append(c.events[a], out.Events...)
	c.history[a] = append(c.history[a], out.Snapshots...)
}

func (c *testCluster) live(a Address) bool {
	n, ok := c.nodes[a]
	return ok && !c.crashed[a] && n.Phase() != PhaseStopped
}

// deliverAll delivers every message in flight (and those they cause) up to
// limit messages.
func (c *testCluster) deliverAll(limit int) {
	for i := 0; i < limit && len(c.inbox) > 0; i++ {
		m := c.inbox[0]
		c.inbox = c.inbox[1:]
		c.deliver(m)
	}
}

func (c *testCluster) deliver(m Message) {
	n, ok := c.nodes[m.To]
	if !ok || c.crashed[m.To] || c.cut[[2]Address{m.From.Address, m.To}] {
		c.dropped++
		return
	}
	if err := n.Step(c.now, m); err != nil {
		c.t.Fatalf("step %v <- %s: %v", m.To, m.Body.Kind(), err)
	}
	c.collect(m.To)
}

// run advances time in steps of dt for d, ticking every live node and
// delivering messages after each tick.
func (c *testCluster) run(d, dt time.Duration) {
	c.runWith(d, dt, func(a Address, n *Node) {
		n.Tick(c.now)
		c.collect(a)
	})
}

// runWith is run with tick in place of each live node's tick: it must
// call n.Tick(c.now) and take the node's output (collect).
func (c *testCluster) runWith(d, dt time.Duration, tick func(a Address, n *Node)) {
	end := c.now.Add(d)
	for c.now.Before(end) {
		c.now = c.now.Add(dt)
		for _, a := range c.order {
			if c.live(a) {
				tick(a, c.nodes[a])
			}
		}
		c.deliverAll(100000)
	}
}

func (c *testCluster) partition(groups ...[]Address) {
	group := map[Address]int{}
	for i, g := range groups {
		for _, a := range g {
			group[a] = i + 1
		}
	}
	c.cut = map[[2]Address]bool{}
	for _, a := range c.order {
		for _, b := range c.order {
			if a != b && group[a] != group[b] {
				c.cut[[2]Address{a, b}] = true
			}
		}
	}
}

func (c *testCluster) heal() { c.cut = map[[2]Address]bool{} }

// statusAt returns how node a sees the member at address b (its newest
// incarnation), or 0.
func (c *testCluster) statusAt(a, b Address) MemberStatus {
	var st MemberStatus
	for _, m := range c.nodes[a].State().Members {
		if m.Node.Address == b {
			st = m.Status
		}
	}
	return st
}

// view renders node a's member list as "addr:Status ..." in address order.
func (c *testCluster) view(a Address) string {
	ms := c.nodes[a].State().Members
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%s", m.Node.Host, m.Status)
	}
	return s
}

func (c *testCluster) liveAddrs() []Address {
	var out []Address
	for _, a := range c.order {
		if c.live(a) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Compare(out[j]) < 0 })
	return out
}
