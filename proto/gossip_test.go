package proto

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// naiveSeenOfMembers is seenFromBits(members, seenBits(members, seen))
// written plainly: the members named by seen, in member order.
func naiveSeenOfMembers(members []Member, seen []UniqueAddress) []UniqueAddress {
	out := []UniqueAddress{}
	for _, m := range members {
		if slices.Contains(seen, m.Node) {
			out = append(out, m.Node)
		}
	}
	return out
}

// TestSeenBitsRoundTrip: encoding a seen set as a bitmap over the members
// and decoding it again gives the seen members, whatever the sizes (the
// byte boundaries at 8 and 16 included) and whatever non-members the seen
// set names.
func TestSeenBitsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 100} {
		for trial := 0; trial < 20; trial++ {
			var members []Member
			var seen []UniqueAddress
			for i := 0; i < size+5; i++ {
				u := UniqueAddress{Address: Address{Host: fmt.Sprintf("10.0.%d.%d", i/200, i%200+1), Port: 7000}, UID: UID(i + 1)}
				isMember := i < size
				if isMember {
					members = append(members, Member{Node: u, Status: Up})
				}
				if rng.Intn(2) == 0 {
					seen = append(seen, u)
				}
			}
			slices.SortFunc(members, func(a, b Member) int { return a.Node.Compare(b.Node) })
			slices.SortFunc(seen, func(a, b UniqueAddress) int { return a.Compare(b) })
			bits := seenBits(members, seen)
			if want := (size + 7) / 8; len(bits) != want {
				t.Fatalf("size %d: bitmap of %d bytes, want %d", size, len(bits), want)
			}
			got, ok := seenFromBits(members, bits)
			if !ok {
				t.Fatalf("size %d: seenFromBits rejected seenBits' own bitmap %x", size, bits)
			}
			if diff := cmp.Diff(naiveSeenOfMembers(members, seen), got); diff != "" {
				t.Fatalf("size %d trial %d: decoded seen set (-want +got):\n%s", size, trial, diff)
			}
		}
	}
}

func TestSeenFromBitsRejectsForeignBitmaps(t *testing.T) {
	members := make([]Member, 10)
	for i := range members {
		members[i] = Member{Node: UniqueAddress{Address: Address{Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 7000}, UID: 1}}
	}
	slices.SortFunc(members, func(a, b Member) int { return a.Node.Compare(b.Node) })
	cases := []struct {
		name string
		bits []byte
		ok   bool
	}{
		{"all ten", []byte{0xff, 0x03}, true},
		{"none", []byte{0, 0}, true},
		{"too short", []byte{0xff}, false},
		{"too long", []byte{0xff, 0x03, 0}, false},
		{"bit past the last member", []byte{0xff, 0x04}, false},
		{"highest stray bit", []byte{0, 0x80}, false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := seenFromBits(members, c.bits); ok != c.ok {
				t.Errorf("seenFromBits(%x) ok=%v, want %v", c.bits, ok, c.ok)
			}
		})
	}
}

// seenFixture is a converged three-node cluster and the node n1, whose
// seen set the tests shrink to itself.
func seenFixture(t *testing.T) (*testCluster, *Node, UniqueAddress) {
	t.Helper()
	c := newTestCluster(t, LocalConfig(), 11)
	c.start(addr(1), addr(1))
	c.start(addr(2), addr(1))
	c.start(addr(3), addr(1))
	c.run(5*time.Second, 10*time.Millisecond)
	n := c.nodes[addr(1)]
	if !n.State().Converged() || len(n.State().Seen) != 3 {
		t.Fatalf("fixture did not converge: seen %v", n.State().Seen)
	}
	s := *n.st
	s.Seen = []UniqueAddress{n.self}
	n.st = &s
	return c, n, c.nodes[addr(2)].Self()
}

