package proto

// Scenario tests: the stories in testdata/scenarios/*.txt, run with
// github.com/cockroachdb/datadriven. Each file drives a small seeded
// cluster of Nodes through a command language and records what the nodes
// see; the expected output is the specification. Run with -rewrite to
// regenerate it, then read the diff: a rewrite is accepted only when the new
// output is correct protocol behaviour.
//
// Command language (one command per directive; "#" lines are comments):
//
//	config [profile=local|default|wan] [strategy=keep-majority|static-quorum|keep-oldest|down-all|auto-down|manual]
//	       [quorum=N] [after=DUR] [stable-after=DUR] [weakly-up-after=DUR] [seed=N]
//	    Starts a fresh story: no nodes, time 0, the given configuration for
//	    every node started later. Defaults: profile=local, keep-majority,
//	    seed=1.
//	start node=n1 [seeds=n1,n2]
//	    Creates the process n1 at 10.0.0.1:7000 and gives it JoinSeeds. A
//	    name that already ran (running, crashed or stopped) starts a new
//	    incarnation: n1#2, n1#3, ... Without seeds it forms a cluster alone.
//	run for=DUR [step=DUR]
//	    Advances time in steps (default 10ms): every live node ticks, in
//	    name order, then every message in flight is delivered, FIFO, until
//	    none is left (zero latency).
//	deliver
//	    Delivers every message in flight without advancing time.
//	crash node=n3
//	    The process stops dead: no ticks, messages to it are lost.
//	resume node=n3
//	    The crashed incarnation goes on where it stopped, as after a long
//	    freeze (a stop-the-world pause, a suspended VM).
//	partition groups=n1,n2,n3|n4,n5
//	    Cuts every link between nodes of different groups, both ways. Every
//	    started node must be in a group.
//	cut from=n1 to=n2
//	    Cuts one direction of one link (added to the cuts in place).
//	drop kind=gossip-state [from=n1] [to=n2]
//	    Drops matching messages from now on.
//	heal
//	    Removes every cut and drop rule.
//	leave node=n2 | down node=n3 by=n1
//	    Local commands (graceful leave; operator's Down). They print
//	    whether the node's state changed.
//	capture node=n1 as=NAME
//	    Remembers n1's current gossip state (states are immutable) and
//	    prints it.
//	inject from=n1 to=n2 state=NAME [reply]
//	    Delivers the captured state to n2 as a GossipState from n1's current
//	    incarnation, ignoring cuts, and prints what n2 made of it.
//	state [node=n1]
//	    Without node: one line per node. With node: that node's view in
//	    detail.
//	reachability node=n1
//	    n1's reachability table: one row per observer with its version.
//	events node=n1 [times]
//	    The events n1 published since the last "events node=n1", with
//	    times (since the story began) when asked.
//	stats node=n1
//	    n1's counters that are not zero, except message counts.
//	host node=n1 type=orders shards=12 [replicas=1]
//	unhost node=n1 type=orders
//	    Local commands: declare (or change) the shard type n1 hosts, or
//	    withdraw it. They print whether the node's state changed.
//	register node=n1 key=payments [path=/user/p]
//	deregister node=n1 key=payments [path=/user/p]
//	    Local commands: add or remove one of n1's service entries.
//	shards [node=n1] type=orders
//	    The allocation table of type orders in n1's published topology
//	    snapshot: a header with the table's epoch and the allocation epoch,
//	    one line per shard "3: n2#1 [n1#1] @5" (primary, replicas in
//	    promotion order, the epoch the primary was assigned at) and the
//	    number of primaries per holder. Without node: the table once, with
//	    the live members whose snapshots hold exactly it, when they all
//	    agree; otherwise each live member's table.
//	registry [node=n1] [key=payments]
//	    The service entries in n1's published snapshot ("payments n2#1
//	    /user/p"), or only those under key (Lookup). Without node: as for
//	    shards, once when every live member agrees.
//
// Incarnations are printed as name#k (n2#1, n2#2) instead of UIDs, so the
// output is the same whatever UIDs the seeded RNG draws.
//
// After every Step and Tick the driver checks two safety properties and
// fails the test at once when one breaks: every member status a node
// observes moves only along CanTransition, and an incarnation a node has
// removed never reappears in that node's members.

import (
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/google/go-cmp/cmp"
)

