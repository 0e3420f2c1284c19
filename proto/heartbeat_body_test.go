package proto

import (
	"math/rand"
	"testing"
	"time"
)

// TestHeartbeatBodiesKeepTheirValues: a node sends each heartbeat as a
// pointer into a block of bodies and answers a *Heartbeat with the same
// pointer as a *HeartbeatAck. Against the plain protocol (a fresh
// Heartbeat{Seq: seq} per target, seq counting up from 1 per node, and
// HeartbeatAck{Seq: seq} for every heartbeat, value or pointer): every
// heartbeat carries the next seq, every ack the seq of its heartbeat, in
// the form it came in, and no body changes once sent, though blocks are
// used up and replaced many times over.
func TestHeartbeatBodiesKeepTheirValues(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	c := newTestCluster(t, LocalConfig(), 11)
	c.start(addr(1), addr(1))
	for i := 2; i <= 5; i++ {
		c.start(addr(i), addr(1))
	}
	c.run(3*time.Second, 100*time.Millisecond)

	type sent struct {
		body *Heartbeat
		seq  uint64
	}
	var beats []sent
	lastSeq := map[UniqueAddress]uint64{} // per sender
	for a, n := range c.nodes {
		if n.Phase() != PhaseMember {
			t.Fatalf("%v: phase %v, want member", a, n.Phase())
		}
		lastSeq[n.Self()] = n.hbSeq
	}
	pointerAcks, valueAcks := 0, 0
	for round := 0; round < 400; round++ {
		c.now = c.now.Add(100 * time.Millisecond)
		for _, a := range c.order {
			if c.live(a) {
				c.nodes[a].Tick(c.now)
				c.collect(a)
			}
		}
		for len(c.inbox) > 0 {
			m := c.inbox[0]
			c.inbox = c.inbox[1:]
			var seq uint64
			switch b := m.Body.(type) {
			case Heartbeat:
				t.Fatalf("%v sent a Heartbeat value; nodes send *Heartbeat", m.From)
			case *Heartbeat:
				if b == nil || b.Seq != lastSeq[m.From]+1 {
					t.Fatalf("%v sent heartbeat %+v after seq %d", m.From, b, lastSeq[m.From])
				}
				lastSeq[m.From] = b.Seq
				beats = append(beats, sent{b, b.Seq})
				seq = b.Seq
				if rng.Intn(3) == 0 {
					m.Body = *b // a heartbeat as a decoder hands it over
				}
			default:
				c.deliver(m)
				continue
			}
			before := len(c.inbox)
			c.deliver(m)
			var acks []Message
			for _, out := range c.inbox[before:] {
				switch out.Body.(type) {
				case HeartbeatAck, *HeartbeatAck:
					acks = append(acks, out)
				}
			}
			if len(acks) != 1 || acks[0].To != m.From.Address || acks[0].ToUID != m.From.UID {
				t.Fatalf("heartbeat %d from %v to %v answered with %+v, want one ack to the sender", seq, m.From, m.To, acks)
			}
			want := HeartbeatAck{Seq: seq}
			switch got := acks[0].Body.(type) {
			case HeartbeatAck:
				if _, isValue := m.Body.(Heartbeat); !isValue || got != want {
					t.Fatalf("heartbeat %#v answered with %#v, want %#v", m.Body, got, want)
				}
				valueAcks++
			case *HeartbeatAck:
				p, isPointer := m.Body.(*Heartbeat)
				if !isPointer || got != (*HeartbeatAck)(p) || *got != want {
					t.Fatalf("heartbeat %#v answered with %#v (%+v), want its own pointer holding %+v", m.Body, got, *got, want)
				}
				pointerAcks++
			}
		}
	}
	if pointerAcks < 5*heartbeatBlock || valueAcks < 2*heartbeatBlock {
		t.Fatalf("%d pointer acks and %d value acks: too few to use up blocks", pointerAcks, valueAcks)
	}
	for _, b := range beats {
		if b.body.Seq != b.seq {
			t.Fatalf("a heartbeat sent with seq %d holds %d now", b.seq, b.body.Seq)
		}
	}
}

// TestNilHeartbeatPointer: a nil *Heartbeat body is dropped as invalid on
// both of Step's paths, and a nil *HeartbeatAck counts as an ack, as an
// ack never reads its Seq.
func TestNilHeartbeatPointer(t *testing.T) {
	for _, slow := range []bool{false, true} {
		n, err := New(LocalConfig(), addr(1), rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		n.slowSteps = slow
		if err := n.Step(epoch, Message{From: n.Self(), Body: JoinSeeds{}}); err != nil {
			t.Fatal(err)
		}
		n.Output()
		peer := UniqueAddress{Address: addr(2), UID: 2}
		before := n.Stats()
		if err := n.Step(epoch.Add(time.Millisecond), Message{From: peer, To: n.Self().Address, Body: (*Heartbeat)(nil)}); err != nil {
			t.Fatal(err)
		}
		if out := n.Output(); len(out.Messages) != 0 || n.Stats().DroppedInvalid != before.DroppedInvalid+1 {
			t.Fatalf("slow %v: a nil *Heartbeat gave %+v, stats %+v", slow, out.Messages, n.Stats())
		}
		before = n.Stats()
		if err := n.Step(epoch.Add(2*time.Millisecond), Message{From: peer, To: n.Self().Address, Body: (*HeartbeatAck)(nil)}); err != nil {
			t.Fatal(err)
		}
		// Not monitored: the one-node cluster's node watches nobody.
		if got := n.Stats(); got.DroppedIgnored != before.DroppedIgnored+1 || got.Received != before.Received+1 {
			t.Fatalf("slow %v: a nil *HeartbeatAck gave stats %+v, before %+v", slow, got, before)
		}
	}
}