// seenFrom is the GossipSeen node from would send for st's seen set.
func seenFrom(st *State, seen []UniqueAddress, reply bool) GossipSeen {
	return GossipSeen{
		VersionDigest: st.Version.OrderFreeDigest(),
		MembersDigest: membersDigestOf(st.Members),
		Seen:          seenBits(st.Members, seen),
		Reply:         reply,
	}
}

func TestOnSeen(t *testing.T) {
	all := func(n *Node) []UniqueAddress {
		var out []UniqueAddress
		for _, m := range n.st.Members {
			out = append(out, m.Node)
		}
		return out
	}
	cases := []struct {
		name string
		// body builds the message from peer p to n.
		body func(n *Node, p UniqueAddress) GossipSeen
		// wantSeen is n's seen set afterwards, given all members.
		wantSeen func(n *Node, p UniqueAddress) []UniqueAddress
		// wantOut is the kind of n's answer, or "".
		wantOut   string
		wantStats func(s Stats) bool
	}{
		{
			name:      "a fuller seen set is merged and not answered",
			body:      func(n *Node, p UniqueAddress) GossipSeen { return seenFrom(n.st, all(n), false) },
			wantSeen:  func(n *Node, p UniqueAddress) []UniqueAddress { return all(n) },
			wantStats: func(s Stats) bool { return s.Merges == 1 },
		},
		{
			name: "a seen set lacking this node's entries is merged and answered",
			body: func(n *Node, p UniqueAddress) GossipSeen { return seenFrom(n.st, []UniqueAddress{p}, false) },
			wantSeen: func(n *Node, p UniqueAddress) []UniqueAddress {
				out := []UniqueAddress{n.self, p}
				slices.SortFunc(out, func(a, b UniqueAddress) int { return a.Compare(b) })
				return out
			},
			wantOut:   "gossip-seen",
			wantStats: func(s Stats) bool { return s.Merges == 1 },
		},
		{
			name:      "a reply is never answered",
			body:      func(n *Node, p UniqueAddress) GossipSeen { return seenFrom(n.st, []UniqueAddress{p}, true) },
			wantSeen:  func(n *Node, p UniqueAddress) []UniqueAddress { return sortedPair(n.self, p) },
			wantStats: func(s Stats) bool { return s.Merges == 1 },
		},
		{
			name: "another version is ignored",
			body: func(n *Node, p UniqueAddress) GossipSeen {
				g := seenFrom(n.st, all(n), false)
				g.VersionDigest++
				return g
			},
			wantSeen:  func(n *Node, p UniqueAddress) []UniqueAddress { return []UniqueAddress{n.self} },
			wantStats: func(s Stats) bool { return s.SeenIgnored == 1 && s.Merges == 0 },
		},
		{
			name: "another member list under the same version gets the state",
			body: func(n *Node, p UniqueAddress) GossipSeen {
				g := seenFrom(n.st, all(n), false)
				g.MembersDigest++
				return g
			},
			wantSeen:  func(n *Node, p UniqueAddress) []UniqueAddress { return []UniqueAddress{n.self} },
			wantOut:   "gossip-state",
			wantStats: func(s Stats) bool { return s.SeenIgnored == 1 && s.GossipStatesOut == 1 },
		},
		{
			name: "a bitmap of the wrong length is dropped",
			body: func(n *Node, p UniqueAddress) GossipSeen {
				g := seenFrom(n.st, all(n), false)
				g.Seen = append(g.Seen, 0xff)
				return g
			},
			wantSeen:  func(n *Node, p UniqueAddress) []UniqueAddress { return []UniqueAddress{n.self} },
			wantStats: func(s Stats) bool { return s.DroppedInvalid == 1 && s.Merges == 0 },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n, p := seenFixture(t)
			before := n.Stats()
			g := tc.body(n, p)
			if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: g}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantSeen(n, p), n.State().Seen); diff != "" {
				t.Errorf("seen set (-want +got):\n%s", diff)
			}
			// The memos a bitmap merge updates in place match the values
			// computed afresh.
			if got, want := n.seenDigest(), n.State().SeenDigest(); got != want {
				t.Errorf("seen digest %x after the merge, want %x", got, want)
			}
			n.seenBitmap()
			if diff := cmp.Diff(seenBits(n.st.Members, n.st.Seen), n.seenBits); diff != "" {
				t.Errorf("seen bitmap memo (-want +got):\n%s", diff)
			}
			var kinds []string
			for _, m := range n.Output().Messages {
				if m.To != p.Address {
					continue
				}
				kinds = append(kinds, m.Body.Kind())
				if s, ok := m.Body.(GossipSeen); ok {
					got, ok := seenFromBits(n.st.Members, s.Seen)
					if !ok || !s.Reply || !slices.Equal(got, n.st.Seen) {
						t.Errorf("answer %+v: decodes to %v (ok %v), want reply naming %v", s, got, ok, n.st.Seen)
					}
				}
			}
			var want []string
			if tc.wantOut != "" {
				want = []string{tc.wantOut}
			}
			if diff := cmp.Diff(want, kinds); diff != "" {
				t.Errorf("answers to the sender (-want +got):\n%s", diff)
			}
			s := n.Stats()
			d := Stats{Merges: s.Merges - before.Merges, SeenIgnored: s.SeenIgnored - before.SeenIgnored,
				DroppedInvalid: s.DroppedInvalid - before.DroppedInvalid, GossipStatesOut: s.GossipStatesOut - before.GossipStatesOut}
			if !tc.wantStats(d) {
				t.Errorf("stat changes %+v", d)
			}
		})
	}
}

