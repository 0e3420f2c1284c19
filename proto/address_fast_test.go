package proto

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// naiveParseIPv4Word is parseIPv4Word from its definition: four
// dot-separated octets, each "0" or 1-3 digits without a leading zero, at
// most 255.
func naiveParseIPv4Word(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var v uint32
	for _, p := range parts {
		if len(p) == 0 || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return 0, false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}

// hostSamples returns host strings that are mostly near-IPv4: valid
// dotted quads, mutations of them (digits, dots and other bytes inserted,
// dropped or changed) and random strings over digits and dots.
func hostSamples(rng *rand.Rand, n int) []string {
	fixed := []string{"", ".", "...", "0.0.0.0", "255.255.255.255", "256.0.0.0", "1.2.3.4.", ".1.2.3.4",
		"1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1.2.3.0", "999.1.1.1", "1.2.3", "1.2.3.4.5",
		"1.2.3.4x", "x1.2.3.4", "10.0.0.10", "10.0.0.9", "100.200.250.255", "4294967296.0.0.0",
		"1.2.3.1000", "1.2.3.4444444444444", "00000000000000000.1.1.1", "::ffff:1.2.3.4", "1.2.3.-4",
		"1.2.3./", "1.2.3.:", "/.0.0.0", ":.0.0.0", "1.2.3.25\x00", "12345678.1.1.1"}
	out := append([]string(nil), fixed...)
	const alphabet = "0123456789.0123456789..12/:x\x00"
	for len(out) < n {
		var b []byte
		switch rng.Intn(3) {
		case 0: // a valid address
			b = []byte(strconv.Itoa(rng.Intn(256)) + "." + strconv.Itoa(rng.Intn(256)) + "." +
				strconv.Itoa(rng.Intn(256)) + "." + strconv.Itoa(rng.Intn(256)))
		case 1: // a mutated one
			b = []byte(strconv.Itoa(rng.Intn(300)) + "." + strconv.Itoa(rng.Intn(300)) + "." +
				strconv.Itoa(rng.Intn(300)) + "." + strconv.Itoa(rng.Intn(300)))
			for k := rng.Intn(3); k >= 0; k-- {
				i := rng.Intn(len(b) + 1)
				c := alphabet[rng.Intn(len(alphabet))]
				switch rng.Intn(3) {
				case 0:
					b = append(b[:i], append([]byte{c}, b[i:]...)...)
				case 1:
					if i < len(b) {
						b = append(b[:i], b[i+1:]...)
					}
				default:
					if i < len(b) {
						b[i] = c
					}
				}
			}
		default: // random
			for k := rng.Intn(18); k > 0; k-- {
				b = append(b, alphabet[rng.Intn(len(alphabet))])
			}
		}
		out = append(out, string(b))
	}
	return out
}

// TestParseIPv4WordMatchesNaive checks the one-pass parser against the
// definition on valid, nearly valid and random hosts.
func TestParseIPv4WordMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	valid := 0
	for _, s := range hostSamples(rng, 200000) {
		wv, wok := naiveParseIPv4Word(s)
		gv, gok := parseIPv4Word(s)
		if gv != wv || gok != wok {
			t.Fatalf("parseIPv4Word(%q) = %#x, %v; want %#x, %v", s, gv, gok, wv, wok)
		}
		if wok {
			valid++
		}
	}
	if valid < 50000 {
		t.Fatalf("only %d valid hosts among the samples: the test would not see the parser work", valid)
	}
}

// TestHashMatchesFNV checks UniqueAddress.Hash, written out byte by byte,
// against FNV-1a over its encoding (host, port and UID big-endian) on
// random nodes.
func TestHashMatchesFNV(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	hosts := hostSamples(rng, 100)
	for i := 0; i < 20000; i++ {
		u := UniqueAddress{Address: Address{Host: hosts[rng.Intn(len(hosts))], Port: uint16(rng.Uint32())}, UID: UID(rng.Uint64())}
		b := binary.BigEndian.AppendUint16([]byte(u.Host), u.Port)
		b = binary.BigEndian.AppendUint64(b, uint64(u.UID))
		if got, want := u.Hash(), fxFNV1a64(b); got != want {
			t.Fatalf("%v.Hash() = %#x, want %#x", u, got, want)
		}
	}
}

// naiveAddressCompare is Address.Compare from its definition: IPv4 hosts
// by their words (from naiveParseIPv4Word), everything else as
// compareHosts orders it, equal hosts by port.
func naiveAddressCompare(a, b Address) int {
	if a.Host == b.Host {
		return comparePorts(a.Port, b.Port)
	}
	va, oka := naiveParseIPv4Word(a.Host)
	vb, okb := naiveParseIPv4Word(b.Host)
	switch {
	case !oka || !okb:
		return a.compareHosts(b)
	case va < vb:
		return -1
	case va > vb:
		return 1
	}
	return strings.Compare(a.Host, b.Host)
}

// TestCompareMatchesNaive checks Address.Compare against the definition
// on pairs of hosts that mostly share a prefix: valid, nearly valid and
// random.
func TestCompareMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	hosts := hostSamples(rng, 5000)
	both := 0
	for i := 0; i < 200000; i++ {
		a := hosts[rng.Intn(len(hosts))]
		var b string
		switch rng.Intn(4) {
		case 0:
			b = hosts[rng.Intn(len(hosts))]
		case 1: // IPv4 hosts that share their first k octets
			o := [8]int{}
			for k := range o {
				o[k] = rng.Intn(256)
			}
			k := rng.Intn(4)
			copy(o[4:4+k], o[:k])
			a = fmt.Sprintf("%d.%d.%d.%d", o[0], o[1], o[2], o[3])
			b = fmt.Sprintf("%d.%d.%d.%d", o[4], o[5], o[6], o[7])
		default: // a prefix of a, then the end of another host
			c := hosts[rng.Intn(len(hosts))]
			b = a[:rng.Intn(len(a)+1)] + c[rng.Intn(len(c)+1):]
		}
		x := Address{Host: a, Port: uint16(rng.Intn(3))}
		y := Address{Host: b, Port: uint16(rng.Intn(3))}
		if got, want := x.Compare(y), naiveAddressCompare(x, y); got != want {
			t.Fatalf("%v.Compare(%v) = %d, want %d", x, y, got, want)
		}
		if _, ok := naiveParseIPv4Word(a); ok && a != b {
			if _, ok := naiveParseIPv4Word(b); ok {
				both++
			}
		}
	}
	if both < 50000 {
		t.Fatalf("only %d pairs of different IPv4 hosts: the test would not see the comparison work", both)
	}
}

// BenchmarkParseIPv4Word parses simulator-style hosts.
func BenchmarkParseIPv4Word(b *testing.B) {
	hosts := []string{"10.0.0.1", "10.0.0.17", "10.0.1.200", "192.168.100.254", "node-1"}
	for i := 0; i < b.N; i++ {
		parseIPv4Word(hosts[i%len(hosts)])
	}
}