func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		var d *scnDriver
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			var got string
			if td.Cmd == "config" {
				d = newScnDriver(t, td)
				got = d.describeConfig()
			} else {
				if d == nil {
					td.Fatalf(t, "the first command must be config")
				}
				d.t = t
				got = d.exec(td)
			}
			if got != "" && !strings.HasSuffix(got, "\n") {
				got += "\n"
			}
			if !td.Rewrite && got != td.Expected {
				t.Errorf("%s: %s: output differs (-want +got):\n%s", td.Pos, td.FullCmd(),
					cmp.Diff(strings.Split(td.Expected, "\n"), strings.Split(got, "\n")))
			}
			return got
		})
	})
}

// scnEpoch is time zero of every story.
var scnEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// scnProc is one named process slot: the current incarnation and its
// bookkeeping. A restart replaces node and bumps inc.
type scnProc struct {
	name    string
	addr    Address
	node    *Node
	inc     int
	crashed bool
	events  []scnEvent // every event of every incarnation, in order
	shown   int        // events already printed by "events"
	shownIn int        // incarnation of the last event printed
	// seenStatus is what this incarnation last saw of each member, for the
	// transition check; removed holds the incarnations it has removed.
	seenStatus map[UniqueAddress]MemberStatus
	removed    map[UniqueAddress]bool
}

// scnEvent is an event and the incarnation (1, 2, ...) that published it.
type scnEvent struct {
	inc int
	Event
}

type scnDropRule struct {
	kind     string
	from, to Address // zero: any
}

type scnDriver struct {
	t        testing.TB
	cfg      Config
	seed     int64
	rng      *rand.Rand
	now      time.Time
	procs    map[string]*scnProc
	byAddr   map[Address]*scnProc
	labels   map[UID]string
	inflight []Message
	cut      map[[2]Address]bool
	drops    []scnDropRule
	captured map[string]*State
}

func newScnDriver(t testing.TB, td *datadriven.TestData) *scnDriver {
	cfg := LocalConfig()
	seed := int64(1)
	for _, arg := range td.CmdArgs {
		val := ""
		if len(arg.Vals) > 0 {
			val = arg.Vals[0]
		}
		switch arg.Key {
		case "profile":
			switch val {
			case "local":
				cfg = withDowning(LocalConfig(), cfg.Downing)
			case "default":
				cfg = withDowning(DefaultConfig(), cfg.Downing)
			case "wan":
				cfg = withDowning(WANConfig(), cfg.Downing)
			default:
				td.Fatalf(t, "unknown profile %q", val)
			}
		case "strategy":
			s, ok := map[string]DowningStrategy{
				"keep-majority": KeepMajority, "static-quorum": StaticQuorum, "keep-oldest": KeepOldest,
				"down-all": DownAll, "auto-down": AutoDown, "manual": Manual,
			}[val]
			if !ok {
				td.Fatalf(t, "unknown strategy %q", val)
			}
			cfg.Downing.Strategy = s
		case "quorum":
			n, err := strconv.Atoi(val)
			if err != nil {
				td.Fatalf(t, "quorum: %v", err)
			}
			cfg.Downing.QuorumSize = n
		case "after":
			cfg.Downing.AutoDownAfter = scnDuration(t, td, val)
		case "stable-after":
			cfg.StableAfter = scnDuration(t, td, val)
		case "weakly-up-after":
			cfg.WeaklyUpAfter = scnDuration(t, td, val)
		case "seed":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				td.Fatalf(t, "seed: %v", err)
			}
			seed = n
		default:
			td.Fatalf(t, "config: unknown argument %q", arg.Key)
		}
	}
	if err := cfg.Validate(); err != nil {
		td.Fatalf(t, "config: %v", err)
	}
	return &scnDriver{
		t: t, cfg: cfg, seed: seed, rng: rand.New(rand.NewSource(seed)), now: scnEpoch,
		procs: map[string]*scnProc{}, byAddr: map[Address]*scnProc{}, labels: map[UID]string{},
		cut: map[[2]Address]bool{}, captured: map[string]*State{},
	}
}

func withDowning(c Config, d DowningConfig) Config {
	c.Downing = d
	return c
}

func scnDuration(t testing.TB, td *datadriven.TestData, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		td.Fatalf(t, "bad duration %q: %v", s, err)
	}
	return d
}

func (d *scnDriver) describeConfig() string {
	c := d.cfg
	s := fmt.Sprintf("strategy=%v", c.Downing.Strategy)
	switch c.Downing.Strategy {
	case StaticQuorum:
		s += fmt.Sprintf(" quorum=%d", c.Downing.QuorumSize)
	case AutoDown:
		s += fmt.Sprintf(" after=%v", c.Downing.AutoDownAfter)
	}
	return s + fmt.Sprintf(" stable-after=%v weakly-up-after=%v seed-node-timeout=%v seed=%d",
		c.StableAfter, c.WeaklyUpAfter, c.SeedNodeTimeout, d.seed)
}

