package sim

import (
	"fmt"
	"testing"
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
