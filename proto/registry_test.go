package proto

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// fxEntry is the entry key/path owned by fxNode(owner, 1).
func fxEntry(key string, owner int, path string) ServiceEntry {
	return ServiceEntry{Key: key, Node: fxNode(owner, 1), Path: path}
}

// fxRowOf is owner i's registry row at version v with entries (key, path)
// pairs given as "key path" strings, which must be sorted.
func fxRowOf(owner int, v uint64, entries ...string) RegistryRow {
	r := RegistryRow{Owner: fxNode(owner, 1), Version: v}
	for _, e := range entries {
		key, path, _ := strings.Cut(e, " ")
		r.Entries = append(r.Entries, fxEntry(key, owner, path))
	}
	return r
}

func TestMergeRegistry(t *testing.T) {
	cases := []struct {
		name string
		a, b []RegistryRow
		want []RegistryRow
	}{
		{"both empty", nil, nil, nil},
		{"one side empty", []RegistryRow{fxRowOf(1, 1, "svc /a")}, nil, []RegistryRow{fxRowOf(1, 1, "svc /a")}},
		{
			"disjoint owners interleave in address order",
			[]RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(10, 3, "x /x")},
			[]RegistryRow{fxRowOf(9, 2, "svc /b")},
			[]RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(9, 2, "svc /b"), fxRowOf(10, 3, "x /x")},
		},
		{
			"the higher version wins",
			[]RegistryRow{fxRowOf(1, 1, "svc /a")},
			[]RegistryRow{fxRowOf(1, 2, "svc /a", "svc /b")},
			[]RegistryRow{fxRowOf(1, 2, "svc /a", "svc /b")},
		},
		{
			// casty's union-only merge kept /a for ever.
			"a deregistration at a higher version wins over the registration",
			[]RegistryRow{fxRowOf(1, 4, "svc /a", "svc /b")},
			[]RegistryRow{fxRowOf(1, 5, "svc /b")},
			[]RegistryRow{fxRowOf(1, 5, "svc /b")},
		},
		{
			"an emptied row at a higher version wins",
			[]RegistryRow{fxRowOf(1, 5)},
			[]RegistryRow{fxRowOf(1, 4, "svc /a")},
			[]RegistryRow{fxRowOf(1, 5)},
		},
		{
			// Only corrupted input has two rows of one owner at one
			// version; the union keeps the merge a lattice join.
			"equal versions: the union of the entries, sorted",
			[]RegistryRow{fxRowOf(1, 3, "a /x", "c /x")},
			[]RegistryRow{fxRowOf(1, 3, "a /x", "b /y", "c /w")},
			[]RegistryRow{fxRowOf(1, 3, "a /x", "b /y", "c /w", "c /x")},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := cloneRegistry(tc.a), cloneRegistry(tc.b)
			for _, order := range []struct {
				name string
				x, y []RegistryRow
			}{{"merge(a,b)", tc.a, tc.b}, {"merge(b,a)", tc.b, tc.a}} {
				got := mergeRegistry(order.x, order.y)
				if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", order.name, diff)
				}
			}
			if diff := cmp.Diff(a, tc.a, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merge modified a (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(b, tc.b, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("merge modified b (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMergeRegistrySharing: states never modify their registries, so a
// merge that changes nothing returns its input itself, even when the other
// side holds equal rows in other slices; any other result is a new row
// list whose rows share their entries with the inputs.
func TestMergeRegistrySharing(t *testing.T) {
	a := []RegistryRow{fxRowOf(1, 1, "svc /a")}
	b := []RegistryRow{fxRowOf(1, 2, "svc /b"), fxRowOf(2, 1, "svc /c")}
	if got := mergeRegistry(a, nil); &got[0] != &a[0] {
		t.Errorf("mergeRegistry(a, nil) is a copy, want a itself")
	}
	if got := mergeRegistry(nil, b); &got[0] != &b[0] {
		t.Errorf("mergeRegistry(nil, b) is a copy, want b itself")
	}
	if got := mergeRegistry(b, cloneRegistry(b)); &got[0] != &b[0] {
		t.Errorf("mergeRegistry(b, copy of b) is a copy, want b itself")
	}
	if got := mergeRegistry(cloneRegistry(a), b); &got[0] != &b[0] {
		t.Errorf("mergeRegistry(older a, b) is a copy, want b itself")
	}
	c := []RegistryRow{fxRowOf(2, 1, "svc /c")}
	got := mergeRegistry(a, c)
	if &got[0] == &a[0] || &got[0] == &c[0] || &got[1] == &c[0] {
		t.Errorf("merged rows alias an input's row list")
	}
	if !sameEntries(got[0].Entries, a[0].Entries) || !sameEntries(got[1].Entries, c[0].Entries) {
		t.Errorf("merged rows copied their entries, want them shared with the inputs")
	}
	if diff := cmp.Diff([]RegistryRow{fxRowOf(1, 1, "svc /a"), fxRowOf(2, 1, "svc /c")}, got); diff != "" {
		t.Errorf("mergeRegistry (-want +got):\n%s", diff)
	}
}

func TestWithRegistryRow(t *testing.T) {
	base := []RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(9, 1, "svc /b")}
	cases := []struct {
		name    string
		owner   int
		version uint64
		entries []ServiceEntry
		want    []RegistryRow
	}{
		{"insert first", 1, 1, []ServiceEntry{fxEntry("k", 1, "/p")},
			[]RegistryRow{fxRowOf(1, 1, "k /p"), fxRowOf(2, 1, "svc /a"), fxRowOf(9, 1, "svc /b")}},
		{"insert between", 3, 2, []ServiceEntry{fxEntry("k", 3, "/p")},
			[]RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(3, 2, "k /p"), fxRowOf(9, 1, "svc /b")}},
		{"insert last, numerically after 9", 10, 1, nil,
			[]RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(9, 1, "svc /b"), fxRowOf(10, 1)}},
		{"replace", 9, 2, []ServiceEntry{fxEntry("k", 9, "/p")},
			[]RegistryRow{fxRowOf(2, 1, "svc /a"), fxRowOf(9, 2, "k /p")}},
		{"replace with nothing", 2, 2, nil,
			[]RegistryRow{fxRowOf(2, 2), fxRowOf(9, 1, "svc /b")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := cloneRegistry(base)
			got := withRegistryRow(base, fxNode(tc.owner, 1), tc.version, tc.entries)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("withRegistryRow (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, base, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("withRegistryRow modified its input (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlattenAndLookup(t *testing.T) {
	rows := []RegistryRow{
		fxRowOf(2, 1, "orders /o", "payments /p2"),
		fxRowOf(9, 4, "payments /b", "payments /a"),
		fxRowOf(10, 1, "payments /p", "users /u"),
	}
	flat := flattenRegistry(rows)
	wantFlat := []ServiceEntry{
		fxEntry("orders", 2, "/o"),
		fxEntry("payments", 2, "/p2"),
		fxEntry("payments", 9, "/a"),
		fxEntry("payments", 9, "/b"),
		fxEntry("payments", 10, "/p"),
		fxEntry("users", 10, "/u"),
	}
	if diff := cmp.Diff(wantFlat, flat); diff != "" {
		t.Errorf("flattenRegistry: sorted by key, node, path (-want +got):\n%s", diff)
	}
	cases := []struct {
		key  string
		want []ServiceEntry
	}{
		{"payments", []ServiceEntry{fxEntry("payments", 2, "/p2"), fxEntry("payments", 9, "/a"), fxEntry("payments", 9, "/b"), fxEntry("payments", 10, "/p")}},
		{"orders", []ServiceEntry{fxEntry("orders", 2, "/o")}},
		{"missing", nil},
		{"", nil},
		{"payment", nil},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Lookup(flat, tc.key), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Lookup(%q) (-want +got):\n%s", tc.key, diff)
			}
			snap := TopologySnapshot{Registry: flat}
			if diff := cmp.Diff(tc.want, snap.Lookup(tc.key), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("TopologySnapshot.Lookup(%q) (-want +got):\n%s", tc.key, diff)
			}
		})
	}
}

// TestRegistryRowsFollowOwners checks which owners keep their rows when a
// state is pruned: members that are not Down.
func TestRegistryRowsFollowOwners(t *testing.T) {
	cases := []struct {
		name   string
		status MemberStatus // 0: the owner is not a member
		tomb   bool
		kept   bool
	}{
		{"joining owner", Joining, false, true},
		{"weakly up owner", WeaklyUp, false, true},
		{"up owner", Up, false, true},
		{"leaving owner", Leaving, false, true},
		{"exiting owner", Exiting, false, true},
		{"down owner", Down, false, false},
		{"removed owner", Removed, false, false},
		{"tombstoned owner", Up, true, false},
		{"unknown owner", 0, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			members := []Member{fxMember(1, Up, 1)}
			if tc.status != 0 {
				members = append(members, fxMember(2, tc.status, 2))
			}
			s := fxState(members, nil)
			if tc.tomb {
				s.Tombstones[fxNode(2, 1)] = epoch
			}
			s.Registry = []RegistryRow{fxRowOf(1, 1, "svc /one"), fxRowOf(2, 1, "svc /two")}
			s.pruneTombstoned(epoch)
			want := []ServiceEntry{fxEntry("svc", 1, "/one")}
			if tc.kept {
				want = append(want, fxEntry("svc", 2, "/two"))
			}
			if diff := cmp.Diff(want, flattenRegistry(s.Registry)); diff != "" {
				t.Errorf("entries after pruning (-want +got):\n%s", diff)
			}
		})
	}
}

// fxOneNode returns a one-node cluster, formed and drained.
func fxOneNode(t *testing.T) *Node {
	t.Helper()
	n, err := New(LocalConfig(), addr(1), rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Step(epoch, Message{Body: JoinSeeds{}}); err != nil {
		t.Fatal(err)
	}
	n.Output()
	return n
}

func TestNodeRegisterCommands(t *testing.T) {
	type cmd struct {
		body Body
		err  error // nil: success
	}
	reg := func(key, path string) cmd { return cmd{body: Register{Key: key, Path: path}} }
	dereg := func(key, path string) cmd { return cmd{body: Deregister{Key: key, Path: path}} }
	bad := func(c cmd) cmd { c.err = ErrBadEntry; return c }
	cases := []struct {
		name     string
		cmds     []cmd
		want     []string // "key path" of the node's entries
		versions int      // how many times the node's row version rose
	}{
		{"register", []cmd{reg("svc", "/a")}, []string{"svc /a"}, 1},
		{"register with an empty path", []cmd{reg("svc", "")}, []string{"svc "}, 1},
		{"register twice is one entry", []cmd{reg("svc", "/a"), reg("svc", "/a")}, []string{"svc /a"}, 1},
		{"two paths under one key", []cmd{reg("svc", "/b"), reg("svc", "/a")}, []string{"svc /a", "svc /b"}, 2},
		{"deregister", []cmd{reg("svc", "/a"), reg("svc", "/b"), dereg("svc", "/a")}, []string{"svc /b"}, 3},
		{"deregister the last entry", []cmd{reg("svc", "/a"), dereg("svc", "/a")}, nil, 2},
		{"deregister what is not registered", []cmd{reg("svc", "/a"), dereg("svc", "/b"), dereg("other", "/a")}, []string{"svc /a"}, 1},
		{"register again after deregistering", []cmd{reg("svc", "/a"), dereg("svc", "/a"), reg("svc", "/a")}, []string{"svc /a"}, 3},
		{"empty key", []cmd{bad(reg("", "/a"))}, nil, 0},
		{"key too long", []cmd{bad(reg(strings.Repeat("k", MaxNameLen+1), "/a"))}, nil, 0},
		{"longest key", []cmd{reg(strings.Repeat("k", MaxNameLen), "/a")}, []string{strings.Repeat("k", MaxNameLen) + " /a"}, 1},
		{"path too long", []cmd{bad(reg("svc", strings.Repeat("p", 4*MaxNameLen+1)))}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := fxOneNode(t)
			for _, c := range tc.cmds {
				err := n.Step(epoch, Message{Body: c.body})
				if (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
					t.Fatalf("Step(%#v) = %v, want %v", c.body, err, c.err)
				}
			}
			var want []ServiceEntry
			for _, e := range tc.want {
				key, path, _ := strings.Cut(e, " ")
				want = append(want, ServiceEntry{Key: key, Node: n.Self(), Path: path})
			}
			if diff := cmp.Diff(want, flattenRegistry(n.State().Registry), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("registry entries in the state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, n.Snapshot().Topology.Registry, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("registry entries in the published snapshot (-want +got):\n%s", diff)
			}
			var version uint64
			for _, r := range n.State().Registry {
				version = r.Version
			}
			if version != uint64(tc.versions) {
				t.Errorf("row version %d, want %d", version, tc.versions)
			}
			for _, key := range []string{"svc", "other"} {
				var wantKey []ServiceEntry
				for _, e := range want {
					if e.Key == key {
						wantKey = append(wantKey, e)
					}
				}
				if diff := cmp.Diff(wantKey, n.Lookup(key), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Node.Lookup(%q) (-want +got):\n%s", key, diff)
				}
			}
		})
	}
}

func TestChangedKeys(t *testing.T) {
	cases := []struct {
		name       string
		prev, next []ServiceEntry
		want       []string
	}{
		{"nothing", nil, nil, nil},
		{"same", []ServiceEntry{fxEntry("a", 1, "/x")}, []ServiceEntry{fxEntry("a", 1, "/x")}, nil},
		{"added", nil, []ServiceEntry{fxEntry("a", 1, "/x")}, []string{"a"}},
		{"removed", []ServiceEntry{fxEntry("a", 1, "/x")}, nil, []string{"a"}},
		{"other node under one key", []ServiceEntry{fxEntry("a", 1, "/x")}, []ServiceEntry{fxEntry("a", 2, "/x")}, []string{"a"}},
		{"keys sorted, unchanged ones left out",
			[]ServiceEntry{fxEntry("a", 1, "/x"), fxEntry("m", 1, "/x"), fxEntry("z", 1, "/x")},
			[]ServiceEntry{fxEntry("b", 1, "/x"), fxEntry("m", 1, "/x"), fxEntry("z", 1, "/y")},
			[]string{"a", "b", "z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, changedKeys(tc.prev, tc.next), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("changedKeys (-want +got):\n%s", diff)
			}
		})
	}
}

// naiveChangedKeys is changedKeys by its definition: the keys of the
// entries whose count differs between prev and next, sorted.
func naiveChangedKeys(prev, next []ServiceEntry) []string {
	count := map[ServiceEntry]int{}
	for _, e := range prev {
		count[e]++
	}
	for _, e := range next {
		count[e]--
	}
	keys := map[string]bool{}
	for e, c := range count {
		if c != 0 {
			keys[e.Key] = true
		}
	}
	out := []string{}
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestChangedKeysMatchesNaive checks the walk of changedKeys against its
// definition on random registries in flattenRegistry's order.
func TestChangedKeysMatchesNaive(t *testing.T) {
	entry := func(rng *rand.Rand) ServiceEntry {
		return ServiceEntry{Key: string(rune('a' + rng.Intn(3))), Node: lawUniverse[rng.Intn(len(lawUniverse))], Path: string(rune('p' + rng.Intn(2)))}
	}
	gen := lawFrom(func(rng *rand.Rand) [2][]ServiceEntry {
		var pair [2][]ServiceEntry
		for k := range pair {
			var rows []RegistryRow
			for _, u := range lawSubset(rng, lawUniverse, 2) {
				row := RegistryRow{Owner: u}
				for n := rng.Intn(4); n > 0; n-- {
					e := entry(rng)
					e.Node = u
					row.Entries = append(row.Entries, e)
				}
				sortEntries(row.Entries)
				rows = append(rows, row)
			}
			pair[k] = flattenRegistry(rows)
		}
		if rng.Intn(3) == 0 { // mostly the same registry
			pair[1] = append([]ServiceEntry(nil), pair[0]...)
			if len(pair[1]) > 0 && rng.Intn(2) == 0 {
				i := rng.Intn(len(pair[1]))
				pair[1] = append(pair[1][:i], pair[1][i+1:]...)
			}
		}
		return pair
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("changedKeys is the naive difference", prop.ForAll(func(in [2][]ServiceEntry) string {
			if diff := cmp.Diff(naiveChangedKeys(in[0], in[1]), changedKeys(in[0], in[1])); diff != "" {
				return fmt.Sprintf("prev %v next %v (-naive +got):\n%s", in[0], in[1], diff)
			}
			return ""
		}, gen))
	})
}

// TestFlattenRegistryMatchesNaive checks flattenRegistry, which sorts by
// key alone when the rows keep their invariants, against a full sort by
// key, node and path, on well-formed rows and on rows that break the
// invariants (owners out of order, foreign or unsorted entries).
func TestFlattenRegistryMatchesNaive(t *testing.T) {
	gen := lawFrom(func(rng *rand.Rand) []RegistryRow {
		rows := lawRandRegistry(rng)
		if rng.Intn(3) == 0 {
			// A row for every owner: more rows than flattenRegistry
			// merges by scanning.
			rows = nil
			for _, u := range lawUniverse {
				r := RegistryRow{Owner: u, Version: 1}
				for _, e := range lawEntryPool {
					if rng.Intn(2) == 0 {
						r.Entries = append(r.Entries, ServiceEntry{Key: e[0], Node: u, Path: e[1]})
					}
				}
				rows = append(rows, r)
			}
		}
		if len(rows) > 1 && rng.Intn(2) == 0 {
			switch i := rng.Intn(len(rows) - 1); rng.Intn(3) {
			case 0:
				rows[i], rows[i+1] = rows[i+1], rows[i]
			case 1:
				if len(rows[i].Entries) > 0 {
					rows[i].Entries = append([]ServiceEntry(nil), rows[i].Entries...)
					rows[i].Entries[0].Node = rows[i+1].Owner
				}
			case 2:
				if n := len(rows[i].Entries); n > 1 {
					rows[i].Entries = append([]ServiceEntry(nil), rows[i].Entries...)
					rows[i].Entries[0], rows[i].Entries[n-1] = rows[i].Entries[n-1], rows[i].Entries[0]
				}
			}
		}
		return rows
	})
	runLaws(t, func(p *gopter.Properties) {
		p.Property("flattenRegistry is the full sort", prop.ForAll(func(rows []RegistryRow) string {
			var want []ServiceEntry
			for _, r := range rows {
				want = append(want, r.Entries...)
			}
			sort.Slice(want, func(i, j int) bool {
				a, b := want[i], want[j]
				if a.Key != b.Key {
					return a.Key < b.Key
				}
				if c := a.Node.Compare(b.Node); c != 0 {
					return c < 0
				}
				return a.Path < b.Path
			})
			if diff := cmp.Diff(want, flattenRegistry(rows)); diff != "" {
				return fmt.Sprintf("rows %v (-naive +got):\n%s", rows, diff)
			}
			return ""
		}, gen))
	})
}