// exec runs one command and returns its output.
func (d *scnDriver) exec(td *datadriven.TestData) string {
	switch td.Cmd {
	case "start":
		p := d.proc(td, d.arg(td, "node"))
		var seeds []Address
		if s := d.optArg(td, "seeds"); s != "" {
			for _, name := range strings.Split(s, ",") {
				seeds = append(seeds, d.addrOf(td, name))
			}
		}
		d.startProc(td, p, seeds)
		return ""
	case "run":
		total := scnDuration(d.t, td, d.arg(td, "for"))
		step := 10 * time.Millisecond
		if s := d.optArg(td, "step"); s != "" {
			step = scnDuration(d.t, td, s)
		}
		if step <= 0 {
			td.Fatalf(d.t, "step must be > 0")
		}
		d.run(total, step)
		return ""
	case "deliver":
		d.deliverAll()
		return ""
	case "crash":
		p := d.started(td, d.arg(td, "node"))
		p.crashed = true
		return ""
	case "resume":
		p := d.started(td, d.arg(td, "node"))
		if !p.crashed {
			td.Fatalf(d.t, "%s is not crashed", p.name)
		}
		p.crashed = false
		return ""
	case "partition":
		return d.partition(td)
	case "cut":
		from, to := d.addrOf(td, d.arg(td, "from")), d.addrOf(td, d.arg(td, "to"))
		d.cut[[2]Address{from, to}] = true
		return ""
	case "drop":
		r := scnDropRule{kind: d.arg(td, "kind")}
		if s := d.optArg(td, "from"); s != "" {
			r.from = d.addrOf(td, s)
		}
		if s := d.optArg(td, "to"); s != "" {
			r.to = d.addrOf(td, s)
		}
		d.drops = append(d.drops, r)
		return ""
	case "heal":
		d.cut = map[[2]Address]bool{}
		d.drops = nil
		return ""
	case "leave":
		p := d.started(td, d.arg(td, "node"))
		return d.command(td, p, Leave{})
	case "down":
		target := d.addrOf(td, d.arg(td, "node"))
		p := d.started(td, d.arg(td, "by"))
		return d.command(td, p, DownNode{Address: target})
	case "capture":
		p := d.started(td, d.arg(td, "node"))
		name := d.arg(td, "as")
		d.captured[name] = p.node.State()
		return fmt.Sprintf("%s = %s's view: %s", name, d.label(p.node.Self()), d.memberList(p.node.State()))
	case "inject":
		return d.inject(td)
	case "state":
		if name := d.optArg(td, "node"); name != "" {
			return d.detail(d.started(td, name))
		}
		return d.overview()
	case "reachability":
		return d.reachability(d.started(td, d.arg(td, "node")))
	case "events":
		return d.events(d.started(td, d.arg(td, "node")), td.HasArg("times"))
	case "stats":
		return d.stats(d.started(td, d.arg(td, "node")))
	case "host":
		p := d.started(td, d.arg(td, "node"))
		typ := ShardType{Name: d.arg(td, "type"), Shards: d.intArg(td, "shards", -1), Replicas: d.intArg(td, "replicas", 0)}
		return d.command(td, p, HostShards{Type: typ})
	case "unhost":
		p := d.started(td, d.arg(td, "node"))
		return d.command(td, p, StopHosting{Name: d.arg(td, "type")})
	case "register":
		p := d.started(td, d.arg(td, "node"))
		return d.command(td, p, Register{Key: d.arg(td, "key"), Path: d.optArg(td, "path")})
	case "deregister":
		p := d.started(td, d.arg(td, "node"))
		return d.command(td, p, Deregister{Key: d.arg(td, "key"), Path: d.optArg(td, "path")})
	case "shards":
		name := d.arg(td, "type")
		return d.perNode(td, func(p *scnProc) string { return d.shardTable(p, name) })
	case "registry":
		key, keyed := d.optArg(td, "key"), td.HasArg("key")
		return d.perNode(td, func(p *scnProc) string { return d.registryText(p, key, keyed) })
	}
	td.Fatalf(d.t, "unknown command %q", td.Cmd)
	return ""
}

func (d *scnDriver) arg(td *datadriven.TestData, key string) string {
	var s string
	td.ScanArgs(d.t, key, &s)
	return s
}

func (d *scnDriver) optArg(td *datadriven.TestData, key string) string {
	var s string
	td.MaybeScanArgs(d.t, key, &s)
	return s
}

