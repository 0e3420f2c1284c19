package sim

import (
	"encoding/binary"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// tracer builds one line per event, hashes the lines (XXH64, seed 0) and
// writes them when a writer is set. Lines hold simulated time, slot names
// and protocol values only: no pointers, no wall time, no map order, so the
// same seed and build give the same bytes.
//
// Lines collect in buf and are hashed and written a chunk at a time: the
// hash of the whole trace is the same however it is cut.
type tracer struct {
	w     io.Writer
	buf   []byte
	hash  xxhash.Digest
	lines uint64
	err   error

	// stampSec is the second of the last line's timestamp when it is
	// below 1000000, secNs its start in nanoseconds and secWord its
	// rendering ("000012.") as a little-endian word, the eighth byte
	// spare; -1 (secNs -1e9, which no instant from 0 up falls within)
	// before the first line and while seconds are larger.
	stampSec int64
	secNs    int64
	secWord  uint64

	// kinds remembers the pieces of message kinds (recvLine, recvMiss).
	kinds [1 << kindBits]kindEntry
}

// traceChunk is how many bytes of lines the tracer collects before it
// hashes and writes them: a chunk amortizes the calls, and a small one
// keeps the buffer to two pages of fresh memory per run.
const traceChunk = 4 << 10

func newTracer(w io.Writer) *tracer {
	t := &tracer{w: w, buf: make([]byte, 0, traceChunk+512), stampSec: -1, secNs: -1e9}
	t.hash.Reset()
	return t
}

// begin starts a line at simulated time ns (since the start of the run),
// rendered fixed-width as seconds with microseconds: 000012.345678. The
// seconds, which change rarely, are stored as one word, the microseconds
// as two 3-digit groups; the stores overlap, each overwriting the one
// before's spare byte, and the last one's lands beyond the line's end.
// Within the second of the line before, the microseconds come from the
// nanoseconds since its start.
func (t *tracer) begin(ns int64) {
	d := uint64(max(ns, 0) - t.secNs)
	n := len(t.buf)
	if d >= 1e9 || cap(t.buf)-n < 16 {
		t.beginSlow(ns)
		return
	}
	t.stamp(unsafe.Pointer(unsafe.SliceData(t.buf)), n, d)
	t.buf = t.buf[:n+13]
}

// stamp stores begin's timestamp, 13 bytes and 3 spare, at b+n, for an
// instant d nanoseconds into the second of t.secWord. The caller makes
// sure of the room.
func (t *tracer) stamp(b unsafe.Pointer, n int, d uint64) {
	frac := uint32(d / 1000)
	*(*uint64)(unsafe.Add(b, n)) = t.secWord
	*(*uint32)(unsafe.Add(b, n+7)) = digits3[frac/1000]
	*(*uint32)(unsafe.Add(b, n+10)) = digits3[frac%1000]
}

// beginSlow is begin for a new second, a second too large for six
// digits, or a full buffer.
func (t *tracer) beginSlow(ns int64) {
	us := uint64(max(ns, 0)) / 1000
	sec, frac := us/1000000, uint32(us%1000000)
	if sec >= 1000000 {
		t.buf = strconv.AppendUint(t.buf, sec, 10)
		t.stampSec, t.secNs = -1, -1e9
	} else if int64(sec) != t.stampSec {
		t.buf = append6(t.buf, int64(sec))
		b := append6(make([]byte, 0, 8), int64(sec))
		t.stampSec, t.secNs, t.secWord = int64(sec), int64(sec)*1e9, binary.LittleEndian.Uint64(append(b, '.', 0))
	} else {
		t.buf = append6(t.buf, int64(sec))
	}
	t.buf = append(t.buf, '.')
	t.buf = append6(t.buf, int64(frac))
}

// digits3 holds 000, 001, ..., 999 as little-endian words, the fourth
// byte zero.
var digits3 = func() (d [1000]uint32) {
	for i := range d {
		d[i] = uint32('0'+i/100) | uint32('0'+i/10%10)<<8 | uint32('0'+i%10)<<16
	}
	return d
}()

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

// piece is a string of at most 16 bytes held as 16 bytes, which a line
// stores whole and then advances by n: the bytes past n are overwritten by
// what follows or lie beyond the line's end.
type piece struct {
	b [16]byte
	n int
}

// newPiece returns s as a piece. It panics when s is longer than 16 bytes.
func newPiece(s string) piece {
	if len(s) > 16 {
		panic("sim: trace piece " + strconv.Quote(s) + " is longer than 16 bytes")
	}
	p := piece{n: len(s)}
	copy(p.b[:], s)
	return p
}

// put appends p.
func (t *tracer) put(p *piece) {
	n := len(t.buf)
	if cap(t.buf)-n < 16 {
		t.buf = append(t.buf, p.b[:p.n]...)
		return
	}
	*(*[16]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(t.buf)), n)) = p.b
	t.buf = t.buf[:n+p.n]
}

