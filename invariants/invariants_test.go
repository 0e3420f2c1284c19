package invariants

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/rumorhq/rumor/proto"
)

// nd is the first incarnation of node i (host 10.0.0.i).
func nd(i int) proto.UniqueAddress {
	return proto.UniqueAddress{Address: proto.Address{Host: fmt.Sprintf("10.0.0.%d", i), Port: 7000}, UID: proto.UID(100 + i)}
}

// reborn is a later incarnation of node i: same address, new UID.
func reborn(i int) proto.UniqueAddress {
	u := nd(i)
	u.UID += 1000
	return u
}

var (
	orders = proto.ShardType{Name: "orders", Shards: 2, Replicas: 1}
	t0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func mem(u proto.UniqueAddress, st proto.MemberStatus, hosts ...proto.ShardType) proto.Member {
	return proto.Member{Node: u, ID: proto.NodeID(u.Address.String()), Status: st, Hosts: hosts, HostsVersion: uint64(len(hosts))}
}

// state builds a valid state at version {nd(1): 1}, seen by all its
// members (so converged unless someone is unreachable).
func state(ms ...proto.Member) *proto.State {
	s := proto.NewState()
	s.Members = append([]proto.Member(nil), ms...)
	normalize(s)
	s.Version = proto.VClock{nd(1): 1}
	return s
}

// normalize sorts the members and makes every member seen.
func normalize(s *proto.State) {
	sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].Node.Compare(s.Members[j].Node) < 0 })
	s.Seen = nil
	for _, m := range s.Members {
		s.Seen = append(s.Seen, m.Node)
	}
}

// next is a new version of s: a deep copy changed by f, normalized, with
// nd(1)'s clock entry raised, as a local change makes it.
func next(s *proto.State, f func(*proto.State)) *proto.State {
	c := s.Clone()
	f(c)
	normalize(c)
	c.Version = c.Version.Increment(nd(1))
	return c
}

// edit is a deep copy of s changed by f and nothing else.
func edit(s *proto.State, f func(*proto.State)) *proto.State {
	c := s.Clone()
	f(c)
	return c
}

func setStatus(s *proto.State, u proto.UniqueAddress, st proto.MemberStatus) {
	for i := range s.Members {
		if s.Members[i].Node == u {
			s.Members[i].Status = st
		}
	}
}

func dropMember(s *proto.State, u proto.UniqueAddress) {
	out := s.Members[:0]
	for _, m := range s.Members {
		if m.Node != u {
			out = append(out, m)
		}
	}
	s.Members = out
}

// removeMember tombstones u and drops it from the member list.
func removeMember(s *proto.State, u proto.UniqueAddress) {
	dropMember(s, u)
	s.Tombstones[u] = t0
}

func at(u proto.UniqueAddress, s *proto.State) View {
	return View{Addr: u.Address, Self: u, Live: true, Phase: proto.PhaseMember, State: s}
}

// throughTick is u holding s from a Step through its next Tick.
func throughTick(u proto.UniqueAddress, s *proto.State) []View {
	return []View{at(u, s), ticked(at(u, s))}
}

// ticked marks a view as taken right after a Tick.
func ticked(v View) View {
	v.Ticked = true
	return v
}

func table(epoch proto.Epoch, shards ...proto.ShardAllocation) proto.TypeAllocation {
	typ := orders
	typ.Shards = len(shards)
	return proto.TypeAllocation{Type: typ, Epoch: epoch, Shards: shards}
}

func shard(epoch proto.Epoch, primary proto.UniqueAddress, replicas ...proto.UniqueAddress) proto.ShardAllocation {
	return proto.ShardAllocation{Primary: primary, Replicas: replicas, Epoch: epoch}
}

func withTable(epoch proto.Epoch, t proto.TypeAllocation) func(*proto.State) {
	return func(s *proto.State) {
		s.Allocations = []proto.TypeAllocation{t}
		s.AllocationEpoch = epoch
	}
}

func row(owner proto.UniqueAddress, version uint64, entries ...proto.ServiceEntry) proto.RegistryRow {
	return proto.RegistryRow{Owner: owner, Version: version, Entries: entries}
}

// shadowChecker returns a Checker that remembers no pure function of
// state parts: what a Checker reports must not depend on its memos.
func shadowChecker() *Checker {
	c := NewChecker()
	c.noMemo = true
	return c
}

// observeAll feeds views to a fresh Checker and returns the invariant
// names reported, checking that each violation names the observer and
// that a Checker without memos reports the same.
func observeAll(t *testing.T, views []View) []string {
	t.Helper()
	c, shadow := NewChecker(), shadowChecker()
	var got []string
	for i, v := range views {
		vs := c.Observe(v)
		if diff := cmp.Diff(shadow.Observe(v), vs); diff != "" {
			t.Errorf("view %d: violations differ from a checker without memos (-without +with):\n%s", i, diff)
		}
		for _, x := range vs {
			if x.Node != v.Self {
				t.Errorf("view %d: violation %v names node %v, want the observer %v", i, x, x.Node, v.Self)
			}
			if x.Detail == "" {
				t.Errorf("view %d: violation %v has no detail", i, x)
			}
			got = append(got, x.Invariant)
		}
	}
	return got
}

// three is {1 Up, 2 Up, 3 Joining}, all hosting orders, converged.
func three() *proto.State {
	return state(mem(nd(1), proto.Up, orders), mem(nd(2), proto.Up, orders), mem(nd(3), proto.Joining, orders))
}

type observeCase struct {
	name  string
	views func() []View
	want  []string // invariant names, in report order
}