func sortedPair(a, b UniqueAddress) []UniqueAddress {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return []UniqueAddress{a, b}
}

// TestSameVersionStatusGetsSeenBitmap: a round's status from a peer with
// the same version and another seen set is answered with the seen bitmap,
// not the whole state; one with another version is answered with the
// clock.
func TestSameVersionStatusGetsSeenBitmap(t *testing.T) {
	c, n, p := seenFixture(t)
	peer := c.nodes[addr(2)]
	round := GossipStatus{VersionDigest: peer.st.Version.OrderFreeDigest(), SeenDigest: peer.st.SeenDigest()}
	if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: round}); err != nil {
		t.Fatal(err)
	}
	out := n.Output().Messages
	if len(out) != 1 {
		t.Fatalf("answers %v, want one gossip-seen", out)
	}
	g, ok := out[0].Body.(GossipSeen)
	if !ok || g.Reply {
		t.Fatalf("answer %s %+v, want a non-reply gossip-seen", out[0].Body.Kind(), out[0].Body)
	}
	// The peer merges nothing new (it has seen more) and answers with its
	// own fuller set, which completes n's.
	if err := peer.Step(c.now, Message{From: n.self, To: p.Address, Body: g}); err != nil {
		t.Fatal(err)
	}
	var answer *GossipSeen
	for _, m := range peer.Output().Messages {
		if a, ok := m.Body.(GossipSeen); ok && m.To == n.self.Address {
			answer = &a
		}
	}
	if answer == nil || !answer.Reply {
		t.Fatalf("peer answered %+v, want a reply gossip-seen", answer)
	}
	if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: *answer}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(peer.State().Seen, n.State().Seen); diff != "" || !n.State().Converged() {
		t.Errorf("after the exchange n converged=%v, seen (-peer +n):\n%s", n.State().Converged(), diff)
	}

}

