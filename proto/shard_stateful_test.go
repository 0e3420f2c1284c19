package proto

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// A rapid stateful test of shards and services on a live cluster: random
// registrations, deregistrations, shard declarations and withdrawals mixed
// with crashes, leaves, joins and partitions, on 3 to 6 nodes of the
// in-memory testCluster. After every action the live nodes' allocations
// must be well formed and their epochs must never go back; once everything
// has healed and settled, every live member must hold the same allocation
// tables and epoch, those tables must place every shard of a declared type
// on live hosts, and the registry must hold exactly what the live members
// registered and did not deregister. Every node's snapshots and events
// are checked as in snapshot_test.go.

const shMaxNodes = 6

// shTypes are the shard types nodes may declare (one declaration per name,
// so the expected table of a name is known).
var shTypes = []ShardType{{Name: "orders", Shards: 6, Replicas: 1}, {Name: "users", Shards: 4, Replicas: 2}}

// shEntries are the (key, path) pairs nodes may register.
var shEntries = [][2]string{{"payments", "/user/p"}, {"payments", "/user/q"}, {"search", "/user/s"}}

// shModel is what the test expects: per incarnation, the entries it
// registered minus those it deregistered, and the types it declares.
type shModel struct {
	c        *testCluster
	entries  map[UniqueAddress]map[[2]string]bool
	declared map[UniqueAddress]map[string]bool
	// epochs is the highest allocation epoch each incarnation has shown,
	// overall and per table.
	epochs map[UniqueAddress]map[string]Epoch
	trace  []string
}

func (m *shModel) log(format string, args ...any) {
	m.trace = append(m.trace, fmt.Sprintf("%7v ", m.c.now.Sub(epoch))+fmt.Sprintf(format, args...))
}

// member reports whether the node at a runs and is a member.
func (m *shModel) member(a Address) bool { return m.c.live(a) && m.c.nodes[a].Phase() == PhaseMember }

// pick draws a node satisfying ok, or skips the action.
func (m *shModel) pick(t *rapid.T, label string, ok func(Address) bool) Address {
	var cands []Address
	for _, a := range m.c.order {
		if ok(a) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		t.Skip("no node for " + label)
	}
	return rapid.SampledFrom(cands).Draw(t, label)
}

// command steps a local command into a and collects the output.
func (m *shModel) command(t *rapid.T, a Address, b Body) {
	if err := m.c.nodes[a].Step(m.c.now, Message{Body: b}); err != nil {
		t.Fatalf("%s at %v: %v", b.Kind(), a, err)
	}
	m.c.collect(a)
	m.log("%v: %s %+v", a.Host, b.Kind(), b)
}

// stepErr is the per-action check: every running node's state is well
// formed, and no node's allocation epoch, overall or of a table, ever goes
// back.
func (m *shModel) stepErr() string {
	for _, a := range m.c.order {
		n := m.c.nodes[a]
		if !m.c.live(a) || n.Phase() != PhaseMember {
			continue
		}
		st := n.State()
		if err := ValidateState(st); err != nil {
			return fmt.Sprintf("%v holds an invalid state: %v", a, err)
		}
		seen := m.epochs[n.Self()]
		if seen == nil {
			seen = map[string]Epoch{}
			m.epochs[n.Self()] = seen
		}
		if st.AllocationEpoch < seen[""] {
			return fmt.Sprintf("%v: allocation epoch went back from %d to %d", a, seen[""], st.AllocationEpoch)
		}
		seen[""] = st.AllocationEpoch
		for _, tab := range st.Allocations {
			if tab.Epoch < seen[tab.Type.Name] {
				return fmt.Sprintf("%v: table %s epoch went back from %d to %d", a, tab.Type.Name, seen[tab.Type.Name], tab.Epoch)
			}
			seen[tab.Type.Name] = tab.Epoch
		}
	}
	return ""
}

