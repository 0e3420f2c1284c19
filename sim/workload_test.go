package sim

import (
	"fmt"
	"testing"

	"github.com/rumorhq/rumor/proto"
)

// TestServicePaths: the workload's table of paths holds, for each key and
// letter, the path it registered before it had a table.
func TestServicePaths(t *testing.T) {
	n := 0
	for k, key := range serviceKeys {
		for pth := range 4 {
			if got, want := servicePaths[k][pth], fmt.Sprintf("/svc/%s/%c", key, 'a'+pth); got != want {
				t.Errorf("servicePaths[%d][%d] = %q, want %q", k, pth, got, want)
			}
			n++
		}
	}
	if n != 16 {
		t.Errorf("checked %d paths, want 16", n)
	}
}

// TestAddWork: the tracer's parts of a workload line are the entry's
// Action, for every op the workload issues (and others).
func TestAddWork(t *testing.T) {
	entries := []Entry{
		{Op: OpRegister, Node: 2, Key: "api", Path: "/svc/api/c"},
		{Op: OpDeregister, Node: 0, Key: "search", Path: "/svc/search/a"},
		{Op: OpHost, Node: 11, Shards: billingType},
		{Op: OpHost, Node: 3, Shards: proto.ShardType{Name: "x", Shards: 123, Replicas: -1}},
		{Op: OpUnhost, Node: 4999, Shards: proto.ShardType{Name: billingType.Name}},
		{Op: OpCrash, Node: 1},
		{Op: OpHeal},
	}
	for _, e := range entries {
		tr := newTracer(nil)
		tr.addWork(slotName(e.Node), e)
		if got, want := string(tr.buf), " "+e.Action(); got != want {
			t.Errorf("addWork(%v) appends %q, want %q", e.Op, got, want)
		}
	}
}
