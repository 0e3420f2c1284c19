package proto

import "strings"

// Structural sharing. A State is never modified once assigned, so a new
// state may reuse the slices of an older one wherever their contents are
// the same. These helpers decide when that is possible and recognise
// shared slices again, so that work derived from a slice (unreachable
// sets, ring signatures, snapshot comparisons) is done once per distinct
// slice rather than once per state.

// sameMembers reports whether a and b are the same slice (same backing
// array and length), which implies equal contents.
func sameMembers(a, b []Member) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameRows(a, b []ObserverRow) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameNodes(a, b []UniqueAddress) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameShardTypes(a, b []ShardType) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameAllocations(a, b []TypeAllocation) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameRegistry(a, b []RegistryRow) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameEntries(a, b []ServiceEntry) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// normalMember reports whether m's slices are in the form Member.Clone
// produces (nil when empty), so sharing m is indistinguishable from
// cloning it.
func normalMember(m *Member) bool {
	return (len(m.Roles) > 0 || m.Roles == nil) && (len(m.Hosts) > 0 || m.Hosts == nil)
}

// mergeMembers joins two member lists sorted by node, record by record.
// The result is a or b itself when the join equals it (and its records
// are in cloned form); otherwise it is a new slice whose records share
// their Roles and Hosts with the inputs. It never returns nil.
func mergeMembers(a, b []Member) []Member {
	if len(a) > 0 && sameMembers(a, b) && membersNormal(a) {
		return a
	}
	if len(a) == len(b) && len(a) > 0 {
		aligned := true
		for i := range a {
			if a[i].Node != b[i].Node {
				aligned = false
				break
			}
		}
		if aligned {
			fromA, fromB := true, true
			for i := range a {
				if identicalMembers(&a[i], &b[i]) {
					continue // the join is the record itself
				}
				m := mergeMember(a[i], b[i])
				if fromA && !memberEqual(m, a[i]) {
					fromA = false
				}
				if fromB && !memberEqual(m, b[i]) {
					fromB = false
				}
				if !fromA && !fromB {
					break
				}
			}
			if fromA && membersNormal(a) {
				return a
			}
			if fromB && membersNormal(b) {
				return b
			}
			out := make([]Member, len(a))
			for i := range a {
				out[i] = normalized(mergeMember(a[i], b[i]))
			}
			return out
		}
	}
	return joinSorted(a, b,
		func(x, y Member) int { return compareNodes(x.Node, y.Node) },
		normalized,
		func(x, y Member) Member { return normalized(mergeMember(x, y)) })
}

// identicalMembers reports whether two records hold equal fields and the
// same Roles and Hosts slices (or both none), so that mergeMember returns
// the first unchanged.
func identicalMembers(x, y *Member) bool {
	return x.Node == y.Node && x.ID == y.ID && x.Status == y.Status && x.UpNumber == y.UpNumber &&
		x.HostsVersion == y.HostsVersion && sameStrings(x.Roles, y.Roles) && sameShardTypes(x.Hosts, y.Hosts)
}

// normalized returns m with empty Roles and Hosts set to nil, as Clone
// leaves them.
func normalized(m Member) Member {
	if len(m.Roles) == 0 {
		m.Roles = nil
	}
	if len(m.Hosts) == 0 {
		m.Hosts = nil
	}
	return m
}

func membersNormal(ms []Member) bool {
	for i := range ms {
		if !normalMember(&ms[i]) {
			return false
		}
	}
	return true
}

// compareKeys returns a.u.Compare(b.u), using the hosts' parsed IPv4
// words so that a walk over a sorted list parses each host once.
func compareKeys(a, b *nodeKey) int {
	if a.u.Host != b.u.Host {
		if a.isV4 && b.isV4 {
			if a.v4 != b.v4 {
				if a.v4 < b.v4 {
					return -1
				}
				return 1
			}
			return strings.Compare(a.u.Host, b.u.Host)
		}
		return a.u.Address.compareHosts(b.u.Address)
	}
	if a.u.Port != b.u.Port {
		return comparePorts(a.u.Port, b.u.Port)
	}
	switch {
	case a.u.UID < b.u.UID:
		return -1
	case a.u.UID > b.u.UID:
		return 1
	}
	return 0
}