// liveMembers returns the running member nodes in address order.
func (m *shModel) liveMembers() []Address {
	var out []Address
	for _, a := range m.c.liveAddrs() {
		if m.member(a) {
			out = append(out, a)
		}
	}
	return out
}

// finalErr is the verdict once everything has healed: the live members
// see exactly each other, all Up and converged; they hold the same tables
// and epoch, in their states and their published snapshots; every type a
// live member declares has every shard on a live host that declares it,
// with min(Replicas, hosts-1) distinct replicas that are not the primary,
// and primaries balanced to within one; a type nobody live declares has
// no shard placed; the registry holds exactly the model's entries of live
// owners.
func (m *shModel) finalErr() string {
	live := m.liveMembers()
	if len(live) == 0 {
		return ""
	}
	var self []UniqueAddress
	hosts := map[string][]UniqueAddress{}
	var want []ServiceEntry
	for _, a := range live {
		u := m.c.nodes[a].Self()
		self = append(self, u)
		for _, typ := range shTypes {
			if m.declared[u][typ.Name] {
				hosts[typ.Name] = append(hosts[typ.Name], u)
			}
		}
		for e := range m.entries[u] {
			want = append(want, ServiceEntry{Key: e[0], Node: u, Path: e[1]})
		}
	}
	sort.Slice(want, func(i, j int) bool {
		x, y := want[i], want[j]
		if x.Key != y.Key {
			return x.Key < y.Key
		}
		if c := x.Node.Compare(y.Node); c != 0 {
			return c < 0
		}
		return x.Path < y.Path
	})
	first := m.c.nodes[live[0]].State()
	for _, a := range live {
		n := m.c.nodes[a]
		st := n.State()
		var members []string
		for _, mem := range st.Members {
			members = append(members, fmt.Sprintf("%v:%v", mem.Node, mem.Status))
		}
		var wantMembers []string
		for _, u := range self {
			wantMembers = append(wantMembers, fmt.Sprintf("%v:%v", u, Up))
		}
		if diff := cmp.Diff(wantMembers, members); diff != "" || !st.Converged() {
			return fmt.Sprintf("%v (converged %v) members (-want +got):\n%s", a, st.Converged(), diff)
		}
		if st.AllocationEpoch != first.AllocationEpoch || !cmp.Equal(first.Allocations, st.Allocations, cmpopts.EquateEmpty()) {
			return fmt.Sprintf("%v disagrees with %v on allocations (epoch %d vs %d) (-%v +%v):\n%s", a, live[0],
				st.AllocationEpoch, first.AllocationEpoch, live[0], a, cmp.Diff(first.Allocations, st.Allocations, cmpopts.EquateEmpty()))
		}
		top := n.Snapshot().Topology
		if top.AllocationEpoch != st.AllocationEpoch || !cmp.Equal(st.Allocations, top.ShardAllocations, cmpopts.EquateEmpty()) {
			return fmt.Sprintf("%v published other tables than it holds", a)
		}
		if diff := cmp.Diff(want, top.Registry, cmpopts.EquateEmpty()); diff != "" {
			return fmt.Sprintf("%v registry vs what live members registered (-want +got):\n%s", a, diff)
		}
	}
	for _, typ := range shTypes {
		tab, ok := TopologySnapshot{ShardAllocations: first.Allocations}.Allocation(typ.Name)
		if msg := shTableErr(typ, tab, ok, hosts[typ.Name]); msg != "" {
			return msg
		}
	}
	return ""
}

