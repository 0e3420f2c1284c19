package proto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadAddress is returned by ParseAddress for text that is not host:port.
var ErrBadAddress = errors.New("proto: bad address")

// Address is where a node listens. Host is an IPv4 or IPv6 literal or a
// host name; Port is the UDP/TCP port.
//
// Addresses are ordered by IP numerically, then by port (see Compare), never
// by string: casty compared hosts as strings, so "10.0.0.10" sorted before
// "10.0.0.9".
type Address struct {
	Host string
	Port uint16
}

// String renders the address as host:port, with brackets around IPv6 hosts.
func (a Address) String() string {
	if strings.Contains(a.Host, ":") {
		return "[" + a.Host + "]:" + strconv.Itoa(int(a.Port))
	}
	return a.Host + ":" + strconv.Itoa(int(a.Port))
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a.Host == "" && a.Port == 0 }

// ParseAddress parses "host:port" or "[v6]:port".
func ParseAddress(s string) (Address, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return Address{}, fmt.Errorf("%w: %q: want host:port", ErrBadAddress, s)
	}
	host, portText := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return Address{}, fmt.Errorf("%w: %q: unbalanced brackets", ErrBadAddress, s)
		}
		host = host[1 : len(host)-1]
		if _, ok := ipKey(host); !ok || !strings.Contains(host, ":") {
			return Address{}, fmt.Errorf("%w: %q: bad IPv6 literal", ErrBadAddress, s)
		}
	} else if strings.Contains(host, ":") {
		return Address{}, fmt.Errorf("%w: %q: IPv6 hosts need brackets", ErrBadAddress, s)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return Address{}, fmt.Errorf("%w: %q: port must be 1-65535", ErrBadAddress, s)
	}
	if host == "" {
		return Address{}, fmt.Errorf("%w: %q: empty host", ErrBadAddress, s)
	}
	if _, ip := ipKey(host); !ip && !validHostName(host) {
		return Address{}, fmt.Errorf("%w: %q: host is neither an IP literal nor a host name", ErrBadAddress, s)
	}
	return Address{Host: host, Port: uint16(port)}, nil
}

// Compare orders addresses: IP hosts before host names, IPs numerically
// (IPv4 as IPv4-mapped IPv6), names by string, then by port. It returns -1,
// 0 or +1.
func (a Address) Compare(b Address) int {
	if a.Host != b.Host {
		if va, ok := parseIPv4Word(a.Host); ok {
			if vb, ok := parseIPv4Word(b.Host); ok {
				if va != vb {
					if va < vb {
						return -1
					}
					return 1
				}
				return compareStrings(a.Host, b.Host)
			}
		}
		return a.compareHosts(b)
	}
	return comparePorts(a.Port, b.Port)
}

// compareHosts orders two different hosts that are not both IPv4.
func (a Address) compareHosts(b Address) int {
	ka, oka := ipKey(a.Host)
	kb, okb := ipKey(b.Host)
	switch {
	case oka && okb:
		if c := compareBytes(ka[:], kb[:]); c != 0 {
			return c
		}
	case oka:
		return -1
	case okb:
		return 1
	}
	if c := compareStrings(a.Host, b.Host); c != 0 {
		return c
	}
	return comparePorts(a.Port, b.Port)
}

func comparePorts(a, b uint16) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// nodeKey is a search target whose host is parsed once: binary searches
// compare it with every probe.
type nodeKey struct {
	u    UniqueAddress
	v4   uint32
	isV4 bool
}

func keyOf(u UniqueAddress) nodeKey {
	v, ok := parseIPv4Word(u.Host)
	return nodeKey{u: u, v4: v, isV4: ok}
}

// compareTo returns b.Compare(k.u).
func (k *nodeKey) compareTo(b UniqueAddress) int {
	if b.Host != k.u.Host {
		if k.isV4 {
			if vb, ok := parseIPv4Word(b.Host); ok {
				if vb != k.v4 {
					if vb < k.v4 {
						return -1
					}
					return 1
				}
				return compareStrings(b.Host, k.u.Host)
			}
		}
		return b.Compare(k.u)
	}
	if b.Port != k.u.Port {
		return comparePorts(b.Port, k.u.Port)
	}
	switch {
	case b.UID < k.u.UID:
		return -1
	case b.UID > k.u.UID:
		return 1
	}
	return 0
}

// compareKey is k.compareTo(b.u), without parsing b's host again.
func (k *nodeKey) compareKey(b *nodeKey) int {
	if k.isV4 && b.isV4 && b.v4 != k.v4 {
		if b.v4 < k.v4 {
			return -1
		}
		return 1
	}
	return k.compareTo(b.u)
}

