package netsim

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rumorhq/rumor/proto"
)

// workload drives a small faulty cluster through n: 6 nodes, 600 messages
// between random pairs, periodic timers, a partition that heals, a one-way
// cut, a clog and a swizzle. The workload's own choices come from a fixed
// seed, so two runs differ only by the network's seed. It returns the trace.
func workload(t *testing.T, netSeed int64, cfg Config) []string {
	t.Helper()
	return workloadVia(t, netSeed, cfg, false)
}

// workloadVia is workload, sending with SendNanos and stepping with
// StepUntilNanos when nanos is set (the event's times are then rebuilt from
// NowNanos and the send times, for the same trace lines).
func workloadVia(t *testing.T, netSeed int64, cfg Config, nanos bool) []string {
	t.Helper()
	sentAt := map[uint64]time.Time{}
	n := newNet(t, netSeed, cfg)
	w := rand.New(rand.NewSource(99))
	const nodes = 6
	var all []proto.Address
	for i := range nodes {
		all = append(all, addr(i))
		n.ScheduleTimer(epoch.Add(ms(7*i+1)), uint64(i))
	}
	if _, err := n.Swizzle(epoch.Add(ms(300)), all, SwizzleConfig{Window: ms(200), Fraction: 0.5, PairClogs: 2}); err != nil {
		t.Fatalf("Swizzle: %v", err)
	}
	var trace []string
	seq := uint64(0)
	now := epoch
	for step := 0; step < 600; step++ {
		now = now.Add(ms(1))
		switch step {
		case 100:
			n.Partition(all[:2], all[2:])
		case 200:
			n.Heal()
			n.CutOneWay(addr(0), addr(1))
		case 250:
			n.Clog(addr(3), now.Add(ms(40)))
		case 400:
			n.Heal()
		}
		seq++
		from := w.Intn(nodes)
		to := (from + 1 + w.Intn(nodes-1)) % nodes
		if nanos {
			m := msg(from, to, seq)
			n.SendNanos(now.UnixNano(), &m)
			sentAt[seq] = now
		} else {
			n.Send(now, msg(from, to, seq))
		}
		for {
			var ev Event
			var ok bool
			if nanos {
				ev.At, ev.Timer = now, 12345 // overwritten
				if ok = n.StepUntilNanos(now.UnixNano(), &ev); ok {
					if !ev.At.IsZero() || !ev.SentAt.IsZero() {
						t.Fatalf("StepUntilNanos set At %v, SentAt %v", ev.At, ev.SentAt)
					}
					ev.At = time.Unix(0, n.NowNanos()).UTC()
					if ev.Kind == Delivery {
						ev.SentAt = sentAt[seqOf(ev.Msg)]
					}
				}
			} else {
				ev, ok = n.StepUntil(now)
			}
			if !ok {
				break
			}
			trace = append(trace, line(ev))
			if ev.Kind == Timer && ev.At.Before(epoch.Add(ms(500))) {
				n.ScheduleTimer(ev.At.Add(ms(10)), ev.Timer)
			}
		}
	}
	for _, ev := range drain(n) {
		trace = append(trace, line(ev))
	}
	trace = append(trace, fmt.Sprintf("stats %+v", n.Stats()))
	return trace
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"uniform with jitter", Config{Latency: Jitter(Uniform(ms(1), ms(5)), ms(3)), Loss: 0.1, Duplicate: 0.1}},
		{"shifted exponential", Config{Latency: Shifted(ms(1), Exponential(ms(4))), Loss: 0.2, Duplicate: 0.3, MaxInFlight: 4}},
		{"constant with jitter", Config{Latency: Jitter(Constant(ms(2)), ms(2)), Duplicate: 0.05}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := workload(t, 1, tt.cfg)
			if diff := cmp.Diff(first, workload(t, 1, tt.cfg)); diff != "" {
				t.Errorf("same seed, different runs (-first +second):\n%s", diff)
			}
			if len(first) < 600 {
				t.Errorf("trace has %d lines, want at least 600 deliveries and timers", len(first))
			}
			if diff := cmp.Diff(first, workloadVia(t, 1, tt.cfg, true)); diff != "" {
				t.Errorf("SendNanos and StepUntilNanos differ from Send and StepUntil (-times +nanos):\n%s", diff)
			}
			if cmp.Equal(first, workload(t, 2, tt.cfg)) {
				t.Errorf("seeds 1 and 2 gave identical traces; the network ignores its seed")
			}
		})
	}
}

