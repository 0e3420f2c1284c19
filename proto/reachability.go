package proto

import (
	"slices"
	"sort"
)

// ObserverRow is one observer's view of whom it cannot reach. Only the
// observer writes its row, raising Version on every change, so rows merge by
// version alone.
//
// Invariant: Unreachable is sorted and has no duplicates.
type ObserverRow struct {
	Observer    UniqueAddress
	Version     uint64
	Unreachable []UniqueAddress
}

// Reachability is the table of observer rows gossiped with the state. A
// subject is unreachable when any counting observer's row lists it, and
// reachable again when every such row has dropped it.
//
// Invariant: Rows is sorted by Observer.
type Reachability struct {
	Rows []ObserverRow
}

// Clone returns a deep copy.
func (r Reachability) Clone() Reachability {
	out := Reachability{Rows: make([]ObserverRow, len(r.Rows))}
	for i, row := range r.Rows {
		row.Unreachable = append([]UniqueAddress(nil), row.Unreachable...)
		out.Rows[i] = row
	}
	return out
}

// rowIndex returns where observer's row is or would be inserted, and
// whether it is there.
func (r Reachability) rowIndex(observer UniqueAddress) (int, bool) {
	return r.lookupRow(observer, true)
}

// lookupRow is rowIndex(observer) if where is set. Otherwise only a row
// found matters, and a table of up to scanList rows is only scanned by
// equality, without comparing addresses.
func (r Reachability) lookupRow(observer UniqueAddress, where bool) (int, bool) {
	rows := r.Rows
	if len(rows) <= scanLimit(where) {
		for i := range rows {
			if rows[i].Observer.UID == observer.UID && sameNode(&rows[i].Observer, &observer) {
				return i, true
			}
		}
		if !where || len(rows) == 0 {
			return 0, false
		}
	}
	k := keyOf(observer)
	i := sort.Search(len(rows), func(i int) bool { return k.compareTo(rows[i].Observer) >= 0 })
	return i, i < len(rows) && rows[i].Observer == observer
}

// Row returns observer's row, if it has one.
func (r Reachability) Row(observer UniqueAddress) (ObserverRow, bool) {
	if i, ok := r.lookupRow(observer, false); ok {
		return r.Rows[i], true
	}
	return ObserverRow{}, false
}

// Observes reports whether observer's own row lists subject as unreachable.
func (r Reachability) Observes(observer, subject UniqueAddress) bool {
	row, ok := r.Row(observer)
	return ok && containsNode(row.Unreachable, subject)
}

// withRow returns a copy of r with observer's row replaced by the given set,
// at a version one above the old row's. The receiver is not modified.
func (r Reachability) withRow(observer UniqueAddress, unreachable []UniqueAddress) Reachability {
	out := Reachability{Rows: append([]ObserverRow(nil), r.Rows...)}
	i, ok := out.rowIndex(observer)
	row := ObserverRow{Observer: observer, Version: 1, Unreachable: unreachable}
	if ok {
		row.Version = out.Rows[i].Version + 1
		out.Rows[i] = row
		return out
	}
	out.Rows = append(out.Rows, ObserverRow{})
	copy(out.Rows[i+1:], out.Rows[i:])
	out.Rows[i] = row
	return out
}

// mergeReachability keeps, per observer, the row with the higher version
// (equal versions: the union, which only arises from corrupted input but
// keeps the merge a lattice join).
func mergeReachability(a, b Reachability) Reachability {
	// Tables with the same observers in the same places are joined row by
	// row: the join is mostly one of them, which is then returned without
	// being built.
	if a.Rows != nil && sameRows(a.Rows, b.Rows) {
		return a // the very rows: the join keeps them, as joinKeeps finds
	}
	if keeps, aligned := joinKeeps(a.Rows, b.Rows); aligned {
		if keeps && a.Rows != nil {
			return a
		}
		if k, _ := joinKeeps(b.Rows, a.Rows); k && b.Rows != nil {
			return b
		}
	}
	out := Reachability{Rows: joinSorted(a.Rows, b.Rows,
		func(x, y ObserverRow) int { return compareNodes(x.Observer, y.Observer) },
		same[ObserverRow],
		func(ra, rb ObserverRow) ObserverRow {
			switch {
			case ra.Version > rb.Version:
				return ra
			case rb.Version > ra.Version:
				return rb
			}
			ra.Unreachable = unionNodes(ra.Unreachable, rb.Unreachable)
			return ra
		})}
	// Share an input's rows when the join is one of them.
	switch {
	case a.Rows != nil && reachabilityEqual(out, a):
		return a
	case b.Rows != nil && reachabilityEqual(out, b):
		return b
	}
	return out
}