// TestStatusSumPicksTheSender: of two sides whose versions differ, the one
// whose clock adds up to more (or as much) ships its state; the other asks
// for it with a reply status, and a reply status is never answered by
// another status. No clock crosses.
func TestStatusSumPicksTheSender(t *testing.T) {
	cases := []struct {
		name  string
		delta int64 // the peer's sum minus n's
		reply bool
		want  string
	}{
		{"peer behind: n ships its state", -1, false, "gossip-state"},
		{"equal sums (concurrent): n ships its state", 0, false, "gossip-state"},
		{"peer ahead: n asks with a reply status", 1, false, "gossip-status reply"},
		{"peer ahead, asked by a reply: nothing", 1, true, ""},
		{"peer behind, asked by a reply: n ships its state", -1, true, "gossip-state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n, p := seenFixture(t)
			g := GossipStatus{VersionDigest: n.versionDigest() + 1, VersionSum: uint64(int64(n.versionSum()) + tc.delta), Reply: tc.reply}
			if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: g}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range n.Output().Messages {
				switch b := m.Body.(type) {
				case GossipState:
					if b.Reply || b.State != n.st {
						t.Errorf("state answer %+v, want the current state as a non-reply", b)
					}
					got = append(got, "gossip-state")
				case GossipStatus:
					if b.Version != nil || !b.Reply || b.VersionSum != n.versionSum() || b.VersionDigest != n.versionDigest() {
						t.Errorf("status answer %+v, want a digest-only reply with n's sum", b)
					}
					got = append(got, "gossip-status reply")
				default:
					got = append(got, m.Body.Kind())
				}
			}
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVClockSum(t *testing.T) {
	a, b := fxNode(1, 1), fxNode(2, 1)
	if got := (VClock{a: 3, b: 4}).Sum(); got != 7 {
		t.Errorf("Sum = %d, want 7", got)
	}
	if got := (VClock{a: math.MaxUint64 - 1, b: 4}).Sum(); got != math.MaxUint64 {
		t.Errorf("Sum of an overflowing clock = %d, want it saturated at MaxUint64", got)
	}
	if got := (VClock{}).Sum(); got != 0 {
		t.Errorf("Sum of the empty clock = %d, want 0", got)
	}
	// A clock that strictly dominates another has a larger sum.
	rng := rand.New(rand.NewSource(4))
	for trial := 0; trial < 500; trial++ {
		w := VClock{}
		for i := 0; i < rng.Intn(8); i++ {
			w[fxNode(i, 1)] = uint64(1 + rng.Intn(5))
		}
		v := w.Clone()
		v = v.Increment(fxNode(rng.Intn(10), 1))
		if v.Compare(w) != After || v.Sum() <= w.Sum() {
			t.Fatalf("v=%v w=%v: compare %v, sums %d and %d; want After with a larger sum", v, w, v.Compare(w), v.Sum(), w.Sum())
		}
	}
}

// TestSeenSyncShipsBitmapsNotStates: after a change spreads through a
// seven-node cluster, the seen sets converge with bitmaps, so full states
// are far fewer than the gossip-seen messages, and every node converges.
func TestSeenSyncShipsBitmapsNotStates(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 5)
	c.start(addr(1), addr(1))
	for i := 2; i <= 7; i++ {
		c.start(addr(i), addr(1))
	}
	c.run(10*time.Second, 10*time.Millisecond)
	c.inbox = nil
	kinds := map[string]int{}
	if err := c.nodes[addr(4)].Step(c.now, Message{Body: Register{Key: "svc", Path: "/a"}}); err != nil {
		t.Fatal(err)
	}
	c.collect(addr(4))
	end := c.now.Add(5 * time.Second)
	for c.now.Before(end) {
		c.now = c.now.Add(10 * time.Millisecond)
		for _, a := range c.order {
			c.nodes[a].Tick(c.now)
			c.collect(a)
		}
		for len(c.inbox) > 0 {
			m := c.inbox[0]
			c.inbox = c.inbox[1:]
			kinds[m.Body.Kind()]++
			c.deliver(m)
		}
	}
	for _, a := range c.liveAddrs() {
		st := c.nodes[a].State()
		if !st.Converged() || len(c.nodes[a].Lookup("svc")) != 1 {
			t.Errorf("%v: converged=%v, lookup %v", a, st.Converged(), c.nodes[a].Lookup("svc"))
		}
	}
	if kinds["gossip-seen"] == 0 || kinds["gossip-state"] >= kinds["gossip-seen"] {
		t.Errorf("messages after the change %v: want gossip-seen to outnumber gossip-state", kinds)
	}
}

func TestSeenDigest(t *testing.T) {
	st := func(seen ...int) *State { return &State{Seen: fxNodes(seen...)} }
	if d := st().SeenDigest(); d != 0 {
		t.Errorf("empty seen set digest %x, want 0", d)
	}
	seen := map[uint64][]int{}
	for _, set := range [][]int{{1}, {2}, {1, 2}, {1, 3}, {2, 3}, {1, 2, 3}} {
		d := st(set...).SeenDigest()
		if d == 0 {
			t.Errorf("digest of %v is 0, the empty set's", set)
		}
		if other, dup := seen[d]; dup {
			t.Errorf("sets %v and %v share digest %x", other, set, d)
		}
		seen[d] = set
	}
	// Adding a node adds its term: the incremental update of a merge.
	if got, want := st(1, 2, 3).SeenDigest(), st(1, 3).SeenDigest()+seenTerm(fxNode(2, 1)); got != want {
		t.Errorf("digest of {1,2,3} = %x, want digest of {1,3} plus 2's term = %x", got, want)
	}
}

// TestOnSeenDigestWithForeignSeenNode: a local seen set naming a node that
// is not a member has no bit for it; the merged digest is computed afresh
// rather than extended, and matches the merged set's.
func TestOnSeenDigestWithForeignSeenNode(t *testing.T) {
	c, n, p := seenFixture(t)
	s := *n.st
	foreign := UniqueAddress{Address: Address{Host: "10.9.9.9", Port: 7000}, UID: 9}
	s.Seen = append([]UniqueAddress{}, n.self, foreign)
	slices.SortFunc(s.Seen, func(a, b UniqueAddress) int { return a.Compare(b) })
	n.st = &s
	g := seenFrom(n.st, []UniqueAddress{p}, true)
	if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: g}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedPair(n.self, p), n.State().Seen); diff != "" {
		t.Errorf("seen set (-want +got):\n%s", diff)
	}
	if got, want := n.seenDigest(), n.State().SeenDigest(); got != want {
		t.Errorf("seen digest %x, want %x", got, want)
	}
}

