package wire

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rumorhq/rumor/proto"
)

// table interns the node identities of one State or GossipStatus encoding:
// each UniqueAddress is written once and named elsewhere by its ref.
//
// Encoding walks the state once, giving each identity a provisional ref in
// order of first appearance (one map operation per reference); seal then
// sorts the table into wire order and remap rewrites provisional refs into
// final ones with an array lookup.
type table struct {
	ids   map[proto.UniqueAddress]ref // provisional refs
	nodes []proto.UniqueAddress       // by provisional ref - 1; wire order after seal
	perm  []ref                       // perm[provisional] = final; perm[0] = 0
	arena []ref                       // backing store of the lists from alloc
	extra [][]ref                     // lists from alloc that did not fit the arena
}

func newTable(hint int) *table {
	return &table{ids: make(map[proto.UniqueAddress]ref, hint), nodes: make([]proto.UniqueAddress, 0, hint)}
}

// ref returns u's provisional ref, adding u to the table if needed.
func (t *table) ref(u proto.UniqueAddress) ref {
	if r, ok := t.ids[u]; ok {
		return r
	}
	t.nodes = append(t.nodes, u)
	r := ref(len(t.nodes))
	t.ids[u] = r
	return r
}

// alloc returns an empty ref list with capacity n, carved from the arena
// (one allocation for the many short lists of a state). Lists that do not
// fit are allocated apart and remembered, so remapAll still reaches them.
func (t *table) alloc(n int) []ref {
	if n == 0 {
		return nil
	}
	if a := t.arena; cap(a)-len(a) >= n {
		t.arena = a[:len(a)+n]
		return a[len(a) : len(a) : len(a)+n]
	}
	out := make([]ref, 0, n)
	t.extra = append(t.extra, out[:n])
	return out
}

// refList returns the provisional refs of us.
func (t *table) refList(us []proto.UniqueAddress) []ref {
	out := t.alloc(len(us))
	for _, u := range us {
		out = append(out, t.ref(u))
	}
	return out
}

// seal sorts the table into wire order and computes the final refs.
func (t *table) seal() {
	order := make([]int, len(t.nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return compareWire(t.nodes[a], t.nodes[b]) })
	t.perm = make([]ref, len(t.nodes)+1)
	sorted := make([]proto.UniqueAddress, len(t.nodes))
	for final, p := range order {
		t.perm[p+1] = ref(final + 1)
		sorted[final] = t.nodes[p]
	}
	t.nodes = sorted
}

// remapLists rewrites the provisional refs of every list from alloc into
// final ones.
func (t *table) remapLists() {
	for _, xs := range append(t.extra, t.arena) {
		for i, x := range xs {
			xs[i] = t.perm[x]
		}
	}
}

func (t *table) wire() []wireNode {
	if len(t.nodes) == 0 {
		return nil
	}
	out := make([]wireNode, len(t.nodes))
	for i, u := range t.nodes {
		out[i] = wireNode{Host: u.Host, Port: u.Port, UID: uint64(u.UID)}
	}
	return out
}

// check rejects identities that no decoder accepts.
func (t *table) check() error {
	for _, u := range t.nodes {
		if err := checkNode(u, true); err != nil {
			return malformed("node %v", err)
		}
	}
	return nil
}

// compareWire is the node table's order: host bytes, then port, then UID.
// It is not proto's address order (which parses IP literals); it only has
// to be canonical and cheap, so that encodings are deterministic and a
// decoder can reject duplicate entries in one pass.
func compareWire(a, b proto.UniqueAddress) int {
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.UID, b.UID)
}

// clockToWire lists v's entries with provisional refs; finishClock sorts
// them by final ref once the table is sealed.
func clockToWire(v proto.VClock, t *table) []wireClockEntry {
	if len(v) == 0 {
		return nil
	}
	out := make([]wireClockEntry, 0, len(v))
	for k, c := range v {
		out = append(out, wireClockEntry{Node: t.ref(k), Count: c})
	}
	return out
}

func finishClock(es []wireClockEntry, t *table) {
	for i := range es {
		es[i].Node = t.perm[es[i].Node]
	}
	slices.SortFunc(es, func(a, b wireClockEntry) int { return cmp.Compare(a.Node, b.Node) })
}

