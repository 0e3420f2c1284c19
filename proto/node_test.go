package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"

	"github.com/rumorhq/rumor/proto/phi"
)

func TestEarliest(t *testing.T) {
	a, b := epoch.Add(time.Second), epoch.Add(2*time.Second)
	cases := []struct {
		name       string
		x, y, want time.Time
	}{
		{"both zero", time.Time{}, time.Time{}, time.Time{}},
		{"first zero", time.Time{}, b, b},
		{"second zero", a, time.Time{}, a},
		{"first earlier", a, b, a},
		{"second earlier", b, a, a},
		{"equal", a, a, a},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := earliest(tc.x, tc.y); !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
				t.Errorf("earliest(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
			}
		})
	}
}

// TestMonitorLookup checks Node.monitor, which searches the sorted subject
// list, against a scan of it, for short and long lists.
func TestMonitorLookup(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{0, 1, 3, cursorProbe, cursorProbe + 1, 40} {
		var pool []UniqueAddress
		for i := 0; i < 2*size+2; i++ {
			pool = append(pool, fxNode(1+i, UID(1+rng.Intn(2))))
		}
		sortNodes(pool)
		n := &Node{}
		for _, u := range pool {
			if len(n.monitorList) < size && rng.Intn(2) == 0 {
				n.monitorList = append(n.monitorList, u)
				n.monitors = append(n.monitors, phi.NewHistory(phi.DefaultConfig(), epoch))
			}
		}
		for _, u := range pool {
			want := -1
			for i, x := range n.monitorList {
				if x == u {
					want = i
				}
			}
			h, ok := n.monitor(&u)
			switch {
			case ok != (want >= 0):
				t.Errorf("size %d: monitor(%v) found %v, want %v", size, u, ok, want >= 0)
			case ok && h != n.monitors[want]:
				t.Errorf("size %d: monitor(%v) returned another subject's history", size, u)
			}
		}
	}
}

// TestTrackJoiningMatchesNaive checks trackJoining over runs of member
// lists against a map that keeps exactly the Joining members, each with
// the time it was first seen Joining.
func TestTrackJoiningMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) [][]Member {
		var run [][]Member
		for step := 0; step < 6; step++ {
			var ms []Member
			for _, u := range lawSubset(rng, valPool[:20], 2) {
				ms = append(ms, Member{Node: u, Status: []MemberStatus{Joining, Joining, Up, Down}[rng.Intn(4)]})
			}
			run = append(run, ms)
		}
		return run
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("trackJoining is the naive map", prop.ForAll(func(run [][]Member) string {
			naive := map[UniqueAddress]time.Time{}
			var nodes []UniqueAddress
			var since []time.Time
			for step, ms := range run {
				now := epoch.Add(time.Duration(step) * time.Second)
				joining := map[UniqueAddress]bool{}
				for _, m := range ms {
					if m.Status == Joining {
						joining[m.Node] = true
						if _, ok := naive[m.Node]; !ok {
							naive[m.Node] = now
						}
					}
				}
				for u := range naive {
					if !joining[u] {
						delete(naive, u)
					}
				}
				nodes, since = trackJoining(ms, nodes, since, now)
				if len(nodes) != len(naive) || len(since) != len(nodes) {
					return fmt.Sprintf("step %d: %d nodes, %d times, want %d", step, len(nodes), len(since), len(naive))
				}
				for i, u := range nodes {
					if want, ok := naive[u]; !ok || !since[i].Equal(want) || (i > 0 && nodes[i-1].Compare(u) >= 0) {
						return fmt.Sprintf("step %d: %v since %v, want %v (present %v), in order", step, u, since[i], want, ok)
					}
				}
			}
			return ""
		}, gen))
	})
}

// naiveRingOrder is the ring walk by its definition: every entry and self
// sorted by hash then address, read from the entry after self round to the
// one before it.
func naiveRingOrder(self UniqueAddress, selfHash uint64, entries []ringNode) []UniqueAddress {
	ring := append([]ringNode{{Node: self, Hash: selfHash}}, entries...)
	sort.Slice(ring, func(i, j int) bool {
		if ring[i].Hash != ring[j].Hash {
			return ring[i].Hash < ring[j].Hash
		}
		return ring[i].Node.Compare(ring[j].Node) < 0
	})
	at := 0
	for i, e := range ring {
		if e.Node == self {
			at = i
		}
	}
	var out []UniqueAddress
	for step := 1; step < len(ring); step++ {
		out = append(out, ring[(at+step)%len(ring)].Node)
	}
	return out
}

// ringNode is a node on the ring with its hash.
type ringNode struct {
	Node UniqueAddress
	Hash uint64
}

// walkOf returns a ringWalk from self over entries.
func walkOf(self UniqueAddress, selfHash uint64, entries []ringNode) *ringWalk {
	w := &ringWalk{self: self, selfHash: selfHash}
	for i, e := range entries {
		w.members = append(w.members, Member{Node: e.Node})
		w.heap = append(w.heap, ringEntry{hash: e.Hash, index: i})
	}
	return w
}

