package sim

import "github.com/rumorhq/rumor/invariants"

// TEMPORARY: package invariants is being written; until NewChecker and
// Liveness exist these placeholders keep sim compiling. Replace with
// invariants.NewChecker / invariants.Liveness.

type expectation struct {
	Crashed, Left, Joined []uniq
}

type safetyChecker struct{}

func newSafetyChecker() *safetyChecker { return &safetyChecker{} }

func (c *safetyChecker) Observe(v invariants.View) []invariants.Violation { return nil }

func checkLiveness(views []invariants.View, exp expectation) []invariants.Violation { return nil }
