package proto

import (
	"errors"
	"fmt"
)

// Limits on what a node accepts from the network. They bound memory and
// work per message; a state over them is dropped and counted.
const (
	MaxMembers      = 100_000
	MaxClockEntries = 2 * MaxMembers
	MaxRoles        = 64
	MaxNameLen      = 256
)

// ErrInvalidState reports a malformed gossip state.
var ErrInvalidState = errors.New("proto: invalid state")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidState}, args...)...)
}

// validateClock checks a vector clock from the network.
func validateClock(v VClock) error {
	if len(v) > MaxClockEntries {
		return invalid("clock has %d entries, limit %d", len(v), MaxClockEntries)
	}
	for k, c := range v {
		if c == 0 || k.UID == 0 {
			return invalid("clock entry %v=%d", k, c)
		}
	}
	return nil
}

// ValidateState checks that a state from the network is well formed: sizes
// within limits, members sorted and unique with valid non-Removed statuses
// and non-zero UIDs, seen set and reachability sorted. It never panics.
func ValidateState(s *State) error { return validateState(s) }

func validateState(s *State) error {
	if s == nil {
		return invalid("nil state")
	}
	if len(s.Members) > MaxMembers {
		return invalid("%d members, limit %d", len(s.Members), MaxMembers)
	}
	if err := validateClock(s.Version); err != nil {
		return err
	}
	for i, m := range s.Members {
		if m.Node.UID == 0 || m.Node.Host == "" || len(m.Node.Host) > MaxNameLen {
			return invalid("member %d has a bad address %v", i, m.Node)
		}
		if !m.Status.Valid() || m.Status == Removed {
			return invalid("member %v has status %v", m.Node, m.Status)
		}
		if i > 0 && s.Members[i-1].Node.Compare(m.Node) >= 0 {
			return invalid("members not sorted at %v", m.Node)
		}
		if len(m.ID) > MaxNameLen || len(m.Roles) > MaxRoles || m.UpNumber < 0 {
			return invalid("member %v has a bad id, roles or up number", m.Node)
		}
		for j, r := range m.Roles {
			if r == "" || len(r) > MaxNameLen || (j > 0 && m.Roles[j-1] >= r) {
				return invalid("member %v has bad roles", m.Node)
			}
		}
	}
	if len(s.Seen) > len(s.Members) {
		return invalid("seen set larger than members")
	}
	for i, u := range s.Seen {
		if i > 0 && s.Seen[i-1].Compare(u) >= 0 {
			return invalid("seen set not sorted")
		}
	}
	if len(s.Reachability.Rows) > len(s.Members) {
		return invalid("more reachability rows than members")
	}
	for i, row := range s.Reachability.Rows {
		if i > 0 && s.Reachability.Rows[i-1].Observer.Compare(row.Observer) >= 0 {
			return invalid("reachability rows not sorted")
		}
		if len(row.Unreachable) > len(s.Members) {
			return invalid("reachability row too long")
		}
		for j, u := range row.Unreachable {
			if j > 0 && row.Unreachable[j-1].Compare(u) >= 0 {
				return invalid("reachability row of %v not sorted", row.Observer)
			}
		}
	}
	if len(s.Tombstones) > MaxMembers {
		return invalid("%d tombstones, limit %d", len(s.Tombstones), MaxMembers)
	}
	return nil
}
