package netsim

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rumorhq/rumor/proto"
	"pgregory.net/rapid"
)

// scriptedSource is a rand.Source that replays values drawn by rapid,
// so that rare branches of a distribution (the exponential's tail and cap)
// come up on purpose, then continues with a seeded source (so that
// rejection loops end).
type scriptedSource struct {
	vals []int64
	rest rand.Source
}

func (s *scriptedSource) Int63() int64 {
	if len(s.vals) == 0 {
		return s.rest.Int63()
	}
	v := s.vals[0]
	s.vals = s.vals[1:]
	return v
}

func (s *scriptedSource) Seed(int64) {}

// TestPropertySampler: a sampler returns what its Latency's Sample returns
// and makes the same draws, for every distribution and for sources that
// reach the exponential's tail and cap.
func TestPropertySampler(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dur := func(label string) time.Duration {
			return time.Duration(rapid.OneOf(rapid.Int64Range(-2, 2), rapid.Int64Range(0, int64(time.Second))).Draw(t, label))
		}
		lats := []Latency{
			Constant(dur("constant")),
			Exponential(dur("mean")),
			Shifted(dur("base"), Exponential(dur("shiftedMean"))),
			Shifted(dur("base2"), Constant(dur("inner"))),
			Uniform(dur("min"), dur("max")),
			Jitter(Shifted(dur("base3"), Exponential(dur("mean3"))), dur("jitter")),
		}
		vals := rapid.SliceOfN(rapid.OneOf(
			rapid.Int64Range(0, 1<<63-1),
			rapid.SampledFrom([]int64{0, 1, 2, 1<<63 - 1, 0xFFFFFF00 << 31, 0x7FFFFF00 << 31}),
		), 0, 30).Draw(t, "source")
		seed := rapid.Int64().Draw(t, "seed")
		for _, l := range lats {
			s := newSampler(l)
			r1 := rand.New(&scriptedSource{vals: vals, rest: rand.NewSource(seed)})
			r2 := rand.New(&scriptedSource{vals: vals, rest: rand.NewSource(seed)})
			for i := range 50 {
				if got, want := s.sample(r1), l.Sample(r2); got != want {
					t.Fatalf("%v: draw %d: sampler gives %v, Sample %v", l, i, got, want)
				}
			}
			if a, b := r1.Int63(), r2.Int63(); a != b {
				t.Fatalf("%v: sampler and Sample leave their sources apart (next draws %d, %d)", l, a, b)
			}
		}
	})
}

// TestSamplerKinds: the common distributions take the sampler's fast
// paths, so TestPropertySampler checks those and not only the fallback.
func TestSamplerKinds(t *testing.T) {
	tests := []struct {
		l    Latency
		want samplerKind
	}{
		{Constant(ms(1)), samplerConstant},
		{Exponential(ms(1)), samplerShiftedExp},
		{Shifted(ms(1), Exponential(ms(2))), samplerShiftedExp},
		{Shifted(ms(1), Constant(ms(2))), samplerOther},
		{Uniform(ms(1), ms(2)), samplerOther},
	}
	for _, tt := range tests {
		if got := newSampler(tt.l).kind; got != tt.want {
			t.Errorf("newSampler(%v).kind = %d, want %d", tt.l, got, tt.want)
		}
	}
}

