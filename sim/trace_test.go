package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

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

// TestTracePieces: the lines built from pieces (put, and recv or, when it
// declines, recvMiss, as deliver calls them) are the plain concatenations
// of their parts, for kinds of any length (longer than a piece too), kinds
// that share their bytes' address with a longer or shorter kind, equal
// kinds at different addresses, and any room left in the line buffer.
func TestTracePieces(t *testing.T) {
	long := "gossip-status-and-more"
	kinds := []string{"heartbeat", "heartbeat-ack", "gossip-status", long, long[:6], long[:13], long[:16], long[:17], "",
		string([]byte("heartbeat")), strings.Repeat("k", 16), strings.Repeat("k", 3)}
	rapid.Check(t, func(t *rapid.T) {
		tr := newTracer(nil)
		var want []byte
		for range rapid.IntRange(1, 40).Draw(t, "lines") {
			if rapid.Bool().Draw(t, "new buffer") {
				// Lines collect in buf: start it over with some room.
				want = append([]byte(nil), tr.buf...)
				tr.buf = append(make([]byte, 0, len(want)+rapid.IntRange(0, 70).Draw(t, "room")), want...)
			}
			head := " n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "to")) + " recv "
			tail := " from n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "from"))
			kind := rapid.SampledFrom(kinds).Draw(t, "kind")
			dup := rapid.Bool().Draw(t, "dup")
			hp, tp := newPiece(head), newPiece(tail)
			if !tr.recv(&hp, kind, &tp, dup) {
				tr.recvMiss(&hp, kind, &tp, dup)
			}
			want = append(want, head+kind+tail...)
			if dup {
				want = append(want, " dup"...)
			}
			if rapid.Bool().Draw(t, "tick") {
				tick := " n" + strconv.Itoa(rapid.IntRange(1, 5000).Draw(t, "ticker")) + " tick"
				p := newPiece(tick)
				tr.put(&p)
				want = append(want, tick...)
			}
			if string(tr.buf) != string(want) {
				t.Fatalf("the buffer holds\n%q\nwant\n%q", tr.buf, want)
			}
		}
	})
}
