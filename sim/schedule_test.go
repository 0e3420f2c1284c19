package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rumorhq/rumor/proto"
	"pgregory.net/rapid"
)

func TestScheduleRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Schedule
	}{
		{
			name: "every action",
			text: "1s crash n3; 2s restart n3; 2.5s pause n1; 3s resume n1; 4s leave n2; 5s join n6; " +
				"6s partition n1,n2|n3,n4,n5; 7s isolate n4; 8s cut n1>n2; 9s heal; 10s clog n3 2s; 11s clog n1>n2 500ms; " +
				"12s swizzle 10s; 13s drift n2 0.001; 14s step n2 -3s; 15s loss 0.3; 16s loss base; 17s dup 0.1; 18s dup base; " +
				"19s register n1 api /svc/a; 20s deregister n1 api /svc/a; 21s host n2 billing 8 0; 22s unhost n2 billing",
			want: Schedule{
				{At: time.Second, Op: OpCrash, Node: 2, Peer: -1},
				{At: 2 * time.Second, Op: OpRestart, Node: 2, Peer: -1},
				{At: 2500 * time.Millisecond, Op: OpPause, Node: 0, Peer: -1},
				{At: 3 * time.Second, Op: OpResume, Node: 0, Peer: -1},
				{At: 4 * time.Second, Op: OpLeave, Node: 1, Peer: -1},
				{At: 5 * time.Second, Op: OpJoin, Node: 5, Peer: -1},
				{At: 6 * time.Second, Op: OpPartition, Groups: [][]int{{0, 1}, {2, 3, 4}}, Peer: -1},
				{At: 7 * time.Second, Op: OpIsolate, Node: 3, Peer: -1},
				{At: 8 * time.Second, Op: OpCut, Node: 0, Peer: 1},
				{At: 9 * time.Second, Op: OpHeal, Peer: -1},
				{At: 10 * time.Second, Op: OpClog, Node: 2, Peer: -1, Dur: 2 * time.Second},
				{At: 11 * time.Second, Op: OpClog, Node: 0, Peer: 1, Dur: 500 * time.Millisecond},
				{At: 12 * time.Second, Op: OpSwizzle, Peer: -1, Dur: 10 * time.Second},
				{At: 13 * time.Second, Op: OpDrift, Node: 1, Peer: -1, Rate: 0.001},
				{At: 14 * time.Second, Op: OpStep, Node: 1, Peer: -1, Dur: -3 * time.Second},
				{At: 15 * time.Second, Op: OpLoss, Peer: -1, Rate: 0.3},
				{At: 16 * time.Second, Op: OpLoss, Peer: -1, Base: true},
				{At: 17 * time.Second, Op: OpDup, Peer: -1, Rate: 0.1},
				{At: 18 * time.Second, Op: OpDup, Peer: -1, Base: true},
				{At: 19 * time.Second, Op: OpRegister, Node: 0, Peer: -1, Key: "api", Path: "/svc/a"},
				{At: 20 * time.Second, Op: OpDeregister, Node: 0, Peer: -1, Key: "api", Path: "/svc/a"},
				{At: 21 * time.Second, Op: OpHost, Node: 1, Peer: -1, Shards: proto.ShardType{Name: "billing", Shards: 8}},
				{At: 22 * time.Second, Op: OpUnhost, Node: 1, Peer: -1, Shards: proto.ShardType{Name: "billing"}},
			},
		},
		{
			name: "newlines, comments and unsorted times",
			text: "# a script\n20s heal\n1m30.25s crash n10 # late\n\n12.5s partition n1|n2\n",
			want: Schedule{
				{At: 12500 * time.Millisecond, Op: OpPartition, Groups: [][]int{{0}, {1}}, Peer: -1},
				{At: 20 * time.Second, Op: OpHeal, Peer: -1},
				{At: 90250 * time.Millisecond, Op: OpCrash, Node: 9, Peer: -1},
			},
		},
		{
			name: "empty",
			text: " ; ;\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSchedule(tt.text)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseSchedule(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
			again, err := ParseSchedule(got.String())
			if err != nil {
				t.Fatalf("ParseSchedule(String()) = %v for %q", err, got.String())
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("print/parse round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScheduleParseErrors(t *testing.T) {
	tests := []struct{ name, text string }{
		{"no action", "12s"},
		{"bad time", "soon crash n1"},
		{"negative time", "-1s crash n1"},
		{"unknown action", "1s explode n1"},
		{"bad node", "1s crash x1"},
		{"node zero", "1s crash n0"},
		{"leading zero", "1s crash n01"},
		{"missing node", "1s crash"},
		{"extra argument", "1s heal now"},
		{"one group", "1s partition n1,n2"},
		{"node in two groups", "1s partition n1|n1"},
		{"self link", "1s cut n1>n1"},
		{"bad clog length", "1s clog n1 0s"},
		{"drift too large", "1s drift n1 0.7"},
		{"zero step", "1s step n1 0s"},
		{"loss above one", "1s loss 1.5"},
		{"bad shard type", "1s host n1 billing 0 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedule(tt.text)
			if !errors.Is(err, ErrBadSchedule) {
				t.Errorf("ParseSchedule(%q) error = %v, want one wrapping ErrBadSchedule", tt.text, err)
			}
		})
	}
}

// TestScheduleRoundTripProperty: any schedule the generators build prints
// to text that parses back to the same schedule.
func TestScheduleRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "entries")
		var s Schedule
		at := time.Duration(0)
		for i := 0; i < n; i++ {
			at += time.Duration(rapid.Int64Range(0, 5e9).Draw(t, "gap"))
			e := Entry{At: at, Peer: -1}
			node := rapid.IntRange(0, 30).Draw(t, "node")
			switch rapid.IntRange(0, 6).Draw(t, "kind") {
			case 0:
				e.Op, e.Node = rapid.SampledFrom([]Op{OpCrash, OpRestart, OpPause, OpResume, OpLeave, OpJoin, OpIsolate}).Draw(t, "op"), node
			case 1:
				e.Op, e.Groups = OpPartition, [][]int{{node}, {node + 1, node + 2}}
			case 2:
				e.Op, e.Node, e.Peer = OpCut, node, node+1
			case 3:
				e.Op, e.Node, e.Dur = OpClog, node, time.Duration(rapid.Int64Range(1, 1e10).Draw(t, "clog"))
			case 4:
				e.Op, e.Node, e.Rate = OpDrift, node, rapid.Float64Range(-0.49, 0.49).Draw(t, "rate")
			case 5:
				e.Op, e.Node, e.Dur = OpStep, node, time.Duration(rapid.Int64Range(1, 3e12).Draw(t, "step"))
				if rapid.Bool().Draw(t, "back") {
					e.Dur = -e.Dur
				}
			case 6:
				e.Op, e.Rate = OpLoss, rapid.Float64Range(0, 1).Draw(t, "loss")
			}
			s = append(s, e)
		}
		got, err := ParseSchedule(s.String())
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", s.String(), err)
		}
		if diff := cmp.Diff(s, got); diff != "" {
			t.Fatalf("round trip of %q mismatch (-want +got):\n%s", s.String(), diff)
		}
	})
}