// joinKeeps reports, for tables a and b with the same observers in the
// same places (aligned), whether their row-by-row join is a's rows: every
// row of a has a higher version than b's, or the same version and the
// same subjects (whose union is that list).
func joinKeeps(a, b []ObserverRow) (keeps, aligned bool) {
	if len(a) != len(b) {
		return false, false
	}
	keeps = true
	for i := range a {
		ra, rb := &a[i], &b[i]
		if ra.Observer != rb.Observer {
			return false, false
		}
		if keeps && (ra.Version < rb.Version || (ra.Version == rb.Version && !nodesEqual(ra.Unreachable, rb.Unreachable))) {
			keeps = false
		}
	}
	return keeps, true
}

// prune drops rows of observers for which keepObserver is false and
// entries of subjects for which keepSubject is false. The two are asked
// separately, each in list order, so that each may be a cursor walking the
// members.
func (r Reachability) prune(keepObserver, keepSubject func(UniqueAddress) bool) Reachability {
	// The result is always a non-nil Rows of rows with non-nil lists; r's
	// own slices are returned when they already are exactly that, and are
	// never changed in place.
	if r.Rows != nil && r.pruneKeepsAll(keepObserver, keepSubject) {
		return r
	}
	out := Reachability{Rows: make([]ObserverRow, 0, len(r.Rows))}
	for _, row := range r.Rows {
		if !keepObserver(row.Observer) {
			continue
		}
		subjects := make([]UniqueAddress, 0, len(row.Unreachable))
		for _, s := range row.Unreachable {
			if keepSubject(s) {
				subjects = append(subjects, s)
			}
		}
		row.Unreachable = subjects
		out.Rows = append(out.Rows, row)
	}
	return out
}

// pruneKeepsAll reports whether prune would keep every row and subject of
// r and every list is already non-nil.
func (r Reachability) pruneKeepsAll(keepObserver, keepSubject func(UniqueAddress) bool) bool {
	for _, row := range r.Rows {
		if !keepObserver(row.Observer) || row.Unreachable == nil {
			return false
		}
		for _, s := range row.Unreachable {
			if !keepSubject(s) {
				return false
			}
		}
	}
	return true
}

func reachabilityEqual(a, b Reachability) bool {
	if len(a.Rows) != len(b.Rows) {
		return false
	}
	if sameRows(a.Rows, b.Rows) {
		return true
	}
	for i := range a.Rows {
		ra, rb := a.Rows[i], b.Rows[i]
		if ra.Observer != rb.Observer || ra.Version != rb.Version || !nodesEqual(ra.Unreachable, rb.Unreachable) {
			return false
		}
	}
	return true
}

// sortNodes sorts s by address. Compare is 0 only for equal nodes, so
// every correct sort gives the same order.
func sortNodes(s []UniqueAddress) {
	if len(s) < 2 {
		return
	}
	if len(s) <= sortByWordsMax && sortNodesByWords(s) {
		return
	}
	slices.SortFunc(s, UniqueAddress.Compare)
}

// sortByWordsMax is the longest list sortNodesByWords sorts.
const sortByWordsMax = 16

// sortNodesByWords sorts a short list whose hosts are all IPv4 by
// insertion, parsing each host once: it orders as Compare does, by the
// IPv4 word (equal words are equal hosts: an octet has one spelling),
// then port, then UID. It reports false, leaving s as it was, when some
// host is not IPv4.
func sortNodesByWords(s []UniqueAddress) bool {
	var words [sortByWordsMax]uint32
	for i := range s {
		w, ok := parseIPv4Word(s[i].Host)
		if !ok {
			return false
		}
		words[i] = w
	}
	for i := 1; i < len(s); i++ {
		u, w := s[i], words[i]
		j := i
		for ; j > 0 && nodeWordLess(&u, w, &s[j-1], words[j-1]); j-- {
			s[j], words[j] = s[j-1], words[j-1]
		}
		s[j], words[j] = u, w
	}
	return true
}