// shTableErr checks the table of typ against its live hosts.
func shTableErr(typ ShardType, tab TypeAllocation, ok bool, hosts []UniqueAddress) string {
	if len(hosts) == 0 {
		if !ok {
			return ""
		}
		for i, a := range tab.Shards {
			if a.Primary != (UniqueAddress{}) || len(a.Replicas) > 0 {
				return fmt.Sprintf("%s/%d placed at %v%v though no live member declares %s", typ.Name, i, a.Primary, a.Replicas, typ.Name)
			}
		}
		return ""
	}
	if !ok || tab.Type != typ || len(tab.Shards) != typ.Shards {
		return fmt.Sprintf("table of %s is %+v (present %v), want %d shards of %+v", typ.Name, tab.Type, ok, typ.Shards, typ)
	}
	replicas := min(typ.Replicas, len(hosts)-1)
	count := map[UniqueAddress]int{}
	for i, a := range tab.Shards {
		if !containsNode(hosts, a.Primary) {
			return fmt.Sprintf("%s/%d primary %v is not a live host %v", typ.Name, i, a.Primary, hosts)
		}
		count[a.Primary]++
		if len(a.Replicas) != replicas {
			return fmt.Sprintf("%s/%d has replicas %v, want %d", typ.Name, i, a.Replicas, replicas)
		}
		for k, r := range a.Replicas {
			if r == a.Primary || !containsNode(hosts, r) || containsNodeUnsorted(a.Replicas[:k], r) {
				return fmt.Sprintf("%s/%d has a bad replica %v in %v (primary %v, hosts %v)", typ.Name, i, r, a.Replicas, a.Primary, hosts)
			}
		}
	}
	lo, hi := typ.Shards, 0
	for _, h := range hosts {
		lo, hi = min(lo, count[h]), max(hi, count[h])
	}
	if hi-lo > 1 {
		return fmt.Sprintf("%s primaries unbalanced over %v: %v", typ.Name, hosts, count)
	}
	return ""
}

// staleRows reports, for a failure message, rows of observers that are not
// running but still count at some live member and name a live node: such
// a row keeps live nodes unreachable, so it can block convergence.
func (m *shModel) staleRows() string {
	live := map[UniqueAddress]bool{}
	for _, a := range m.c.liveAddrs() {
		live[m.c.nodes[a].Self()] = true
	}
	var out []string
	for _, a := range m.liveMembers() {
		st := m.c.nodes[a].State()
		for _, row := range st.Reachability.Rows {
			if live[row.Observer] || !st.counts(row.Observer) {
				continue
			}
			for _, u := range row.Unreachable {
				if live[u] {
					out = append(out, fmt.Sprintf("%v: row of %v names %v", a, row.Observer, u))
					break
				}
			}
		}
	}
	return strings.Join(out, "; ")
}

// shSettleBound is how long the healed cluster gets to settle: every
// remaining failure detected (first-heartbeat estimate, acceptable pause,
// ten standard deviations, a check), stable for StableAfter, downed and
// removed within a few gossip rounds; a leave that may need its timeout; a
// joiner admitted (a retry) and promoted; every stage twice, since one can
// surface only after another clears. Then the rebalance: one round per
// RebalanceMaxMoves primaries, each round a converged allocation (a few
// gossip rounds), for every shard of every type; and twenty gossip rounds
// for the last news. With LocalConfig it is about 34 s.
func shSettleBound(cfg Config) time.Duration {
	fd := cfg.FailureDetector
	detect := fd.FirstHeartbeatEstimate + fd.AcceptableHeartbeatPause + 10*fd.MinStdDeviation + cfg.AvailabilityInterval
	down := detect + cfg.StableAfter + 5*cfg.GossipInterval
	join := cfg.JoinRetryInterval + cfg.WeaklyUpAfter
	shards := 0
	for _, t := range shTypes {
		shards += t.Shards
	}
	rounds := time.Duration(shards/cfg.RebalanceMaxMoves + 2)
	return 2*(down+cfg.LeaveTimeout+join) + rounds*5*cfg.GossipInterval + 20*cfg.GossipInterval
}

// shTB lets testCluster report through rapid, so that a driver failure
// is shrunk like any other.
type shTB struct {
	testing.TB
	r *rapid.T
}

func (s shTB) Fatalf(format string, args ...any) { s.r.Fatalf(format, args...) }
func (s shTB) Helper()                           {}

