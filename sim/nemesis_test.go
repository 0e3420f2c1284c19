package sim

import (
	"testing"
	"time"
)

// TestSwizzleMaxKept: the longest swizzle the nemesis works out once is
// the one its params give, before and after a run (which does not change
// them), for profiles that keep a majority and ones that do not.
func TestSwizzleMaxKept(t *testing.T) {
	opts := []Options{
		{Seed: 1, Duration: 60 * time.Second},
		{Seed: 4, Faults: ProfileCrash, Config: ConfigWAN, Duration: 60 * time.Second},
	}
	for seed := int64(7); seed < 15; seed++ {
		opts = append(opts, Options{Seed: seed, Faults: ProfileSwarm, Duration: 60 * time.Second})
	}
	kept := map[bool]int{}
	for _, o := range opts {
		s, err := newSim(o)
		if err != nil {
			t.Fatal(err)
		}
		if s.nem == nil {
			t.Fatalf("seed %d: no nemesis", o.Seed)
		}
		before := swizzleMax(&s.p)
		if got := s.nem.swizzleMax(); got != before {
			t.Errorf("seed %d: swizzleMax = %v, want %v", o.Seed, got, before)
		}
		kept[s.p.KeepMajority]++
		nem := s.nem
		for i := 0; i < s.p.Nodes; i++ {
			s.start(s.slotFor(i))
		}
		s.run(s.end)
		if s.events == 0 {
			t.Errorf("seed %d: the run took no events", o.Seed)
		}
		if got, want := nem.swizzleMax(), swizzleMax(&s.p); got != want || want != before {
			t.Errorf("seed %d: after the run swizzleMax = %v, params give %v (before: %v)", o.Seed, got, want, before)
		}
	}
	if kept[true] == 0 || kept[false] == 0 {
		t.Errorf("runs keeping a majority or not: %v, want both", kept)
	}
}