// intArg reads an integer argument; def < 0 makes it required.
func (d *scnDriver) intArg(td *datadriven.TestData, key string, def int) int {
	if !td.HasArg(key) {
		if def < 0 {
			td.Fatalf(d.t, "%s: missing argument %s", td.Cmd, key)
		}
		return def
	}
	n, err := strconv.Atoi(d.arg(td, key))
	if err != nil {
		td.Fatalf(d.t, "%s: %s: %v", td.Cmd, key, err)
	}
	return n
}

// addrOf maps n1..n254 to 10.0.0.1:7000 .. 10.0.0.254:7000.
func (d *scnDriver) addrOf(td *datadriven.TestData, name string) Address {
	i, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
	if !strings.HasPrefix(name, "n") || err != nil || i < 1 || i > 254 {
		td.Fatalf(d.t, "bad node name %q: want n1..n254", name)
	}
	return Address{Host: "10.0.0." + strconv.Itoa(i), Port: 7000}
}

// proc returns the slot for name, creating it if needed.
func (d *scnDriver) proc(td *datadriven.TestData, name string) *scnProc {
	if p, ok := d.procs[name]; ok {
		return p
	}
	p := &scnProc{name: name, addr: d.addrOf(td, name)}
	d.procs[name] = p
	d.byAddr[p.addr] = p
	return p
}

// started returns the slot for name, which must have been started.
func (d *scnDriver) started(td *datadriven.TestData, name string) *scnProc {
	p, ok := d.procs[name]
	if !ok || p.node == nil {
		td.Fatalf(d.t, "node %s was never started", name)
	}
	return p
}

// names returns the started slots in name order (n1, n2, ..., n10).
func (d *scnDriver) names() []*scnProc {
	var out []*scnProc
	for _, p := range d.procs {
		if p.node != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr.Compare(out[j].addr) < 0 })
	return out
}

func (d *scnDriver) startProc(td *datadriven.TestData, p *scnProc, seeds []Address) {
	n, err := New(d.cfg, p.addr, rand.New(rand.NewSource(d.rng.Int63())))
	if err != nil {
		td.Fatalf(d.t, "New(%v): %v", p.addr, err)
	}
	if _, dup := d.labels[n.Self().UID]; dup {
		td.Fatalf(d.t, "UID collision for %s", p.name)
	}
	p.inc++
	p.node = n
	p.crashed = false
	p.seenStatus = map[UniqueAddress]MemberStatus{}
	p.removed = map[UniqueAddress]bool{}
	d.labels[n.Self().UID] = p.name + "#" + strconv.Itoa(p.inc)
	if err := n.Step(d.now, Message{From: n.Self(), Body: JoinSeeds{Seeds: seeds}}); err != nil {
		td.Fatalf(d.t, "start %s: %v", p.name, err)
	}
	d.collect(p)
}

func (p *scnProc) live() bool {
	return p.node != nil && !p.crashed && p.node.Phase() != PhaseStopped
}

// collect drains p's output and checks the safety properties on its view.
func (d *scnDriver) collect(p *scnProc) {
	out := p.node.Output()
	d.inflight = append(d.inflight, out.Messages...)
	for _, e := range out.Events {
		p.events = append(p.events, scnEvent{inc: p.inc, Event: e})
	}
	d.checkView(p)
}

// checkView fails the test if p's view moved a member along a transition
// CanTransition forbids, or brought back an incarnation it had removed.
func (d *scnDriver) checkView(p *scnProc) {
	st := p.node.State()
	present := map[UniqueAddress]bool{}
	for _, m := range st.Members {
		present[m.Node] = true
		if p.removed[m.Node] {
			d.t.Fatalf("t=%v: %s sees %s again (%v) after removing it", d.elapsed(), d.label(p.node.Self()), d.label(m.Node), m.Status)
		}
		if prev, ok := p.seenStatus[m.Node]; ok && !CanTransition(prev, m.Status) {
			d.t.Fatalf("t=%v: %s saw %s move %v -> %v", d.elapsed(), d.label(p.node.Self()), d.label(m.Node), prev, m.Status)
		}
		p.seenStatus[m.Node] = m.Status
	}
	for u, prev := range p.seenStatus {
		if present[u] {
			continue
		}
		if _, tomb := st.Tombstones[u]; !tomb {
			d.t.Fatalf("t=%v: %s lost %s (%v) without a tombstone", d.elapsed(), d.label(p.node.Self()), d.label(u), prev)
		}
		if !CanTransition(prev, Removed) {
			d.t.Fatalf("t=%v: %s saw %s move %v -> Removed", d.elapsed(), d.label(p.node.Self()), d.label(u), prev)
		}
		delete(p.seenStatus, u)
		p.removed[u] = true
	}
	for u := range st.Tombstones {
		p.removed[u] = true
	}
}

