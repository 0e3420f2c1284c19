package sim

import (
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/rumorhq/rumor/netsim"
	"github.com/rumorhq/rumor/proto"
)

// MaxArrows is the largest number of messages an HTML timeline draws as
// arrows; larger runs show lanes and faults only.
const MaxArrows = 2000

// Timeline is what a run recorded for its HTML rendering: one lane per
// slot with the node's status over time, fault windows, point marks and,
// for small runs, every delivered message.
type Timeline struct {
	Lanes  []string
	Spans  []Span
	Faults []FaultSpan
	Marks  []Mark
	// Arrows holds every delivery when there were at most MaxArrows.
	Arrows   []Arrow
	Messages int
	End      time.Duration
	open     []int // per lane: index of its open span, -1 none
}

// Span is a lane's status from From to To.
type Span struct {
	Lane     int
	From, To time.Duration
	Label    string
}

// FaultSpan shades a fault window over some lanes (all when Lanes is nil).
type FaultSpan struct {
	From, To time.Duration
	Kind     string
	Label    string
	Lanes    []int
	open     bool
}

// Mark is a point event on a lane (lane -1: the whole cluster).
type Mark struct {
	Lane  int
	At    time.Duration
	Label string
}

// Arrow is one delivered message.
type Arrow struct {
	From, To   int
	Sent, Recv time.Duration
	Kind       string
}

// laneLabel is what a slot's lane shows now.
func laneLabel(sl *slot) string {
	switch sl.proc {
	case procCrashed:
		return "crashed"
	case procPaused:
		return "paused"
	case procStopped:
		return "stopped"
	}
	switch sl.phase {
	case proto.PhaseMember:
		if st := sl.node.State().Status(sl.node.Self()); st != 0 {
			return st.String()
		}
		return "member"
	case proto.PhaseStopped:
		return "stopped"
	}
	return "joining"
}

// timelineLabel closes the slot's current span when its label changed.
func (s *sim) timelineLabel(sl *slot) {
	if s.tl == nil || sl.node == nil {
		return
	}
	l := laneLabel(sl)
	if l == sl.label {
		return
	}
	sl.label = l
	tl := s.tl
	for len(tl.open) <= sl.idx {
		tl.open = append(tl.open, -1)
	}
	for len(tl.Lanes) <= sl.idx {
		tl.Lanes = append(tl.Lanes, slotName(len(tl.Lanes)))
	}
	now := time.Duration(s.now)
	if i := tl.open[sl.idx]; i >= 0 {
		tl.Spans[i].To = now
	}
	tl.Spans = append(tl.Spans, Span{Lane: sl.idx, From: now, To: -1, Label: l})
	tl.open[sl.idx] = len(tl.Spans) - 1
}

// message records a delivery of a message of the given kind.
func (tl *Timeline) message(s *sim, ev *netsim.Event, kind string) {
	tl.Messages++
	if tl.Messages > MaxArrows {
		tl.Arrows = nil
		return
	}
	from, to := s.slotAt(ev.FromNode), s.slotAt(ev.ToNode)
	if from == nil || to == nil {
		return
	}
	tl.Arrows = append(tl.Arrows, Arrow{From: from.idx, To: to.idx, Sent: ev.SentAt.Sub(epoch), Recv: ev.At.Sub(epoch), Kind: kind})
}

// fault records an executed schedule entry.
func (tl *Timeline) fault(s *sim, e Entry) {
	now := time.Duration(s.now)
	switch e.Op {
	case OpPartition, OpIsolate, OpCut:
		var lanes []int
		if e.Op != OpPartition {
			lanes = e.nodes()
		}
		tl.Faults = append(tl.Faults, FaultSpan{From: now, To: -1, Kind: "partition", Label: e.Action(), Lanes: lanes, open: true})
	case OpHeal:
		tl.close("partition", now)
	case OpClog:
		tl.Faults = append(tl.Faults, FaultSpan{From: now, To: now + e.Dur, Kind: "clog", Label: e.Action(), Lanes: e.nodes()})
	case OpSwizzle:
		tl.Faults = append(tl.Faults, FaultSpan{From: now, To: now + e.Dur, Kind: "clog", Label: e.Action()})
	case OpLoss, OpDup:
		tl.close(e.Op.String(), now)
		if !e.Base {
			tl.Faults = append(tl.Faults, FaultSpan{From: now, To: -1, Kind: e.Op.String(), Label: e.Action(), open: true})
		}
	default:
		tl.Marks = append(tl.Marks, Mark{Lane: e.Node, At: now, Label: e.Action()})
	}
}