// TestDigestsFollowTheClock: the version digest and sum a node keeps are
// those of its current clock, whether a new state keeps the clock (the
// same map) or brings another, even one the node held before.
func TestDigestsFollowTheClock(t *testing.T) {
	n, err := New(LocalConfig(), Address{Host: "10.0.0.1", Port: 7000}, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	a, b := UniqueAddress{Address: Address{Host: "10.0.0.1", Port: 7000}, UID: 1}, UniqueAddress{Address: Address{Host: "10.0.0.2", Port: 7000}, UID: 2}
	va, vb := VClock{a: 1}, VClock{a: 1, b: 3}
	s1 := &State{Members: []Member{{Node: a, Status: Up}, {Node: b, Status: Up}}, Version: va, Seen: []UniqueAddress{a}}
	s2 := *s1
	s2.Seen = []UniqueAddress{a, b}
	s3 := s2
	s3.Version = vb
	s4 := s3
	s4.Version = va
	for i, s := range []*State{s1, &s2, &s3, &s4, s1} {
		n.st = s
		if got, want := n.versionDigest(), s.Version.OrderFreeDigest(); got != want {
			t.Errorf("state %d: versionDigest = %x, want %x", i, got, want)
		}
		if got, want := n.versionSum(), s.Version.Sum(); got != want {
			t.Errorf("state %d: versionSum = %d, want %d", i, got, want)
		}
		if got, want := n.seenDigest(), s.SeenDigest(); got != want {
			t.Errorf("state %d: seenDigest = %x, want %x", i, got, want)
		}
	}
}

// TestSeenUnionMatchesSeenFromBits: seenUnion, which copies the nodes of
// the local bits from the local seen list, lists what seenFromBits lists
// for the union bitmap.
func TestSeenUnionMatchesSeenFromBits(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 2000; round++ {
		var members []Member
		for _, u := range lawSubset(rng, valPool, 1+rng.Intn(2)) {
			members = append(members, Member{Node: u, Status: Up})
		}
		local, remote := make([]byte, (len(members)+7)/8), make([]byte, (len(members)+7)/8)
		for i := range members {
			if rng.Intn(2) == 0 {
				local[i/8] |= 1 << (i % 8)
			}
			if rng.Intn(3) == 0 {
				remote[i/8] |= 1 << (i % 8)
			}
		}
		union := make([]byte, len(local))
		for i := range local {
			union[i] = local[i] | remote[i]
		}
		old, _ := seenFromBits(members, local)
		want, _ := seenFromBits(members, union)
		if got := seenUnion(members, local, union, old); !slices.Equal(want, got) {
			t.Fatalf("members %v local %x union %x: seenUnion = %v, want %v", members, local, union, got, want)
		}
	}
}

// TestOnStateValidatesAgainstLastValid: a node checks a state from the
// network only where it differs from the last valid one it received, and
// still drops one whose shared parts no longer fit the parts that changed
// (a shared reachability row longer than the fewer members).
func TestOnStateValidatesAgainstLastValid(t *testing.T) {
	c, n, p := seenFixture(t)
	ms := n.st.Members
	r1 := n.st.Clone()
	r1.Reachability = Reachability{Rows: []ObserverRow{{Observer: ms[0].Node, Version: 1, Unreachable: []UniqueAddress{ms[1].Node, ms[2].Node}}}}
	r1.Seen = nil
	r2 := *r1 // shares the rows
	r2.Members = r1.Members[:1]
	if ValidateState(r1) != nil || ValidateState(&r2) == nil {
		t.Fatalf("fixture: want r1 valid (%v) and r2 invalid (%v)", ValidateState(r1), ValidateState(&r2))
	}
	for i, tc := range []struct {
		s       *State
		dropped uint64
	}{{r1, 0}, {&r2, 1}} {
		before := n.Stats().DroppedInvalid
		if err := n.Step(c.now, Message{From: p, To: n.self.Address, Body: GossipState{State: tc.s, Reply: true}}); err != nil {
			t.Fatal(err)
		}
		if got := n.Stats().DroppedInvalid - before; got != tc.dropped {
			t.Errorf("state %d: dropped %d as invalid, want %d", i+1, got, tc.dropped)
		}
	}
}

// naiveGossipTargets is gossipRound's choice of targets as first written:
// lists of nodes, unseen then seen, each drawn from by a partial
// Fisher-Yates shuffle with rng.
func naiveGossipTargets(s *State, self UniqueAddress, fanout int, rng *rand.Rand) []UniqueAddress {
	var unseen, seen []UniqueAddress
	var own []UniqueAddress
	if row, ok := s.Reachability.Row(self); ok {
		own = row.Unreachable
	}
	for _, m := range s.Members {
		if m.Node == self || m.Status == Down || containsNode(own, m.Node) {
			continue
		}
		if containsNodeUnsorted(s.Seen, m.Node) {
			seen = append(seen, m.Node)
		} else {
			unseen = append(unseen, m.Node)
		}
	}
	var out []UniqueAddress
	for _, list := range [][]UniqueAddress{unseen, seen} {
		for i := 0; i < len(list) && fanout > 0; i++ {
			k := i + rng.Intn(len(list)-i)
			list[i], list[k] = list[k], list[i]
			out = append(out, list[i])
			fanout--
		}
	}
	return out
}

// TestGossipRoundTargetsMatchNaive: gossipRound sends its status to the
// targets the naive choice draws with the same random numbers, round after
// round over states with seen and unseen, Down and unreachable members.
func TestGossipRoundTargetsMatchNaive(t *testing.T) {
	gen := rand.New(rand.NewSource(19))
	for run := 0; run < 300; run++ {
		self := valPool[gen.Intn(len(valPool))]
		n, err := New(LocalConfig(), self.Address, rand.New(rand.NewSource(int64(run))))
		if err != nil {
			t.Fatal(err)
		}
		self = n.self
		n.rng = rand.New(rand.NewSource(int64(run))) // in step with the naive draws
		naiveRNG := rand.New(rand.NewSource(int64(run)))
		var s *State
		// round runs a gossip round on s and returns its targets and the
		// naive ones.
		round := func() (got, want []UniqueAddress) {
			n.out.Messages = nil
			n.gossipRound()
			for _, m := range n.out.Messages {
				got = append(got, UniqueAddress{Address: m.To, UID: m.ToUID})
			}
			return got, naiveGossipTargets(s, self, n.cfg.GossipFanout, naiveRNG)
		}
		for r := 0; r < 8; r++ {
			if s != nil && gen.Intn(2) == 0 {
				// The same state again: the round reuses its lists.
				if got, want := round(); !slices.Equal(want, got) {
					t.Fatalf("run %d round %d (same state): targets %v, want %v", run, r, got, want)
				}
				continue
			}
			if s != nil && gen.Intn(2) == 0 {
				// The same members, another seen set or own row.
				next := *s
				var nodes []UniqueAddress
				for _, m := range s.Members {
					nodes = append(nodes, m.Node)
				}
				if gen.Intn(2) == 0 {
					next.Seen = lawSubset(gen, nodes, 1+gen.Intn(3))
				} else {
					next.Reachability = Reachability{Rows: []ObserverRow{{Observer: self, Version: 2, Unreachable: lawSubset(gen, nodes, 2)}}}
				}
				s = &next
				n.st = s
				if got, want := round(); !slices.Equal(want, got) {
					t.Fatalf("run %d round %d (same members): targets %v, want %v", run, r, got, want)
				}
				continue
			}
			s = NewState()
			var nodes []UniqueAddress
			for _, u := range append(lawSubset(gen, valPool, 1+gen.Intn(2)), self) {
				if !containsNodeUnsorted(nodes, u) {
					nodes = append(nodes, u)
				}
			}
			sortNodes(nodes)
			for _, u := range nodes {
				st := Up
				if gen.Intn(5) == 0 {
					st = Down
				}
				s.Members = append(s.Members, Member{Node: u, Status: st})
			}
			s.Seen = lawSubset(gen, nodes, 1+gen.Intn(3))
			if gen.Intn(2) == 0 {
				s.Reachability = Reachability{Rows: []ObserverRow{{Observer: self, Version: 1, Unreachable: lawSubset(gen, nodes, 3)}}}
			}
			n.st = s
			if got, want := round(); !slices.Equal(want, got) {
				t.Fatalf("run %d round %d: members %v seen %v: targets %v, want %v", run, r, s.Members, s.Seen, got, want)
			}
		}
	}
}

// TestFilteredUnionAndSeenCoversMatchNaive: with and without a shared key
// cache, filteredUnion is filterMembers of the union and seenCovers says
// whether that equals the seen set, over IPv4 and mixed member lists.
func TestFilteredUnionAndSeenCoversMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	var kc keyCache
	for round := 0; round < 2000; round++ {
		pool := v4Pool
		if rng.Intn(3) == 0 {
			pool = valPool
		}
		s := NewState()
		for _, u := range lawSubset(rng, pool, 1+rng.Intn(2)) {
			s.Members = append(s.Members, Member{Node: u, Status: Up})
		}
		s.Seen = lawSubset(rng, pool, 1+rng.Intn(3))
		other := lawSubset(rng, pool, 1+rng.Intn(3))
		if rng.Intn(2) == 0 {
			// Lists of members only, as seen sets mostly are.
			s.Seen, other = filterMembers(s, s.Seen), filterMembers(s, other)
		}
		want := filterMembers(s, unionNodes(s.Seen, other))
		for _, c := range []*keyCache{nil, &kc} {
			if got := filteredUnion(s, s.Seen, other, c); !slices.Equal(want, got) {
				t.Fatalf("members %v: filteredUnion(%v, %v) = %v, want %v", s.Members, s.Seen, other, got, want)
			}
			if got, w := seenCovers(s, other, c), slices.Equal(want, s.Seen); got != w {
				t.Fatalf("members %v: seenCovers(%v, %v) = %v, want %v", s.Members, s.Seen, other, got, w)
			}
		}
	}
}

