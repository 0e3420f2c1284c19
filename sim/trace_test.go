package sim

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"pgregory.net/rapid"
)

// TestTraceTimestamp: begin renders a line's time as the plain
// zero-padded formatting of its seconds and microseconds, at every
// magnitude, whatever time the line before had and however much room the
// line buffer has left.
func TestTraceTimestamp(t *testing.T) {
	naive := func(ns int64) string {
		ns = max(ns, 0)
		return fmt.Sprintf("%06d.%06d", ns/1000/1000000, ns/1000%1000000)
	}
	tr := newTracer(nil) // shared: each check follows another timestamp
	check := func(t interface{ Fatalf(string, ...any) }, ns int64) {
		for _, room := range []int{-1, 0, 12, 13, 23, 24} {
			if room < 0 {
				tr.buf = tr.buf[:0] // lines collect in buf: look at this one alone
			} else {
				tr.buf = make([]byte, 0, room)
			}
			tr.begin(ns)
			if got, want := string(tr.buf), naive(ns); got != want {
				t.Fatalf("begin(%d) renders %q, want %q", ns, got, want)
			}
		}
	}
	for _, ns := range []int64{math.MinInt64, -1, 0, 999, 1000, 1999, 999999999, 1e9, 12345678901, 999999999999999, 1e15, math.MaxInt64, 0} {
		check(t, ns)
	}
	rapid.Check(t, func(t *rapid.T) {
		for _, ns := range rapid.SliceOfN(rapid.OneOf(rapid.Int64Range(-1e12, 1e16), rapid.Int64Range(0, 3000), rapid.Int64()), 1, 10).Draw(t, "ns") {
			check(t, ns)
		}
	})
}

// TestTracePieces: the lines built from pieces (pieceLine, recvLine or,
// when they decline, begin, put or recvMiss and end, as tick and deliver
// call them) are the plain formatting of their parts, for kinds of any
// length (longer than a piece too), kinds that share their bytes' address
// with a longer or shorter kind, equal kinds at different addresses, times
// within and across seconds, and any room left in the line buffer, which
// no store passes; the written trace, its hash and line count are those of
// the plain text.
func TestTracePieces(t *testing.T) {
	long := "gossip-status-and-more"
	kinds := []string{"heartbeat", "heartbeat-ack", "gossip-status", long, long[:6], long[:13], long[:16], long[:17], "",
		string([]byte("heartbeat")), strings.Repeat("k", 16), strings.Repeat("k", 3)}
	rapid.Check(t, func(t *rapid.T) {
		var out bytes.Buffer
		tr := newTracer(&out)
		var want strings.Builder
		lines := rapid.IntRange(1, 300).Draw(t, "lines")
		ns := rapid.Int64Range(-2e9, 2e12).Draw(t, "start")
		var guard []byte
		for range lines {
			if rapid.IntRange(0, 9).Draw(t, "new buffer") == 0 {
				// A buffer of little room, followed by a guard no
				// store may reach.
				checkGuard(t, guard)
				tr.flush()
				room := rapid.IntRange(0, 100).Draw(t, "room")
				mem := bytes.Repeat([]byte{0xee}, room+128)
				tr.buf, guard = mem[:0:room], mem[room:]
			}
			ns += rapid.OneOf(rapid.Int64Range(0, 2e6), rapid.Int64Range(0, 3e9), rapid.Int64Range(-1e9, 1e15)).Draw(t, "step")
			stamp := fmt.Sprintf("%06d.%06d", max(ns, 0)/1000/1000000, max(ns, 0)/1000%1000000)
			if rapid.Bool().Draw(t, "tick") {
				tick := " n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "ticker")) + " tick"
				p := newPiece(tick)
				if tr.pieceLine(ns, &p) {
					tr.endFlush()
				} else {
					tr.begin(ns)
					tr.put(&p)
					tr.end()
				}
				want.WriteString(stamp + tick + "\n")
				continue
			}
			head := " n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "to")) + " recv "
			tail := " from n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "from"))
			kind := rapid.SampledFrom(kinds).Draw(t, "kind")
			dup := rapid.Bool().Draw(t, "dup")
			hp, tp := newPiece(head), newPiece(tail)
			if tr.recvLine(ns, &hp, kind, &tp, dup) {
				tr.endFlush()
			} else {
				tr.begin(ns)
				tr.recvMiss(&hp, kind, &tp, dup)
				tr.end()
			}
			want.WriteString(stamp + head + kind + tail)
			if dup {
				want.WriteString(" dup")
			}
			want.WriteString("\n")
		}
		checkGuard(t, guard)
		sum := tr.sum()
		if out.String() != want.String() {
			line, got, w := FirstDiff(out.String(), want.String())
			t.Fatalf("line %d of the trace is\n%q\nwant\n%q", line, got, w)
		}
		if sum != xxhash.Sum64String(want.String()) || tr.lines != uint64(lines) {
			t.Fatalf("the trace hashes to %x in %d lines, want %x in %d", sum, tr.lines, xxhash.Sum64String(want.String()), lines)
		}
	})
}

// checkGuard fails unless every byte of guard is still 0xee.
func checkGuard(t *rapid.T, guard []byte) {
	for i, c := range guard {
		if c != 0xee {
			t.Fatalf("a store reached %d bytes past the buffer's capacity", i+1)
		}
	}
}
