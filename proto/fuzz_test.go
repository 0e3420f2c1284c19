package proto

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzStep feeds arbitrary network messages to one node of a small
// converged cluster (or to a node still joining it), ticking in between.
// Step must never panic and never return an error for network input, and
// after every Step and Tick the node's own state must be well formed and
// keep the per-node invariants of the stateful test (see sfObserver).
//
// The input is a program: each operation starts with a byte choosing a
// tick or a message; messages draw sender, destination, incarnation and
// body from the following bytes; states are either built from scratch or
// taken from a real node and mutated. Missing bytes read as zero.
func FuzzStep(f *testing.F) {
	for _, seed := range fzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fzInput{data: data}
		w := newFzWorld(t, int(in.byte()%4))
		var ops []string
		check := func() {
			t.Helper()
			out := w.target.Output()
			w.deadline = out.Deadline
			if bad := w.obs.observe(w.target, out.Messages); len(bad) > 0 {
				t.Fatalf("after %s:\n%s\nstate: %s\nops:\n%s", ops[len(ops)-1], strings.Join(bad, "\n"),
					sfRender(w.target.State()), strings.Join(ops, "\n"))
			}
		}
		for op := 0; len(in.data) > 0 && op < 200; op++ {
			if in.byte()%5 != 0 {
				m := w.message(in)
				ops = append(ops, fzDescribe(m))
				if err := w.target.Step(w.now, m); err != nil {
					t.Fatalf("Step(%s) = %v for network input\nops:\n%s", fzDescribe(m), err, strings.Join(ops, "\n"))
				}
				check()
				continue
			}
			// Time passes: the node is ticked at every deadline it asks
			// for, as a driver would, while no answer arrives.
			end := w.now.Add(time.Duration(in.byte()) * 4 * time.Millisecond)
			ops = append(ops, fmt.Sprintf("ticks until +%v", end.Sub(sfEpoch)))
			for !w.deadline.IsZero() && !w.deadline.After(end) {
				w.now = w.deadline
				w.target.Tick(w.now)
				check()
			}
			w.now = end
			w.target.Tick(w.now)
			check()
		}
	})
}