func (d *scnDriver) elapsed() time.Duration { return d.now.Sub(scnEpoch) }

func (d *scnDriver) run(total, step time.Duration) {
	end := d.now.Add(total)
	for d.now.Before(end) {
		d.now = d.now.Add(step)
		if d.now.After(end) {
			d.now = end
		}
		for _, p := range d.names() {
			if p.live() {
				p.node.Tick(d.now)
				d.collect(p)
			}
		}
		d.deliverAll()
	}
}

// deliverAll delivers messages in FIFO order, including those sent in
// response, until none is in flight.
func (d *scnDriver) deliverAll() {
	for budget := 1_000_000; len(d.inflight) > 0; budget-- {
		if budget == 0 {
			d.t.Fatalf("t=%v: message storm: still %d in flight", d.elapsed(), len(d.inflight))
		}
		m := d.inflight[0]
		d.inflight = d.inflight[1:]
		p, ok := d.byAddr[m.To]
		if !ok || !p.live() || d.cut[[2]Address{m.From.Address, m.To}] || d.dropped(m) {
			continue
		}
		if err := p.node.Step(d.now, m); err != nil {
			d.t.Fatalf("t=%v: %s <- %s: %v", d.elapsed(), p.name, m.Body.Kind(), err)
		}
		if *scnTrace && m.Body.Kind() != "heartbeat" && m.Body.Kind() != "heartbeat-ack" {
			extra := ""
			if g, ok := m.Body.(GossipState); ok {
				extra = fmt.Sprintf(" reply=%v [%s] v=%v seen=%v", g.Reply, d.memberList(g.State), d.vc(g.State.Version), d.nl(g.State.Seen))
			}
			if g, ok := m.Body.(GossipStatus); ok {
				extra = fmt.Sprintf(" reply=%v v=%v", g.Reply, d.vc(g.Version))
			}
			d.t.Logf("%v %s -> %s %s%s => %s v=%v seen=%v", d.elapsed(), d.label(m.From), d.label(p.node.Self()), m.Body.Kind(), extra, d.memberList(p.node.State()), d.vc(p.node.State().Version), d.nl(p.node.State().Seen))
		}
		d.collect(p)
	}
}

func (d *scnDriver) dropped(m Message) bool {
	for _, r := range d.drops {
		if r.kind == m.Body.Kind() && (r.from.IsZero() || r.from == m.From.Address) && (r.to.IsZero() || r.to == m.To) {
			return true
		}
	}
	return false
}

func (d *scnDriver) partition(td *datadriven.TestData) string {
	group := map[Address]int{}
	for i, g := range strings.Split(d.arg(td, "groups"), "|") {
		for _, name := range strings.Split(g, ",") {
			a := d.addrOf(td, name)
			if _, dup := group[a]; dup {
				td.Fatalf(d.t, "%s is in two groups", name)
			}
			group[a] = i + 1
		}
	}
	for _, p := range d.names() {
		if group[p.addr] == 0 {
			td.Fatalf(d.t, "started node %s is in no group", p.name)
		}
	}
	d.cut = map[[2]Address]bool{}
	for a, ga := range group {
		for b, gb := range group {
			if ga != gb {
				d.cut[[2]Address{a, b}] = true
			}
		}
	}
	return ""
}

// command steps a local command into p and reports whether its state
// changed.
func (d *scnDriver) command(td *datadriven.TestData, p *scnProc, b Body) string {
	before := p.node.State()
	if err := p.node.Step(d.now, Message{From: p.node.Self(), Body: b}); err != nil {
		return fmt.Sprintf("%s: error: %v", d.label(p.node.Self()), err)
	}
	d.collect(p)
	if p.node.State() == before {
		return d.label(p.node.Self()) + ": state unchanged"
	}
	return d.label(p.node.Self()) + ": state changed"
}