// TestPropertySendPath: Send puts a message on the path that intern and
// pathIndex find (the path whose send sequence moves), whether or not the
// addresses share their host's bytes with ones seen before, with ports
// that differ on one host, and through the growth of n.recent.
func TestPropertySendPath(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := New(rand.New(rand.NewSource(1)), Config{})
		hosts := make([]string, rapid.IntRange(1, 60).Draw(t, "hosts"))
		for i := range hosts {
			hosts[i] = "10.1.0." + itoa(i)
		}
		hosts[0] = ""
		address := func(label string) proto.Address {
			a := proto.Address{Host: hosts[rapid.IntRange(0, len(hosts)-1).Draw(t, label+"Host")], Port: uint16(rapid.IntRange(0, 2).Draw(t, label+"Port"))}
			if rapid.Bool().Draw(t, label+"Copy") {
				a.Host = strings.Clone(a.Host) // same text, other bytes
			}
			return a
		}
		// The naive model: a map of addresses and one of paths.
		nodes := map[proto.Address]int32{}
		paths := map[[2]int32]int32{}
		for range rapid.IntRange(1, 500).Draw(t, "sends") {
			from, to := address("from"), address("to")
			for _, a := range []proto.Address{from, to} {
				if _, ok := nodes[a]; !ok {
					nodes[a] = int32(len(nodes))
				}
			}
			key := [2]int32{nodes[from], nodes[to]}
			if _, ok := paths[key]; !ok {
				paths[key] = int32(len(paths))
			}
			before := make([]uint64, len(n.paths))
			for i := range n.paths {
				before[i] = n.paths[i].nextSeq
			}
			n.Send(epoch, proto.Message{From: proto.UniqueAddress{Address: from}, To: to, Body: proto.Heartbeat{}})
			if len(n.paths) != len(paths) {
				t.Fatalf("network has %d paths, want %d", len(n.paths), len(paths))
			}
			for i := range n.paths {
				want := uint64(0)
				if i < len(before) {
					want = before[i]
				}
				if int32(i) == paths[key] {
					want++
				}
				if got := n.paths[i].nextSeq; got != want {
					t.Fatalf("Send(%v -> %v): path %d has sent %d, want %d (the message's path is %d)", from, to, i, got, want, paths[key])
				}
			}
			if p := n.paths[paths[key]]; p.from != key[0] || p.to != key[1] {
				t.Fatalf("path %d runs %d -> %d, want %d -> %d", paths[key], p.from, p.to, key[0], key[1])
			}
		}
	})
}

// TestPropertyBlocked: with the anyCut shortcut, blocked answers as the
// full check of groups, isolation and one-way cuts does, for every pair of
// nodes after every partition, isolation, cut and heal.
func TestPropertyBlocked(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const nodes = 5
		n := New(rand.New(rand.NewSource(1)), Config{})
		for i := range nodes {
			n.Node(addr(i))
		}
		node := func(label string) int { return rapid.IntRange(0, nodes-1).Draw(t, label) }
		for range rapid.IntRange(1, 30).Draw(t, "actions") {
			switch rapid.IntRange(0, 4).Draw(t, "action") {
			case 0:
				groups := make([][]proto.Address, rapid.IntRange(0, 3).Draw(t, "groups"))
				for i := range nodes {
					if g := rapid.IntRange(-1, len(groups)-1).Draw(t, "group"); g >= 0 {
						groups[g] = append(groups[g], addr(i))
					}
				}
				n.Partition(groups...)
			case 1:
				n.Isolate(addr(node("isolate")))
			case 2:
				n.CutOneWay(addr(node("cutFrom")), addr(node("cutTo")))
			case 3:
				n.Heal()
			case 4:
				n.Node(addr(nodes + node("newNode"))) // a node first seen now
			}
			for f := range int32(len(n.nodes)) {
				for to := range int32(len(n.nodes)) {
					p := path{from: f, to: to}
					if i := n.findPath(f, to); i >= 0 {
						p = n.paths[i]
					}
					if got, want := n.blocked(&p), naiveBlocked(n, &p); got != want {
						t.Fatalf("blocked(%d -> %d) = %d, want %d", f, to, got, want)
					}
				}
			}
		}
	})
}

// naiveBlocked is blocked without the anyCut shortcut.
func naiveBlocked(n *Network, p *path) cause {
	if p.from == p.to {
		return open
	}
	f, t := &n.nodes[p.from], &n.nodes[p.to]
	if f.isolated || t.isolated || f.group != t.group {
		return cutSymmetric
	}
	if p.cut {
		return cutOneWay
	}
	return open
}

// TestStepUntilNanosOverwrites: StepUntilNanos overwrites every field of
// an event left over from before (all fields set, checked by reflection so
// that a new Event field needs a look here), giving StepUntil's event less
// its times, and leaves the zero Event when nothing is due.
func TestStepUntilNanosOverwrites(t *testing.T) {
	junk := Event{Kind: 99, At: epoch, Msg: msg(5, 5, 999), SentAt: epoch, Duplicate: true, FromNode: -7, ToNode: -8, Timer: 12345}
	v := reflect.ValueOf(junk)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("junk event leaves field %s zero", v.Type().Field(i).Name)
		}
	}
	cfg := Config{Latency: Shifted(ms(1), Exponential(ms(3))), Loss: 0.1, Duplicate: 0.2}
	a, b := newNet(t, 5, cfg), newNet(t, 5, cfg)
	w := rand.New(rand.NewSource(7))
	now := epoch
	events, empties := 0, 0
	for i := range 400 {
		now = now.Add(ms(w.Intn(3)))
		from, to := w.Intn(4), w.Intn(4)
		for _, n := range []*Network{a, b} {
			n.Send(now, msg(from, to, uint64(i)))
			if i%50 == 0 {
				n.ScheduleTimer(now.Add(ms(2)), uint64(i))
			}
		}
		for {
			want, ok := a.StepUntil(now)
			got := junk
			if gotOK := b.StepUntilNanos(now.UnixNano(), &got); gotOK != ok {
				t.Fatalf("StepUntilNanos = %v, StepUntil = %v", gotOK, ok)
			}
			want.At, want.SentAt = time.Time{}, time.Time{}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("StepUntilNanos event differs from StepUntil's less its times (-want +got):\n%s", diff)
			}
			if !ok {
				empties++
				break
			}
			events++
		}
	}
	if events < 300 || empties < 300 {
		t.Errorf("saw %d events and %d empty steps, want at least 300 of each", events, empties)
	}
}

