package netsim

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/rumorhq/rumor/proto"
	"pgregory.net/rapid"
)

// TestPropertyDelivery runs random sequences of sends, partitions, one-way
// cuts, isolations, heals, clogs and clock advances against a plain model of
// the cut state and checks, at every delivery, that the message:
//
//   - was sent and is delivered at most once as the original and at most
//     once as the duplicate (so at most 1 + duplicates times);
//   - arrives no earlier than it was sent, and events never go backwards;
//   - does not cross a path the model says is cut at that instant, and was
//     not sent into a cut path;
//   - does not arrive while its sender or receiver is clogged;
//
// and after every action that copies are all accounted for.
func TestPropertyDelivery(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		const nodes = 4
		cfg := Config{
			Latency: Jitter(
				Uniform(0, ms(rapid.IntRange(0, 20).Draw(rt, "maxLatencyMs"))),
				ms(rapid.IntRange(0, 10).Draw(rt, "jitterMs"))),
			Loss:        rapid.Float64Range(0, 0.5).Draw(rt, "loss"),
			Duplicate:   rapid.Float64Range(0, 0.5).Draw(rt, "duplicate"),
			MaxInFlight: rapid.IntRange(0, 6).Draw(rt, "maxInFlight"),
		}
		n := New(rand.New(rand.NewSource(rapid.Int64().Draw(rt, "seed"))), cfg)

		// The model of the cut and clog state.
		group := make([]int, nodes)
		isolated := make([]bool, nodes)
		oneWay := map[[2]int]bool{}
		clogUntil := make([]time.Time, nodes)
		cut := func(f, to int) bool {
			if f == to {
				return false
			}
			return isolated[f] || isolated[to] || group[f] != group[to] || oneWay[[2]int{f, to}]
		}

		now := epoch
		last := epoch
		seq := uint64(0)
		sentAt := map[uint64]time.Time{}
		sentCut := map[uint64]bool{}
		originals := map[uint64]int{}
		duplicates := map[uint64]int{}
		dupDelivered := uint64(0)

		index := func(a proto.Address) int { return int(a.Host[len(a.Host)-1] - '0') }
		check := func(ev Event) {
			if ev.At.Before(last) {
				rt.Fatalf("%s: event before the previous one at %v", line(ev), last.Sub(epoch))
			}
			last = ev.At
			if ev.Kind != Delivery {
				rt.Fatalf("unexpected %s", line(ev))
			}
			s := seqOf(ev.Msg)
			at, ok := sentAt[s]
			switch {
			case !ok:
				rt.Fatalf("%s: never sent", line(ev))
			case ev.At.Before(at) || !ev.SentAt.Equal(at):
				rt.Fatalf("%s: sent at %v", line(ev), at.Sub(epoch))
			case sentCut[s]:
				rt.Fatalf("%s: sent into a cut path", line(ev))
			}
			f, to := index(ev.Msg.From.Address), index(ev.Msg.To)
			if cut(f, to) {
				rt.Fatalf("%s: crosses a cut path", line(ev))
			}
			if ev.At.Before(clogUntil[f]) || ev.At.Before(clogUntil[to]) {
				rt.Fatalf("%s: delivered while clogged (until %v, %v)", line(ev), clogUntil[f].Sub(epoch), clogUntil[to].Sub(epoch))
			}
			if ev.Duplicate {
				duplicates[s]++
				dupDelivered++
			} else {
				originals[s]++
			}
			if originals[s] > 1 || duplicates[s] > 1 {
				rt.Fatalf("%s: delivered %d times as original, %d as duplicate", line(ev), originals[s], duplicates[s])
			}
		}
		deliverDue := func() {
			for {
				ev, ok := n.StepUntil(now)
				if !ok {
					return
				}
				check(ev)
			}
		}
		node := func(label string) int { return rapid.IntRange(0, nodes-1).Draw(rt, label) }

		rt.Repeat(map[string]func(*rapid.T){
			"send": func(rt *rapid.T) {
				f, to := node("from"), node("to")
				seq++
				sentAt[seq] = now
				sentCut[seq] = cut(f, to)
				n.Send(now, msg(f, to, seq))
			},
			"advance": func(rt *rapid.T) {
				now = now.Add(ms(rapid.IntRange(0, 15).Draw(rt, "advanceMs")))
				deliverDue()
			},
			"partition": func(rt *rapid.T) {
				groups := make([][]proto.Address, 2)
				for i := range nodes {
					group[i] = rapid.IntRange(0, 2).Draw(rt, "group")
					if group[i] > 0 {
						groups[group[i]-1] = append(groups[group[i]-1], addr(i))
					}
				}
				n.Partition(groups...)
			},
			"isolate": func(rt *rapid.T) {
				i := node("isolate")
				isolated[i] = true
				n.Isolate(addr(i))
			},
			"cutOneWay": func(rt *rapid.T) {
				f, to := node("cutFrom"), node("cutTo")
				oneWay[[2]int{f, to}] = true
				n.CutOneWay(addr(f), addr(to))
			},
			"heal": func(rt *rapid.T) {
				clear(group)
				clear(isolated)
				clear(oneWay)
				n.Heal()
			},
			"clog": func(rt *rapid.T) {
				i := node("clog")
				until := now.Add(ms(rapid.IntRange(0, 30).Draw(rt, "clogMs")))
				if until.After(clogUntil[i]) {
					clogUntil[i] = until
				}
				n.Clog(addr(i), until)
			},
			"": func(rt *rapid.T) {
				s := n.Stats()
				if in, out := s.Sent+s.Duplicated, s.Delivered+s.Dropped.Total()+uint64(n.InFlight()); in != out {
					rt.Fatalf("accounting: Sent+Duplicated %d != Delivered+Dropped+InFlight %d (%+v)", in, out, s)
				}
				if dupDelivered > s.Duplicated {
					rt.Fatalf("%d duplicates delivered, only %d scheduled", dupDelivered, s.Duplicated)
				}
			},
		})
		for {
			ev, ok := n.Step()
			if !ok {
				break
			}
			check(ev)
		}
		if n.InFlight() != 0 || n.Pending() != 0 {
			rt.Fatalf("drained network has %d in flight, %d pending", n.InFlight(), n.Pending())
		}
	})
}