func TestLatencyDistributions(t *testing.T) {
	tests := []struct {
		name     string
		lat      Latency
		lo, hi   time.Duration // every sample in [lo, hi]
		mean     time.Duration // expected mean
		meanTol  float64       // relative tolerance of the sample mean
		wantName string
	}{
		{"constant", Constant(ms(7)), ms(7), ms(7), ms(7), 0, "constant(7ms)"},
		{"uniform", Uniform(ms(2), ms(10)), ms(2), ms(10), ms(6), 0.02, "uniform(2ms..10ms)"},
		{"uniform degenerate", Uniform(ms(3), ms(3)), ms(3), ms(3), ms(3), 0, "uniform(3ms..3ms)"},
		{"exponential", Exponential(ms(5)), 0, ms(100), ms(5), 0.05, "exponential(mean=5ms,max=100ms)"},
		{"shifted exponential", Shifted(ms(1), Exponential(ms(3))), ms(1), ms(61), ms(4), 0.05, "1ms+exponential(mean=3ms,max=60ms)"},
		{"constant with jitter", Jitter(Constant(ms(10)), ms(4)), ms(10), ms(14), ms(12), 0.02, "constant(10ms)+jitter(4ms)"},
		{"uniform with jitter", Jitter(Uniform(ms(1), ms(3)), ms(2)), ms(1), ms(5), ms(3), 0.02, "uniform(1ms..3ms)+jitter(2ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lat.String(); got != tt.wantName {
				t.Errorf("String() = %q, want %q", got, tt.wantName)
			}
			r := rand.New(rand.NewSource(3))
			const samples = 20000
			var sum float64
			lo, hi := time.Duration(math.MaxInt64), time.Duration(math.MinInt64)
			for range samples {
				d := tt.lat.Sample(r)
				lo, hi = min(lo, d), max(hi, d)
				sum += float64(d)
			}
			if lo < tt.lo || hi > tt.hi {
				t.Errorf("samples span [%v, %v], want within [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			mean := sum / samples
			if math.Abs(mean-float64(tt.mean)) > tt.meanTol*float64(tt.mean) {
				t.Errorf("sample mean %v, want %v ± %.0f%%", time.Duration(mean), tt.mean, 100*tt.meanTol)
			}
			if tt.lo != tt.hi && hi-lo < (tt.hi-tt.lo)/4 {
				t.Errorf("samples span only [%v, %v] of [%v, %v]; not spread", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestLatencyThroughNetwork(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		link   *LinkConfig // on path 1 -> 2 when set
		lo, hi time.Duration
	}{
		{"nil latency is zero", Config{}, nil, 0, 0},
		{"uniform", Config{Latency: Uniform(ms(10), ms(20))}, nil, ms(10), ms(20)},
		{"link override", Config{Latency: Constant(ms(1))}, &LinkConfig{Latency: Constant(ms(50))}, ms(50), ms(50)},
		{"link without latency keeps network latency", Config{Latency: Constant(ms(3))}, &LinkConfig{}, ms(3), ms(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, tt.cfg)
			if tt.link != nil {
				if err := n.SetLink(addr(1), addr(2), *tt.link); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 200 {
				n.Send(epoch.Add(ms(i)), msg(1, 2, uint64(i)))
			}
			evs := drain(n)
			if len(evs) != 200 {
				t.Fatalf("delivered %d, want 200", len(evs))
			}
			for _, ev := range evs {
				if d := ev.At.Sub(ev.SentAt); d < tt.lo || d > tt.hi {
					t.Fatalf("%s: latency %v outside [%v, %v]", line(ev), d, tt.lo, tt.hi)
				}
			}
		})
	}

	t.Run("ClearLink restores network latency", func(t *testing.T) {
		n := newNet(t, 1, Config{Latency: Constant(ms(1))})
		if err := n.SetLink(addr(1), addr(2), LinkConfig{Latency: Constant(ms(9))}); err != nil {
			t.Fatal(err)
		}
		n.ClearLink(addr(1), addr(2))
		n.Send(epoch, msg(1, 2, 1))
		ev, _ := n.Step()
		if got := ev.At.Sub(epoch); got != ms(1) {
			t.Errorf("latency after ClearLink = %v, want 1ms", got)
		}
	})
}

func TestLoss(t *testing.T) {
	tests := []struct {
		name string
		loss float64
		link bool // configure the loss on the link instead of the network
	}{
		{"none", 0, false},
		{"ten percent", 0.1, false},
		{"thirty percent", 0.3, false},
		{"thirty percent on link", 0.3, true},
		{"all", 1, false},
	}
	const sends = 10000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Latency: Uniform(0, ms(5)), Loss: tt.loss}
			if tt.link {
				cfg.Loss = 0
			}
			n := newNet(t, 5, cfg)
			if tt.link {
				if err := n.SetLink(addr(1), addr(2), LinkConfig{Loss: tt.loss}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range sends {
				n.Send(epoch, msg(1, 2, uint64(i)))
			}
			delivered := len(drain(n))
			s := n.Stats()
			if int(s.Delivered) != delivered || s.Dropped.Loss != uint64(sends-delivered) {
				t.Errorf("stats %+v disagree with %d delivered of %d", s, delivered, sends)
			}
			// 10k Bernoulli trials: σ ≤ 0.005, so ±0.02 is 4σ.
			if rate := float64(s.Dropped.Loss) / sends; math.Abs(rate-tt.loss) > 0.02 {
				t.Errorf("loss rate %.4f, want %.2f ± 0.02", rate, tt.loss)
			}
			checkAccounting(t, n)
		})
	}
}

func TestDuplicate(t *testing.T) {
	tests := []struct {
		name string
		dup  float64
		loss float64
	}{
		{"quarter", 0.25, 0},
		{"half with loss", 0.5, 0.2},
		{"none", 0, 0},
	}
	const sends = 10000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 8, Config{Latency: Uniform(ms(1), ms(20)), Duplicate: tt.dup, Loss: tt.loss})
			for i := range sends {
				n.Send(epoch.Add(time.Duration(i)*time.Microsecond), msg(1, 2, uint64(i)))
			}
			times := map[uint64]int{}
			dupFlags := map[uint64]int{}
			for _, ev := range drain(n) {
				times[seqOf(ev.Msg)]++
				if ev.Duplicate {
					dupFlags[seqOf(ev.Msg)]++
				}
			}
			s := n.Stats()
			twice := 0
			for seq, k := range times {
				if k > 2 {
					t.Fatalf("seq %d delivered %d times, want at most 2", seq, k)
				}
				if dupFlags[seq] > 1 {
					t.Fatalf("seq %d has %d copies marked Duplicate, want at most 1", seq, dupFlags[seq])
				}
				if k == 2 {
					twice++
					if dupFlags[seq] != 1 {
						t.Errorf("seq %d delivered twice but %d copies marked Duplicate", seq, dupFlags[seq])
					}
				}
			}
			if rate := float64(s.Duplicated) / sends; math.Abs(rate-tt.dup) > 0.02 {
				t.Errorf("duplication rate %.4f, want %.2f ± 0.02", rate, tt.dup)
			}
			// Both copies survive loss with probability (1-loss)².
			wantTwice := float64(sends) * tt.dup * (1 - tt.loss) * (1 - tt.loss)
			if math.Abs(float64(twice)-wantTwice) > 0.02*sends {
				t.Errorf("%d messages delivered twice, want about %.0f", twice, wantTwice)
			}
			if tt.loss == 0 && s.Delivered != s.Sent+s.Duplicated {
				t.Errorf("Delivered %d, want Sent %d + Duplicated %d", s.Delivered, s.Sent, s.Duplicated)
			}
			checkAccounting(t, n)
		})
	}
}

