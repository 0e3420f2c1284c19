package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rumorhq/rumor/proto"
)

// FuzzDecode feeds arbitrary bytes to Decode and DecodeState. Neither may
// panic; every error wraps one of the package's sentinels; and whatever
// decodes re-encodes (Encode accepts everything Decode returns), decodes
// again to an equal value, has Size equal to its encoding's length, and
// re-encodes to the same bytes (the encoding is canonical).
//
// The seeds are the golden vectors plus a few damaged frames, so plain
// `go test` runs them in milliseconds.
func FuzzDecode(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.hex"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no golden vectors in %s (%v)", goldenDir, err)
	}
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		b, err := parseHex(string(text))
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		if strings.HasSuffix(p, "heartbeat.hex") {
			f.Add(append([]byte{2}, b[1:]...))
			f.Add(append([]byte{1, 99}, b[2:]...))
			f.Add(append(append([]byte{}, b...), 0))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 7, 0xf6})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			checkSentinel(t, err)
		} else {
			checkReencode(t, m)
		}
		s, err := DecodeState(b)
		if err != nil {
			checkSentinel(t, err)
		} else {
			checkReencodeState(t, s)
		}
	})
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d of the package's sentinels, want 1", err, n)
	}
}

func checkReencode(t *testing.T, m proto.Message) {
	t.Helper()
	frame, err := Encode(m)
	if err != nil {
		t.Fatalf("Encode refused a decoded message: %v\n%+v", err, m)
	}
	if n := Size(m); n != len(frame) {
		t.Fatalf("Size = %d, len(Encode) = %d", n, len(frame))
	}
	again, err := Decode(frame)
	if err != nil {
		t.Fatalf("Decode(Encode(m)): %v", err)
	}
	if diff := cmp.Diff(m, again, msgOpts); diff != "" {
		t.Fatalf("re-decoded message differs (-want +got):\n%s", diff)
	}
	frame2, err := Encode(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(frame, frame2) {
		t.Fatalf("encoding is not canonical:\n%x\n%x", frame, frame2)
	}
}

func checkReencodeState(t *testing.T, s *proto.State) {
	t.Helper()
	frame, err := EncodeState(s)
	if err != nil {
		t.Fatalf("EncodeState refused a decoded state: %v", err)
	}
	again, err := DecodeState(frame)
	if err != nil {
		t.Fatalf("DecodeState(EncodeState(s)): %v", err)
	}
	if diff := cmp.Diff(s, again, msgOpts); diff != "" {
		t.Fatalf("re-decoded state differs (-want +got):\n%s", diff)
	}
}