// inject hands a captured state to a node as gossip from another node and
// reports which of the node's counters moved and whether its state changed.
func (d *scnDriver) inject(td *datadriven.TestData) string {
	from := d.started(td, d.arg(td, "from"))
	to := d.started(td, d.arg(td, "to"))
	name := d.arg(td, "state")
	st, ok := d.captured[name]
	if !ok {
		td.Fatalf(d.t, "no captured state %q", name)
	}
	if !to.live() {
		td.Fatalf(d.t, "%s is not running", to.name)
	}
	before, stats := to.node.State(), to.node.Stats()
	m := Message{From: from.node.Self(), To: to.addr, ToUID: to.node.Self().UID,
		Body: GossipState{State: st, Reply: td.HasArg("reply")}}
	if err := to.node.Step(d.now, m); err != nil {
		td.Fatalf(d.t, "inject: %v", err)
	}
	d.collect(to)
	effect := scnCounterDelta(stats, to.node.Stats())
	changed := "state unchanged"
	if to.node.State() != before {
		changed = "state changed"
	}
	return fmt.Sprintf("%s <- %s from %s: %s; %s", d.label(to.node.Self()), name, d.label(from.node.Self()), effect, changed)
}

// scnCounterDelta names the outcome counters that rose between a and b.
func scnCounterDelta(a, b Stats) string {
	var out []string
	for _, c := range []struct {
		name string
		a, b uint64
	}{
		{"merge", a.Merges, b.Merges},
		{"noop-merge", a.NoopMerges, b.NoopMerges},
		{"dropped-stale", a.DroppedStale, b.DroppedStale},
		{"dropped-address", a.DroppedAddress, b.DroppedAddress},
		{"dropped-invalid", a.DroppedInvalid, b.DroppedInvalid},
		{"dropped-ignored", a.DroppedIgnored, b.DroppedIgnored},
	} {
		if c.b > c.a {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 {
		return "no outcome counted"
	}
	return strings.Join(out, ", ")
}

// label names an incarnation name#k.
func (d *scnDriver) label(u UniqueAddress) string {
	if l, ok := d.labels[u.UID]; ok {
		return l
	}
	return u.Address.String() + "#?"
}

func (d *scnDriver) memberList(s *State) string {
	if len(s.Members) == 0 {
		return "(no members)"
	}
	unreachable := s.Unreachable()
	parts := make([]string, len(s.Members))
	for i, m := range s.Members {
		parts[i] = d.label(m.Node) + ":" + m.Status.String()
		if containsNode(unreachable, m.Node) {
			parts[i] += "(unreachable)"
		}
	}
	return strings.Join(parts, " ")
}

func (d *scnDriver) phase(p *scnProc) string {
	switch {
	case p.crashed:
		return "crashed"
	case p.node.Phase() == PhaseStopped:
		return "stopped(" + p.node.Snapshot().Stopped + ")"
	}
	return p.node.Phase().String()
}

func (d *scnDriver) leaderText(p *scnProc) string {
	if l, ok := p.node.State().Leader(p.node.Self()); ok {
		return d.label(l)
	}
	return "none"
}

// overview prints one line per started node: its phase and its view.
func (d *scnDriver) overview() string {
	var b strings.Builder
	for _, p := range d.names() {
		fmt.Fprintf(&b, "%s %s", d.label(p.node.Self()), d.phase(p))
		if p.crashed || p.node.Phase() == PhaseIdle || p.node.Phase() == PhaseJoining {
			b.WriteString("\n")
			continue
		}
		s := p.node.State()
		if p.node.Phase() == PhaseStopped {
			// A stopped node's last view; it leads nothing any more.
			fmt.Fprintf(&b, ": %s\n", d.memberList(s))
			continue
		}
		fmt.Fprintf(&b, " leader=%s", d.leaderText(p))
		if s.Converged() {
			b.WriteString(" converged")
		}
		fmt.Fprintf(&b, ": %s\n", d.memberList(s))
	}
	return b.String()
}

// detail prints one node's view: phase, leader, convergence, each member
// with its up number and reachability, and tombstones.
func (d *scnDriver) detail(p *scnProc) string {
	var b strings.Builder
	s := p.node.State()
	conv := "not converged"
	if s.Converged() {
		conv = "converged"
	}
	fmt.Fprintf(&b, "%s %s, leader %s, %s\n", d.label(p.node.Self()), d.phase(p), d.leaderText(p), conv)
	unreachable := s.Unreachable()
	for _, m := range s.Members {
		fmt.Fprintf(&b, "  %s %s", d.label(m.Node), m.Status)
		if m.UpNumber > 0 {
			fmt.Fprintf(&b, " up=%d", m.UpNumber)
		}
		if containsNode(unreachable, m.Node) {
			b.WriteString(" unreachable")
		}
		b.WriteString("\n")
	}
	if len(s.Tombstones) > 0 {
		var tombs []string
		for u := range s.Tombstones {
			tombs = append(tombs, d.label(u))
		}
		sort.Strings(tombs)
		fmt.Fprintf(&b, "  removed: %s\n", strings.Join(tombs, " "))
	}
	return b.String()
}

func (d *scnDriver) reachability(p *scnProc) string {
	rows := p.node.State().Reachability.Rows
	if len(rows) == 0 {
		return "(no rows)"
	}
	var b strings.Builder
	for _, row := range rows {
		subjects := make([]string, len(row.Unreachable))
		for i, u := range row.Unreachable {
			subjects[i] = d.label(u)
		}
		fmt.Fprintf(&b, "%s v%d: {%s}\n", d.label(row.Observer), row.Version, strings.Join(subjects, " "))
	}
	return b.String()
}

func (d *scnDriver) events(p *scnProc, times bool) string {
	evs := p.events[p.shown:]
	p.shown = len(p.events)
	if len(evs) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, e := range evs {
		if e.inc != p.shownIn {
			if p.shownIn != 0 {
				fmt.Fprintf(&b, "-- %s#%d:\n", p.name, e.inc)
			}
			p.shownIn = e.inc
		}
		if times {
			fmt.Fprintf(&b, "%-7v ", e.At.Sub(scnEpoch))
		}
		switch e.Type {
		case LeaderChanged:
			if e.HasLeader {
				fmt.Fprintf(&b, "%v %s\n", e.Type, d.label(e.Leader))
			} else {
				fmt.Fprintf(&b, "%v none\n", e.Type)
			}
		case NodeStopped:
			fmt.Fprintf(&b, "%v (%s)\n", e.Type, e.Reason)
		case ShardsMoved:
			fmt.Fprintf(&b, "%v %s %v\n", e.Type, e.ShardType, e.Shards)
		case RegistryChanged:
			fmt.Fprintf(&b, "%v %v\n", e.Type, e.Keys)
		default:
			if e.Member.Node.UID == 0 { // not a member event
				fmt.Fprintf(&b, "%v\n", e.Type)
				continue
			}
			fmt.Fprintf(&b, "%v %s\n", e.Type, d.label(e.Member.Node))
		}
	}
	return b.String()
}

// perNode renders one node's view with render (node=NAME), or, without
// node, every live member's: once, naming the members, when they all
// render the same text, and each separately when they do not.
func (d *scnDriver) perNode(td *datadriven.TestData, render func(p *scnProc) string) string {
	if name := d.optArg(td, "node"); name != "" {
		return render(d.started(td, name))
	}
	var texts, names []string
	for _, p := range d.names() {
		if p.live() && p.node.Phase() == PhaseMember {
			texts = append(texts, render(p))
			names = append(names, d.label(p.node.Self()))
		}
	}
	if len(texts) == 0 {
		return "(no live members)"
	}
	agree := true
	for _, x := range texts[1:] {
		agree = agree && x == texts[0]
	}
	if agree {
		return "agreed by " + strings.Join(names, " ") + ":\n" + texts[0]
	}
	var b strings.Builder
	for i, x := range texts {
		fmt.Fprintf(&b, "at %s:\n%s", names[i], x)
	}
	return b.String()
}

// shardTable renders the table of shard type name in p's published
// snapshot.
func (d *scnDriver) shardTable(p *scnProc, name string) string {
	topo := p.node.Snapshot().Topology
	t, ok := topo.Allocation(name)
	if !ok {
		return fmt.Sprintf("%s: no table (allocation epoch %d)\n", name, topo.AllocationEpoch)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: shards=%d replicas=%d, table epoch %d, allocation epoch %d\n",
		name, t.Type.Shards, t.Type.Replicas, t.Epoch, topo.AllocationEpoch)
	count := map[UniqueAddress]int{}
	var holders []UniqueAddress
	for i, a := range t.Shards {
		if a.Primary == (UniqueAddress{}) {
			fmt.Fprintf(&b, "%d: unallocated\n", i)
			continue
		}
		reps := make([]string, len(a.Replicas))
		for k, r := range a.Replicas {
			reps[k] = d.label(r)
		}
		fmt.Fprintf(&b, "%d: %s [%s] @%d\n", i, d.label(a.Primary), strings.Join(reps, " "), a.Epoch)
		if count[a.Primary] == 0 {
			holders = append(holders, a.Primary)
		}
		count[a.Primary]++
	}
	sortNodes(holders)
	parts := make([]string, len(holders))
	for i, u := range holders {
		parts[i] = fmt.Sprintf("%s=%d", d.label(u), count[u])
	}
	fmt.Fprintf(&b, "primaries: %s\n", strings.Join(parts, " "))
	return b.String()
}

// registryText renders the service entries in p's published snapshot, or
// only those under key when keyed.
func (d *scnDriver) registryText(p *scnProc, key string, keyed bool) string {
	topo := p.node.Snapshot().Topology
	entries := topo.Registry
	if keyed {
		entries = topo.Lookup(key)
	}
	if len(entries) == 0 {
		return "(no entries)\n"
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s %s\n", e.Key, d.label(e.Node), e.Path)
	}
	return b.String()
}

func (d *scnDriver) stats(p *scnProc) string {
	s := p.node.Stats()
	var parts []string
	for _, c := range []struct {
		name string
		v    uint64
	}{
		{"dropped-address", s.DroppedAddress}, {"dropped-stale", s.DroppedStale},
		{"dropped-invalid", s.DroppedInvalid}, {"joins-refused", s.JoinsRefused},
		{"downings", s.Downings},
	} {
		if c.v > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", c.name, c.v))
		}
	}
	if len(parts) == 0 {
		return d.label(p.node.Self()) + ": (all zero)"
	}
	return d.label(p.node.Self()) + ": " + strings.Join(parts, " ")
}

// scnTrace logs every delivered message other than heartbeats, with the
// receiver's view after it: go test ./proto/ -run TestScenarios/NAME -v -scn.trace
var scnTrace = flag.Bool("scn.trace", false, "log scenario message deliveries")

func (d *scnDriver) vc(v VClock) string {
	var parts []string
	for _, k := range v.Nodes() {
		parts = append(parts, fmt.Sprintf("%s=%d", d.label(k), v[k]))
	}
	return strings.Join(parts, ",")
}

func (d *scnDriver) nl(l []UniqueAddress) string {
	var parts []string
	for _, k := range l {
		parts = append(parts, d.label(k))
	}
	return strings.Join(parts, ",")
}

// scnRecorder is a testing.TB whose Fatalf records the message and unwinds
// with a panic, so a test can check that the driver's safety checks fire.
type scnRecorder struct {
	testing.TB
	msg string
}

type scnFatal struct{}

func (r *scnRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(scnFatal{})
}

func (r *scnRecorder) Helper() {}

// TestScenarioSafetyChecks feeds checkView a sequence of views of one
// observer and checks which ones it rejects.
func TestScenarioSafetyChecks(t *testing.T) {
	self := UniqueAddress{Address: Address{Host: "10.0.0.1", Port: 7000}, UID: 1}
	x := UniqueAddress{Address: Address{Host: "10.0.0.2", Port: 7000}, UID: 2}
	view := func(st MemberStatus, tomb bool) *State {
		s := NewState()
		s.Members = []Member{{Node: self, Status: Up}}
		if st != 0 {
			s.Members = append(s.Members, Member{Node: x, Status: st})
		}
		if tomb {
			s.Tombstones[x] = scnEpoch
		}
		return s
	}
	type step struct {
		status MemberStatus // 0: x absent
		tomb   bool
	}
	cases := []struct {
		name  string
		steps []step
		want  string // "" when every view is accepted, else a fragment of the failure
	}{
		{"lifecycle", []step{{Joining, false}, {Up, false}, {Leaving, false}, {Exiting, false}, {0, true}}, ""},
		{"skips allowed by CanTransition", []step{{Joining, false}, {Down, false}, {0, true}}, ""},
		{"down to up", []step{{Up, false}, {Down, false}, {Up, false}}, "move Down -> Up"},
		{"up to exiting", []step{{Up, false}, {Exiting, false}}, "move Up -> Exiting"},
		{"removed comes back", []step{{Up, false}, {0, true}, {Up, true}}, "again"},
		{"lost without tombstone", []step{{Up, false}, {0, false}}, "without a tombstone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &scnRecorder{TB: t}
			n, err := New(LocalConfig(), self.Address, rand.New(rand.NewSource(1)))
			if err != nil {
				t.Fatal(err)
			}
			d := &scnDriver{t: rec, labels: map[UID]string{self.UID: "n1#1", x.UID: "n2#1"}}
			p := &scnProc{name: "n1", node: n, seenStatus: map[UniqueAddress]MemberStatus{}, removed: map[UniqueAddress]bool{}}
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(scnFatal); !ok {
							panic(r)
						}
					}
				}()
				for _, s := range tc.steps {
					n.st = view(s.status, s.tomb)
					d.checkView(p)
				}
			}()
			got := ""
			if rec.msg != "" && tc.want != "" && strings.Contains(rec.msg, tc.want) {
				got = tc.want
			} else {
				got = rec.msg
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("checkView failure (-want +got):\n%s", diff)
			}
		})
	}
}