// countReorders counts, per directed path, deliveries whose seq is below one
// already delivered on that path: the definition of Stats.Reordered.
func countReorders(evs []Event) uint64 {
	type key struct{ from, to proto.Address }
	maxSeen := map[key]uint64{}
	var n uint64
	for _, ev := range evs {
		k := key{ev.Msg.From.Address, ev.Msg.To}
		if s := seqOf(ev.Msg); s < maxSeen[k] {
			n++
		} else {
			maxSeen[k] = s
		}
	}
	return n
}

func TestReordering(t *testing.T) {
	tests := []struct {
		name        string
		lat         Latency
		wantReorder bool
	}{
		{"constant keeps order", Constant(ms(5)), false},
		{"constant with jitter reorders", Jitter(Constant(ms(5)), ms(3)), true},
		{"exponential reorders", Exponential(ms(5)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 4, Config{Latency: tt.lat})
			seq := uint64(0)
			for i := range 1000 {
				for _, p := range [][2]int{{1, 2}, {2, 1}, {1, 3}} {
					seq++ // one counter: still increasing per path
					n.Send(epoch.Add(ms(i)), msg(p[0], p[1], seq))
				}
			}
			evs := drain(n)
			want := countReorders(evs)
			if got := n.Stats().Reordered; got != want {
				t.Errorf("Stats.Reordered = %d, want %d counted from the deliveries", got, want)
			}
			if (want > 0) != tt.wantReorder {
				t.Errorf("%d reordered deliveries, want reordering %v", want, tt.wantReorder)
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].At.Before(evs[i-1].At) {
					t.Fatalf("event %d at %v before event %d at %v", i, evs[i].At, i-1, evs[i-1].At)
				}
			}
		})
	}
}

// pairs sends one message on every ordered pair of nodes 1..4 at epoch and
// returns the pairs delivered, as "1->2", sorted.
func pairs(t *testing.T, n *Network) []string {
	t.Helper()
	seq := uint64(0)
	for f := 1; f <= 4; f++ {
		for to := 1; to <= 4; to++ {
			if f != to {
				seq++
				n.Send(epoch, msg(f, to, seq))
			}
		}
	}
	var got []string
	for _, ev := range drain(n) {
		got = append(got, fmt.Sprintf("%d->%d", ev.Msg.From.UID-1, int(ev.Msg.To.Host[len(ev.Msg.To.Host)-1]-'0')))
	}
	slices.Sort(got)
	return got
}

func TestPartitions(t *testing.T) {
	all := []string{"1->2", "1->3", "1->4", "2->1", "2->3", "2->4", "3->1", "3->2", "3->4", "4->1", "4->2", "4->3"}
	a := func(is ...int) []proto.Address {
		var out []proto.Address
		for _, i := range is {
			out = append(out, addr(i))
		}
		return out
	}
	tests := []struct {
		name      string
		fault     func(n *Network)
		want      []string
		wantDrops Drops
	}{
		{"none", func(*Network) {}, all, Drops{}},
		{
			"symmetric groups block both directions",
			func(n *Network) { n.Partition(a(1, 2), a(3, 4)) },
			[]string{"1->2", "2->1", "3->4", "4->3"},
			Drops{Partition: 8},
		},
		{
			"unlisted addresses form one group",
			func(n *Network) { n.Partition(a(1)) },
			[]string{"2->3", "2->4", "3->2", "3->4", "4->2", "4->3"},
			Drops{Partition: 6},
		},
		{
			"partition replaces the previous one",
			func(n *Network) { n.Partition(a(1), a(2, 3, 4)); n.Partition(a(1, 2), a(3, 4)) },
			[]string{"1->2", "2->1", "3->4", "4->3"},
			Drops{Partition: 8},
		},
		{
			"isolate",
			func(n *Network) { n.Isolate(addr(4)) },
			[]string{"1->2", "1->3", "2->1", "2->3", "3->1", "3->2"},
			Drops{Partition: 6},
		},
		{
			"empty partition undoes groups but not isolation",
			func(n *Network) { n.Partition(a(1, 2), a(3, 4)); n.Isolate(addr(4)); n.Partition() },
			[]string{"1->2", "1->3", "2->1", "2->3", "3->1", "3->2"},
			Drops{Partition: 6},
		},
		{
			"one-way cut blocks one direction only",
			func(n *Network) { n.CutOneWay(addr(1), addr(2)) },
			[]string{"1->3", "1->4", "2->1", "2->3", "2->4", "3->1", "3->2", "3->4", "4->1", "4->2", "4->3"},
			Drops{OneWay: 1},
		},
		{
			"heal restores everything",
			func(n *Network) {
				n.Partition(a(1, 2), a(3, 4))
				n.Isolate(addr(1))
				n.CutOneWay(addr(3), addr(4))
				n.Heal()
			},
			all, Drops{},
		},
		{
			"cut after heal applies again",
			func(n *Network) {
				n.CutOneWay(addr(3), addr(4))
				n.Heal()
				n.CutOneWay(addr(4), addr(3))
			},
			[]string{"1->2", "1->3", "1->4", "2->1", "2->3", "2->4", "3->1", "3->2", "3->4", "4->1", "4->2"},
			Drops{OneWay: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, Config{Latency: Constant(ms(1))})
			tt.fault(n)
			if diff := cmp.Diff(tt.want, pairs(t, n)); diff != "" {
				t.Errorf("delivered pairs (-want +got):\n%s", diff)
			}
			s := n.Stats()
			if diff := cmp.Diff(tt.wantDrops, s.Dropped); diff != "" {
				t.Errorf("drops (-want +got):\n%s", diff)
			}
			if got, want := s.PartitionCuts(), tt.wantDrops.Partition+tt.wantDrops.OneWay; got != want {
				t.Errorf("PartitionCuts() = %d, want %d", got, want)
			}
			for _, p := range all {
				from, to := addr(int(p[0]-'0')), addr(int(p[3]-'0'))
				if got, want := n.Blocked(from, to), !slices.Contains(tt.want, p); got != want {
					t.Errorf("Blocked(%s) = %v, want %v", p, got, want)
				}
			}
		})
	}

	t.Run("address listed twice panics", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "listed in groups 0 and 1") {
				t.Errorf("recover() = %v, want a panic naming both groups", r)
			}
		}()
		newNet(t, 1, Config{}).Partition(a(1, 2), a(2, 3))
	})
}