func shardTypeToWire(st proto.ShardType) wireShardType {
	return wireShardType{Name: st.Name, Shards: int64(st.Shards), Replicas: int64(st.Replicas)}
}

// shardTypesToWire converts ts into space carved from *arena.
func shardTypesToWire(ts []proto.ShardType, arena *[]wireShardType) []wireShardType {
	if len(ts) == 0 {
		return nil
	}
	a := *arena
	if cap(a)-len(a) < len(ts) {
		a = make([]wireShardType, 0, len(ts))
	}
	out := a[len(a) : len(a)+len(ts) : len(a)+len(ts)]
	*arena = a[:len(a)+len(ts)]
	for i, st := range ts {
		out[i] = shardTypeToWire(st)
	}
	return out
}

// stateToWire interns s's identities and converts it. With check it first
// refuses what stateFromWire would reject.
func stateToWire(s *proto.State, check bool) (*wireState, error) {
	if check {
		if err := proto.ValidateState(s); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if err := checkStateText(s); err != nil {
			return nil, err
		}
	}
	t := newTable(len(s.Members) + len(s.Tombstones))
	n := len(s.Seen) + len(s.Tombstones)
	for _, row := range s.Reachability.Rows {
		n += len(row.Unreachable)
	}
	for _, ta := range s.Allocations {
		for _, a := range ta.Shards {
			n += len(a.Replicas)
		}
	}
	t.arena = make([]ref, 0, n)

	ws := &wireState{AllocationEpoch: uint64(s.AllocationEpoch)}
	if len(s.Members) > 0 {
		hosts := 0
		for _, m := range s.Members {
			hosts += len(m.Hosts)
		}
		typeArena := make([]wireShardType, 0, hosts)
		ws.Members = make([]wireMember, len(s.Members))
		for i, m := range s.Members {
			ws.Members[i] = wireMember{
				Node: t.ref(m.Node), ID: string(m.ID), Status: uint8(m.Status), Roles: m.Roles,
				UpNumber: m.UpNumber, Hosts: shardTypesToWire(m.Hosts, &typeArena), HostsVersion: m.HostsVersion,
			}
		}
	}
	if len(s.Reachability.Rows) > 0 {
		ws.Rows = make([]wireRow, len(s.Reachability.Rows))
		for i, row := range s.Reachability.Rows {
			ws.Rows[i] = wireRow{Observer: t.ref(row.Observer), Version: row.Version, Unreachable: t.refList(row.Unreachable)}
		}
	}
	ws.Clock = clockToWire(s.Version, t)
	ws.Seen = t.refList(s.Seen)
	if len(s.Tombstones) > 0 {
		ws.Tombstones = t.alloc(len(s.Tombstones))
		for k := range s.Tombstones {
			ws.Tombstones = append(ws.Tombstones, t.ref(k))
		}
	}
	if len(s.Allocations) > 0 {
		ws.Allocations = make([]wireTypeAlloc, len(s.Allocations))
		for i, ta := range s.Allocations {
			wt := wireTypeAlloc{Type: shardTypeToWire(ta.Type), Epoch: uint64(ta.Epoch)}
			if len(ta.Shards) > 0 {
				wt.Shards = make([]wireShard, len(ta.Shards))
				for j, a := range ta.Shards {
					var p ref
					if a.Primary != (proto.UniqueAddress{}) {
						p = t.ref(a.Primary)
					}
					wt.Shards[j] = wireShard{Primary: p, Replicas: t.refList(a.Replicas), Epoch: uint64(a.Epoch)}
				}
			}
			ws.Allocations[i] = wt
		}
	}
	if len(s.Registry) > 0 {
		ws.Registry = make([]wireRegistryRow, len(s.Registry))
		for i, row := range s.Registry {
			wr := wireRegistryRow{Owner: t.ref(row.Owner), Version: row.Version}
			if len(row.Entries) > 0 {
				wr.Entries = make([]wireEntry, len(row.Entries))
				for j, e := range row.Entries {
					we := wireEntry{Key: e.Key, Path: e.Path}
					if e.Node != row.Owner {
						we.Node = t.ref(e.Node)
					}
					wr.Entries[j] = we
				}
			}
			ws.Registry[i] = wr
		}
	}

	t.seal()
	if check {
		if err := t.check(); err != nil {
			return nil, err
		}
	}
	ws.Nodes = t.wire()
	for i := range ws.Members {
		ws.Members[i].Node = t.perm[ws.Members[i].Node]
	}
	for i := range ws.Rows {
		ws.Rows[i].Observer = t.perm[ws.Rows[i].Observer]
	}
	t.remapLists() // every unreachable, seen, tombstone and replica ref
	slices.Sort(ws.Tombstones)
	finishClock(ws.Clock, t)
	for i := range ws.Allocations {
		for j := range ws.Allocations[i].Shards {
			ws.Allocations[i].Shards[j].Primary = t.perm[ws.Allocations[i].Shards[j].Primary]
		}
	}
	for i := range ws.Registry {
		ws.Registry[i].Owner = t.perm[ws.Registry[i].Owner]
		for j := range ws.Registry[i].Entries {
			ws.Registry[i].Entries[j].Node = t.perm[ws.Registry[i].Entries[j].Node]
		}
	}
	return ws, nil
}