// TestLatencyDrawsMatchSample: the delays Send gives (through the
// sampler's fast paths) are the delays the Latency's own Sample draws from
// a source with the network's seed, after each copy's loss roll, in send
// order, for every distribution, on the network's latency and on a link
// override. The loss rolls make a draw too many or too few show.
func TestLatencyDrawsMatchSample(t *testing.T) {
	lats := []Latency{
		Constant(ms(2)),
		Exponential(ms(3)),
		Exponential(0),
		Shifted(ms(1), Exponential(ms(4))),
		Shifted(ms(1), Exponential(0)),
		Shifted(ms(1), Uniform(0, ms(2))),
		Uniform(ms(1), ms(9)),
		Jitter(Shifted(ms(1), Exponential(ms(2))), ms(1)),
	}
	for _, l := range lats {
		for _, onLink := range []bool{false, true} {
			const loss = 0.3
			cfg := Config{Latency: l, Loss: loss}
			if onLink {
				cfg.Latency = Constant(ms(100))
			}
			n := newNet(t, 11, cfg)
			if onLink {
				if err := n.SetLink(addr(1), addr(2), LinkConfig{Latency: l, Loss: loss}); err != nil {
					t.Fatal(err)
				}
			}
			const sends = 300
			for i := range sends {
				n.Send(epoch.Add(time.Duration(i)*time.Second), msg(1, 2, uint64(i)))
			}
			got := make([]time.Duration, sends)
			for i := range got {
				got[i] = -1 // lost
			}
			for _, ev := range drain(n) {
				got[seqOf(ev.Msg)] = ev.At.Sub(ev.SentAt)
			}
			r := rand.New(rand.NewSource(11))
			for i := range sends {
				want := time.Duration(-1)
				if r.Float64() >= loss {
					want = max(l.Sample(r), 0)
				}
				if got[i] != want {
					t.Fatalf("%v (link %v): copy %d delayed %v, want %v (-1: lost)", l, onLink, i, got[i], want)
				}
			}
		}
	}
}

// TestPropertyDeliverShortcut: the counters that let the event loop skip
// the clog, cut and crash checks hold their invariants through random
// clogs, link clogs, unclogs, swizzles (whose clogs are applied as the
// network steps), crashes and restarts: downNodes counts the nodes that
// are down, and no node or path is clogged past clogHorizon. So a copy
// that the skipped checks would hold or drop is never let through.
func TestPropertyDeliverShortcut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const nodes = 4
		n := New(rand.New(rand.NewSource(rapid.Int64().Draw(t, "seed"))), Config{Latency: Constant(ms(1))})
		var all []proto.Address
		for i := range nodes {
			all = append(all, addr(i))
			n.Node(addr(i))
		}
		now := epoch
		node := func(label string) proto.Address { return addr(rapid.IntRange(0, nodes-1).Draw(t, label)) }
		later := func(label string) time.Time { return now.Add(ms(rapid.IntRange(-5, 50).Draw(t, label))) }
		for range rapid.IntRange(1, 40).Draw(t, "actions") {
			switch rapid.IntRange(0, 7).Draw(t, "action") {
			case 0:
				n.Clog(node("clog"), later("clogUntil"))
			case 1:
				n.ClogLink(node("linkFrom"), node("linkTo"), later("linkUntil"))
			case 2:
				n.Unclog(node("unclog"))
			case 3:
				n.UnclogLink(node("unclogFrom"), node("unclogTo"))
			case 4:
				if _, err := n.Swizzle(now, all, SwizzleConfig{Window: ms(40), Fraction: 0.5, PairClogs: 2}); err != nil {
					t.Fatal(err)
				}
			case 5:
				n.Down(node("down"))
			case 6:
				n.Up(node("up"))
			case 7:
				now = now.Add(ms(rapid.IntRange(0, 30).Draw(t, "advance")))
				n.Send(now, msg(0, 1, 1))
				for {
					if _, ok := n.StepUntil(now); !ok {
						break
					}
				}
			}
			down := 0
			for i := range n.nodes {
				if nd := &n.nodes[i]; nd.down {
					down++
				}
				if c := n.nodes[i].clogUntil; c > n.clogHorizon {
					t.Fatalf("node %d clogged until %d, past the horizon %d", i, c, n.clogHorizon)
				}
			}
			for i := range n.paths {
				if c := n.paths[i].clogUntil; c > n.clogHorizon {
					t.Fatalf("path %d clogged until %d, past the horizon %d", i, c, n.clogHorizon)
				}
			}
			if down != n.downNodes {
				t.Fatalf("%d nodes are down, downNodes = %d", down, n.downNodes)
			}
		}
	})
}

