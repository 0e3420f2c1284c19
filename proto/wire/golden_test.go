package wire

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.hex from the current encoder")

const goldenDir = "testdata/golden"

// goldenFrames is one frame per kind: the sample messages plus a bare state.
func goldenFrames(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, m := range sampleMessages() {
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode(%s): %v", name, err)
		}
		out[name] = b
	}
	b, err := EncodeState(buildState(smallSpec))
	if err != nil {
		t.Fatalf("EncodeState: %v", err)
	}
	out["state"] = b
	return out
}

// formatHex writes a frame as commented hex, 32 bytes a line.
func formatHex(name string, b []byte) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# rumor wire frame %q: version %d, kind %d, %d bytes.\n", name, b[0], b[1], len(b))
	sb.WriteString("# Regenerate with: go test ./proto/wire/ -run TestGolden -update\n")
	for len(b) > 0 {
		n := min(32, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]))
		sb.WriteByte('\n')
		b = b[n:]
	}
	return sb.String()
}

// parseHex reads formatHex's output: '#' lines are comments.
func parseHex(text string) ([]byte, error) {
	var digits strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		digits.WriteString(line)
	}
	return hex.DecodeString(digits.String())
}

func readGolden(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(goldenDir, name+".hex"))
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	b, err := parseHex(string(text))
	if err != nil {
		t.Fatalf("%s.hex: %v", name, err)
	}
	return b
}

// TestGolden pins the bytes of every kind: a change to the format shows up
// here, and regenerating the vectors is a deliberate step.
func TestGolden(t *testing.T) {
	frames := goldenFrames(t)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range frames {
			if err := os.WriteFile(filepath.Join(goldenDir, name+".hex"), []byte(formatHex(name, b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	samples := sampleMessages()
	for _, name := range sortedNames(frames) {
		t.Run(name, func(t *testing.T) {
			want := readGolden(t, name)
			got := frames[name]
			if !bytes.Equal(want, got) {
				t.Errorf("encoding changed (-want +got):\n%s",
					cmp.Diff(formatHex(name, want), formatHex(name, got)))
			}
			// The pinned bytes still decode to the sample.
			if name == "state" {
				s, err := DecodeState(want)
				if err != nil {
					t.Fatalf("DecodeState(golden): %v", err)
				}
				if diff := cmp.Diff(zeroTombstoneTimes(buildState(smallSpec)), s, msgOpts); diff != "" {
					t.Errorf("golden state decodes differently (-want +got):\n%s", diff)
				}
				return
			}
			m, err := Decode(want)
			if err != nil {
				t.Fatalf("Decode(golden): %v", err)
			}
			if diff := cmp.Diff(wantDecoded(samples[name]), m, msgOpts); diff != "" {
				t.Errorf("golden frame decodes differently (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenLayout spells out one frame byte by byte, so that doc.go's
// description of the format is checked, not just claimed.
func TestGoldenLayout(t *testing.T) {
	m := proto.Message{
		From: proto.UniqueAddress{Address: proto.Address{Host: "a", Port: 1}, UID: 2},
		To:   proto.Address{Host: "b", Port: 3},
		Body: proto.Heartbeat{Seq: 4},
	}
	want := []byte{
		0x01, 0x07, // version 1, kind 7 (heartbeat)
		0xa3,                                                // map of 3 pairs (ToUID 0 is omitted)
		0x01, 0xa3, 0x01, 0x61, 'a', 0x02, 0x01, 0x03, 0x02, // 1: From {1: "a", 2: 1, 3: 2}
		0x02, 0xa2, 0x01, 0x61, 'b', 0x02, 0x03, // 2: To {1: "b", 2: 3}
		0x04, 0xa1, 0x01, 0x04, // 4: Body {1: 4}
	}
	got, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("heartbeat layout (-want +got):\n%s", diff)
	}
}