// TestRoundBodyShared checks that the boxed status gossip rounds share
// while the digests stay (roundBodyFor) leaves every message as it was:
// a twin cluster whose nodes box a fresh status every round, on the same
// seeds through joins, a partition and its healing, sends the same
// messages in the same order, and the shared body is in fact reused.
func TestRoundBodyShared(t *testing.T) {
	run := func(fresh bool) ([]Message, int) {
		c := newTestCluster(t, LocalConfig(), 5)
		c.start(addr(1), addr(1))
		for i := 2; i <= 5; i++ {
			c.start(addr(i), addr(1))
		}
		var log []Message
		reused := 0
		last := map[Address][3]uint64{}
		step := func(d time.Duration) {
			c.runWith(d, 50*time.Millisecond, func(a Address, n *Node) {
				if fresh {
					n.roundBody = nil
				}
				n.Tick(c.now)
				// The body stays while the digests stay.
				key := [3]uint64{n.roundFor.VersionDigest, n.roundFor.SeenDigest, n.roundFor.VersionSum}
				if !fresh && n.roundBody != nil && key == last[a] {
					reused++
				}
				last[a] = key
				from := len(c.inbox)
				c.collect(a)
				log = append(log, c.inbox[from:]...)
			})
		}
		step(5 * time.Second)
		c.partition([]Address{addr(1), addr(2)}, []Address{addr(3), addr(4), addr(5)})
		step(10 * time.Second)
		c.heal()
		step(10 * time.Second)
		return log, reused
	}
	want, _ := run(true)
	got, reused := run(false)
	if reused == 0 {
		t.Fatal("no round reused the last round's status: the test exercises nothing")
	}
	sameLog(t, "message sent from ticks", got, want)
}