// observeCases are crafted view sequences: for each invariant, sequences
// that break it and sequences that do not.
func observeCases() []observeCase {
	a, b, c := nd(1), nd(2), nd(3)
	s0 := three()
	type tc = observeCase
	return []tc{
		{name: "valid lifecycle", views: func() []View {
			s1 := next(s0, func(s *proto.State) { setStatus(s, c, proto.Up) })
			s2 := next(s1, func(s *proto.State) { setStatus(s, b, proto.Leaving) })
			s3 := next(s2, func(s *proto.State) { setStatus(s, b, proto.Exiting) })
			s4 := next(s3, func(s *proto.State) { removeMember(s, b); delete(s.Version, b) })
			s5 := edit(s4, func(s *proto.State) { delete(s.Tombstones, b) }) // tombstone expired
			s6 := next(s5, func(s *proto.State) { s.Members = append(s.Members, mem(reborn(2), proto.Joining)) })
			s7 := next(s6, func(s *proto.State) { setStatus(s, c, proto.Down) })
			s8 := next(s7, func(s *proto.State) { removeMember(s, c) })
			return []View{at(a, s0), at(a, s1), at(a, s1), at(a, s2), at(a, s3), at(a, s4), at(a, s5), at(a, s6), at(a, s7), at(a, s8)}
		}},
		{name: "valid fresh members with any status", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up), mem(c, proto.Down))
			y := next(x, func(s *proto.State) { s.Members = append(s.Members, mem(nd(4), proto.Leaving)) })
			return []View{at(b, x), at(b, y)}
		}},
		{name: "valid concurrent version and pruned clock entry", views: func() []View {
			x := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 2, c: 4} })
			y := edit(x, func(s *proto.State) { s.Version = proto.VClock{a: 1, b: 7, c: 4} })               // concurrent: a merge
			z := next(y, func(s *proto.State) { removeMember(s, c); s.Version = proto.VClock{a: 2, b: 7} }) // c pruned
			return []View{at(a, x), at(a, y), at(a, z)}
		}},
		{name: "allowed-transition: Up to Joining", views: func() []View {
			return []View{at(a, s0), at(a, next(s0, func(s *proto.State) { setStatus(s, b, proto.Joining) }))}
		}, want: []string{AllowedTransition}},
		{name: "allowed-transition: Down to Up", views: func() []View {
			x := next(s0, func(s *proto.State) { setStatus(s, c, proto.Down) })
			return []View{at(b, x), at(b, next(x, func(s *proto.State) { setStatus(s, c, proto.Up) }))}
		}, want: []string{AllowedTransition}},
		{name: "allowed-transition: Up to Exiting learned from gossip", views: func() []View {
			x := edit(s0, func(s *proto.State) { setStatus(s, c, proto.Exiting); s.Version[b] = 1 })
			return []View{at(a, s0), at(a, x)}
		}, want: []string{AllowedTransition}},
		{name: "allowed-transition: Up to Exiting by this node's own change", views: func() []View {
			return []View{at(a, s0), at(a, next(s0, func(s *proto.State) { setStatus(s, b, proto.Exiting) }))}
		}, want: []string{AllowedTransition}},
		{name: "valid: Up to Exiting seen by a Down node", views: func() []View {
			x := edit(s0, func(s *proto.State) { setStatus(s, b, proto.Exiting); setStatus(s, c, proto.Down); s.Version[a] = 2 })
			return []View{at(c, s0), at(c, x)}
		}},
		{name: "valid: Up to Exiting seen by a node that was Joining", views: func() []View {
			// c was admitted through a member the leader's side had
			// downed, with that member's view, in which b is still Up.
			j := edit(s0, func(s *proto.State) { setStatus(s, c, proto.Joining) })
			x := edit(j, func(s *proto.State) { setStatus(s, b, proto.Exiting); s.Version[a] = 2 })
			return []View{at(c, j), at(c, x)}
		}},
		{name: "allowed-transition: Leaving to Up with a local change", views: func() []View {
			x := next(s0, func(s *proto.State) { setStatus(s, b, proto.Leaving) })
			return []View{at(a, x), at(a, next(x, func(s *proto.State) { setStatus(s, b, proto.Up) }))}
		}, want: []string{AllowedTransition}},
		{name: "allowed-transition: member vanishes without tombstone", views: func() []View {
			return []View{at(a, s0), at(a, next(s0, func(s *proto.State) { dropMember(s, c) }))}
		}, want: []string{AllowedTransition}},
		{name: "no-resurrection: listed while tombstoned", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) { s.Tombstones[c] = t0 }))}
		}, want: []string{NoResurrection}},
		{name: "no-resurrection: listed again after removal and tombstone expiry", views: func() []View {
			x := next(s0, func(s *proto.State) { removeMember(s, c) })
			y := edit(x, func(s *proto.State) { delete(s.Tombstones, c) })
			z := next(y, func(s *proto.State) { s.Members = append(s.Members, mem(c, proto.Up)) })
			return []View{at(a, s0), at(a, x), at(a, y), at(a, z)}
		}, want: []string{NoResurrection}},
		{name: "no-resurrection: tombstone learned, expired, then listed", views: func() []View {
			x := next(s0, func(s *proto.State) { s.Tombstones[nd(9)] = t0 })
			y := edit(x, func(s *proto.State) { delete(s.Tombstones, nd(9)) })
			z := next(y, func(s *proto.State) { s.Members = append(s.Members, mem(nd(9), proto.Joining)) })
			return []View{at(a, x), at(a, y), at(a, z)}
		}, want: []string{NoResurrection}},
		{name: "one-leader: same converged version, different leaders", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up))
			y := state(mem(b, proto.Up), mem(c, proto.Up))
			return []View{at(a, x), at(c, y)}
		}, want: []string{OneLeader}},
		{name: "valid one-leader: same version, same leader", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up))
			return []View{at(a, x), at(b, edit(x, func(*proto.State) {}))}
		}},
		{name: "valid one-leader: same version, different leaders, one not converged", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up))
			y := edit(state(mem(b, proto.Up), mem(c, proto.Up)), func(s *proto.State) { s.Seen = s.Seen[1:] })
			return []View{at(a, x), at(c, y)}
		}},
		{name: "valid one-leader: different leaders at different versions", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up))
			y := next(state(mem(b, proto.Up), mem(c, proto.Up)), func(*proto.State) {})
			return []View{at(a, x), at(c, y)}
		}},
		{name: "valid one-leader: stopped node's view is not compared", views: func() []View {
			x := state(mem(a, proto.Up), mem(b, proto.Up))
			v := at(c, state(mem(b, proto.Up), mem(c, proto.Up)))
			v.Phase = proto.PhaseStopped
			return []View{at(a, x), v}
		}},
		{name: "members-only: seen set names a non-member", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) { s.Seen = []proto.UniqueAddress{a, nd(9)} }))}
		}, want: []string{MembersOnly}},
		{name: "members-only: reachability row of a non-member", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) {
				s.Reachability.Rows = []proto.ObserverRow{{Observer: nd(9), Version: 1}}
			}))}
		}, want: []string{MembersOnly}},
		{name: "members-only: non-member marked unreachable", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) {
				s.Reachability.Rows = []proto.ObserverRow{{Observer: b, Version: 1, Unreachable: []proto.UniqueAddress{nd(9)}}}
			}))}
		}, want: []string{MembersOnly}},
		{name: "valid members-only: member marked unreachable", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) {
				s.Reachability.Rows = []proto.ObserverRow{{Observer: b, Version: 1, Unreachable: []proto.UniqueAddress{c}}}
			}))}
		}},
		{name: "allocation-valid: tombstoned primary and replica", views: func() []View {
			x := next(s0, withTable(4, table(4, shard(4, a, nd(9)), shard(4, nd(9), b))))
			x = edit(x, func(s *proto.State) { s.Tombstones[nd(9)] = t0 })
			return []View{at(b, x)} // b is not the leader
		}, want: []string{AllocationValid}},
		{name: "allocation-valid: converged leader ticks with a primary on a Joining member", views: func() []View {
			return throughTick(a, next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a)))))
		}, want: []string{AllocationValid}},
		{name: "allocation-valid: converged leader ticks with a replica on a non-host", views: func() []View {
			x := state(mem(a, proto.Up, orders), mem(b, proto.Up))
			return throughTick(a, next(x, withTable(1, table(1, shard(1, a, b), shard(1, a)))))
		}, want: []string{AllocationValid}},
		{name: "allocation-valid: converged leader ticks with a replica on a non-member", views: func() []View {
			return throughTick(a, next(s0, withTable(1, table(1, shard(1, a, nd(9)), shard(1, b)))))
		}, want: []string{AllocationValid}},
		{name: "allocation-valid: converged leader merged in a Step, then ticks without acting", views: func() []View {
			x := next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))
			return []View{at(a, x), at(a, x), ticked(at(a, x)), ticked(at(a, x))}
		}, want: []string{AllocationValid}},
		{name: "valid allocation: converged state replaced by an unconverged one before the tick", views: func() []View {
			x := next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))
			y := edit(x, func(s *proto.State) { s.Seen = s.Seen[:1] })
			return []View{at(a, x), at(a, y), ticked(at(a, y))}
		}},
		{name: "valid allocation: converged leader state its own tick just produced", views: func() []View {
			return []View{ticked(at(a, next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))))}
		}},
		{name: "valid allocation: converged leader merged in a Step acts at its tick", views: func() []View {
			x := next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))
			y := edit(next(x, withTable(2, table(2, shard(1, a, b), shard(2, b, a)))), func(s *proto.State) { s.Seen = s.Seen[:1] })
			return []View{at(a, x), ticked(at(a, y))}
		}},
		{name: "valid allocation: same table seen by a non-leader, a non-converged leader, a stopped leader", views: func() []View {
			x := next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))
			y := edit(x, func(s *proto.State) { s.Seen = s.Seen[:1] })
			stopped := ticked(at(a, edit(x, func(*proto.State) {})))
			stopped.Phase = proto.PhaseStopped
			return append(append(append(throughTick(b, x), throughTick(a, y)...), at(a, stopped.State)), stopped)
		}},
		{name: "valid allocation: converged leader with Up hosts and an unallocated shard", views: func() []View {
			return throughTick(a, next(s0, withTable(1, table(1, shard(1, a, b), shard(0, proto.UniqueAddress{})))))
		}},
		{name: "allocation-valid and self-consistent: replica is the primary", views: func() []View {
			return []View{at(b, next(s0, withTable(1, table(1, shard(1, a, a), shard(1, b)))))}
		}, want: []string{SelfConsistent, AllocationValid}},
		{name: "allocation-valid and self-consistent: replica listed twice", views: func() []View {
			return []View{at(b, next(s0, withTable(1, table(1, shard(1, a, b, b), shard(1, b)))))}
		}, want: []string{SelfConsistent, AllocationValid}},
		{name: "allocation-valid and self-consistent: wrong number of shards", views: func() []View {
			tab := table(1, shard(1, a), shard(1, b))
			tab.Type.Shards = 3
			return []View{at(b, next(s0, withTable(1, tab)))}
		}, want: []string{SelfConsistent, AllocationValid}},
		{name: "epoch-monotone: allocation epoch goes back", views: func() []View {
			x := next(s0, withTable(5, table(3, shard(3, a), shard(3, b))))
			return []View{at(b, x), at(b, next(x, func(s *proto.State) { s.AllocationEpoch = 4 }))}
		}, want: []string{EpochMonotone}},
		{name: "epoch-monotone: a type's epoch goes back", views: func() []View {
			x := next(s0, withTable(5, table(3, shard(3, a), shard(3, b))))
			return []View{at(b, x), at(b, next(x, withTable(5, table(2, shard(2, a), shard(2, b)))))}
		}, want: []string{EpochMonotone}},
		{name: "epoch-monotone: a table disappears and comes back older", views: func() []View {
			x := next(s0, withTable(5, table(3, shard(3, a), shard(3, b))))
			y := next(x, func(s *proto.State) { s.Allocations = nil })
			return []View{at(b, x), at(b, y), at(b, next(y, withTable(5, table(2, shard(2, a), shard(2, b)))))}
		}, want: []string{EpochMonotone}},
		{name: "epoch-unique: two tables of one type at one epoch", views: func() []View {
			x := next(s0, withTable(3, table(3, shard(3, a), shard(3, b))))
			y := next(s0, withTable(3, table(3, shard(3, b), shard(3, a))))
			return []View{at(a, x), at(b, y)}
		}, want: []string{EpochUnique}},
		{name: "valid epochs: rising, and the same table at two nodes", views: func() []View {
			x := next(s0, withTable(3, table(3, shard(3, a), shard(3, b))))
			y := next(x, withTable(4, table(4, shard(4, b), shard(3, b))))
			return []View{at(a, x), at(b, edit(x, func(*proto.State) {})), at(a, y), at(b, edit(y, func(*proto.State) {}))}
		}},
		{name: "registry-live: row of a Down owner", views: func() []View {
			return []View{at(a, next(s0, func(s *proto.State) {
				setStatus(s, c, proto.Down)
				s.Registry = []proto.RegistryRow{row(c, 1, proto.ServiceEntry{Key: "svc", Node: c, Path: "/a"})}
			}))}
		}, want: []string{RegistryLive}},
		{name: "registry-live: row of a non-member", views: func() []View {
			return []View{at(a, next(s0, func(s *proto.State) {
				s.Registry = []proto.RegistryRow{row(nd(9), 1, proto.ServiceEntry{Key: "svc", Node: nd(9), Path: "/a"})}
			}))}
		}, want: []string{RegistryLive}},
		{name: "registry-live and self-consistent: entry under another owner", views: func() []View {
			return []View{at(a, next(s0, func(s *proto.State) {
				s.Registry = []proto.RegistryRow{row(b, 1, proto.ServiceEntry{Key: "svc", Node: c, Path: "/a"})}
			}))}
		}, want: []string{SelfConsistent, RegistryLive}},
		{name: "valid registry: rows of live members, then the owner's row goes with its Down", views: func() []View {
			x := next(s0, func(s *proto.State) {
				s.Registry = []proto.RegistryRow{row(a, 1, proto.ServiceEntry{Key: "svc", Node: a, Path: "/a"}), row(c, 2)}
			})
			y := next(x, func(s *proto.State) { setStatus(s, c, proto.Down); s.Registry = s.Registry[:1] })
			return []View{at(a, x), at(a, y)}
		}},
		{name: "version-monotone: clock goes back", views: func() []View {
			x := next(s0, func(*proto.State) {})
			return []View{at(a, x), at(a, edit(x, func(s *proto.State) { s.Version = proto.VClock{a: 1} }))}
		}, want: []string{VersionMonotone}},
		{name: "version-monotone: a clock one node reached in order, another reaches going back", views: func() []View {
			low := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 1} })
			mid := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 3, b: 2} })
			high := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 5, b: 5} })
			midAgain := *mid // shares mid's clock and tombstones
			return []View{at(a, low), at(a, mid), at(b, high), at(b, &midAgain)}
		}, want: []string{VersionMonotone}},
		{name: "version-monotone: two nodes take the same step back between the same clocks", views: func() []View {
			high := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 5, b: 5} })
			mid := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 3, b: 5} })
			highAgain, midAgain := *high, *mid // the same clocks, at another node
			return []View{at(a, high), at(a, mid), at(b, &highAgain), at(b, &midAgain)}
		}, want: []string{VersionMonotone, VersionMonotone}},
		{name: "version-monotone: a step back only in a tombstoned entry, then the same step where it is not", views: func() []View {
			high := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 5, c: 5} })
			pruned := edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 5} })
			gone := *pruned
			gone.Tombstones = map[proto.UniqueAddress]time.Time{c: {}}
			gone.Members = gone.Members[:2]
			gone.Seen = gone.Seen[:2]
			highAgain := *high
			return []View{at(a, high), at(a, &gone), at(b, &highAgain), at(b, pruned)}
		}, want: []string{VersionMonotone}},
		{name: "self-consistent: members not sorted", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) { s.Members[0], s.Members[1] = s.Members[1], s.Members[0] }))}
		}, want: []string{SelfConsistent}},
		{name: "self-consistent: Removed status in the member list", views: func() []View {
			return []View{at(a, edit(s0, func(s *proto.State) { s.Members[2].Status = proto.Removed }))}
		}, want: []string{SelfConsistent}},
		{name: "self-consistent: seen-only change that unsorts the seen set", views: func() []View {
			x := edit(s0, func(s *proto.State) { s.Seen = []proto.UniqueAddress{a} })
			y := *x
			y.Seen = []proto.UniqueAddress{b, a}
			return []View{at(a, x), at(a, &y)}
		}, want: []string{SelfConsistent}},
		// A valid previous state spares the walk of the parts the next
		// one shares with it; what a shared part breaks against the
		// parts that changed must still show.
		{name: "self-consistent: shared reachability row longer than the fewer members", views: func() []View {
			d := nd(4)
			x := state(mem(a, proto.Up), mem(b, proto.Up), mem(c, proto.Up), mem(d, proto.Up))
			x.Reachability = proto.Reachability{Rows: []proto.ObserverRow{{Observer: a, Version: 1, Unreachable: []proto.UniqueAddress{b, c, d}}}}
			y := *x // shares the rows
			y.Members = []proto.Member{x.Members[0], x.Members[1]}
			y.Seen = []proto.UniqueAddress{a, b}
			y.Tombstones = map[proto.UniqueAddress]time.Time{c: {}, d: {}}
			return []View{at(a, x), at(a, &y)}
		}, want: []string{SelfConsistent, MembersOnly}},
		{name: "members-only: a row list kept from a clean table names a member that left", views: func() []View {
			x := edit(s0, func(s *proto.State) {
				s.Reachability = proto.Reachability{Rows: []proto.ObserverRow{{Observer: a, Version: 1, Unreachable: []proto.UniqueAddress{b, c}}}}
			})
			y := *x // the same row list, c gone
			y.Reachability = proto.Reachability{Rows: append([]proto.ObserverRow(nil), x.Reachability.Rows...)}
			y.Members = []proto.Member{x.Members[0], x.Members[1]}
			y.Seen = []proto.UniqueAddress{a, b}
			y.Tombstones = map[proto.UniqueAddress]time.Time{c: {}}
			return []View{at(a, x), at(a, &y)}
		}, want: []string{MembersOnly}},
		{name: "valid: a row list kept from a clean table while a member joins", views: func() []View {
			x := edit(s0, func(s *proto.State) {
				s.Reachability = proto.Reachability{Rows: []proto.ObserverRow{{Observer: a, Version: 1, Unreachable: []proto.UniqueAddress{b, c}}}}
			})
			y := *x // the same row list, a new member
			y.Reachability = proto.Reachability{Rows: append([]proto.ObserverRow(nil), x.Reachability.Rows...)}
			y.Members = append(append([]proto.Member(nil), x.Members...), mem(nd(4), proto.Joining))
			return []View{at(a, x), at(a, &y)}
		}},
		{name: "self-consistent: a clock another node's valid state had, in a state broken elsewhere", views: func() []View {
			x := next(s0, func(*proto.State) {}) // valid, at a
			b0 := edit(s0, func(*proto.State) {})
			b1 := edit(x, func(s *proto.State) { s.Members[0], s.Members[1] = s.Members[1], s.Members[0] })
			b1.Version = x.Version // the very clock a's state passed with
			return []View{at(a, x), at(b, b0), at(b, b1)}
		}, want: []string{SelfConsistent}},
		{name: "self-consistent: a clock with a zero entry after valid states", views: func() []View {
			b0 := next(s0, func(*proto.State) {})
			b1 := edit(b0, func(s *proto.State) { s.Version = proto.VClock{a: 2, b: 0} })
			c1 := edit(b0, func(*proto.State) {})
			c1.Version = b1.Version // the very clock that failed at b
			return []View{at(b, b0), at(b, b1), at(c, b0), at(c, c1)}
		}, want: []string{SelfConsistent, SelfConsistent}},
		{name: "self-consistent: new rows out of order beside shared members", views: func() []View {
			x := edit(s0, func(s *proto.State) {
				s.Reachability = proto.Reachability{Rows: []proto.ObserverRow{
					{Observer: a, Version: 1, Unreachable: []proto.UniqueAddress{c}},
					{Observer: b, Version: 1, Unreachable: []proto.UniqueAddress{c}}}}
			})
			y := *x // shares everything but the rows
			y.Reachability = proto.Reachability{Rows: []proto.ObserverRow{x.Reachability.Rows[1], x.Reachability.Rows[0]}}
			return []View{at(a, x), at(a, &y)}
		}, want: []string{SelfConsistent}},
		{name: "self-consistent: shared tables under a lower allocation epoch", views: func() []View {
			x := edit(s0, withTable(3, table(3, shard(3, a), shard(2, b))))
			y := *x
			y.AllocationEpoch = 2
			return []View{at(a, x), at(a, &y)}
		}, want: []string{SelfConsistent, EpochMonotone}},
		{name: "self-consistent: rows valid at a larger node, too long here", views: func() []View {
			x := bigState(5)
			x.Reachability.Rows = []proto.ObserverRow{{Observer: nd(1), Unreachable: []proto.UniqueAddress{nd(2), nd(3), nd(4), nd(5)}}}
			y := *s0 // shares s0's parts but for x's rows
			y.Reachability = x.Reachability
			return []View{at(nd(5), x), at(a, s0), at(a, &y)}
		}, want: []string{SelfConsistent, MembersOnly}},
		{name: "self-consistent: registry valid at a larger node, too long here", views: func() []View {
			x := bigState(5)
			for i := 1; i <= 4; i++ {
				x.Registry = append(x.Registry, row(nd(i), 1))
			}
			y := *s0 // shares s0's parts but for x's registry
			y.Registry = x.Registry
			return []View{at(nd(5), x), at(a, s0), at(a, &y)}
		}, want: []string{SelfConsistent, RegistryLive}},
	}
}