// TestCutTiming pins down when cuts are checked: at send time and when a
// copy falls due, not in between.
func TestCutTiming(t *testing.T) {
	tests := []struct {
		name          string
		before, after func(n *Network) // around Send, then Step
		wantDelivered bool
		wantInFlight  uint64 // Stats.CutInFlight
	}{
		{"cut while in flight drops", func(*Network) {}, func(n *Network) { n.Partition([]proto.Address{addr(1)}) }, false, 1},
		{"one-way cut while in flight drops", func(*Network) {}, func(n *Network) { n.CutOneWay(addr(1), addr(2)) }, false, 1},
		{"reverse one-way cut does not", func(*Network) {}, func(n *Network) { n.CutOneWay(addr(2), addr(1)) }, true, 0},
		{"cut at send, healed in flight, still lost", func(n *Network) { n.Isolate(addr(2)) }, func(n *Network) { n.Heal() }, false, 0},
		{"cut begun and healed in flight does not touch it", func(*Network) {}, func(n *Network) { n.Isolate(addr(2)); n.Heal() }, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, Config{Latency: Constant(ms(10))})
			tt.before(n)
			n.Send(epoch, msg(1, 2, 1))
			tt.after(n)
			evs := drain(n)
			if got := len(evs) == 1; got != tt.wantDelivered {
				t.Errorf("delivered %d, want delivered %v", len(evs), tt.wantDelivered)
			}
			s := n.Stats()
			if s.CutInFlight != tt.wantInFlight {
				t.Errorf("CutInFlight = %d, want %d", s.CutInFlight, tt.wantInFlight)
			}
			if !tt.wantDelivered && s.PartitionCuts() != 1 {
				t.Errorf("PartitionCuts() = %d, want 1", s.PartitionCuts())
			}
			checkAccounting(t, n)
		})
	}
}