// recvLine appends a whole delivery line at simulated time ns: begin(ns),
// recvMiss's part and end but for its flush, which the caller makes when
// the buffer holds a chunk (endFlush). It reports false, having appended
// nothing, where it would need more than stores: a new second, a kind
// without a piece in t.kinds, or a buffer without room. (It calls
// nothing, so that it needs no stack check nor spills.)
func (t *tracer) recvLine(ns int64, head *piece, kind string, tail *piece, dup bool) bool {
	d := uint64(max(ns, 0) - t.secNs)
	n := len(t.buf)
	ptr := unsafe.StringData(kind)
	e := &t.kinds[kindSlot(ptr)]
	if d >= 1e9 || unsafe.StringData(e.kind) != ptr || len(e.kind) != len(kind) || cap(t.buf)-n < lineRoom {
		return false
	}
	// Each store is within the room checked above: begin's, then
	// pieces of 16 bytes (or 4) and the newline.
	b := unsafe.Pointer(unsafe.SliceData(t.buf))
	t.stamp(b, n, d)
	n += 13
	*(*[16]byte)(unsafe.Add(b, n)) = head.b
	n += head.n
	*(*[16]byte)(unsafe.Add(b, n)) = e.p.b
	n += e.p.n
	*(*[16]byte)(unsafe.Add(b, n)) = tail.b
	n += tail.n
	if dup {
		*(*[4]byte)(unsafe.Add(b, n)) = [4]byte{' ', 'd', 'u', 'p'}
		n += 4
	}
	*(*byte)(unsafe.Add(b, n)) = '\n'
	t.buf = t.buf[:n+1]
	t.lines++
	return true
}

// pieceLine appends a whole line of one piece at simulated time ns, as
// recvLine does, reporting false where begin would take its slow path.
func (t *tracer) pieceLine(ns int64, p *piece) bool {
	d := uint64(max(ns, 0) - t.secNs)
	n := len(t.buf)
	if d >= 1e9 || cap(t.buf)-n < lineRoom {
		return false
	}
	b := unsafe.Pointer(unsafe.SliceData(t.buf))
	t.stamp(b, n, d)
	n += 13
	*(*[16]byte)(unsafe.Add(b, n)) = p.b
	n += p.n
	*(*byte)(unsafe.Add(b, n)) = '\n'
	t.buf = t.buf[:n+1]
	t.lines++
	return true
}

// lineRoom is the room recvLine needs past the end of the buffer: a
// timestamp, three pieces, " dup" and the newline.
const lineRoom = 13 + 3*16 + 4 + 1

// endFlush is end's flush of a full chunk, for lines ended without end.
func (t *tracer) endFlush() {
	if len(t.buf) >= traceChunk {
		t.flush()
	}
}

// recvMiss appends the part of a delivery line after its timestamp, " name
// recv kind from from", and " dup" for a duplicate, given head " name recv
// " and tail " from from", where recvLine declined. It remembers kind's
// piece, if kind is short enough to have one.
func (t *tracer) recvMiss(head *piece, kind string, tail *piece, dup bool) {
	if len(kind) <= 16 {
		e := &t.kinds[kindSlot(unsafe.StringData(kind))]
		e.kind, e.p = kind, newPiece(kind)
	}
	t.recvText(head, kind, string(tail.b[:tail.n]), dup)
}

// kindSlot is the slot of t.kinds for a kind string with data ptr.
func kindSlot(ptr *byte) uint64 {
	return uint64(uintptr(unsafe.Pointer(ptr))) * 0x9e3779b97f4a7c15 >> (64 - kindBits)
}

// recvText is recvMiss with its tail as a string, for a sender that is
// not a slot too.
func (t *tracer) recvText(head *piece, kind, tail string, dup bool) {
	b := append(t.buf, head.b[:head.n]...)
	b = append(b, kind...)
	b = append(b, tail...)
	if dup {
		b = append(b, " dup"...)
	}
	t.buf = b
}

// kindEntry is a kind of message and its piece. The entries of t.kinds
// are found by the kind string's data pointer and length (kindSlot): an
// entry holds its string, whose bytes, the same while it lives, are its
// piece's (kinds are constants in practice).
type kindEntry struct {
	kind string
	p    piece
}

// kindBits sizes tracer.kinds.
const kindBits = 5

// addInt appends " n".
func (t *tracer) addInt(n int64) {
	t.buf = append(t.buf, ' ')
	t.buf = strconv.AppendInt(t.buf, n, 10)
}

// end finishes the line.
func (t *tracer) end() {
	t.buf = append(t.buf, '\n')
	t.lines++
	t.endFlush()
}

// flush hashes and writes the lines collected so far.
func (t *tracer) flush() {
	t.hash.Write(t.buf)
	if t.w != nil && t.err == nil {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

// sum flushes the trace and returns its hash.
func (t *tracer) sum() uint64 {
	t.flush()
	return t.hash.Sum64()
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
