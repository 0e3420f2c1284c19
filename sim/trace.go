package sim

import (
	"io"
	"strconv"
	"strings"
)

// tracer builds one line per event, hashes every line (FNV-1a, 64 bits)
// and writes it when a writer is set. Lines hold simulated time, slot
// names and protocol values only: no pointers, no wall time, no map order,
// so the same seed and build give the same bytes.
type tracer struct {
	w     io.Writer
	buf   []byte
	hash  uint64
	lines uint64
	err   error

	// The last timestamp rendered, reused by the lines of one instant.
	stampUS int64
	stamp   []byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newTracer(w io.Writer) *tracer {
	return &tracer{w: w, hash: fnvOffset, buf: make([]byte, 0, 256), stampUS: -1}
}

// begin starts a line at simulated time ns (since the start of the run),
// rendered fixed-width as seconds with microseconds: 000012.345678.
func (t *tracer) begin(ns int64) {
	if ns < 0 {
		ns = 0
	}
	us := ns / 1000
	if us != t.stampUS {
		sec, frac := us/1000000, us%1000000
		b := t.stamp[:0]
		if sec < 1000000 {
			b = append6(b, sec)
		} else {
			b = strconv.AppendInt(b, sec, 10)
		}
		b = append(b, '.')
		t.stamp, t.stampUS = append6(b, frac), us
	}
	t.buf = append(t.buf[:0], t.stamp...)
}

// append6 appends x, 0 <= x < 1000000, as exactly six decimal digits.
func append6(b []byte, x int64) []byte {
	hi, mid, lo := x/10000, x/100%100, x%100
	return append(b, digits2[2*hi], digits2[2*hi+1], digits2[2*mid], digits2[2*mid+1], digits2[2*lo], digits2[2*lo+1])
}

// digits2 holds 00, 01, ..., 99.
const digits2 = "0001020304050607080910111213141516171819" +
	"2021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859" +
	"6061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// add appends " s".
func (t *tracer) add(s string) {
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, s...)
}

// addInt appends " n".
func (t *tracer) addInt(n int64) {
	t.buf = append(t.buf, ' ')
	t.buf = strconv.AppendInt(t.buf, n, 10)
}

// end finishes the line: hash it and write it.
func (t *tracer) end() {
	t.buf = append(t.buf, '\n')
	h := t.hash
	for _, c := range t.buf {
		h ^= uint64(c)
		h *= fnvPrime
	}
	t.hash = h
	t.lines++
	if t.w != nil && t.err == nil {
		_, t.err = t.w.Write(t.buf)
	}
}

// FirstDiff compares two traces line by line. It returns the first line
// (1-based) where they differ and that line in each, or line 0 when they
// are the same.
func FirstDiff(a, b string) (line int, x, y string) {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var p, q string
		if i < len(la) {
			p = la[i]
		}
		if i < len(lb) {
			q = lb[i]
		}
		if p != q {
			return i + 1, p, q
		}
	}
	return 0, "", ""
}