func TestClog(t *testing.T) {
	tests := []struct {
		name  string
		clog  func(n *Network)
		want  map[string]time.Duration // "from->to": delivery offset from epoch
		clogs uint64                   // Stats.Clogged
	}{
		{
			"none", func(*Network) {},
			map[string]time.Duration{"1->2": ms(10), "2->1": ms(10), "1->3": ms(10), "3->1": ms(10)}, 0,
		},
		{
			"receiver clog holds incoming and outgoing",
			func(n *Network) { n.Clog(addr(2), epoch.Add(time.Second)) },
			map[string]time.Duration{"1->2": time.Second, "2->1": time.Second, "1->3": ms(10), "3->1": ms(10)}, 2,
		},
		{
			"link clog holds one direction",
			func(n *Network) { n.ClogLink(addr(1), addr(2), epoch.Add(time.Second)) },
			map[string]time.Duration{"1->2": time.Second, "2->1": ms(10), "1->3": ms(10), "3->1": ms(10)}, 1,
		},
		{
			"clog over before due changes nothing",
			func(n *Network) { n.Clog(addr(2), epoch.Add(ms(5))) },
			map[string]time.Duration{"1->2": ms(10), "2->1": ms(10), "1->3": ms(10), "3->1": ms(10)}, 0,
		},
		{
			"clogs only extend",
			func(n *Network) { n.Clog(addr(1), epoch.Add(ms(800))); n.Clog(addr(1), epoch.Add(ms(300))) },
			map[string]time.Duration{"1->2": ms(800), "2->1": ms(800), "1->3": ms(800), "3->1": ms(800)}, 4,
		},
		{
			"latest of overlapping clogs wins",
			func(n *Network) {
				n.Clog(addr(1), epoch.Add(ms(300)))
				n.ClogLink(addr(1), addr(2), epoch.Add(ms(700)))
				n.Clog(addr(3), epoch.Add(ms(500)))
			},
			map[string]time.Duration{"1->2": ms(700), "2->1": ms(300), "1->3": ms(500), "3->1": ms(500)}, 4,
		},
		{
			"unclog and unclog link",
			func(n *Network) {
				n.Clog(addr(2), epoch.Add(time.Second))
				n.ClogLink(addr(1), addr(3), epoch.Add(time.Second))
				n.Unclog(addr(2))
				n.UnclogLink(addr(1), addr(3))
			},
			map[string]time.Duration{"1->2": ms(10), "2->1": ms(10), "1->3": ms(10), "3->1": ms(10)}, 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, Config{Latency: Constant(ms(10))})
			tt.clog(n)
			for i, p := range [][2]int{{1, 2}, {2, 1}, {1, 3}, {3, 1}} {
				n.Send(epoch, msg(p[0], p[1], uint64(i)))
			}
			got := map[string]time.Duration{}
			for _, ev := range drain(n) {
				got[fmt.Sprintf("%d->%s", ev.Msg.From.UID-1, ev.Msg.To.Host[len(ev.Msg.To.Host)-1:])] = ev.At.Sub(epoch)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("delivery offsets (-want +got):\n%s", diff)
			}
			s := n.Stats()
			if s.Clogged != tt.clogs || s.Dropped.Total() != 0 {
				t.Errorf("Clogged = %d, dropped %+v; want %d clogged, nothing dropped", s.Clogged, s.Dropped, tt.clogs)
			}
		})
	}

	t.Run("clog applied while in flight holds", func(t *testing.T) {
		n := newNet(t, 1, Config{Latency: Constant(ms(10))})
		n.Send(epoch, msg(1, 2, 1))
		n.Clog(addr(2), epoch.Add(ms(60)))
		ev, ok := n.Step()
		if !ok || ev.At.Sub(epoch) != ms(60) || n.Stats().Clogged != 1 {
			t.Errorf("Step() = %s, %v with Clogged %d; want delivery at 60ms, 1 clogged", line(ev), ok, n.Stats().Clogged)
		}
	})
}

func TestMaxInFlight(t *testing.T) {
	n := newNet(t, 1, Config{Latency: Constant(ms(10)), MaxInFlight: 3})
	for i := range 5 {
		n.Send(epoch, msg(1, 2, uint64(i)))
		n.Send(epoch, msg(1, 3, uint64(100+i)))
	}
	if n.InFlight() != 6 {
		t.Errorf("InFlight() = %d after 10 sends on two paths bounded at 3, want 6", n.InFlight())
	}
	var got []uint64
	for _, ev := range drain(n) {
		got = append(got, seqOf(ev.Msg))
	}
	if diff := cmp.Diff([]uint64{0, 100, 1, 101, 2, 102}, got); diff != "" {
		t.Errorf("delivered seqs (-want +got):\n%s", diff)
	}
	if d := n.Stats().Dropped; d != (Drops{InFlight: 4}) {
		t.Errorf("drops = %+v, want 4 in-flight drops", d)
	}
	// Delivery frees the path again.
	for i := range 3 {
		n.Send(epoch.Add(ms(20)), msg(1, 2, uint64(10+i)))
	}
	if evs := drain(n); len(evs) != 3 {
		t.Errorf("after draining, delivered %d of 3, want all", len(evs))
	}
	checkAccounting(t, n)
}

func TestDown(t *testing.T) {
	tests := []struct {
		name          string
		fault         func(n *Network) // after Send, before Step
		wantDelivered bool
	}{
		{"down receiver drops", func(n *Network) { n.Down(addr(2)) }, false},
		{"down and up again delivers", func(n *Network) { n.Down(addr(2)); n.Up(addr(2)) }, true},
		{"down sender still delivers what it sent", func(n *Network) { n.Down(addr(1)) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, Config{Latency: Constant(ms(1))})
			n.Send(epoch, msg(1, 2, 1))
			tt.fault(n)
			evs := drain(n)
			if got := len(evs) == 1; got != tt.wantDelivered {
				t.Errorf("delivered %d, want delivered %v", len(evs), tt.wantDelivered)
			}
			wantDown := uint64(0)
			if !tt.wantDelivered {
				wantDown = 1
			}
			if got := n.Stats().Dropped.Down; got != wantDown {
				t.Errorf("Dropped.Down = %d, want %d", got, wantDown)
			}
			if got, want := n.IsDown(addr(2)), !tt.wantDelivered; got != want {
				t.Errorf("IsDown = %v, want %v", got, want)
			}
		})
	}
}

