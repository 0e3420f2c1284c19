package proto

import (
	"strconv"
	"strings"
)

// MemberStatus is where a member is in its lifecycle. The numeric order is
// the merge precedence: a concurrent merge keeps the higher status, so a
// member never moves backwards.
type MemberStatus uint8

// The seven statuses, in precedence order.
const (
	Joining MemberStatus = iota + 1
	WeaklyUp
	Up
	Leaving
	Exiting
	Down
	Removed
)

var statusNames = [...]string{"", "Joining", "WeaklyUp", "Up", "Leaving", "Exiting", "Down", "Removed"}

// String returns the status name.
func (s MemberStatus) String() string {
	if int(s) < len(statusNames) && s != 0 {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is one of the seven statuses.
func (s MemberStatus) Valid() bool { return s >= Joining && s <= Removed }

// ParseStatus is the inverse of String.
func ParseStatus(name string) (MemberStatus, bool) {
	for i, n := range statusNames {
		if i > 0 && strings.EqualFold(n, name) {
			return MemberStatus(i), true
		}
	}
	return 0, false
}

// allowed[from] is the set of statuses reachable from from in one step.
var allowed = [...][]MemberStatus{
	Joining:  {WeaklyUp, Up, Leaving, Down, Removed},
	WeaklyUp: {Up, Leaving, Down, Removed},
	Up:       {Leaving, Down, Removed},
	Leaving:  {Exiting, Down, Removed},
	Exiting:  {Removed, Down},
	Down:     {Removed},
	Removed:  nil,
}

// CanTransition reports whether a member may move from one status to another
// in one observed step. Staying put is always allowed. Every other move is a
// protocol bug that the invariants catch.
func CanTransition(from, to MemberStatus) bool {
	if from == to {
		return true
	}
	if !from.Valid() || !to.Valid() {
		return false
	}
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Member is one incarnation's record in the gossip state.
type Member struct {
	Node   UniqueAddress
	ID     NodeID
	Status MemberStatus
	// Roles are free labels the node advertised when it joined. Sorted.
	Roles []string
	// UpNumber orders members by age: the leader assigns 1, 2, 3, ... as it
	// moves members to Up. 0 until then. KeepOldest downing reads it.
	UpNumber int64
	// Hosts are the shard types this member declared it hosts, sorted by
	// name. Only the member itself changes them, raising HostsVersion.
	Hosts        []ShardType
	HostsVersion uint64
}

// Clone returns a deep copy.
func (m Member) Clone() Member {
	m.Roles = append([]string(nil), m.Roles...)
	m.Hosts = append([]ShardType(nil), m.Hosts...)
	return m
}

// HasRole reports whether the member advertised role.
func (m Member) HasRole(role string) bool {
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// olderThan reports whether m joined Up before o (lower UpNumber; members
// not yet Up are youngest; ties go to the lower address).
func (m Member) olderThan(o Member) bool {
	mu, ou := m.UpNumber, o.UpNumber
	if mu == 0 {
		mu = 1<<63 - 1
	}
	if ou == 0 {
		ou = 1<<63 - 1
	}
	if mu != ou {
		return mu < ou
	}
	return m.Node.Compare(o.Node) < 0
}

// mergeMember joins two records of the same incarnation: the higher status
// wins and the lowest non-zero UpNumber is kept. It is commutative,
// associative and idempotent.
func mergeMember(a, b Member) Member {
	out := a
	if b.Status > a.Status {
		out.Status = b.Status
	}
	switch {
	case a.UpNumber == 0:
		out.UpNumber = b.UpNumber
	case b.UpNumber != 0 && b.UpNumber < a.UpNumber:
		out.UpNumber = b.UpNumber
	}
	if out.ID == "" || (b.ID != "" && b.ID < out.ID) {
		out.ID = b.ID
	}
	if b.HostsVersion > a.HostsVersion || (b.HostsVersion == a.HostsVersion && hostsLess(b.Hosts, a.Hosts)) {
		out.Hosts, out.HostsVersion = b.Hosts, b.HostsVersion
	}
	if len(b.Roles) > len(out.Roles) || (len(b.Roles) == len(out.Roles) && stringsLess(b.Roles, out.Roles)) {
		out.Roles = b.Roles
	}
	return out
}

func memberEqual(a, b Member) bool {
	if a.Node != b.Node || a.ID != b.ID || a.Status != b.Status || a.UpNumber != b.UpNumber || len(a.Roles) != len(b.Roles) ||
		a.HostsVersion != b.HostsVersion || len(a.Hosts) != len(b.Hosts) {
		return false
	}
	for i := range a.Hosts {
		if a.Hosts[i] != b.Hosts[i] {
			return false
		}
	}
	for i := range a.Roles {
		if a.Roles[i] != b.Roles[i] {
			return false
		}
	}
	return true
}

// hostsLess orders two host lists (only used to break ties between equal
// HostsVersions, which only corrupted input produces).
func hostsLess(a, b []ShardType) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i].Name != b[i].Name {
				return a[i].Name < b[i].Name
			}
			if a[i].Shards != b[i].Shards {
				return a[i].Shards < b[i].Shards
			}
			return a[i].Replicas < b[i].Replicas
		}
	}
	return len(a) < len(b)
}

// Hosting reports whether the member declared shard type name.
func (m Member) Hosting(name string) (ShardType, bool) {
	for _, t := range m.Hosts {
		if t.Name == name {
			return t, true
		}
	}
	return ShardType{}, false
}

// stringsLess orders two string lists element by element.
func stringsLess(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