func compareBytes(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// ipKey returns the 16-byte IPv6 form of an IP literal (IPv4 mapped into
// ::ffff:0:0/96) and whether host was an IP literal at all. It is written
// here rather than taken from net/netip so that proto imports no net package.
func ipKey(host string) ([16]byte, bool) {
	var k [16]byte
	if v4, ok := parseIPv4(host); ok {
		k[10], k[11] = 0xff, 0xff
		copy(k[12:], v4[:])
		return k, true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone: ordered by address only
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
	var hw, tw [16]byte
	hn, ok := ipv6Words(&hw, head, !double)
	if !ok {
		return k, false
	}
	tn, ok := ipv6Words(&tw, tail, true)
	if !ok {
		return k, false
	}
	n := hn + tn
	if (!double && n != 16) || (double && n > 14) {
		return k, false
	}
	copy(k[:], hw[:hn])
	copy(k[16-tn:], tw[:tn])
	return k, true
}

// ipv6Words parses colon-separated 16-bit groups into dst, two bytes
// each, and returns how many bytes it wrote; a trailing dotted IPv4 (four
// bytes) is allowed only where the address ends (v4Tail). Groups that do
// not fit dst make no address either. It keeps nothing of s, so Compare,
// which can come here, lets the caller's addresses stay on its stack.
func ipv6Words(dst *[16]byte, s string, v4Tail bool) (int, bool) {
	if s == "" {
		return 0, true
	}
	n := 0
	for {
		p, rest, more := strings.Cut(s, ":")
		if v4Tail && !more && strings.Contains(p, ".") {
			v4, ok := parseIPv4(p)
			if !ok || n+4 > len(dst) {
				return 0, false
			}
			copy(dst[n:], v4[:])
			return n + 4, true
		}
		w, ok := hexGroup(p)
		if !ok || n+2 > len(dst) {
			return 0, false
		}
		dst[n], dst[n+1] = byte(w>>8), byte(w)
		n += 2
		if !more {
			return n, true
		}
		s = rest
	}
}

// hexGroup parses one to four hexadecimal digits, as
// strconv.ParseUint(p, 16, 16) does.
func hexGroup(p string) (uint16, bool) {
	if len(p) == 0 || len(p) > 4 {
		return 0, false
	}
	var w uint16
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		w = w<<4 | uint16(c)
	}
	return w, true
}

// parseIPv4 parses a dotted quad without allocating: Compare runs it on
// every comparison of member addresses, so it must be cheap. Each octet is
// 1-3 digits, at most 255, without a leading zero.
func parseIPv4(s string) ([4]byte, bool) {
	v, ok := parseIPv4Word(s)
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, ok
}

// parseIPv4Word is parseIPv4 as a big-endian word, which compares as the
// address does. It reads each octet's digits in line: a first digit, a
// second unless the first was 0 (a leading zero is the whole octet), a
// third, then the dot that must follow.
func parseIPv4Word(s string) (uint32, bool) {
	if len(s) < 7 || len(s) > 15 {
		return 0, false
	}
	var v uint32
	i := 0
	for dots := 0; ; dots++ {
		if i >= len(s) {
			return 0, false
		}
		oct := uint32(s[i]) - '0'
		if oct > 9 {
			return 0, false
		}
		i++
		if oct != 0 && i < len(s) {
			if d := uint32(s[i]) - '0'; d <= 9 {
				oct = oct*10 + d
				i++
				if i < len(s) {
					if d := uint32(s[i]) - '0'; d <= 9 {
						oct = oct*10 + d
						i++
						if oct > 255 {
							return 0, false
						}
					}
				}
			}
		}
		v = v<<8 | oct
		if dots == 3 {
			if i != len(s) {
				return 0, false
			}
			return v, true
		}
		if i >= len(s) || s[i] != '.' {
			return 0, false
		}
		i++
	}
}

// UID distinguishes incarnations of a process at one Address. It is drawn
// from the injected RNG when a Node is created and is never zero.
type UID uint64

// UniqueAddress is one incarnation of a node: a process restarted at the
// same Address is a new member with a new UID.
type UniqueAddress struct {
	Address
	UID UID
}

// String renders the unique address as host:port#uid.
func (u UniqueAddress) String() string {
	return u.Address.String() + "#" + strconv.FormatUint(uint64(u.UID), 16)
}

// Compare orders unique addresses by Address, then UID.
func (u UniqueAddress) Compare(v UniqueAddress) int {
	if c := u.Address.Compare(v.Address); c != 0 {
		return c
	}
	switch {
	case u.UID < v.UID:
		return -1
	case u.UID > v.UID:
		return 1
	}
	return 0
}

// Hash is a stable 64-bit FNV-1a hash of the unique address, used to place
// nodes on the heartbeat ring. It is the same on every platform and version.
func (u UniqueAddress) Hash() uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	host, i := u.Host, 0
	for ; i+4 <= len(host); i += 4 { // four bytes a round: fewer loop steps
		b := host[i : i+4]
		h = (h ^ uint64(b[0])) * prime
		h = (h ^ uint64(b[1])) * prime
		h = (h ^ uint64(b[2])) * prime
		h = (h ^ uint64(b[3])) * prime
	}
	for ; i < len(host); i++ {
		h = (h ^ uint64(host[i])) * prime
	}
	// The port, then the UID, big-endian, a byte at a time.
	h = (h ^ uint64(u.Port>>8)) * prime
	h = (h ^ uint64(u.Port&0xff)) * prime
	id := uint64(u.UID)
	h = (h ^ id>>56) * prime
	h = (h ^ id>>48&0xff) * prime
	h = (h ^ id>>40&0xff) * prime
	h = (h ^ id>>32&0xff) * prime
	h = (h ^ id>>24&0xff) * prime
	h = (h ^ id>>16&0xff) * prime
	h = (h ^ id>>8&0xff) * prime
	return (h ^ id&0xff) * prime
}

// NodeID is the human label of a node ("node-1"), unique in a cluster. It is
// not part of identity; Node.ResolveNode maps it to the member's address.
type NodeID string

// validHostName accepts RFC 1123 style names: letters, digits, '-', '_'
// and '.', at most 253 bytes.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// compareStrings is strings.Compare by the language's operators, which,
// unlike the runtime routine strings.Compare calls, keep nothing of a and
// b: a caller's addresses can then stay on its stack.
func compareStrings(a, b string) int {
	switch {
	case a == b:
		return 0
	case a < b:
		return -1
	}
	return 1
}