// TestSelfSeenStaysSelf: the list {self} that merges share as a seen set
// is made once per node and must keep holding exactly this node, through
// merges, partitions and a restart.
func TestSelfSeenStaysSelf(t *testing.T) {
	c := newTestCluster(t, LocalConfig(), 5)
	for i := 1; i <= 4; i++ {
		c.start(addr(i), addr(1))
	}
	shared := 0
	check := func() {
		for _, a := range c.order {
			n := c.nodes[a]
			if n.selfSeen == nil {
				continue
			}
			if want := []UniqueAddress{n.self}; !slices.Equal(n.selfSeen, want) {
				t.Fatalf("%v: shared seen list is %v, want %v", a, n.selfSeen, want)
			}
			if len(n.st.Seen) == 1 && &n.st.Seen[0] == &n.selfSeen[0] {
				shared++
			}
		}
	}
	for round := 0; round < 6; round++ {
		for k := 0; k < 100; k++ {
			c.run(20*time.Millisecond, 20*time.Millisecond)
			check()
		}
		if round%2 == 0 {
			c.partition([]Address{addr(1), addr(2)}, []Address{addr(3), addr(4)})
		} else {
			c.heal()
		}
		if round == 3 {
			c.start(addr(4), addr(1))
		}
	}
	if shared == 0 {
		t.Fatalf("no state held the shared list: it was never exercised")
	}
}
