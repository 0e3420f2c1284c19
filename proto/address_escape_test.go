package proto

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// splitIPKey is ipKey as it was written with strings.Split and
// strconv.ParseUint: the model ipKey's allocation-free parse of IPv6
// groups must agree with.
func splitIPKey(host string) ([16]byte, bool) {
	var k [16]byte
	if v4, ok := parseIPv4(host); ok {
		k[10], k[11] = 0xff, 0xff
		copy(k[12:], v4[:])
		return k, true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		if zone := host[i+1:]; zone == "" || strings.ContainsAny(zone, "%]") {
			return k, false
		}
		host = host[:i]
	}
	if !strings.Contains(host, ":") {
		return k, false
	}
	head, tail, double := host, "", false
	if i := strings.Index(host, "::"); i >= 0 {
		head, tail, double = host[:i], host[i+2:], true
		if strings.Contains(tail, "::") {
			return k, false
		}
	}
	words := func(s string, v4Tail bool) ([]byte, bool) {
		if s == "" {
			return nil, true
		}
		parts := strings.Split(s, ":")
		var out []byte
		for i, p := range parts {
			if v4Tail && i == len(parts)-1 && strings.Contains(p, ".") {
				v4, ok := parseIPv4(p)
				if !ok {
					return nil, false
				}
				return append(out, v4[:]...), true
			}
			if len(p) == 0 || len(p) > 4 {
				return nil, false
			}
			w, err := strconv.ParseUint(p, 16, 16)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(w>>8), byte(w))
		}
		return out, true
	}
	hw, ok := words(head, !double)
	if !ok {
		return k, false
	}
	tw, ok := words(tail, true)
	if !ok {
		return k, false
	}
	n := len(hw) + len(tw)
	if (!double && n != 16) || (double && n > 14) {
		return k, false
	}
	copy(k[:], hw)
	copy(k[16-len(tw):], tw)
	return k, true
}

// TestIPKeyMatchesSplit checks ipKey against splitIPKey on IPv6 literals
// of every shape (full, compressed at either end or inside, with an IPv4
// tail, with zones, with too many or too few groups, with bad digits) and
// on random strings over the characters of IP literals.
func TestIPKeyMatchesSplit(t *testing.T) {
	hosts := []string{
		"", ":", "::", ":::", "::1", "1::", "1::2", "::ffff:1.2.3.4", "::1.2.3.4", "1.2.3.4", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4",
		"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "1:2:3:4::5:6:7:8", "fe80::1%eth0", "fe80::1%", "fe80::1%a%b",
		"fe80::1%a]", "FFFF::abcd:EF01", "12345::", "g::1", "::1::", "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17",
		"1.2.3.4::", "::1.2.3.4:5", "::1.2.3", "::256.1.1.1", "0:0:0:0:0:0:0:0", "::0000:00", "-1::", "+1::", "0x1::",
		"1_0::", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::",
	}
	rng := rand.New(rand.NewSource(9))
	const alphabet = "0123456789abcdefABCDEFxg:::...%]"
	for i := 0; i < 200000; i++ {
		b := make([]byte, rng.Intn(46))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		hosts = append(hosts, string(b))
	}
	valid := 0
	for _, h := range hosts {
		got, gotOK := ipKey(h)
		want, wantOK := splitIPKey(h)
		if got != want || gotOK != wantOK {
			t.Fatalf("ipKey(%q) = %x, %v; want %x, %v", h, got, gotOK, want, wantOK)
		}
		if gotOK {
			valid++
		}
	}
	if valid < 20 {
		t.Fatalf("only %d IP literals among the hosts: the test checks few parses", valid)
	}
}

// TestCompareStrings checks compareStrings against strings.Compare.
func TestCompareStrings(t *testing.T) {
	words := []string{"", "a", "b", "ab", "abc", "abd", "b", "10.0.0.1", "10.0.0.10", "host", "host-2", "\xff"}
	for _, a := range words {
		for _, b := range words {
			if got, want := compareStrings(a, b), strings.Compare(a, b); got != want {
				t.Errorf("compareStrings(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestMonitorTargetsAllocatesItsResultOnly: Compare keeps nothing of the
// addresses it compares, so the ring monitorTargetsOwn orders for a small
// cluster stays on its stack and the one allocation is the result.
func TestMonitorTargetsAllocatesItsResultOnly(t *testing.T) {
	s := NewState()
	for i := 1; i <= 9; i++ {
		u := UniqueAddress{Address: Address{Host: "10.0.0." + strconv.Itoa(i), Port: 7000}, UID: UID(i)}
		s.Members = append(s.Members, Member{Node: u, Status: Up})
	}
	self := s.Members[4].Node
	var got []UniqueAddress
	allocs := testing.AllocsPerRun(20, func() { got = monitorTargetsOwn(s, self, 3, nil, nil) })
	if len(got) != 3 || allocs != 1 {
		t.Fatalf("monitorTargetsOwn chose %v with %v allocations, want 3 targets and 1 allocation", got, allocs)
	}
}
