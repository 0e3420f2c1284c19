package proto

import (
	"testing"
	"time"
)

// TestTickFiresTheDueTimers checks which periodic timers Tick fires, now
// that it decides all three up front and lets timers equal to the
// heartbeat's share its answer, against due() of each timer at the tick:
// a timer fired iff Tick re-armed it. Clusters whose intervals are equal,
// multiples of each other or unrelated put the timers in and out of step.
func TestTickFiresTheDueTimers(t *testing.T) {
	for _, iv := range []struct{ avail, gossip time.Duration }{
		{100 * time.Millisecond, 100 * time.Millisecond},
		{100 * time.Millisecond, 300 * time.Millisecond},
		{200 * time.Millisecond, 100 * time.Millisecond},
		{130 * time.Millisecond, 170 * time.Millisecond},
	} {
		cfg := LocalConfig()
		cfg.HeartbeatInterval = 100 * time.Millisecond
		cfg.AvailabilityInterval, cfg.GossipInterval = iv.avail, iv.gossip
		c := newTestCluster(t, cfg, 3)
		c.start(addr(1), addr(1))
		for i := 2; i <= 4; i++ {
			c.start(addr(i), addr(1))
		}
		equal, apart, fired := 0, 0, 0
		check := func(a Address, n *Node) {
			beat, avail, gossip, phase := n.nextHeartbeat, n.nextAvailability, n.nextGossip, n.Phase()
			now := n.now
			if c.now.After(now) {
				now = c.now
			}
			soon := now.Add(cfg.HeartbeatInterval / 4)
			n.Tick(c.now)
			c.collect(a)
			if phase != PhaseMember || n.Phase() != PhaseMember || due(n.leaveAt, now) {
				return
			}
			for _, tm := range []struct {
				name      string
				was, is   time.Time
				sharesDue bool
			}{
				{"heartbeat", beat, n.nextHeartbeat, true},
				{"availability", avail, n.nextAvailability, avail == beat},
				{"gossip", gossip, n.nextGossip, gossip == beat},
			} {
				if want, got := due(tm.was, soon), tm.is != tm.was; got != want {
					t.Fatalf("intervals %v: %v ticked at %v with the %s timer at %v: fired %v, want %v", iv, a, c.now, tm.name, tm.was, got, want)
				}
				if tm.name != "heartbeat" {
					if tm.sharesDue {
						equal++
					} else {
						apart++
					}
				}
				if tm.is != tm.was {
					fired++
				}
			}
		}
		c.runWith(5*time.Second, 30*time.Millisecond, check)
		c.partition([]Address{addr(1), addr(2)}, []Address{addr(3), addr(4)})
		c.runWith(3*time.Second, 70*time.Millisecond, check)
		if equal < 50 || apart < 50 || fired < 100 {
			t.Fatalf("intervals %v: %d timers equal to the heartbeat's, %d apart, %d fired: too few", iv, equal, apart, fired)
		}
	}
}
