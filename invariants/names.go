package invariants

// Names of the safety invariants Checker.Observe reports (Violation.Invariant).
// doc.go says what each means and why it matters.
const (
	AllowedTransition = "allowed-transition"
	NoResurrection    = "no-resurrection"
	OneLeader         = "one-leader"
	MembersOnly       = "members-only"
	AllocationValid   = "allocation-valid"
	EpochMonotone     = "epoch-monotone"
	EpochUnique       = "epoch-unique"
	RegistryLive      = "registry-live"
	VersionMonotone   = "version-monotone"
	SelfConsistent    = "self-consistent"
)

// Names of the liveness invariants Liveness reports.
const (
	LivenessMembers     = "liveness-members"
	LivenessLeader      = "liveness-leader"
	LivenessAllocations = "liveness-allocations"
	LivenessRegistry    = "liveness-registry"
	LivenessCrashed     = "liveness-crashed"
	LivenessLeft        = "liveness-left"
	LivenessJoined      = "liveness-joined"
	LivenessConverged   = "liveness-converged"
)