// nodeWordLess reports whether a, of IPv4 word wa, sorts before b, of
// IPv4 word wb.
func nodeWordLess(a *UniqueAddress, wa uint32, b *UniqueAddress, wb uint32) bool {
	if wa != wb {
		return wa < wb
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	return a.UID < b.UID
}

// shortList is the longest list a lookup scans by equality rather than
// searching by address: comparing UIDs costs a few instructions per entry,
// a comparison of addresses parses their hosts.
const shortList = 32

// scanList is the longest list a single lookup that needs no insertion
// point (only whether, and where, a node is there) scans rather than
// searches: a search of 256 entries parses 9 hosts, about as many
// instructions as a scan of them all. (Cursors, whose misses in member
// order cost a scan each, keep to shortList.)
const scanList = 256

// scanLimit is the longest list a lookup scans: scanList when a miss needs
// no insertion point (where is false), shortList when it does and so
// costs a scan and a search.
func scanLimit(where bool) int {
	if where {
		return shortList
	}
	return scanList
}

// sameNode is *a == *b, comparing the UIDs first: two nodes of one list
// almost always differ there, and mostly share host lengths and ports.
func sameNode(a, b *UniqueAddress) bool {
	return a.UID == b.UID && a.Port == b.Port && a.Host == b.Host
}

// indexNode returns the index of u in list, scanning by equality.
func indexNode(list []UniqueAddress, u *UniqueAddress) (int, bool) {
	uid := u.UID
	for i := range list {
		if list[i].UID != uid {
			continue // nearly every other node: one comparison
		}
		if sameNode(&list[i], u) {
			return i, true
		}
	}
	return 0, false
}

// containsNode reports whether the sorted list holds u.
func containsNode(sorted []UniqueAddress, u UniqueAddress) bool {
	if len(sorted) <= shortList {
		_, ok := indexNode(sorted, &u)
		return ok
	}
	k := keyOf(u)
	i := sort.Search(len(sorted), func(i int) bool { return k.compareTo(sorted[i]) >= 0 })
	return i < len(sorted) && sorted[i] == u
}

// nodeCursor answers containsNode(list, u) for a run of queries that
// mostly come in list order (a walk over another sorted list): it tries the
// element after the previous answer by equality before it searches.
type nodeCursor struct {
	list []UniqueAddress
	next int
}

func (c *nodeCursor) contains(u UniqueAddress) bool {
	if list := c.list; len(list) <= shortList {
		// From the previous answer on, then from the start.
		for j := c.next; j < len(list); j++ {
			if list[j].UID == u.UID && sameNode(&list[j], &u) {
				c.next = j + 1
				return true
			}
		}
		for j := 0; j < c.next && j < len(list); j++ {
			if list[j].UID == u.UID && sameNode(&list[j], &u) {
				c.next = j + 1
				return true
			}
		}
		return false
	}
	return c.search(&u)
}

// search is contains(*u) for a list longer than shortList.
func (c *nodeCursor) search(up *UniqueAddress) bool {
	u := *up
	for j := c.next; j < len(c.list) && j < c.next+cursorProbe; j++ {
		if c.list[j] == u {
			c.next = j + 1
			return true
		}
	}
	if len(c.list) == 0 {
		return false
	}
	k := keyOf(u)
	if c.between(&k) {
		return false // u falls just before c.next, where it is not
	}
	i := sort.Search(len(c.list), func(i int) bool { return k.compareTo(c.list[i]) >= 0 })
	if i < len(c.list) && c.list[i] == u {
		c.next = i + 1
		return true
	}
	c.next = i
	return false
}

// between reports whether k's node lies strictly between list[next-1]
// and list[next] (either missing at the ends): then it is not in the list
// and a search would end at next. A query in list order that is not in the
// list is mostly there.
func (c *nodeCursor) between(k *nodeKey) bool {
	n := c.next
	return (n == len(c.list) || k.compareTo(c.list[n]) > 0) && (n == 0 || k.compareTo(c.list[n-1]) < 0)
}

func unionNodes(a, b []UniqueAddress) []UniqueAddress {
	return joinSorted(a, b, compareNodes, same[UniqueAddress], first[UniqueAddress])
}

func compareNodes(x, y UniqueAddress) int {
	if x == y {
		return 0
	}
	return x.Compare(y)
}

func nodesEqual(a, b []UniqueAddress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