func TestTimers(t *testing.T) {
	type op struct {
		at     time.Duration // ScheduleTimer offset; negative: CancelTimer
		id     uint64
		cancel bool
	}
	tests := []struct {
		name string
		ops  []op
		want []string
	}{
		{"single", []op{{at: ms(5), id: 1}}, []string{"5ms timer 1"}},
		{"reschedule earlier: latest wins", []op{{at: ms(5), id: 1}, {at: ms(2), id: 1}}, []string{"2ms timer 1"}},
		{"reschedule later: latest wins", []op{{at: ms(5), id: 1}, {at: ms(9), id: 1}}, []string{"9ms timer 1"}},
		{"cancel", []op{{at: ms(5), id: 1}, {id: 1, cancel: true}}, nil},
		{"cancel then reschedule", []op{{at: ms(5), id: 1}, {id: 1, cancel: true}, {at: ms(7), id: 1}}, []string{"7ms timer 1"}},
		{
			"ties fire in scheduling order",
			[]op{{at: ms(3), id: 2}, {at: ms(3), id: 1}, {at: ms(1), id: 3}},
			[]string{"1ms timer 3", "3ms timer 2", "3ms timer 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNet(t, 1, Config{})
			for _, o := range tt.ops {
				if o.cancel {
					if !n.CancelTimer(o.id) {
						t.Errorf("CancelTimer(%d) = false, want true", o.id)
					}
					continue
				}
				n.ScheduleTimer(epoch.Add(o.at), o.id)
				if at, ok := n.TimerAt(o.id); !ok || !at.Equal(epoch.Add(o.at)) {
					t.Errorf("TimerAt(%d) = %v, %v; want %v", o.id, at, ok, epoch.Add(o.at))
				}
			}
			if got, want := n.Pending(), len(tt.want); got != want {
				t.Errorf("Pending() = %d, want %d", got, want)
			}
			var got []string
			for _, ev := range drain(n) {
				got = append(got, line(ev))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("timer events (-want +got):\n%s", diff)
			}
			if n.CancelTimer(1) {
				t.Errorf("CancelTimer(1) after firing = true, want false")
			}
		})
	}

	t.Run("timers and deliveries share one order", func(t *testing.T) {
		n := newNet(t, 1, Config{Latency: Constant(ms(5))})
		n.Send(epoch, msg(1, 2, 1)) // due 5ms, queued first
		n.ScheduleTimer(epoch.Add(ms(5)), 7)
		n.ScheduleTimer(epoch.Add(ms(4)), 8)
		var got []string
		for _, ev := range drain(n) {
			got = append(got, line(ev))
		}
		want := []string{
			"4ms timer 8",
			"5ms deliver 10.0.0.1:7000->10.0.0.2:7000 seq=1 dup=false sent=0s",
			"5ms timer 7",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})

	t.Run("rescheduling many times keeps the queue small", func(t *testing.T) {
		n := newNet(t, 1, Config{})
		for i := range 100000 {
			n.ScheduleTimer(epoch.Add(time.Hour+time.Duration(i)), 1)
		}
		if n.q.len() > 4096 {
			t.Errorf("queue holds %d entries for one live timer, want stale ones compacted", n.q.len())
		}
		got := drain(n)
		if len(got) != 1 || !got[0].At.Equal(epoch.Add(time.Hour+99999)) {
			t.Errorf("events = %v, want one timer at the last scheduled instant", got)
		}
	})

	t.Run("a timer in the past fires at the current instant", func(t *testing.T) {
		n := newNet(t, 1, Config{})
		n.ScheduleTimer(epoch.Add(ms(10)), 1)
		n.Step()
		n.ScheduleTimer(epoch, 2)
		ev, ok := n.Step()
		if !ok || !ev.At.Equal(epoch.Add(ms(10))) || !n.Now().Equal(epoch.Add(ms(10))) {
			t.Errorf("Step() = %s, %v; Now() = %v; want timer 2 at 10ms", line(ev), ok, n.Now())
		}
	})
}

func TestStepUntilAndNext(t *testing.T) {
	n := newNet(t, 1, Config{Latency: Constant(ms(10))})
	if _, ok := n.Next(); ok {
		t.Errorf("Next() on an empty network reports an entry")
	}
	n.Send(epoch, msg(1, 2, 1))
	n.ScheduleTimer(epoch.Add(ms(3)), 1)
	n.ScheduleTimer(epoch.Add(ms(1)), 1) // the 3ms entry is now stale
	if at, ok := n.Next(); !ok || !at.Equal(epoch.Add(ms(1))) {
		t.Errorf("Next() = %v, %v; want 1ms", at, ok)
	}
	if ev, ok := n.StepUntil(epoch.Add(ms(1))); !ok || ev.Kind != Timer {
		t.Errorf("StepUntil(1ms) = %s, %v; want the timer", line(ev), ok)
	}
	if at, ok := n.Next(); !ok || !at.Equal(epoch.Add(ms(10))) {
		t.Errorf("Next() = %v, %v; want 10ms, the stale timer skipped", at, ok)
	}
	if ev, ok := n.StepUntil(epoch.Add(ms(9))); ok {
		t.Errorf("StepUntil(9ms) = %s, want nothing due", line(ev))
	}
	if n.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1", n.Pending())
	}
	if ev, ok := n.StepUntil(epoch.Add(ms(10))); !ok || ev.Kind != Delivery {
		t.Errorf("StepUntil(10ms) = %s, %v; want the delivery", line(ev), ok)
	}
	if n.Pending() != 0 {
		t.Errorf("Pending() = %d after draining, want 0", n.Pending())
	}
}

func TestSizer(t *testing.T) {
	n := newNet(t, 1, Config{
		Latency: Constant(ms(1)),
		Loss:    0.5,
		Sizer:   func(m *proto.Message) int { return 10 + int(seqOf(*m)%2) },
	})
	for i := range 1000 {
		n.Send(epoch, msg(1, 2, uint64(i)))
	}
	var delivered uint64
	for _, ev := range drain(n) {
		delivered += 10 + seqOf(ev.Msg)%2
	}
	s := n.Stats()
	if s.BytesSent != 10500 || s.BytesDelivered != delivered || delivered == 0 || delivered == 10500 {
		t.Errorf("BytesSent %d, BytesDelivered %d; want 10500 and %d (some lost)", s.BytesSent, s.BytesDelivered, delivered)
	}
}

