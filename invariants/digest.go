package invariants

import "github.com/rumorhq/rumor/proto"

// clockDigest is an order-independent 64-bit hash of a clock: a sum of
// per-entry hashes, so no sort (and no UniqueAddress.Compare) is needed.
// Equal clocks have equal digests; a match is confirmed with Compare.
func clockDigest(v proto.VClock) uint64 {
	var sum uint64
	for k, c := range v {
		sum += entryDigest(&k, c)
	}
	return sum
}

// listDigest is clockDigest of the clock l lists.
func listDigest(l *clockList) uint64 {
	var sum uint64
	for i := range l.entries {
		sum += entryDigest(&l.entries[i].u, l.entries[i].x)
	}
	return sum
}

// entryDigest is clockDigest's hash of the entry k: c.
func entryDigest(k *proto.UniqueAddress, c uint64) uint64 {
	h := newHasher()
	h.str(k.Host)
	return mix(h.sum ^ mix(uint64(k.Port)<<48^uint64(k.UID)) ^ mix(c+0x9e3779b97f4a7c15))
}

type hasher struct{ sum uint64 }

func newHasher() *hasher { return &hasher{sum: 14695981039346656037} }

func (h *hasher) uint(x uint64) {
	for i := 0; i < 8; i++ {
		h.sum ^= uint64(byte(x >> (8 * i)))
		h.sum *= 1099511628211
	}
}

func (h *hasher) str(s string) {
	h.uint(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h.sum ^= uint64(s[i])
		h.sum *= 1099511628211
	}
}

// mix is MurmurHash3's fmix64, so that sums of hashes spread.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
