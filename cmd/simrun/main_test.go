package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rumorhq/rumor/proto"
	"github.com/rumorhq/rumor/sim"
)

// simrun runs the command in-process and returns its exit code and output.
func simrun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadUsageExits3(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined"},
		{"extra argument", []string{"seven"}, "unexpected argument"},
		{"bad seed", []string{"-seed", "x"}, "invalid value"},
		{"negative nodes", []string{"-nodes", "-1"}, "-nodes"},
		{"zero nodes", []string{"-nodes", "0"}, "-nodes"},
		{"too many nodes", []string{"-nodes", "100000"}, "-nodes"},
		{"zero duration", []string{"-duration", "0s"}, "-duration"},
		{"unknown profile", []string{"-faults", "chaos"}, "-faults"},
		{"unknown config", []string{"-config", "mars"}, "-config"},
		{"unknown downing", []string{"-downing", "coin-flip"}, "-downing"},
		{"unknown planted bug", []string{"-planted-bug", "typo"}, "-planted-bug"},
		{"reversed seed range", []string{"-seeds", "9-2"}, "-seeds"},
		{"malformed seed range", []string{"-seeds", "1..5"}, "-seeds"},
		{"seed and seeds", []string{"-seed", "1", "-seeds", "1-2"}, "exclusive"},
		{"sweep with trace", []string{"-seeds", "1-2", "-trace", "t.txt"}, "-trace"},
		{"sweep with shrink", []string{"-seeds", "1-2", "-shrink"}, "-shrink"},
		{"bad schedule", []string{"-schedule", "5s explode n1"}, "unknown action"},
		{"missing schedule file", []string{"-schedule", "@/nonexistent/schedule.txt"}, "-schedule"},
		{"unknown scenario", []string{"-scenario", "meteor"}, "-scenario"},
		{"scenario with faults", []string{"-scenario", "crash", "-faults", "swarm"}, "-scenario"},
		{"zero workers", []string{"-seeds", "1-2", "-workers", "0"}, "-workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := simrun(t, tt.args...)
			if code != exitUsage {
				t.Fatalf("simrun %v exited %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, exitUsage, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("simrun %v stderr lacks %q:\n%s", tt.args, tt.want, errOut)
			}
			if out != "" {
				t.Errorf("simrun %v ran anyway, stdout:\n%s", tt.args, out)
			}
		})
	}
}

func TestHelpExits0(t *testing.T) {
	code, _, errOut := simrun(t, "-h")
	if code != exitOK || !strings.Contains(errOut, "-seeds") {
		t.Errorf("simrun -h exited %d, usage:\n%s", code, errOut)
	}
}

func TestJSONHasRequiredFields(t *testing.T) {
	code, out, errOut := simrun(t, "-seed", "1", "-duration", "40s", "-json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	var missing []string
	for _, k := range []string{"seed", "nodes", "faults", "sim_seconds", "wall_seconds", "events", "messages", "bytes",
		"trace_hash", "violations", "probes", "figures", "verdict", "command"} {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("JSON lacks %v:\n%s", missing, out)
	}
	if v, ok := obj["violations"].([]any); !ok || len(v) != 0 {
		t.Errorf("violations = %v, want an empty list", obj["violations"])
	}
	probes, _ := obj["probes"].(map[string]any)
	if _, ok := probes["dropped_loss"]; !ok {
		t.Errorf("probes lack dropped_loss: %v", probes)
	}
}

func TestSweepPrintsInSeedOrder(t *testing.T) {
	code, out, errOut := simrun(t, "-seeds", "3-7", "-duration", "20s", "-json", "-workers", "3")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var got []int64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Seed int64 }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, r.Seed)
	}
	if diff := cmp.Diff([]int64{3, 4, 5, 6, 7}, got); diff != "" {
		t.Errorf("sweep order (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "probe coverage") {
		t.Errorf("sweep printed no coverage table:\n%s", errOut)
	}
}

