package proto

import (
	"math/rand"
	"strings"
	"testing"
	"unsafe"
)

// TestSameStringIsEqual: sameString, which answers for two strings that
// share their bytes without reading them, is == on strings of one length,
// whether they share their bytes, hold equal copies or differ anywhere.
func TestSameStringIsEqual(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	hosts := []string{"", "a", "10.0.0.1", "10.0.0.2", "node-1.example", "node-2.example"}
	for i := 0; i < 200; i++ {
		var b strings.Builder
		for n := rng.Intn(12); n > 0; n-- {
			b.WriteByte("ab.01"[rng.Intn(5)])
		}
		hosts = append(hosts, b.String())
	}
	shared, copies := 0, 0
	for _, a := range hosts {
		for _, b := range hosts {
			if len(a) != len(b) {
				continue
			}
			forms := []string{b, strings.Clone(b)} // the same bytes, a copy
			if len(b) > 0 {
				forms = append(forms, (b + "x")[:len(b)]) // a copy in a longer block
			}
			for _, f := range forms {
				if got, want := sameString(a, f), a == f; got != want {
					t.Fatalf("sameString(%q, %q) = %v, want %v", a, f, got, want)
				}
				if a == f && len(a) > 0 {
					if unsafe.StringData(a) == unsafe.StringData(f) {
						shared++
					} else {
						copies++
					}
				}
			}
		}
	}
	if shared == 0 || copies == 0 {
		t.Fatalf("%d equal pairs share their bytes, %d are copies; want both kinds", shared, copies)
	}
}