// checkStateText rejects text that is not UTF-8 (hosts are checked with the
// node table). Lengths are proto.ValidateState's business.
func checkStateText(s *proto.State) error {
	for i, m := range s.Members {
		if !utf8.ValidString(string(m.ID)) {
			return malformed("members[%d].id %q is not UTF-8", i, m.ID)
		}
		for j, r := range m.Roles {
			if !utf8.ValidString(r) {
				return malformed("members[%d].roles[%d] %q is not UTF-8", i, j, r)
			}
		}
		for j, h := range m.Hosts {
			if !utf8.ValidString(h.Name) {
				return malformed("members[%d].hosts[%d].name %q is not UTF-8", i, j, h.Name)
			}
		}
	}
	for i, ta := range s.Allocations {
		if !utf8.ValidString(ta.Type.Name) {
			return malformed("allocations[%d].type.name %q is not UTF-8", i, ta.Type.Name)
		}
	}
	for i, row := range s.Registry {
		for j, e := range row.Entries {
			if !utf8.ValidString(e.Key) || !utf8.ValidString(e.Path) {
				return malformed("registry[%d].entries[%d] (%q, %q) is not UTF-8", i, j, e.Key, e.Path)
			}
		}
	}
	return nil
}

// resolver maps refs back to identities.
type resolver []proto.UniqueAddress

// nodesFromWire checks a node table: valid identities in strictly
// increasing wire order (so no duplicates).
func nodesFromWire(ws []wireNode) (resolver, error) {
	out := make(resolver, len(ws))
	for i, w := range ws {
		u := proto.UniqueAddress{Address: proto.Address{Host: w.Host, Port: w.Port}, UID: proto.UID(w.UID)}
		if err := checkNode(u, false); err != nil {
			return nil, malformed("nodes[%d]: %v", i, err)
		}
		if i > 0 && compareWire(out[i-1], u) >= 0 {
			return nil, malformed("nodes[%d] %v: table not in increasing (host, port, uid) order", i, u)
		}
		out[i] = u
	}
	return out, nil
}

func (r resolver) get(x ref) (proto.UniqueAddress, bool) {
	if x == 0 || int(x) > len(r) {
		return proto.UniqueAddress{}, false
	}
	return r[x-1], true
}

// bad describes a ref that get refused; where is a path like
// "members[3].node".
func (r resolver) bad(x ref, where string) error {
	if x == 0 {
		return malformed("%s: missing node ref", where)
	}
	return malformed("%s: node ref %d out of range (table has %d nodes)", where, x, len(r))
}

// list resolves a list of required refs. On failure it returns the index
// of the bad ref, for the caller to name in its error (formatting the path
// only on failure keeps decoding free of per-field allocations).
func (r resolver) list(xs []ref) ([]proto.UniqueAddress, int, bool) {
	if len(xs) == 0 {
		return nil, 0, true
	}
	out := make([]proto.UniqueAddress, len(xs))
	for i, x := range xs {
		u, ok := r.get(x)
		if !ok {
			return nil, i, false
		}
		out[i] = u
	}
	return out, 0, true
}