func TestCheckDeterminism(t *testing.T) {
	code, out, _ := simrun(t, "-seed", "2", "-duration", "30s", "-check-determinism")
	if code != exitOK || !strings.Contains(out, "deterministic: seed 2 ran twice with identical traces") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestScheduleFlagScriptsTheRun(t *testing.T) {
	const sched = "10s crash n2; 12s partition n1,n3|n4,n5; 20s heal; 25s restart n2"
	code, out, errOut := simrun(t, "-seed", "1", "-duration", "40s", "-json", "-schedule", sched)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Schedule string
		Command  string
		Probes   struct {
			Crashes  uint64 `json:"crashes"`
			Restarts uint64 `json:"restarts"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Schedule != sched || r.Probes.Crashes != 1 || r.Probes.Restarts != 1 {
		t.Errorf("executed %q with %d crashes, %d restarts; want %q, 1, 1", r.Schedule, r.Probes.Crashes, r.Probes.Restarts, sched)
	}
	if !strings.Contains(r.Command, `-schedule "`+sched+`"`) {
		t.Errorf("reproduction %q does not carry the schedule", r.Command)
	}
}

// plantedSeed finds a seed that the status-regress planted bug fails
// under swarm within three simulated minutes.
func plantedSeed(t *testing.T) string {
	t.Helper()
	for seed := int64(1); seed <= 20; seed++ {
		r, err := sim.Run(sim.Options{Seed: seed, Faults: sim.ProfileSwarm, Duration: 3 * time.Minute, PlantedBug: proto.BugStatusRegress, SkipLiveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict == sim.VerdictSafety {
			return strconv.FormatInt(seed, 10)
		}
	}
	t.Fatal("no seed in 1-20 fails with the status-regress bug planted")
	return ""
}

func TestPlantedBugFailsWithReproduction(t *testing.T) {
	seed := plantedSeed(t)
	args := []string{"-seed", seed, "-faults", "swarm", "-duration", "3m", "-planted-bug", "status-regress"}
	code, out, _ := simrun(t, args...)
	if code != exitSafety {
		t.Fatalf("exit %d, want %d:\n%s", code, exitSafety, out)
	}
	m := regexp.MustCompile(`reproduce: (go run \./cmd/simrun .*)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(m[1], "-planted-bug status-regress") || !strings.Contains(m[1], "-seed "+seed+" ") {
		t.Fatalf("no paste-able reproduction in:\n%s", out)
	}
	if !regexp.MustCompile(`safety violation "[a-z-]+" at n\d+/\d+, t=\d+\.\d+s`).MatchString(out) {
		t.Errorf("violation does not name invariant, node and time:\n%s", out)
	}
	// The printed command reproduces the failure.
	again, out2, _ := simrun(t, strings.Fields(strings.TrimPrefix(m[1], "go run ./cmd/simrun "))...)
	if again != exitSafety {
		t.Errorf("reproduction %q exited %d:\n%s", m[1], again, out2)
	}
}

func TestShrinkPrintsSmallerReproduction(t *testing.T) {
	seed := plantedSeed(t)
	code, out, _ := simrun(t, "-seed", seed, "-faults", "swarm", "-duration", "3m", "-planted-bug", "status-regress", "-shrink", "-shrink-runs", "60")
	if code != exitSafety {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	m := regexp.MustCompile(`shrunk in \d+ runs: (\d+) nodes, (\d+) schedule entries \(from (\d+) nodes, (\d+) entries\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no shrink summary:\n%s", out)
	}
	if m[1] == m[3] && m[2] == m[4] && !strings.Contains(out, "cut duration") {
		t.Errorf("shrink reduced nothing:\n%s", out)
	}
	if !regexp.MustCompile(`reproduce: go run \./cmd/simrun -seed ` + seed + ` .*-schedule "`).MatchString(out) {
		t.Errorf("no scripted reproduction:\n%s", out)
	}
}

func TestScenarioPrintsFigures(t *testing.T) {
	code, out, _ := simrun(t, "-scenario", "join", "-nodes", "3")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !regexp.MustCompile(`join -> Up at all nodes\s+\d+\.\d+ s`).MatchString(out) {
		t.Errorf("no join figure:\n%s", out)
	}
}

func TestTraceAndHTMLFiles(t *testing.T) {
	dir := t.TempDir()
	trace, page := filepath.Join(dir, "t.txt"), filepath.Join(dir, "t.html")
	code, out, _ := simrun(t, "-seed", "3", "-nodes", "3", "-duration", "15s", "-trace", trace, "-html", page)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	tb, err := os.ReadFile(trace)
	if err != nil || !regexp.MustCompile(`(?m)^000000\.000000 n1 start n1/1 seeds n1,n2,n3$`).Match(tb) {
		t.Errorf("trace file (err %v) lacks the start line:\n%.300s", err, tb)
	}
	hb, err := os.ReadFile(page)
	if err != nil || !bytes.Contains(hb, []byte("<svg")) {
		t.Errorf("HTML file (err %v) has no SVG", err)
	}
}

func TestWorseOrdersExitCodes(t *testing.T) {
	tests := []struct{ a, b, want int }{
		{exitOK, exitLiveness, exitLiveness},
		{exitLiveness, exitSafety, exitSafety},
		{exitSafety, exitLiveness, exitSafety},
		{exitSafety, exitOK, exitSafety},
		{exitOK, exitOK, exitOK},
	}
	for _, tt := range tests {
		if got := worse(tt.a, tt.b); got != tt.want {
			t.Errorf("worse(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