// TestRingWalkMatchesNaive checks the heap walk of the heartbeat ring, and
// the sorted list of the nearest successors, against sorting the whole
// ring, with hashes drawn from a few values so
// that entries share self's hash and each other's, and with real hashes.
func TestRingWalkMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) ringCase {
		var c ringCase
		nodes := lawSubset(rng, valPool, 1+rng.Intn(3))
		if len(nodes) == 0 {
			return c
		}
		hashes := []uint64{0, 1, 7, 1 << 63, ^uint64(0)}
		hashOf := func(u UniqueAddress) uint64 {
			if c.Real {
				return u.Hash()
			}
			return hashes[rng.Intn(len(hashes))]
		}
		c.Real = rng.Intn(4) == 0
		c.Self = nodes[rng.Intn(len(nodes))]
		c.SelfHash = hashOf(c.Self)
		for _, u := range nodes {
			if u != c.Self {
				c.Entries = append(c.Entries, ringNode{Node: u, Hash: hashOf(u)})
			}
		}
		return c
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("ringWalk is the sorted ring", prop.ForAll(func(c ringCase) string {
			want := naiveRingOrder(c.Self, c.SelfHash, c.Entries)
			w := walkOf(c.Self, c.SelfHash, c.Entries)
			w.init()
			var got []UniqueAddress
			for e, ok := w.next(); ok; e, ok = w.next() {
				got = append(got, *w.node(&e))
			}
			if !nodesEqual(want, got) {
				return fmt.Sprintf("self %v hash %d, entries %v (-naive +walk):\n%s", c.Self, c.SelfHash, c.Entries,
					cmp.Diff(want, got, cmpopts.EquateEmpty()))
			}
			// keepNearest(k) keeps the first k of the same order.
			for k := 0; k <= len(c.Entries)+1; k++ {
				w := walkOf(c.Self, c.SelfHash, c.Entries)
				w.keepNearest(k)
				got = got[:0]
				for i := range w.heap {
					got = append(got, *w.node(&w.heap[i]))
				}
				if n := min(k, len(want)); !nodesEqual(want[:n], got) {
					return fmt.Sprintf("self %v hash %d, entries %v, keepNearest(%d) (-naive +kept):\n%s", c.Self, c.SelfHash, c.Entries, k,
						cmp.Diff(want[:n], got, cmpopts.EquateEmpty()))
				}
			}
			return ""
		}, gen))
	})
}

type ringCase struct {
	Self     UniqueAddress
	SelfHash uint64
	Entries  []ringNode
	Real     bool
}

// TestSameAddress checks sameAddress, which reads the hosts' last bytes
// first, against ==, on addresses that differ in port, host length, last
// byte or an earlier byte only, and on empty hosts.
func TestSameAddress(t *testing.T) {
	hosts := []string{"", "a", "b", "10.0.0.1", "10.0.0.2", "10.0.1.1", "11.0.0.1", "10.0.0.11", "host-a", "host-b"}
	ports := []uint16{0, 7000, 7001}
	var all []Address
	for _, h := range hosts {
		for _, p := range ports {
			all = append(all, Address{Host: h, Port: p})
		}
	}
	equal := 0
	for _, a := range all {
		for _, b := range all {
			b.Host = string([]byte(b.Host)) // not the same string header
			if got, want := sameAddress(&a, &b), a == b; got != want {
				t.Errorf("sameAddress(%v, %v) = %v, want %v", a, b, got, want)
			}
			if a == b {
				equal++
			}
		}
	}
	if equal != len(all) {
		t.Fatalf("%d equal pairs, want %d", equal, len(all))
	}
}

// TestFromPeerIsTheConjunction: fromPeer, which orders its checks by cost,
// answers as the plain conjunction of them.
func TestFromPeerIsTheConjunction(t *testing.T) {
	naive := func(n *Node, m *Message) bool {
		return m.To == n.self.Address && (m.ToUID == 0 || m.ToUID == n.self.UID) && validSender(m.From) &&
			m.From.Address != n.self.Address
	}
	long := strings.Repeat("h", MaxNameLen)
	hosts := []string{"", "10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.0.11", long, long + "x", long[1:] + "y"}
	ports := []uint16{0, 7000, 7001}
	uids := []UID{0, 1, 2}
	rng := rand.New(rand.NewSource(3))
	pick := func() UniqueAddress {
		return UniqueAddress{
			Address: Address{Host: hosts[rng.Intn(len(hosts))], Port: ports[rng.Intn(len(ports))]},
			UID:     uids[rng.Intn(len(uids))],
		}
	}
	accepted := 0
	for i := 0; i < 20000; i++ {
		n := &Node{self: pick()}
		to := pick()
		if rng.Intn(2) == 0 {
			to = n.self
			to.Host = strings.Clone(to.Host) // equal, not shared
		}
		m := &Message{From: pick(), To: to.Address, ToUID: to.UID}
		if rng.Intn(3) == 0 {
			m.ToUID = 0
		}
		want := naive(n, m)
		if got := n.fromPeer(m); got != want {
			t.Fatalf("fromPeer(%+v) at %v = %v, want %v", m, n.self, got, want)
		}
		if want {
			accepted++
		}
	}
	if accepted < 500 {
		t.Fatalf("only %d messages accepted: the check was barely exercised", accepted)
	}
}