// clockFromWire rebuilds a clock: refs strictly increasing (no node twice),
// counters non-zero.
func clockFromWire(es []wireClockEntry, r resolver, where string) (proto.VClock, error) {
	if len(es) > proto.MaxClockEntries {
		return nil, fmt.Errorf("%w: %s: %d entries, limit %d", ErrTooLarge, where, len(es), proto.MaxClockEntries)
	}
	v := make(proto.VClock, len(es))
	for i, e := range es {
		u, ok := r.get(e.Node)
		if !ok {
			return nil, r.bad(e.Node, fmt.Sprintf("%s[%d]", where, i))
		}
		if i > 0 && es[i-1].Node >= e.Node {
			return nil, malformed("%s[%d]: ref %d not above ref %d", where, i, e.Node, es[i-1].Node)
		}
		if e.Count == 0 {
			return nil, malformed("%s[%d]: zero counter for %v", where, i, u)
		}
		v[u] = e.Count
	}
	return v, nil
}

// shardTypeFromWire reports false when a count does not fit an int (on
// 32-bit platforms).
func shardTypeFromWire(w wireShardType) (proto.ShardType, bool) {
	st := proto.ShardType{Name: w.Name, Shards: int(w.Shards), Replicas: int(w.Replicas)}
	return st, int64(st.Shards) == w.Shards && int64(st.Replicas) == w.Replicas
}

func overflow(where string, w wireShardType) error {
	return malformed("%s: counts %d/%d overflow int", where, w.Shards, w.Replicas)
}