func (tl *Timeline) close(kind string, at time.Duration) {
	for i := range tl.Faults {
		if f := &tl.Faults[i]; f.open && f.Kind == kind {
			f.To, f.open = at, false
		}
	}
}

func (tl *Timeline) closeFaults(at time.Duration) {
	for i := range tl.Faults {
		if f := &tl.Faults[i]; f.open {
			f.To, f.open = at, false
		}
	}
	tl.Marks = append(tl.Marks, Mark{Lane: -1, At: at, Label: "liveness phase: heal everything"})
}

func (tl *Timeline) finish(s *sim) {
	tl.End = time.Duration(s.now)
	for i := range tl.Spans {
		if tl.Spans[i].To < 0 {
			tl.Spans[i].To = tl.End
		}
	}
	tl.closeFaults(tl.End)
	tl.Marks = tl.Marks[:len(tl.Marks)-1]
	for len(tl.Lanes) < len(s.slots) {
		tl.Lanes = append(tl.Lanes, slotName(len(tl.Lanes)))
	}
}

var statusColors = map[string]string{
	"joining": "#f6d55c", "Joining": "#f6d55c", "WeaklyUp": "#c5e384", "Up": "#5cb85c",
	"Leaving": "#8ecae6", "Exiting": "#4a90c2", "Down": "#e4572e", "stopped": "#9e9e9e",
	"crashed": "#333333", "paused": "#c8c8c8", "member": "#5cb85c",
}

var faultColors = map[string]string{"partition": "#e4572e", "clog": "#f29e4c", "loss": "#8e44ad", "dup": "#3498db"}

var arrowColors = map[string]string{
	"gossip-status": "#999999", "gossip-state": "#2c7bb6", "gossip-seen": "#7fb3d5", "heartbeat": "#cccccc", "heartbeat-ack": "#bbbbbb",
	"join": "#d7191c", "welcome": "#fdae61", "init-join": "#abd9e9", "init-join-ack": "#1a9641",
}