func TestSwizzle(t *testing.T) {
	var nodes []proto.Address
	for i := range 10 {
		nodes = append(nodes, addr(i))
	}
	start := epoch.Add(time.Second)
	sc := SwizzleConfig{Window: 10 * time.Second, Fraction: 0.45, PairClogs: 3}

	t.Run("plan shape", func(t *testing.T) {
		n := newNet(t, 11, Config{})
		plan, err := n.Swizzle(start, append(slices.Clone(nodes), nodes[3]), sc) // duplicate counts once
		if err != nil {
			t.Fatal(err)
		}
		var nodeSteps, linkSteps []ClogStep
		for i, s := range plan {
			if i > 0 && s.At.Before(plan[i-1].At) {
				t.Errorf("plan not sorted by At at step %d", i)
			}
			if !s.Until.After(s.At) {
				t.Errorf("%v ends before it starts", s)
			}
			if s.IsLink() {
				linkSteps = append(linkSteps, s)
			} else {
				nodeSteps = append(nodeSteps, s)
			}
		}
		if len(nodeSteps) != 5 || len(linkSteps) != 3 {
			t.Fatalf("plan has %d node and %d link clogs, want 5 (⌈0.45×10⌉) and 3", len(nodeSteps), len(linkSteps))
		}
		mid := start.Add(sc.Window / 2)
		seen := map[proto.Address]bool{}
		var untils []time.Time
		for _, s := range nodeSteps {
			if s.At.Before(start) || !s.At.Before(mid) || s.Until.Before(mid) || !s.Until.Before(start.Add(sc.Window)) {
				t.Errorf("%v: want start in the first half and end in the second half of [%v, +%v)", s, start, sc.Window)
			}
			if seen[s.From] {
				t.Errorf("node %v clogged twice", s.From)
			}
			seen[s.From] = true
			untils = append(untils, s.Until)
		}
		if slices.IsSortedFunc(untils, time.Time.Compare) {
			t.Logf("unclog order happens to equal clog order for this seed")
		}
		for _, s := range linkSteps {
			if s.From == s.To {
				t.Errorf("link clog %v from a node to itself", s)
			}
		}
		if n.Pending() != 8 {
			t.Errorf("Pending() = %d, want the 8 scheduled clog steps", n.Pending())
		}
	})

	t.Run("unclog order is random across seeds", func(t *testing.T) {
		inOrder := 0
		for seed := range int64(20) {
			plan, err := newNet(t, seed, Config{}).Swizzle(start, nodes, SwizzleConfig{Window: sc.Window, Fraction: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			var untils []time.Time
			for _, s := range plan {
				untils = append(untils, s.Until)
			}
			if slices.IsSortedFunc(untils, time.Time.Compare) {
				inOrder++
			}
		}
		if inOrder > 2 { // 5 clogs: 1/120 chance each seed
			t.Errorf("%d of 20 plans unclog in clog order, want the order shuffled", inOrder)
		}
	})

	t.Run("delays without dropping", func(t *testing.T) {
		n := newNet(t, 11, Config{Latency: Uniform(ms(1), ms(5))})
		plan, err := n.Swizzle(start, nodes, sc)
		if err != nil {
			t.Fatal(err)
		}
		w := rand.New(rand.NewSource(1))
		seq := uint64(0)
		var evs []Event
		for now := epoch; now.Before(epoch.Add(12 * time.Second)); now = now.Add(ms(10)) {
			seq++
			from := w.Intn(10)
			n.Send(now, msg(from, (from+1+w.Intn(9))%10, seq))
			for {
				ev, ok := n.StepUntil(now)
				if !ok {
					break
				}
				evs = append(evs, ev)
			}
		}
		evs = append(evs, drain(n)...)
		s := n.Stats()
		if s.Delivered != s.Sent || s.Dropped.Total() != 0 || len(evs) != int(s.Sent) {
			t.Errorf("sent %d, delivered %d (%d events), dropped %+v; want everything delivered", s.Sent, s.Delivered, len(evs), s.Dropped)
		}
		if s.Clogged == 0 {
			t.Errorf("Clogged = 0, want the swizzle to hold some messages")
		}
		for _, ev := range evs {
			for _, st := range plan {
				touches := ev.Msg.From.Address == st.From || ev.Msg.To == st.From
				if st.IsLink() {
					touches = ev.Msg.From.Address == st.From && ev.Msg.To == st.To
				}
				if touches && !ev.At.Before(st.At) && ev.At.Before(st.Until) {
					t.Fatalf("%s delivered during %v", line(ev), st)
				}
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		n := newNet(t, 1, Config{})
		_, err := n.Swizzle(start, nodes[:1], SwizzleConfig{Window: 0, Fraction: 1.5, PairClogs: 1})
		want := []string{
			"netsim: swizzle Window 0s is not positive",
			"netsim: swizzle Fraction 1.5 is not in (0, 1]",
			"netsim: swizzle pair clogs need at least two nodes",
		}
		if err == nil {
			t.Fatal("Swizzle accepted a bad config")
		}
		if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if _, err := n.Swizzle(start, nil, SwizzleConfig{Window: time.Second, Fraction: 0.5, PairClogs: -1}); err == nil ||
			!strings.Contains(err.Error(), "at least one node") || !strings.Contains(err.Error(), "PairClogs -1") {
			t.Errorf("Swizzle(no nodes, PairClogs -1) = %v, want both problems", err)
		}
		if n.Pending() != 0 {
			t.Errorf("a rejected swizzle scheduled %d steps", n.Pending())
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // error lines; nil means valid
	}{
		{"zero config is valid", Config{}, nil},
		{"full valid config", Config{Latency: Jitter(Shifted(ms(1), Exponential(ms(3))), ms(1)), Loss: 1, Duplicate: 0.5, MaxInFlight: 8}, nil},
		{
			"every field bad",
			Config{Latency: Uniform(ms(5), ms(1)), Loss: -0.1, Duplicate: 1.5, MaxInFlight: -1},
			[]string{
				"netsim: Latency: uniform latency max 1ms is below min 5ms",
				"netsim: Loss -0.1 is not a probability in [0, 1]",
				"netsim: Duplicate 1.5 is not a probability in [0, 1]",
				"netsim: MaxInFlight -1 is negative (0 means unbounded)",
			},
		},
		{"NaN loss", Config{Loss: math.NaN()}, []string{"netsim: Loss NaN is not a probability in [0, 1]"}},
		{"negative constant", Config{Latency: Constant(-1)}, []string{"netsim: Latency: constant latency -1ns is negative"}},
		{"negative mean", Config{Latency: Exponential(-ms(1))}, []string{"netsim: Latency: exponential latency mean -1ms is negative"}},
		{
			"nested problems all reported",
			Config{Latency: Jitter(Shifted(-ms(1), Uniform(-ms(2), -ms(3))), -ms(4))},
			[]string{
				"netsim: Latency: jitter -4ms is negative",
				"shifted latency base -1ms is negative",
				"uniform latency min -2ms is negative",
				"uniform latency max -3ms is below min -2ms",
			},
		},
		{"nil inner latency", Config{Latency: Jitter(nil, 0)}, []string{"netsim: Latency: latency distribution is nil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() lines (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("SetLink rejects a bad link and keeps the old one", func(t *testing.T) {
		n := newNet(t, 1, Config{Latency: Constant(ms(1))})
		if err := n.SetLink(addr(1), addr(2), LinkConfig{Latency: Constant(ms(4))}); err != nil {
			t.Fatal(err)
		}
		err := n.SetLink(addr(1), addr(2), LinkConfig{Latency: Constant(-1), Loss: 2, Duplicate: -1})
		want := []string{
			"netsim: link Latency: constant latency -1ns is negative",
			"netsim: link Loss 2 is not a probability in [0, 1]",
			"netsim: link Duplicate -1 is not a probability in [0, 1]",
		}
		if err == nil {
			t.Fatal("SetLink accepted a bad link")
		}
		if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
			t.Errorf("SetLink error lines (-want +got):\n%s", diff)
		}
		n.Send(epoch, msg(1, 2, 1))
		if ev, _ := n.Step(); ev.At.Sub(epoch) != ms(4) {
			t.Errorf("latency %v after a rejected SetLink, want the earlier 4ms override", ev.At.Sub(epoch))
		}
	})

	t.Run("SetConfig rejects and keeps; New panics", func(t *testing.T) {
		n := newNet(t, 1, Config{Loss: 0.5})
		if err := n.SetConfig(Config{Loss: 3}); err == nil || n.Config().Loss != 0.5 {
			t.Errorf("SetConfig(bad) = %v with Loss now %v, want an error and Loss 0.5", err, n.Config().Loss)
		}
		defer func() {
			if r := recover(); r == nil {
				t.Errorf("New with a bad config did not panic")
			}
		}()
		New(rand.New(rand.NewSource(1)), Config{MaxInFlight: -3})
	})
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"config", Config{Latency: Uniform(ms(1), ms(2)), Loss: 0.25, Duplicate: 0.1, MaxInFlight: 5}.String(),
			"latency=uniform(1ms..2ms) loss=0.25 duplicate=0.1 max-in-flight=5"},
		{"zero config", Config{}.String(), "latency=constant(0s) loss=0 duplicate=0 max-in-flight=0"},
		{"delivery kind", Delivery.String(), "delivery"},
		{"timer kind", Timer.String(), "timer"},
		{"bad kind", EventKind(9).String(), "EventKind(9)"},
		{"node clog step", ClogStep{At: epoch, Until: epoch.Add(ms(1)), From: addr(1)}.String(),
			"clog 10.0.0.1:7000 2030-01-01T00:00:00Z..2030-01-01T00:00:00.001Z"},
		{"link clog step", ClogStep{At: epoch, Until: epoch.Add(ms(1)), From: addr(1), To: addr(2)}.String(),
			"clog 10.0.0.1:7000->10.0.0.2:7000 2030-01-01T00:00:00Z..2030-01-01T00:00:00.001Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestNodeIndices: addresses are numbered densely in order of first sight,
// whichever call sees them first, and every delivery names its ends' numbers.
func TestNodeIndices(t *testing.T) {
	n := newNet(t, 1, Config{Latency: Uniform(ms(1), ms(5)), Duplicate: 0.3})
	if got := n.Node(addr(4)); got != 0 {
		t.Fatalf("Node(first address) = %d, want 0", got)
	}
	n.Up(addr(2))
	for i := range 50 {
		n.Send(epoch, msg(i%5, (i*3+1)%5, uint64(i)))
	}
	want := map[proto.Address]int{addr(4): 0, addr(2): 1, addr(0): 2, addr(1): 3, addr(3): 4}
	for a, i := range want {
		if got := n.Node(a); got != i {
			t.Errorf("Node(%v) = %d, want %d", a, got, i)
		}
	}
	evs := drain(n)
	if len(evs) < 50 {
		t.Fatalf("%d deliveries, want at least 50", len(evs))
	}
	for _, ev := range evs {
		if ev.FromNode != want[ev.Msg.From.Address] || ev.ToNode != want[ev.Msg.To] {
			t.Fatalf("%s: FromNode %d ToNode %d, want %d and %d", line(ev), ev.FromNode, ev.ToNode, want[ev.Msg.From.Address], want[ev.Msg.To])
		}
	}
}
