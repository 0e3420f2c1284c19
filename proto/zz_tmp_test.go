package proto

import (
	"math/rand"
	"testing"
)

func oldParseIPv4(s string) ([4]byte, bool) {
	var b [4]byte
	part, digits, val := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 || val > 255 {
				return b, false
			}
			b[part] = byte(val)
			part++
			digits, val = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 || (digits == 1 && val == 0) {
			return b, false
		}
		val = val*10 + int(c-'0')
		digits++
	}
	return b, part == 4
}

func TestZZParse(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alpha := "0123456789.0123456789...a:"
	for n := 0; n < 3000000; n++ {
		l := r.Intn(18)
		b := make([]byte, l)
		for i := range b {
			b[i] = alpha[r.Intn(len(alpha))]
		}
		s := string(b)
		a1, o1 := oldParseIPv4(s)
		a2, o2 := parseIPv4(s)
		if o1 != o2 || (o1 && a1 != a2) {
			t.Fatalf("%q: %v %v vs %v %v", s, a1, o1, a2, o2)
		}
		// nodeKey agrees with Compare
		u := UniqueAddress{Address{s, uint16(r.Intn(3))}, UID(r.Intn(3))}
		v := UniqueAddress{Address{[]string{"10.0.0.1", "10.0.0.10", "1.2.3.4", "::1", "host", s, "255.255.255.255", "0.0.0.0"}[r.Intn(8)], uint16(r.Intn(3))}, UID(r.Intn(3))}
		k := keyOf(u)
		if k.compareTo(v) != v.Compare(u) {
			t.Fatalf("%v %v", u, v)
		}
	}
}