// TestStepUntilNanosMsgMatchesCopy: StepUntilNanosMsg returns, for each
// delivery, the message that was sent (nil for a timer), with the rest of
// the event StepUntil gives, and the message it points at is unchanged by
// further steps that send nothing. Released slots keep their fields, so
// b's free slots are filled with junk before every send: a field Send
// failed to set (the held flag, say) would show in b's events or stats.
func TestStepUntilNanosMsgMatchesCopy(t *testing.T) {
	cfg := Config{Latency: Shifted(ms(1), Exponential(ms(3))), Loss: 0.1, Duplicate: 0.2}
	a, b := newNet(t, 5, cfg), newNet(t, 5, cfg)
	junk := payload{msg: msg(3, 3, 999), path: 1, sentAt: 77, pathSeq: 1 << 40, size: 12345, dup: true, held: true}
	w := rand.New(rand.NewSource(11))
	now := epoch
	sent := map[uint64]proto.Message{}
	deliveries := 0
	var held []*proto.Message
	for i := range 400 {
		now = now.Add(ms(w.Intn(3)))
		from, to := w.Intn(4), w.Intn(4)
		for _, ref := range b.freeLoads {
			b.payloads[ref] = junk
		}
		m := msg(from, to, uint64(i))
		sent[uint64(i)] = m
		for _, n := range []*Network{a, b} {
			n.Send(now, m)
			if i%50 == 0 {
				n.ScheduleTimer(now.Add(ms(2)), uint64(i))
			}
			if i%40 == 7 {
				n.ClogLink(addr(from), addr(to), now.Add(ms(5)))
			}
		}
		held = held[:0]
		for {
			want, ok := a.StepUntil(now)
			var got Event
			m, gotOK := b.StepUntilNanosMsg(now.UnixNano(), &got)
			if gotOK != ok {
				t.Fatalf("StepUntilNanosMsg = %v, StepUntil = %v", gotOK, ok)
			}
			if (m != nil) != (ok && want.Kind == Delivery) {
				t.Fatalf("StepUntilNanosMsg returned message %v for a %v event", m, want.Kind)
			}
			if m != nil {
				if diff := cmp.Diff(sent[seqOf(*m)], *m); diff != "" {
					t.Fatalf("delivered message differs from the one sent (-sent +got):\n%s", diff)
				}
				got.Msg = *m
				held = append(held, m)
				deliveries++
			}
			want.At, want.SentAt = time.Time{}, time.Time{}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("StepUntilNanosMsg event differs from StepUntil's less its times (-want +got):\n%s", diff)
			}
			if !ok {
				break
			}
		}
		for _, m := range held {
			if diff := cmp.Diff(sent[seqOf(*m)], *m); diff != "" {
				t.Fatalf("a delivered message changed before the next send (-sent +got):\n%s", diff)
			}
		}
	}
	if a.Stats() != b.Stats() {
		t.Errorf("stats differ: StepUntil %+v, StepUntilNanosMsg %+v", a.Stats(), b.Stats())
	}
	if deliveries < 300 || b.Stats().Clogged == 0 {
		t.Errorf("saw %d deliveries and %d clogged copies, want at least 300 and some", deliveries, b.Stats().Clogged)
	}
}