func TestObserve(t *testing.T) {
	for _, tc := range observeCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := observeAll(t, tc.views())
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEverySafetyInvariantCanFail checks that the table above proves each
// safety invariant able to fail on its own: some case reports exactly it.
func TestEverySafetyInvariantCanFail(t *testing.T) {
	want := []string{AllocationValid, AllowedTransition, EpochMonotone, EpochUnique, MembersOnly, NoResurrection,
		OneLeader, RegistryLive, SelfConsistent, VersionMonotone}
	alone := map[string]bool{}
	for _, tc := range observeCases() {
		if len(tc.want) == 1 {
			alone[tc.want[0]] = true
		}
	}
	var got []string
	for _, name := range want {
		if alone[name] {
			got = append(got, name)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("invariants with a case that breaks only them (-want +got):\n%s", diff)
	}
}

func TestDetails(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	s0 := three()
	cases := []struct {
		name  string
		views []View
		want  []Violation
	}{
		{
			name:  "allowed-transition",
			views: []View{at(a, s0), at(a, next(s0, func(s *proto.State) { setStatus(s, b, proto.Joining) }))},
			want:  []Violation{{Invariant: AllowedTransition, Node: a, Detail: "10.0.0.2:7000#66 went Up -> Joining"}},
		},
		{
			name: "one-leader",
			views: []View{
				at(a, state(mem(a, proto.Up), mem(b, proto.Up))),
				at(c, state(mem(b, proto.Up), mem(c, proto.Up))),
			},
			want: []Violation{{Invariant: OneLeader, Node: c, Detail: fmt.Sprintf(
				"converged at version %016x (1 entries) with leader 10.0.0.2:7000#66, but 10.0.0.1:7000#65 saw leader 10.0.0.1:7000#65 at the same version",
				clockDigest(proto.VClock{a: 1}))}},
		},
		{
			name: "allocation-valid tombstoned holders",
			views: []View{at(b, edit(next(s0, withTable(4, table(4, shard(4, a, nd(9)), shard(4, nd(9), b)))),
				func(s *proto.State) { s.Tombstones[nd(9)] = t0 }))},
			want: []Violation{{Invariant: AllocationValid, Node: b, Detail: `table "orders" (epoch 4): ` +
				`shard 0: replica 10.0.0.9:7000#6d is tombstoned; shard 1: primary 10.0.0.9:7000#6d is tombstoned`}},
		},
		{
			name:  "allocation-valid leader part",
			views: throughTick(a, next(s0, withTable(1, table(1, shard(1, a, b), shard(1, c, a))))),
			want: []Violation{{Invariant: AllocationValid, Node: a,
				Detail: `converged leader's table "orders" (epoch 1): shard 1: primary 10.0.0.3:7000#67 is Joining`}},
		},
		{
			name: "epoch-unique",
			views: []View{
				at(a, next(s0, withTable(3, table(3, shard(3, a), shard(3, b))))),
				at(b, next(s0, withTable(3, table(3, shard(3, a), shard(2, b))))),
			},
			want: []Violation{{Invariant: EpochUnique, Node: b, Detail: `table "orders" at epoch 3 differs from the one 10.0.0.1:7000#65 held: ` +
				`shard 1 10.0.0.2:7000#66+[]@2 here, 10.0.0.2:7000#66+[]@3 there`}},
		},
		{
			name:  "version-monotone",
			views: []View{at(a, edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 3, b: 2} })), at(a, edit(s0, func(s *proto.State) { s.Version = proto.VClock{a: 1, b: 1} }))},
			want: []Violation{{Invariant: VersionMonotone, Node: a,
				Detail: "version went back: 10.0.0.1:7000#65 3->1; 10.0.0.2:7000#66 2->1"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := NewChecker()
			var got []Violation
			for _, v := range tc.views {
				got = append(got, ch.Observe(v)...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFastConvergedAndLeaderMatchProto(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Large clusters mark more nodes unreachable than a nodeSet lists.
		n := rapid.OneOf(rapid.IntRange(1, 6), rapid.IntRange(20, 40)).Draw(t, "members")
		var ms []proto.Member
		for i := 1; i <= n; i++ {
			st := proto.MemberStatus(rapid.IntRange(int(proto.Joining), int(proto.Down)).Draw(t, fmt.Sprintf("status%d", i)))
			ms = append(ms, mem(nd(i), st))
		}
		s := state(ms...)
		var seen []proto.UniqueAddress
		for _, m := range s.Members {
			if rapid.Bool().Draw(t, "seen "+m.Node.String()) {
				seen = append(seen, m.Node)
			}
		}
		s.Seen = seen
		for i := 1; i <= n+1; i++ { // nd(n+1) is not a member
			if !rapid.Bool().Draw(t, fmt.Sprintf("row%d", i)) {
				continue
			}
			row := proto.ObserverRow{Observer: nd(i), Version: 1}
			for j := 1; j <= n+1; j++ {
				if rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("row%d marks %d", i, j)) == 0 {
					row.Unreachable = append(row.Unreachable, nd(j))
				}
			}
			s.Reachability.Rows = append(s.Reachability.Rows, row)
		}
		self := nd(rapid.IntRange(1, n+1).Draw(t, "self"))
		if !subsequence(s.Seen, s.Members) {
			t.Fatalf("seen set %v is not a subsequence of the members", s.Seen)
		}
		r := &step{c: NewChecker(), s: s}
		unreachable := r.unreachable()
		if got, want := fastConverged(s, &unreachable), s.Converged(); got != want {
			t.Fatalf("fastConverged = %v, proto Converged = %v", got, want)
		}
		gl, gok := fastLeader(s, self, &unreachable)
		wl, wok := s.Leader(self)
		if diff := cmp.Diff(fmt.Sprint(wl, wok), fmt.Sprint(gl, gok)); diff != "" {
			t.Fatalf("leader (-want +got):\n%s", diff)
		}
	})
}

func TestSubsequence(t *testing.T) {
	ms := three().Members
	a, b, c := nd(1), nd(2), nd(3)
	cases := []struct {
		name string
		list []proto.UniqueAddress
		want bool
	}{
		{"empty", nil, true},
		{"all", []proto.UniqueAddress{a, b, c}, true},
		{"gap", []proto.UniqueAddress{a, c}, true},
		{"unsorted", []proto.UniqueAddress{c, a}, false},
		{"duplicate", []proto.UniqueAddress{a, a}, false},
		{"non-member", []proto.UniqueAddress{a, nd(9)}, false},
		{"longer than members", []proto.UniqueAddress{a, b, c, c}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := subsequence(tc.list, ms); got != tc.want {
				t.Errorf("subsequence(%v) = %v, want %v", tc.list, got, tc.want)
			}
		})
	}
}

// bigState is a converged state of n Up members at version {nd(1): 1}.
func bigState(n int) *proto.State {
	ms := make([]proto.Member, n)
	for i := range ms {
		ms[i] = mem(nd(i+1), proto.Up)
	}
	return state(ms...)
}

func TestObserveCost(t *testing.T) {
	big := bigState(100)
	seenOnly := *big // shares everything but the seen set, as proto's seen merges do
	seenOnly.Seen = big.Seen[:50]
	cases := []struct {
		name   string
		views  []View
		repeat int
		// want is the change in Stats from the first view on.
		want Stats
	}{
		{
			name:   "same state pointer is O(1)",
			views:  []View{at(nd(1), big)},
			repeat: 1000,
			want:   Stats{Views: 1000, Unchanged: 1000},
		},
		{
			name:   "seen-only change skips validation and member scans",
			views:  []View{at(nd(1), &seenOnly), at(nd(1), big)},
			repeat: 10,
			want:   Stats{Views: 20, Checked: 20},
		},
		{
			name: "phase change with the same state is checked again",
			views: []View{at(nd(1), big), func() View {
				v := at(nd(1), big)
				v.Phase = proto.PhaseStopped
				return v
			}()},
			repeat: 1,
			want:   Stats{Views: 2, Checked: 1, Unchanged: 1},
		},
		{
			name:   "deep copy is checked in full",
			views:  []View{at(nd(1), edit(big, func(*proto.State) {}))},
			repeat: 1,
			want:   Stats{Views: 1, Checked: 1, Validations: 1, Scanned: 100},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChecker()
			if v := c.Observe(at(nd(1), big)); len(v) != 0 {
				t.Fatalf("first view: %v", v)
			}
			base := c.Stats()
			for i := 0; i < tc.repeat; i++ {
				for _, v := range tc.views {
					if got := c.Observe(v); len(got) != 0 {
						t.Fatalf("violations: %v", got)
					}
				}
			}
			got := c.Stats()
			delta := Stats{
				Views: got.Views - base.Views, Unchanged: got.Unchanged - base.Unchanged, Checked: got.Checked - base.Checked,
				Validations: got.Validations - base.Validations, Scanned: got.Scanned - base.Scanned,
				Violations: got.Violations - base.Violations,
			}
			if diff := cmp.Diff(tc.want, delta); diff != "" {
				t.Errorf("stats change (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFIFO(t *testing.T) {
	cases := []struct {
		name string
		puts []int
		want []int // keys still held, sorted
	}{
		{"under the limit", []int{1, 2}, []int{1, 2}},
		{"oldest forgotten first", []int{1, 2, 3, 4, 5}, []int{3, 4, 5}},
		{"re-put keeps its slot", []int{1, 2, 1, 3, 4}, []int{2, 3, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFIFO[int, int](3)
			for _, k := range tc.puts {
				f.put(k, k*10)
			}
			var got []int
			for k := range f.m {
				if v, ok := f.get(k); !ok || v != k*10 {
					t.Errorf("value of %d = %d, %v, want %d", k, v, ok, k*10)
				}
				got = append(got, k)
			}
			sort.Ints(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLeaderMemoryIsBounded(t *testing.T) {
	c := NewChecker()
	s := state(mem(nd(1), proto.Up))
	for i := 0; i < MaxLeaderVersions+100; i++ {
		s = next(s, func(*proto.State) {})
		c.Observe(at(nd(1), s))
	}
	if got := c.Stats().LeaderVersions; got != MaxLeaderVersions {
		t.Errorf("LeaderVersions = %d, want %d", got, MaxLeaderVersions)
	}
}

// liveness is Liveness, checked to report the same with its keys
// computed afresh for every view.
func liveness(t *testing.T, views []View, exp Expectation) []Violation {
	t.Helper()
	got := Liveness(views, exp)
	memoLivenessKeys = false
	defer func() { memoLivenessKeys = true }()
	if diff := cmp.Diff(Liveness(views, exp), got); diff != "" {
		t.Errorf("Liveness with memoized keys differs (-afresh +memoized):\n%s", diff)
	}
	return got
}

func TestLiveness(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	settled := state(mem(a, proto.Up, orders), mem(b, proto.Up, orders), mem(c, proto.Up, orders))
	settled = next(settled, func(s *proto.State) {
		s.Allocations = []proto.TypeAllocation{table(2, shard(2, a, b), shard(2, b, c))}
		s.AllocationEpoch = 2
		s.Registry = []proto.RegistryRow{row(b, 1, proto.ServiceEntry{Key: "svc", Node: b, Path: "/b"})}
	})
	same := func(u proto.UniqueAddress) View { return at(u, settled) }
	alt := func(u proto.UniqueAddress, f func(*proto.State)) View { return at(u, edit(settled, f)) }
	stopped := func(v View) View { v.Phase = proto.PhaseStopped; return v }
	type want struct {
		Invariant string
		Node      proto.UniqueAddress
	}
	cases := []struct {
		name  string
		views []View
		exp   Expectation
		want  []want
	}{
		{name: "settled cluster", views: []View{same(a), same(b), same(c)},
			exp: Expectation{Joined: []proto.UniqueAddress{a, b, c}, Crashed: []proto.UniqueAddress{nd(7)}, Left: []proto.UniqueAddress{nd(8)}}},
		{name: "one node not converged",
			views: []View{same(a), same(b), alt(c, func(s *proto.State) { s.Seen = s.Seen[:2] })},
			want:  []want{{LivenessConverged, c}}},
		{name: "one node sees a member Leaving",
			views: []View{same(a), same(b), alt(c, func(s *proto.State) { setStatus(s, b, proto.Leaving) })},
			want:  []want{{LivenessMembers, c}}},
		{name: "one node sees the leader Joining",
			views: []View{same(a), alt(b, func(s *proto.State) { setStatus(s, a, proto.Joining) }), same(c)},
			want:  []want{{LivenessMembers, b}, {LivenessLeader, b}}},
		{name: "one node has an older allocation epoch",
			views: []View{alt(a, func(s *proto.State) { s.AllocationEpoch = 3 }), same(b), same(c)},
			want:  []want{{LivenessAllocations, a}}},
		{name: "a shard without a primary although hosts exist",
			views: func() []View {
				x := edit(settled, func(s *proto.State) { s.Allocations[0].Shards[1] = shard(0, proto.UniqueAddress{}) })
				return []View{at(a, x), at(b, x), at(c, x)}
			}(),
			want: []want{{LivenessAllocations, a}, {LivenessAllocations, b}, {LivenessAllocations, c}}},
		{name: "a shard short of replicas",
			views: func() []View {
				x := edit(settled, func(s *proto.State) { s.Allocations[0].Shards[0].Replicas = nil })
				return []View{at(a, x), at(b, x), at(c, x)}
			}(),
			want: []want{{LivenessAllocations, a}, {LivenessAllocations, b}, {LivenessAllocations, c}}},
		{name: "a hosted type without a table",
			views: func() []View {
				x := edit(settled, func(s *proto.State) { s.Members[0].Hosts = []proto.ShardType{{Name: "users", Shards: 4}} })
				return []View{at(a, x), at(b, x), at(c, x)}
			}(),
			want: []want{{LivenessAllocations, a}, {LivenessAllocations, b}, {LivenessAllocations, c}}},
		{name: "valid: a table of a type nobody hosts stays unplaced",
			views: func() []View {
				x := edit(settled, func(s *proto.State) {
					for i := range s.Members {
						s.Members[i].Hosts = nil
					}
					s.Allocations[0].Shards[1] = shard(0, proto.UniqueAddress{})
				})
				return []View{at(a, x), at(b, x), at(c, x)}
			}()},
		{name: "one node lacks a registry entry",
			views: []View{same(a), same(b), alt(c, func(s *proto.State) { s.Registry = nil })},
			want:  []want{{LivenessRegistry, c}}},
		{name: "crashed incarnation still Up",
			views: []View{same(a), same(b), stopped(same(c))},
			exp:   Expectation{Crashed: []proto.UniqueAddress{c}},
			want:  []want{{LivenessCrashed, a}, {LivenessCrashed, b}}},
		{name: "valid: crashed incarnation Down at one node, gone at the other",
			views: []View{
				alt(a, func(s *proto.State) { setStatus(s, c, proto.Down) }),
				alt(b, func(s *proto.State) { removeMember(s, c) }),
			},
			exp: Expectation{Crashed: []proto.UniqueAddress{c}},
			want: []want{ // the two views disagree, which is reported, but both satisfy the expectation
				{LivenessMembers, b}}},
		{name: "leaver still Exiting",
			views: []View{alt(a, func(s *proto.State) { setStatus(s, c, proto.Exiting) }), alt(b, func(s *proto.State) { removeMember(s, c) })},
			exp:   Expectation{Left: []proto.UniqueAddress{c}},
			want:  []want{{LivenessMembers, b}, {LivenessLeft, a}}},
		{name: "joiner not Up and a joiner nobody runs",
			views: []View{same(a), same(b), alt(c, func(s *proto.State) { setStatus(s, c, proto.Joining) })},
			exp:   Expectation{Joined: []proto.UniqueAddress{c, nd(4)}},
			want: []want{{LivenessMembers, c}, {LivenessJoined, a}, {LivenessJoined, b}, {LivenessJoined, c},
				{LivenessJoined, nd(4)}}},
		{name: "joiner still Joining everywhere",
			views: func() []View {
				x := edit(settled, func(s *proto.State) { setStatus(s, c, proto.Joining) })
				return []View{at(a, x), at(b, x), at(c, x)}
			}(),
			exp:  Expectation{Joined: []proto.UniqueAddress{c}},
			want: []want{{LivenessJoined, a}, {LivenessJoined, b}, {LivenessJoined, c}}},
		{name: "joiner whose node stopped",
			views: []View{same(a), same(b), stopped(same(c))},
			exp:   Expectation{Joined: []proto.UniqueAddress{c}},
			want:  []want{{LivenessJoined, c}}},
		{name: "valid: views of stopped and dead nodes are ignored",
			views: []View{same(a), same(b), stopped(alt(c, func(s *proto.State) { s.Members = s.Members[:1] })),
				func() View { v := alt(nd(4), func(s *proto.State) { s.Seen = nil }); v.Live = false; return v }()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []want
			for _, v := range liveness(t, tc.views, tc.exp) {
				if v.Detail == "" {
					t.Errorf("%v has no detail", v)
				}
				got = append(got, want{v.Invariant, v.Node})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLivenessDetails(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	settled := state(mem(a, proto.Up), mem(b, proto.Up), mem(c, proto.Up))
	cases := []struct {
		name  string
		views []View
		exp   Expectation
		want  []Violation
	}{
		{
			name: "members",
			views: []View{at(a, settled), at(b, settled), at(c, edit(settled, func(s *proto.State) {
				setStatus(s, b, proto.Leaving)
				s.Members = append(s.Members, mem(nd(4), proto.Joining))
				s.Seen = append(s.Seen, nd(4))
			}))},
			want: []Violation{{Invariant: LivenessMembers, Node: c, Detail: "member list differs: " +
				"10.0.0.2:7000#66 Leaving here, Up at reference; 10.0.0.4:7000#68 Joining here, absent at reference " +
				"(reference 10.0.0.1:7000#65, shared by 2 of 3 live members)"}},
		},
		{
			name:  "converged",
			views: []View{at(a, edit(settled, func(s *proto.State) { s.Seen = s.Seen[:1] }))},
			want: []Violation{{Invariant: LivenessConverged, Node: a,
				Detail: "not converged: 3 members, unreachable [], current version not seen by [10.0.0.2:7000#66 10.0.0.3:7000#67]"}},
		},
		{
			name: "registry",
			views: []View{at(a, settled), at(b, edit(settled, func(s *proto.State) {
				s.Registry = []proto.RegistryRow{row(b, 1, proto.ServiceEntry{Key: "svc", Node: b, Path: "/b"})}
			}))},
			want: []Violation{{Invariant: LivenessRegistry, Node: b, Detail: "registry differs: {svc 10.0.0.2:7000#66 /b} only here " +
				"(reference 10.0.0.1:7000#65, shared by 1 of 2 live members)"}},
		},
		{
			name:  "crashed",
			views: []View{at(a, settled)},
			exp:   Expectation{Crashed: []proto.UniqueAddress{c, b}},
			want: []Violation{{Invariant: LivenessCrashed, Node: a,
				Detail: "sees crashed incarnations neither Down nor Removed: 10.0.0.2:7000#66 Up; 10.0.0.3:7000#67 Up"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, liveness(t, tc.views, tc.exp)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkObserve observes a 100-member state that changes every step:
// "content" makes every state a deep copy with a new version (a local
// change or an adopted merge), "seen" shares everything but the seen set
// (a seen merge), "unchanged" repeats the same pointer.
func BenchmarkObserve(b *testing.B) {
	const n = 100
	self := nd(1)
	base := bigState(n)
	base.Tombstones[reborn(1)] = t0
	base.Allocations = []proto.TypeAllocation{{Type: proto.ShardType{Name: "orders", Shards: 64, Replicas: 2}, Epoch: 1}}
	for i := 0; i < 64; i++ {
		base.Allocations[0].Shards = append(base.Allocations[0].Shards, shard(1, nd(i%n+1), nd((i+1)%n+1), nd((i+2)%n+1)))
	}
	base.AllocationEpoch = 1
	for i := range base.Members {
		base.Members[i].Hosts = []proto.ShardType{base.Allocations[0].Type}
	}
	for i := 1; i <= n; i += 10 {
		base.Registry = append(base.Registry, row(nd(i), 1, proto.ServiceEntry{Key: "svc", Node: nd(i), Path: "/p"}))
	}
	b.Run("content", func(b *testing.B) {
		c := NewChecker()
		s := base
		batch := make([]*proto.State, 256)
		next := len(batch)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if next == len(batch) {
				b.StopTimer()
				for k := range batch {
					s = s.Clone()
					s.Version = s.Version.Increment(base.Members[k%n].Node)
					batch[k] = s
				}
				next = 0
				b.StartTimer()
			}
			if v := c.Observe(at(self, batch[next])); len(v) != 0 {
				b.Fatal(v)
			}
			next++
		}
	})
	b.Run("seen", func(b *testing.B) {
		c := NewChecker()
		states := make([]*proto.State, n)
		for k := range states {
			s := *base
			s.Seen = base.Seen[:k+1]
			states[k] = &s
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if v := c.Observe(at(self, states[i%n])); len(v) != 0 {
				b.Fatal(v)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		c := NewChecker()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c.Observe(at(self, base))
		}
	})
}

// TestTableShapesReuse: a table the node's previous state held is not
// checked for its shape again under the same tombstoned nodes, and is
// checked again (and caught) when a holder is tombstoned since.
func TestTableShapesReuse(t *testing.T) {
	a, b := nd(1), nd(2)
	x := next(three(), withTable(4, table(4, shard(4, a, nd(9)), shard(4, b, a))))
	bump := func(s *proto.State, tombs map[proto.UniqueAddress]time.Time) *proto.State {
		c := *s // shares the tables, as proto's merges do
		c.Version = s.Version.Increment(a)
		c.Tombstones = tombs
		return &c
	}
	y := bump(x, map[proto.UniqueAddress]time.Time{})
	z := bump(y, map[proto.UniqueAddress]time.Time{nd(9): t0})
	c := NewChecker()
	for i, v := range []View{at(b, x), at(b, y)} {
		if vs := c.Observe(v); len(vs) != 0 {
			t.Fatalf("view %d: %v", i, vs)
		}
	}
	if got := c.Stats().TableShapes; got != 1 {
		t.Errorf("tables checked after a state that kept its table: %d, want 1", got)
	}
	vs := c.Observe(at(b, z))
	if len(vs) != 1 || vs[0].Invariant != AllocationValid {
		t.Fatalf("kept table with a holder tombstoned since: %v, want one %s", vs, AllocationValid)
	}
	if got := c.Stats().TableShapes; got != 2 {
		t.Errorf("tables checked after a holder was tombstoned: %d, want 2", got)
	}
	if diff := cmp.Diff(observeAll(t, []View{at(b, x), at(b, y), at(b, z)}), []string{AllocationValid}); diff != "" {
		t.Errorf("violations (-got +want):\n%s", diff)
	}
}

// TestTombstoneKeysReuse: a state whose tombstone map is new but holds the
// nodes the previous one did is not walked for tombstoned members when
// none of the previous state's members was tombstoned, and is walked (and
// reports again, as a checker without memos does) when one was.
func TestTombstoneKeysReuse(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	retomb := func(s *proto.State, keys ...proto.UniqueAddress) *proto.State {
		x := *s // shares every other part, as proto's merges do
		x.Version = s.Version.Increment(a)
		x.Tombstones = map[proto.UniqueAddress]time.Time{}
		for _, u := range keys {
			x.Tombstones[u] = t0
		}
		return &x
	}
	x := retomb(three(), nd(9))
	y := retomb(x, nd(9))    // the same keys
	z := retomb(y, nd(9), c) // c is listed and tombstoned
	w := retomb(z, nd(9), c) // the same keys, c still listed
	swapped := retomb(x, c)  // as many keys, c listed and tombstoned
	back := func() *proto.State {
		s := *retomb(y, nd(9))
		s.Members = append(append([]proto.Member(nil), y.Members...), mem(nd(9), proto.Up))
		normalize(&s)
		return &s
	}()

	chk := NewChecker()
	for i, v := range []View{at(b, x), at(b, y)} {
		before := chk.Stats().Scanned
		if vs := chk.Observe(v); len(vs) != 0 {
			t.Fatalf("view %d: %v", i, vs)
		}
		want := uint64(len(v.State.Members))
		if i == 1 {
			want = 0
		}
		if got := chk.Stats().Scanned - before; got != want {
			t.Errorf("view %d: %d members scanned, want %d", i, got, want)
		}
	}
	cases := []struct {
		name  string
		views []View
		want  []string
	}{
		{"same keys, clean", []View{at(b, x), at(b, y)}, nil},
		{"same keys, a member stays tombstoned", []View{at(b, x), at(b, z), at(b, w)}, []string{NoResurrection, NoResurrection}},
		{"same keys, a fresh member is tombstoned", []View{at(b, x), at(b, y), at(b, back)}, []string{NoResurrection}},
		{"other keys as many", []View{at(b, x), at(b, y), at(b, swapped)}, []string{NoResurrection}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, observeAll(t, tc.views)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRegistryRowsReuse: a registry row the node's previous state held is
// not checked for its entries again when every row of that state was
// clean, and is checked again (and reported again, as a checker without
// memos does) when one was not; its owner is looked up either way.
func TestRegistryRowsReuse(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	entry := func(u proto.UniqueAddress) proto.ServiceEntry {
		return proto.ServiceEntry{Key: "svc", Node: u, Path: "/x"}
	}
	// share is s with its other parts shared, as proto's merges do, and f
	// applied to fresh copies of the parts it changes.
	share := func(s *proto.State, f func(*proto.State)) *proto.State {
		x := *s
		x.Version = s.Version.Increment(a)
		f(&x)
		return &x
	}
	members := func(f func(*proto.State)) func(*proto.State) {
		return func(s *proto.State) {
			s.Members = append([]proto.Member(nil), s.Members...)
			f(s)
		}
	}
	addRow := func(r proto.RegistryRow) func(*proto.State) {
		return func(s *proto.State) {
			s.Registry = append(append([]proto.RegistryRow(nil), s.Registry...), r)
		}
	}
	x := next(three(), func(s *proto.State) {
		s.Registry = []proto.RegistryRow{row(a, 1, entry(a)), row(b, 1, entry(b))}
	})
	moved := share(x, members(func(s *proto.State) { setStatus(s, c, proto.Up) }))
	grown := share(moved, addRow(row(c, 1, entry(c))))
	downed := share(grown, members(func(s *proto.State) { setStatus(s, a, proto.Down) }))
	rewritten := share(grown, func(s *proto.State) {
		s.Registry = append([]proto.RegistryRow(nil), s.Registry...)
		s.Registry[2] = row(c, 2, entry(a))
	})
	foreign := next(three(), func(s *proto.State) {
		s.Registry = []proto.RegistryRow{row(a, 1, entry(a)), row(b, 1, entry(c))}
	})
	foreignMoved := share(foreign, members(func(s *proto.State) { setStatus(s, c, proto.Up) }))

	chk := NewChecker()
	for i, tc := range []struct {
		s    *proto.State
		rows uint64 // rows checked for their entries
	}{{x, 2}, {moved, 0}, {grown, 1}, {downed, 0}} {
		before := chk.Stats().RegistryRows
		vs := chk.Observe(at(b, tc.s))
		if got := chk.Stats().RegistryRows - before; got != tc.rows {
			t.Errorf("view %d: %d rows checked, want %d", i, got, tc.rows)
		}
		if tc.s == downed {
			if len(vs) != 1 || vs[0].Invariant != RegistryLive {
				t.Errorf("view %d: %v, want one %s for the Down owner", i, vs, RegistryLive)
			}
		} else if len(vs) != 0 {
			t.Errorf("view %d: %v", i, vs)
		}
	}
	cases := []struct {
		name  string
		views []View
		want  []string
	}{
		{"held rows, clean", []View{at(b, x), at(b, moved), at(b, grown)}, nil},
		{"held rows, owner Down since", []View{at(b, x), at(b, moved), at(b, grown), at(b, downed)}, []string{RegistryLive}},
		{"a row rewritten with a foreign entry", []View{at(b, x), at(b, moved), at(b, grown), at(b, rewritten)},
			[]string{SelfConsistent, RegistryLive}},
		{"held rows, a foreign entry", []View{at(b, foreign), at(b, foreignMoved)},
			[]string{SelfConsistent, RegistryLive, SelfConsistent, RegistryLive}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, observeAll(t, tc.views)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSelfConsistentMatchesValidateState: self-consistent is reported
// exactly for the states proto.ValidateState rejects, on random states
// built from a few shared parts, valid and not, that each pass in some
// states and fail against others' member counts or allocation epochs (so
// that the composite states selfConsistent validates against are made of
// parts found valid at other nodes).
func TestSelfConsistentMatchesValidateState(t *testing.T) {
	entry := func(owner, u proto.UniqueAddress) proto.ServiceEntry {
		return proto.ServiceEntry{Key: "svc", Node: u, Path: "/x"}
	}
	nodes := func(is ...int) []proto.UniqueAddress {
		var out []proto.UniqueAddress
		for _, i := range is {
			out = append(out, nd(i))
		}
		return out
	}
	members := func(is ...int) []proto.Member {
		var out []proto.Member
		for _, i := range is {
			out = append(out, mem(nd(i), proto.Up))
		}
		return out
	}
	outcomes := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		// Pools of parts, each shared by every state that picks it.
		memberLists := [][]proto.Member{members(1, 2, 3, 4, 5), members(1, 2, 3), members(1, 2, 3, 5), members(2, 1, 3)}
		seens := [][]proto.UniqueAddress{nil, nodes(1, 2, 3), nodes(1, 2, 3, 4, 5), nodes(2, 1)}
		rowSets := [][]proto.ObserverRow{nil,
			{{Observer: nd(1), Unreachable: nodes(2)}},
			{{Observer: nd(1), Unreachable: nodes(2, 3, 4, 5)}},
			{{Observer: nd(1), Unreachable: nodes(2)}, {Observer: nd(2), Unreachable: nodes(1)}, {Observer: nd(3), Unreachable: nodes(1)}, {Observer: nd(4), Unreachable: nodes(1)}},
			{{Observer: nd(1), Unreachable: nodes(3, 2)}},
		}
		registries := [][]proto.RegistryRow{nil,
			{row(nd(1), 1, entry(nd(1), nd(1))), row(nd(2), 1, entry(nd(2), nd(2)))},
			{row(nd(1), 1, entry(nd(1), nd(1))), row(nd(2), 1), row(nd(3), 1), row(nd(4), 1)},
			{row(nd(1), 1, entry(nd(1), nd(2)))},
		}
		tableSets := [][]proto.TypeAllocation{nil,
			{table(1, shard(1, nd(1), nd(2)), shard(1, nd(2)))},
			{table(5, shard(5, nd(1)), shard(2, nd(2)))},
			{table(1, shard(1, nd(1), nd(1)), shard(1, nd(2)))},
		}
		clocks := []proto.VClock{{nd(1): 1}, {nd(1): 2, nd(2): 1}, {nd(1): 0}}
		pick := func(n int, label string) int { return rapid.IntRange(0, n-1).Draw(t, label) }
		states := make([]*proto.State, rapid.IntRange(1, 8).Draw(t, "states"))
		for i := range states {
			s := proto.NewState()
			s.Members = memberLists[pick(len(memberLists), "members")]
			s.Seen = seens[pick(len(seens), "seen")]
			s.Reachability.Rows = rowSets[pick(len(rowSets), "rows")]
			s.Registry = registries[pick(len(registries), "registry")]
			s.Allocations = tableSets[pick(len(tableSets), "tables")]
			s.AllocationEpoch = proto.Epoch(rapid.SampledFrom([]int{1, 5}).Draw(t, "epoch"))
			s.Version = clocks[pick(len(clocks), "clock")]
			states[i] = s
		}
		c := NewChecker()
		last := map[proto.UniqueAddress]*proto.State{}
		for k := rapid.IntRange(1, 20).Draw(t, "views"); k > 0; k-- {
			self := nd(rapid.IntRange(1, 3).Draw(t, "self"))
			s := states[pick(len(states), "state")]
			got := false
			for _, v := range c.Observe(at(self, s)) {
				got = got || v.Invariant == SelfConsistent
			}
			if last[self] == s {
				continue // unchanged: reported the first time only
			}
			last[self] = s
			err := proto.ValidateState(s)
			if want := err != nil; got != want {
				t.Fatalf("%v sees %+v: self-consistent reported %v, ValidateState says %v", self, s, got, err)
			}
			outcomes[got]++
		}
	})
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("outcomes %v: both valid and invalid states must be tried", outcomes)
	}
}

// TestTableShapesAcrossNodes: shards found in shape at one node are only
// held against the tombstones at another, which still catches a
// tombstoned holder (also after the shapes of other tables were checked),
// and they are checked afresh under another type.
func TestTableShapesAcrossNodes(t *testing.T) {
	a, b, c := nd(1), nd(2), nd(3)
	x := next(three(), withTable(4, table(4, shard(4, a, nd(9)), shard(4, b, a))))
	// share is x's table in another node's state, under other tombstones
	// or another type.
	share := func(tombs map[proto.UniqueAddress]time.Time, shards int) *proto.State {
		s := next(three(), func(s *proto.State) {})
		s.Allocations = append([]proto.TypeAllocation(nil), x.Allocations...)
		s.Allocations[0].Type.Shards = shards
		s.AllocationEpoch = x.AllocationEpoch
		s.Tombstones = tombs
		return s
	}
	twice := next(three(), withTable(4, table(4, shard(4, a, b, b), shard(4, b, a))))
	twiceElsewhere := next(three(), func(s *proto.State) {})
	twiceElsewhere.Allocations, twiceElsewhere.AllocationEpoch = twice.Allocations, twice.AllocationEpoch
	y := share(map[proto.UniqueAddress]time.Time{}, 2)
	z := share(map[proto.UniqueAddress]time.Time{nd(9): t0}, 2)
	w := share(map[proto.UniqueAddress]time.Time{}, 3)
	// q's table, at a later epoch, names other nodes than x's.
	q := next(three(), withTable(5, table(5, shard(5, b, c), shard(5, c, b))))

	chk := NewChecker()
	for i, v := range []View{at(a, x), at(b, y)} {
		if vs := chk.Observe(v); len(vs) != 0 {
			t.Fatalf("view %d: %v", i, vs)
		}
	}
	if got := chk.Stats().TableShapes; got != 1 {
		t.Errorf("tables checked after a second node held the same shards: %d, want 1", got)
	}
	cases := []struct {
		name  string
		views []View
		want  []string
	}{
		{"same shards elsewhere", []View{at(a, x), at(b, y)}, nil},
		{"a holder tombstoned elsewhere", []View{at(a, x), at(c, z)}, []string{AllocationValid}},
		{"a holder tombstoned elsewhere after another table", []View{at(a, x), at(b, q), at(c, z)}, []string{AllocationValid}},
		{"another type elsewhere", []View{at(a, x), at(c, w)}, []string{SelfConsistent, AllocationValid, EpochUnique}},
		{"bad shards at two nodes", []View{at(a, twice), at(b, twiceElsewhere)},
			[]string{SelfConsistent, AllocationValid, SelfConsistent, AllocationValid}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, observeAll(t, tc.views)); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}