// WriteHTML renders a run's timeline as one self-contained HTML page: an
// inline SVG with one lane per node (its status over time), shaded fault
// windows, marks for point faults and, for runs of at most MaxArrows
// messages, every message as an arrow. Hovering shows details.
func WriteHTML(w io.Writer, r Result) error {
	tl := r.Timeline
	if tl == nil {
		return fmt.Errorf("sim: the run recorded no timeline (set Options.Timeline)")
	}
	const left, laneH, top = 70.0, 34.0, 40.0
	end := tl.End.Seconds()
	if end <= 0 {
		end = 1
	}
	width := min(max(end*12, 1000), 20000)
	x := func(d time.Duration) float64 { return left + d.Seconds()/end*width }
	height := top + laneH*float64(len(tl.Lanes)) + 30
	laneY := func(i int) float64 { return top + laneH*float64(i) }

	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>simrun seed %d</title>\n", r.Seed)
	b.WriteString(`<style>body{font:13px sans-serif;margin:16px}pre{background:#f4f4f4;padding:8px;white-space:pre-wrap}
.lg span{display:inline-block;margin-right:12px}.lg i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
svg text{font:11px monospace}</style></head><body>`)
	fmt.Fprintf(&b, "<h2>simrun seed %d: %s</h2>\n", r.Seed, esc(strings.ToUpper(r.Verdict)))
	fmt.Fprintf(&b, "<pre>%s\nreproduce: %s</pre>\n", esc(r.Params.String()), esc(r.Command))
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "<p style=\"color:#c00\"><b>%s</b></p>\n", esc(v.String()))
	}
	b.WriteString(`<div class="lg">`)
	for _, k := range []string{"joining", "WeaklyUp", "Up", "Leaving", "Exiting", "Down", "stopped", "crashed", "paused"} {
		fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s</span>`, statusColors[k], k)
	}
	for _, k := range []string{"partition", "clog", "loss", "dup"} {
		fmt.Fprintf(&b, `<span><i style="background:%s;opacity:.35"></i>%s</span>`, faultColors[k], k)
	}
	b.WriteString("</div>\n")
	if tl.Messages > MaxArrows {
		fmt.Fprintf(&b, "<p>%d messages: more than %d, so no arrows are drawn (run shorter or smaller to see them).</p>\n", tl.Messages, MaxArrows)
	}
	b.WriteString(`<div style="overflow-x:auto">`)
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\">\n", left+width+20, height)
	b.WriteString(`<defs><marker id="ah" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0L6,3L0,6z" fill="#555"/></marker></defs>` + "\n")
	// Time axis.
	step := niceStep(end)
	for s := 0.0; s <= end; s += step {
		px := left + s/end*width
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.0f\">%gs</text>\n", px, top-8, px, height-24, px+2, top-12, s)
	}
	// Fault windows.
	for _, f := range tl.Faults {
		x0, x1 := x(f.From), x(f.To)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		lanes := f.Lanes
		if lanes == nil {
			fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" opacity=\".18\"><title>%s %.3fs-%.3fs</title></rect>\n",
				x0, top, x1-x0, laneH*float64(len(tl.Lanes)), faultColors[f.Kind], esc(f.Label), f.From.Seconds(), f.To.Seconds())
			continue
		}
		for _, l := range lanes {
			fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\" opacity=\".3\"><title>%s %.3fs-%.3fs</title></rect>\n",
				x0, laneY(l), x1-x0, laneH, faultColors[f.Kind], esc(f.Label), f.From.Seconds(), f.To.Seconds())
		}
	}
	// Lanes.
	for i, name := range tl.Lanes {
		fmt.Fprintf(&b, "<text x=\"4\" y=\"%.0f\">%s</text>\n", laneY(i)+laneH/2+4, esc(name))
	}
	for _, sp := range tl.Spans {
		x0, x1 := x(sp.From), x(sp.To)
		fmt.Fprintf(&b, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>%s %s %.3fs-%.3fs</title></rect>\n",
			x0, laneY(sp.Lane)+laneH*0.3, max(x1-x0, 0.5), laneH*0.4, statusColors[sp.Label], esc(tl.Lanes[sp.Lane]), esc(sp.Label), sp.From.Seconds(), sp.To.Seconds())
	}
	// Messages.
	if tl.Messages <= MaxArrows {
		for _, a := range tl.Arrows {
			c := arrowColors[a.Kind]
			if c == "" {
				c = "#777"
			}
			fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\" marker-end=\"url(#ah)\"><title>%s %s&#8594;%s %.6fs&#8594;%.6fs</title></line>\n",
				x(a.Sent), laneY(a.From)+laneH/2, x(a.Recv), laneY(a.To)+laneH/2, c, esc(a.Kind), tl.Lanes[a.From], tl.Lanes[a.To], a.Sent.Seconds(), a.Recv.Seconds())
		}
	}
	// Marks.
	for _, m := range tl.Marks {
		px := x(m.At)
		if m.Lane < 0 || m.Lane >= len(tl.Lanes) {
			fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#000\" stroke-dasharray=\"4 3\"><title>%s at %.3fs</title></line>\n",
				px, top, px, height-24, esc(m.Label), m.At.Seconds())
			continue
		}
		y := laneY(m.Lane)
		fmt.Fprintf(&b, "<path d=\"M%.1f,%.1f l-4,-7 h8 z\" fill=\"#000\"><title>%s at %.3fs</title></path>\n", px, y+laneH*0.3, esc(m.Label), m.At.Seconds())
	}
	for _, v := range r.Violations {
		px := x(time.Duration(v.At * float64(time.Second)))
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#c00\" stroke-width=\"2\"><title>%s</title></line>\n", px, top, px, height-24, esc(v.String()))
	}
	b.WriteString("</svg></div>\n")
	if r.Schedule != "" {
		fmt.Fprintf(&b, "<h3>Executed fault schedule</h3><pre>%s</pre>\n", esc(strings.ReplaceAll(r.Schedule, "; ", "\n")))
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep picks an axis step giving about 10 to 20 ticks.
func niceStep(end float64) float64 {
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600} {
		if end/s <= 20 {
			return s
		}
	}
	return 7200
}