// fzSeeds is the seed corpus: an empty program, heartbeats and status
// digests from the real members, a forged joiner, a state from a real node
// with a bumped clock, a Welcome for the joining node, malformed states,
// and one program for each defect the fuzzer found, kept as a regression.
var fzSeeds = [][]byte{
	{},
	{0, 1, 6, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 50},
	{1, 1, 4, 0, 0, 0, 1, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 100},
	{2, 1, 0, 0, 0, 0, 3, 'n', 'e', 'w', 2, 1, 'r', 0, 200, 2, 5, 1, 1, 0, 0, 0, 2, 2, 1, 0, 0, 9},
	{3, 1, 1, 0, 0, 0, 3, 2, 0, 0, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0},
	{1, 1, 5, 1, 0, 0, 1, 1, 4, 1, 7, 9, 1, 11, 8, 2, 3, 4, 10, 1, 1, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255},
	{2, 2, 15, 5, 7, 7, 1, 1, 3, 0, 4, 5, 0, 5, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
	// regression: a Join that claims to come from the node itself.
	{0, 1, 5, 0, 0, 0, 2, 2, 3, 0, 1, 1, 3, 6, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 1},
	// regression: a Join from ":3500" with UID 0x37.
	{1, 1, 12, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0x37, 0, 0, 0, 1, 0, 0},
	// regression: a Welcome for the joiner whose seen set names a
	// non-member.
	{3, 1, 0, 0, 1, 0, 3, 2, 2, 3, 0, 1, 0, 1, 6, 1, 12, 1, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0},
	// regression: a newer state with a row of a non-member observer.
	{0, 1, 1, 0, 5, 0, 4, 2, 0, 3, 1, 1, 1, 4, 5, 12, 1, 2, 0, 0, 0, 0, 0, 0, 0, 9, 9, 1, 1, 0, 0},
	// regression: a state with the node's own entry at 2^64-1, then
	// two seconds without answers.
	{0, 1, 1, 0, 5, 0, 2, 1, 0, 3, 1, 3, 1, 5, 0, 0, 255, 0, 255},
}

// fzWorld is one fuzz execution: a converged three-node cluster built by
// the stateful test's driver and the node under test.
type fzWorld struct {
	c        *sfCluster
	now      time.Time
	deadline time.Time // the target's next deadline
	target   *Node
	obs      *sfObserver
	pool     []UniqueAddress // interesting incarnations: members, target, joiner, an old one
	states   []*State        // real states to start forged ones from
}

// newFzWorld builds the cluster deterministically. which picks the node
// under test: 0-2 a member, 3 a fourth node that asked to join and has
// not been answered.
func newFzWorld(t *testing.T, which int) *fzWorld {
	c := newSFCluster(LocalConfig(), 3, 1)
	for i := 0; i < 3; i++ {
		c.start(i)
	}
	if msg := c.settle(5*time.Second, 100*time.Millisecond, 0, func() string { return c.formedErr(3) }); msg != "" {
		t.Fatalf("setup: %s", msg)
	}
	for i, cmd := range []Body{
		HostShards{Type: ShardType{Name: "users", Shards: 4, Replicas: 1}},
		HostShards{Type: ShardType{Name: "users", Shards: 4, Replicas: 1}},
		Register{Key: "svc", Path: "/a"},
	} {
		n := c.slots[i].node
		if err := n.Step(c.now, Message{From: n.Self(), Body: cmd}); err != nil {
			t.Fatalf("setup %s: %v", cmd.Kind(), err)
		}
		c.collect(c.slots[i])
	}
	c.advance(c.now.Add(2 * time.Second))
	if len(c.bad) > 0 {
		t.Fatalf("setup: %s", strings.Join(c.bad, "\n"))
	}
	w := &fzWorld{c: c, now: c.now}
	for _, s := range c.slots {
		w.pool = append(w.pool, s.node.Self())
		w.states = append(w.states, s.node.State())
	}
	if which < 3 {
		w.target = c.slots[which].node
	} else {
		n, err := New(LocalConfig(), sfAddr(3), rand.New(rand.NewSource(4)))
		if err != nil {
			t.Fatal(err)
		}
		seeds := []Address{sfAddr(0), sfAddr(1), sfAddr(2)}
		if err := n.Step(w.now, Message{From: n.Self(), Body: JoinSeeds{Seeds: seeds}}); err != nil {
			t.Fatal(err)
		}
		w.target = n
	}
	w.pool = append(w.pool, w.target.Self(), UniqueAddress{Address: sfAddr(0), UID: 7})
	if which == 3 {
		w.pool = append(w.pool, w.target.Self()) // weigh the joiner more
	}
	w.obs = newSFObserver(w.target.Self(), false)
	w.obs.observe(w.target, nil)
	w.deadline = w.target.Output().Deadline
	return w
}

// fzInput reads the fuzzer's bytes; past the end every read is zero.
type fzInput struct{ data []byte }

func (r *fzInput) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fzInput) u64() uint64 {
	var x uint64
	for i := 0; i < 8; i++ {
		x = x<<8 | uint64(r.byte())
	}
	return x
}

// num is a number biased toward edge cases.
func (r *fzInput) num() uint64 {
	switch k := r.byte(); k % 8 {
	case 0, 1, 2, 3:
		return uint64(k / 8)
	case 4:
		return 1<<63 - 1
	case 5:
		return 1<<64 - 1
	case 6:
		return 1 << 63
	}
	return r.u64()
}

func (r *fzInput) str() string {
	n := int(r.byte() % 6)
	b := make([]byte, n)
	for i := range b {
		b[i] = "ab,:r\x00é."[r.byte()%9]
	}
	return string(b)
}