// TestPropertyNodeNumbering: Node numbers addresses in order of first
// sight, as a plain map would, whether or not an address shares its
// host's bytes with one seen before, through the index cache's growth.
func TestPropertyNodeNumbering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := New(rand.New(rand.NewSource(1)), Config{})
		hosts := make([]string, rapid.IntRange(1, 300).Draw(t, "hosts"))
		for i := range hosts {
			hosts[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		}
		hosts[0] = ""
		want := map[proto.Address]int{}
		for range rapid.IntRange(1, 1000).Draw(t, "lookups") {
			a := proto.Address{Host: hosts[rapid.IntRange(0, len(hosts)-1).Draw(t, "host")], Port: uint16(rapid.IntRange(0, 2).Draw(t, "port"))}
			if rapid.Bool().Draw(t, "copy host") {
				a.Host = strings.Clone(a.Host) // same text, other bytes
			}
			if _, ok := want[a]; !ok {
				want[a] = len(want)
			}
			if got := n.Node(a); got != want[a] {
				t.Fatalf("Node(%v) = %d, want %d", a, got, want[a])
			}
		}
	})
}

// TestPropertyTimerSet: a timerSet answers as a plain map of pending
// timers would, for ids on both sides of its dense range.
func TestPropertyTimerSet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s timerSet
		model := map[uint64]timerEntry{}
		id := rapid.OneOf(rapid.Uint64Range(0, 40), rapid.Uint64Range(maxDenseTimer-3, maxDenseTimer+3), rapid.Uint64())
		seq := uint64(0)
		for range rapid.IntRange(1, 200).Draw(t, "ops") {
			k := id.Draw(t, "id")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				seq++
				e := timerEntry{seq: seq, at: rapid.Int64().Draw(t, "at")}
				s.set(k, e)
				model[k] = e
			case 1:
				s.remove(k)
				delete(model, k)
			}
			got, ok := s.get(k)
			want, wantOK := model[k]
			if got != want || ok != wantOK || s.len() != len(model) {
				t.Fatalf("id %d: get = %v, %v, len %d; want %v, %v, len %d", k, got, ok, s.len(), want, wantOK, len(model))
			}
		}
	})
}
