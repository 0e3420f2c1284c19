package netsim

import (
	"fmt"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/rumorhq/rumor/proto"
)

// epoch is the simulated start instant of every test.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// addr is node i's address.
func addr(i int) proto.Address {
	return proto.Address{Host: "10.0.0." + strconv.Itoa(i), Port: 7000}
}

// msg is a heartbeat from node from to node to carrying seq, the message's
// identity in the tests.
func msg(from, to int, seq uint64) proto.Message {
	return proto.Message{
		From: proto.UniqueAddress{Address: addr(from), UID: proto.UID(from + 1)},
		To:   addr(to),
		Body: proto.Heartbeat{Seq: seq},
	}
}

func seqOf(m proto.Message) uint64 { return m.Body.(proto.Heartbeat).Seq }

func newNet(t testing.TB, seed int64, cfg Config) *Network {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(%v) = %v", cfg, err)
	}
	return New(rand.New(rand.NewSource(seed)), cfg)
}

// drain steps n until it is empty and returns every event.
func drain(n *Network) []Event {
	var evs []Event
	for {
		ev, ok := n.Step()
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
}

// line renders an event for trace comparison.
func line(ev Event) string {
	switch ev.Kind {
	case Delivery:
		return fmt.Sprintf("%v deliver %v->%v seq=%d dup=%v sent=%v",
			ev.At.Sub(epoch), ev.Msg.From.Address, ev.Msg.To, seqOf(ev.Msg), ev.Duplicate, ev.SentAt.Sub(epoch))
	case Timer:
		return fmt.Sprintf("%v timer %d", ev.At.Sub(epoch), ev.Timer)
	}
	return "bad event kind " + ev.Kind.String()
}

// checkAccounting asserts Sent + Duplicated == Delivered + Dropped + InFlight.
func checkAccounting(t testing.TB, n *Network) {
	t.Helper()
	s := n.Stats()
	if in, out := s.Sent+s.Duplicated, s.Delivered+s.Dropped.Total()+uint64(n.InFlight()); in != out {
		t.Errorf("accounting: Sent+Duplicated = %d, Delivered+Dropped+InFlight = %d (stats %+v, in flight %d)",
			in, out, s, n.InFlight())
	}
}