func (r *fzInput) strs() []string {
	out := make([]string, r.byte()%4)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

// ua draws an incarnation: mostly a known one, sometimes a forged one with
// a zero or random UID, an IPv6 or named host, or the zero address.
func (w *fzWorld) ua(r *fzInput) UniqueAddress {
	k := int(r.byte())
	if k%16 < len(w.pool) {
		return w.pool[k%16]
	}
	hosts := []string{"10.0.1.1", "10.0.1.9", "::1", "h", "", "10.0.1.10"}
	u := UniqueAddress{Address: Address{Host: hosts[r.byte()%6], Port: uint16(r.byte()) % 3 * 3500}}
	switch k % 16 {
	case 12:
		u.UID = UID(r.u64())
	case 13:
		u.UID = UID(r.byte())
	case 14:
		u = UniqueAddress{}
	default:
		u.Address, u.UID = w.pool[k%3].Address, UID(r.byte()%4)
	}
	return u
}

func (w *fzWorld) uas(r *fzInput) []UniqueAddress {
	out := make([]UniqueAddress, r.byte()%4)
	for i := range out {
		out[i] = w.ua(r)
	}
	if r.byte()%2 == 0 {
		sortNodes(out)
	}
	return out
}

// message draws one network message.
func (w *fzWorld) message(r *fzInput) Message {
	m := Message{From: w.ua(r), To: w.target.Self().Address}
	switch k := r.byte() % 8; k {
	case 6:
		m.To = w.ua(r).Address
	case 7:
		m.ToUID = w.ua(r).UID
	default:
		if k%2 == 1 {
			m.ToUID = w.target.Self().UID
		}
	}
	kind, ptr := r.byte(), r.byte()%2 == 1
	var b Body
	switch kind % 9 {
	case 0:
		j := Join{ID: NodeID(r.str()), Roles: r.strs()}
		b = fzPtr(ptr, j, &j)
	case 1:
		v := Welcome{State: w.state(r)}
		b = fzPtr(ptr, v, &v)
	case 2:
		b = fzPtr(ptr, InitJoin{}, &InitJoin{})
	case 3:
		b = fzPtr(ptr, InitJoinAck{}, &InitJoinAck{})
	case 4:
		g := GossipStatus{Version: w.clock(r), SeenDigest: r.num(), Reply: r.byte()%2 == 1}
		if r.byte()%2 == 0 {
			// A round's digest-only status, digests and sum real or forged.
			st := w.states[r.byte()%3]
			g = GossipStatus{VersionDigest: st.Version.OrderFreeDigest(), SeenDigest: st.SeenDigest(), VersionSum: st.Version.Sum(), Reply: g.Reply}
			switch r.byte() % 4 {
			case 0:
				g.VersionDigest = r.num()
			case 1:
				g.VersionSum = r.num()
			case 2:
				g.SeenDigest = r.num()
			}
		}
		b = fzPtr(ptr, g, &g)
	case 5:
		g := GossipState{State: w.state(r), Reply: r.byte()%2 == 1}
		b = fzPtr(ptr, g, &g)
	case 6:
		h := Heartbeat{Seq: r.num()}
		b = fzPtr(ptr, h, &h)
	case 7:
		g := w.seen(r)
		b = fzPtr(ptr, g, &g)
	default:
		h := HeartbeatAck{Seq: r.num()}
		b = fzPtr(ptr, h, &h)
	}
	m.Body = b
	return m
}

// seen is a real node's seen bitmap with its digests, each possibly
// replaced by a forged one, or a bitmap from scratch.
func (w *fzWorld) seen(r *fzInput) GossipSeen {
	st := w.states[r.byte()%3]
	g := GossipSeen{
		VersionDigest: st.Version.OrderFreeDigest(),
		MembersDigest: membersDigestOf(st.Members),
		Seen:          seenBits(st.Members, st.Seen),
		Reply:         r.byte()%2 == 1,
	}
	switch r.byte() % 5 {
	case 0:
		g.VersionDigest = r.num()
	case 1:
		g.MembersDigest = r.num()
	case 2:
		g.Seen = []byte(r.str())
	case 3:
		for i := range g.Seen {
			g.Seen[i] ^= r.byte()
		}
	}
	return g
}

func fzPtr(ptr bool, v, p Body) Body {
	if ptr {
		return p
	}
	return v
}

// clock is a real node's version, possibly with entries bumped or forged
// (zero counts included), or a clock from scratch.
func (w *fzWorld) clock(r *fzInput) VClock {
	var v VClock
	if k := r.byte() % 4; k < 3 {
		v = w.states[k].Version.Clone()
	} else {
		v = VClock{}
	}
	for n := r.byte() % 4; n > 0; n-- {
		u := w.ua(r)
		switch r.byte() % 3 {
		case 0:
			v[u]++
		case 1:
			v[u] = r.num()
		default:
			delete(v, u)
		}
	}
	return v
}

// state is nil, a state from scratch, or a real node's state (any of the
// three members, or the target's own) with a few mutations.
func (w *fzWorld) state(r *fzInput) *State {
	var s *State
	switch k := r.byte() % 8; {
	case k == 0:
		return nil
	case k == 1:
		s = NewState()
		for n := r.byte() % 5; n > 0; n-- {
			s.Members = append(s.Members, Member{Node: w.ua(r), ID: NodeID(r.str()), Status: MemberStatus(r.byte() % 9),
				Roles: r.strs(), UpNumber: int64(r.num())})
		}
		if r.byte()%2 == 0 {
			sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].Node.Compare(s.Members[j].Node) < 0 })
		}
		s.Version = w.clock(r)
		s.Seen = w.uas(r)
	case k == 2:
		s = w.target.State().Clone()
	default:
		s = w.states[int(k)%3].Clone()
	}
	for n := r.byte() % 6; n > 0; n-- {
		w.mutate(r, s)
	}
	return s
}