// stateFromWire rebuilds a state from its wire form and validates it.
// Tombstones get the zero time.
func stateFromWire(w *wireState) (*proto.State, error) {
	r, err := nodesFromWire(w.Nodes)
	if err != nil {
		return nil, err
	}
	s := &proto.State{
		AllocationEpoch: proto.Epoch(w.AllocationEpoch),
		Tombstones:      make(map[proto.UniqueAddress]time.Time, len(w.Tombstones)),
	}
	if s.Version, err = clockFromWire(w.Clock, r, "clock"); err != nil {
		return nil, err
	}
	if len(w.Members) > 0 {
		s.Members = make([]proto.Member, len(w.Members))
		for i, wm := range w.Members {
			u, ok := r.get(wm.Node)
			if !ok {
				return nil, r.bad(wm.Node, fmt.Sprintf("members[%d].node", i))
			}
			m := proto.Member{Node: u, ID: proto.NodeID(wm.ID), Status: proto.MemberStatus(wm.Status), Roles: wm.Roles,
				UpNumber: wm.UpNumber, HostsVersion: wm.HostsVersion}
			if len(wm.Hosts) > 0 {
				m.Hosts = make([]proto.ShardType, len(wm.Hosts))
				for j, h := range wm.Hosts {
					var ok bool
					if m.Hosts[j], ok = shardTypeFromWire(h); !ok {
						return nil, overflow(fmt.Sprintf("members[%d].hosts[%d]", i, j), h)
					}
				}
			}
			s.Members[i] = m
		}
	}
	if len(w.Rows) > 0 {
		s.Reachability.Rows = make([]proto.ObserverRow, len(w.Rows))
		for i, wr := range w.Rows {
			u, ok := r.get(wr.Observer)
			if !ok {
				return nil, r.bad(wr.Observer, fmt.Sprintf("reachability[%d].observer", i))
			}
			unreachable, j, ok := r.list(wr.Unreachable)
			if !ok {
				return nil, r.bad(wr.Unreachable[j], fmt.Sprintf("reachability[%d].unreachable[%d]", i, j))
			}
			row := proto.ObserverRow{Observer: u, Version: wr.Version, Unreachable: unreachable}
			s.Reachability.Rows[i] = row
		}
	}
	seen, j, ok := r.list(w.Seen)
	if !ok {
		return nil, r.bad(w.Seen[j], fmt.Sprintf("seen[%d]", j))
	}
	s.Seen = seen
	for i, x := range w.Tombstones {
		u, ok := r.get(x)
		if !ok {
			return nil, r.bad(x, fmt.Sprintf("tombstones[%d]", i))
		}
		if i > 0 && w.Tombstones[i-1] >= x {
			return nil, malformed("tombstones[%d]: ref %d not above ref %d", i, x, w.Tombstones[i-1])
		}
		s.Tombstones[u] = time.Time{}
	}
	if len(w.Allocations) > 0 {
		s.Allocations = make([]proto.TypeAllocation, len(w.Allocations))
		for i, wt := range w.Allocations {
			st, ok := shardTypeFromWire(wt.Type)
			if !ok {
				return nil, overflow(fmt.Sprintf("allocations[%d].type", i), wt.Type)
			}
			ta := proto.TypeAllocation{Type: st, Epoch: proto.Epoch(wt.Epoch)}
			if len(wt.Shards) > 0 {
				ta.Shards = make([]proto.ShardAllocation, len(wt.Shards))
				for j, ws := range wt.Shards {
					a := proto.ShardAllocation{Epoch: proto.Epoch(ws.Epoch)}
					if ws.Primary != 0 {
						u, ok := r.get(ws.Primary)
						if !ok {
							return nil, r.bad(ws.Primary, fmt.Sprintf("allocations[%d].shards[%d].primary", i, j))
						}
						a.Primary = u
					}
					replicas, k, ok := r.list(ws.Replicas)
					if !ok {
						return nil, r.bad(ws.Replicas[k], fmt.Sprintf("allocations[%d].shards[%d].replicas[%d]", i, j, k))
					}
					a.Replicas = replicas
					ta.Shards[j] = a
				}
			}
			s.Allocations[i] = ta
		}
	}
	if len(w.Registry) > 0 {
		s.Registry = make([]proto.RegistryRow, len(w.Registry))
		for i, wr := range w.Registry {
			owner, ok := r.get(wr.Owner)
			if !ok {
				return nil, r.bad(wr.Owner, fmt.Sprintf("registry[%d].owner", i))
			}
			row := proto.RegistryRow{Owner: owner, Version: wr.Version}
			if len(wr.Entries) > 0 {
				row.Entries = make([]proto.ServiceEntry, len(wr.Entries))
				for j, we := range wr.Entries {
					e := proto.ServiceEntry{Key: we.Key, Node: owner, Path: we.Path}
					if we.Node != 0 {
						if e.Node, ok = r.get(we.Node); !ok {
							return nil, r.bad(we.Node, fmt.Sprintf("registry[%d].entries[%d].node", i, j))
						}
					}
					row.Entries[j] = e
				}
			}
			s.Registry[i] = row
		}
	}
	if err := proto.ValidateState(s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return s, nil
}

// statusToWire interns the clock's keys in the status's own table.
func statusToWire(b proto.GossipStatus, check bool) (wireStatus, error) {
	if check {
		if len(b.Version) > proto.MaxClockEntries {
			return wireStatus{}, fmt.Errorf("%w: clock: %d entries, limit %d", ErrTooLarge, len(b.Version), proto.MaxClockEntries)
		}
		for k, c := range b.Version {
			if c == 0 {
				return wireStatus{}, malformed("clock: zero counter for %v", k)
			}
		}
	}
	t := newTable(len(b.Version))
	clock := clockToWire(b.Version, t)
	t.seal()
	if check {
		if err := t.check(); err != nil {
			return wireStatus{}, fmt.Errorf("clock: %w", err)
		}
	}
	finishClock(clock, t)
	return wireStatus{Nodes: t.wire(), Clock: clock, SeenDigest: b.SeenDigest, Reply: b.Reply, VersionDigest: b.VersionDigest, VersionSum: b.VersionSum}, nil
}

func statusFromWire(w wireStatus) (proto.Body, error) {
	r, err := nodesFromWire(w.Nodes)
	if err != nil {
		return nil, err
	}
	v, err := clockFromWire(w.Clock, r, "clock")
	if err != nil {
		return nil, err
	}
	return proto.GossipStatus{Version: v, VersionDigest: w.VersionDigest, SeenDigest: w.SeenDigest, VersionSum: w.VersionSum, Reply: w.Reply}, nil
}