func TestShardsAndRegistryStateful(t *testing.T) {
	cfg := LocalConfig()
	bound := shSettleBound(cfg)
	const step = 20 * time.Millisecond
	runs, checked, tables, entries := 0, 0, 0, 0
	outer := t
	rapid.Check(t, func(t *rapid.T) {
		runs++
		size := rapid.IntRange(3, 4).Draw(t, "initial")
		c := newTestCluster(shTB{outer, t}, cfg, rapid.Int64().Draw(t, "seed"))
		m := &shModel{c: c, entries: map[UniqueAddress]map[[2]string]bool{},
			declared: map[UniqueAddress]map[string]bool{}, epochs: map[UniqueAddress]map[string]Epoch{}}
		c.start(addr(1), addr(1))
		for i := 2; i <= size; i++ {
			c.start(addr(i), addr(1))
		}
		c.run(3*time.Second, step)
		if len(m.liveMembers()) != size {
			t.Fatalf("only %d of %d nodes formed a cluster", len(m.liveMembers()), size)
		}
		check := func(t *rapid.T) {
			if msg := m.stepErr(); msg != "" {
				t.Fatalf("%s\ntrace:\n%s", msg, strings.Join(m.trace, "\n"))
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"": check,
			"register": func(t *rapid.T) {
				a := m.pick(t, "node", m.member)
				e := rapid.SampledFrom(shEntries).Draw(t, "entry")
				m.command(t, a, Register{Key: e[0], Path: e[1]})
				u := c.nodes[a].Self()
				if m.entries[u] == nil {
					m.entries[u] = map[[2]string]bool{}
				}
				m.entries[u][e] = true
			},
			"deregister": func(t *rapid.T) {
				a := m.pick(t, "node", func(a Address) bool { return m.member(a) && len(m.entries[c.nodes[a].Self()]) > 0 })
				u := c.nodes[a].Self()
				var mine [][2]string
				for _, e := range shEntries {
					if m.entries[u][e] {
						mine = append(mine, e)
					}
				}
				e := rapid.SampledFrom(mine).Draw(t, "entry")
				m.command(t, a, Deregister{Key: e[0], Path: e[1]})
				delete(m.entries[u], e)
			},
			"host": func(t *rapid.T) {
				a := m.pick(t, "node", m.member)
				typ := rapid.SampledFrom(shTypes).Draw(t, "type")
				m.command(t, a, HostShards{Type: typ})
				u := c.nodes[a].Self()
				if m.declared[u] == nil {
					m.declared[u] = map[string]bool{}
				}
				m.declared[u][typ.Name] = true
			},
			"unhost": func(t *rapid.T) {
				a := m.pick(t, "node", func(a Address) bool { return m.member(a) && len(m.declared[c.nodes[a].Self()]) > 0 })
				u := c.nodes[a].Self()
				var mine []string
				for _, typ := range shTypes {
					if m.declared[u][typ.Name] {
						mine = append(mine, typ.Name)
					}
				}
				name := rapid.SampledFrom(mine).Draw(t, "type")
				m.command(t, a, StopHosting{Name: name})
				delete(m.declared[u], name)
			},
			"crash": func(t *rapid.T) {
				// Keep a strict majority of the members running, so that
				// KeepMajority leaves a cluster to check at the end (a
				// crash that loses the majority downs every side).
				live := m.liveMembers()
				if len(live) < 3 || 2*(len(live)-1) <= len(c.nodes[live[0]].State().Members) {
					t.Skip("keep a majority running")
				}
				a := m.pick(t, "node", c.live)
				c.crashed[a] = true
				m.log("%v: crash", a.Host)
			},
			"leave": func(t *rapid.T) {
				if len(m.liveMembers()) < 3 {
					t.Skip("keep two members running")
				}
				a := m.pick(t, "node", func(a Address) bool {
					self, ok := c.nodes[a].State().Member(c.nodes[a].Self())
					return m.member(a) && ok && self.Status < Leaving
				})
				m.command(t, a, Leave{})
			},
			"join": func(t *rapid.T) {
				if len(c.order) == shMaxNodes {
					t.Skip("cluster at its maximum size")
				}
				seeds := m.liveMembers()
				if len(seeds) == 0 {
					t.Skip("no member to join")
				}
				a := addr(len(c.order) + 1)
				c.start(a, seeds...)
				m.log("%v: join via %v", a.Host, seeds)
			},
			"partition": func(t *rapid.T) {
				side := rapid.SliceOfN(rapid.Bool(), len(c.order), len(c.order)).Draw(t, "side")
				var x, y []Address
				for i, a := range c.order {
					if side[i] {
						x = append(x, a)
					} else {
						y = append(y, a)
					}
				}
				if len(x) == 0 || len(y) == 0 {
					t.Skip("one side empty")
				}
				// One side keeps a strict majority of the members, as for
				// crashes.
				live := m.liveMembers()
				if len(live) == 0 {
					t.Skip("no member")
				}
				size := len(c.nodes[live[0]].State().Members)
				majority := func(side []Address) bool {
					n := 0
					for _, a := range side {
						if m.member(a) {
							n++
						}
					}
					return 2*n > size
				}
				if !majority(x) && !majority(y) {
					t.Skip("no side keeps a majority")
				}
				c.partition(x, y)
				m.log("partition %v | %v", x, y)
			},
			"heal": func(t *rapid.T) {
				c.heal()
				m.log("heal")
			},
			"run": func(t *rapid.T) {
				ms := rapid.IntRange(100, 2000).Draw(t, "ms")
				c.run(time.Duration(ms)*time.Millisecond, step)
				check(t)
			},
		})
		c.heal()
		m.log("final heal")
		end := c.now.Add(bound)
		verdict := m.finalErr()
		for verdict != "" && c.now.Before(end) {
			c.run(250*time.Millisecond, step)
			check(t)
			verdict = m.finalErr()
		}
		if verdict == "" {
			// Settled once; it must stay settled through a downing window
			// and more allocation rounds.
			c.run(cfg.StableAfter+10*cfg.GossipInterval, step)
			check(t)
			verdict = m.finalErr()
		}
		if verdict != "" {
			t.Fatalf("not settled within %v: %s\nstale rows: %q\ntrace:\n%s", bound, verdict, m.staleRows(), strings.Join(m.trace, "\n"))
		}
		// Every node (one incarnation per address here) published a
		// snapshot only on a change, and events that match its snapshots.
		for _, a := range c.order {
			msg := historyErr(c.history[a], c.nodes[a].Snapshot().Topology)
			if msg == "" {
				msg = eventsErr(c.events[a], c.history[a])
			}
			if msg != "" {
				t.Fatalf("%v: %s\ntrace:\n%s", a, msg, strings.Join(m.trace, "\n"))
			}
		}
		if live := m.liveMembers(); len(live) > 0 {
			checked++
			if st := c.nodes[live[0]].State(); len(st.Registry) > 0 {
				entries++
			}
			for _, tab := range c.nodes[live[0]].State().Allocations {
				if tab.Shards[0].Primary != (UniqueAddress{}) {
					tables++
					break
				}
			}
		}
	})
	// Most runs must end with live members, and some with placed shards
	// and services, or the final check proves little. (About 65%, 30% and
	// 35% of runs do.)
	if !t.Failed() && (10*checked < 3*runs || tables == 0 || 20*tables < runs || entries == 0 || 20*entries < runs) {
		t.Errorf("of %d runs only %d ended with live members to check, %d with placed shards, %d with services", runs, checked, tables, entries)
	}
	t.Logf("of %d runs %d ended with live members to check, %d with placed shards, %d with services", runs, checked, tables, entries)
}