func (w *fzWorld) mutate(r *fzInput, s *State) {
	pick := func() int { return int(r.byte()) % (len(s.Members) + 1) }
	switch r.byte() % 12 {
	case 0:
		s.Version = s.Version.Merge(w.clock(r))
	case 1:
		if i := pick(); i < len(s.Members) {
			s.Members[i].Status = MemberStatus(r.byte() % 9)
		}
	case 2:
		m := Member{Node: w.ua(r), ID: NodeID(r.str()), Status: MemberStatus(r.byte() % 9), UpNumber: int64(r.num())}
		if r.byte()%2 == 0 {
			s.Members = append(s.Members, m)
		} else if _, ok := s.memberIndex(m.Node); !ok {
			s.setMember(m)
		}
	case 3:
		if i := pick(); i < len(s.Members) {
			s.Members = append(s.Members[:i:i], s.Members[i+1:]...)
		}
	case 4:
		if i := pick(); i < len(s.Members) {
			s.Members[i].UpNumber = int64(r.num())
			s.Members[i].Roles = r.strs()
		}
	case 5:
		row := ObserverRow{Observer: w.ua(r), Version: r.num(), Unreachable: w.uas(r)}
		if i, ok := s.Reachability.rowIndex(row.Observer); ok && r.byte()%2 == 0 {
			s.Reachability.Rows[i] = row
		} else {
			s.Reachability.Rows = append(s.Reachability.Rows, row)
		}
	case 6:
		s.Seen = append(s.Seen, w.uas(r)...)
	case 7:
		s.Tombstones[w.ua(r)] = sfEpoch.Add(time.Duration(r.num()))
	case 8:
		s.Seen = w.uas(r)
	case 9:
		s.AllocationEpoch = Epoch(r.num())
		if len(s.Allocations) > 0 {
			s.Allocations[0].Epoch = Epoch(r.num())
		}
	case 10:
		s.Registry = append(s.Registry, RegistryRow{Owner: w.ua(r), Version: r.num(),
			Entries: []ServiceEntry{{Key: r.str(), Node: w.ua(r), Path: r.str()}}})
	default:
		for i, j := 0, len(s.Members)-1; i < j; i, j = i+1, j-1 {
			s.Members[i], s.Members[j] = s.Members[j], s.Members[i]
		}
	}
}

func fzDescribe(m Message) string {
	extra := ""
	switch b := m.Body.(type) {
	case Welcome:
		extra = fzStateText(b.State)
	case *Welcome:
		extra = fzStateText(b.State)
	case GossipState:
		extra = fzStateText(b.State)
	case *GossipState:
		extra = fzStateText(b.State)
	}
	return fmt.Sprintf("%s from %v to %v/%x %s", m.Body.Kind(), m.From, m.To, uint64(m.ToUID), extra)
}

func fzStateText(s *State) string {
	if s == nil {
		return "<nil state>"
	}
	return sfRender(s)
}

// FuzzParseAddress: ParseAddress never panics, and every address it
// accepts renders with String to text that parses back to it.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.1:7000", "[::1]:80", "[fe80::1%eth0]:1", "host:65535", ":1", "a:0",
		"[::ffff:1.2.3.4]:9", "1.2.3.4", "[1:2]:3", "x:y:1", "]:[:1", "h:+1", "h:0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if a != (Address{}) {
				t.Fatalf("ParseAddress(%q) = %v with error %v; want the zero Address", s, a, err)
			}
			return
		}
		if a.Host == "" || a.Port == 0 {
			t.Fatalf("ParseAddress(%q) accepted %#v", s, a)
		}
		back, err := ParseAddress(a.String())
		if err != nil || back != a {
			t.Fatalf("ParseAddress(%q) = %#v, but ParseAddress(%q) = %#v, %v", s, a, a.String(), back, err)
		}
		if a.Compare(back) != 0 {
			t.Fatalf("%#v.Compare(itself) = %d", a, a.Compare(back))
		}
	})
}
