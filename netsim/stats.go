package netsim

// Stats are the network's counters, for "did the fault bite" probes and
// run summaries. Every message copy is accounted for:
//
//	Sent + Duplicated == Delivered + Dropped.Total() + InFlight()
type Stats struct {
	// Sent counts Send calls.
	Sent uint64
	// Duplicated counts extra copies scheduled by Config.Duplicate (or a
	// link's Duplicate), whether or not they were delivered.
	Duplicated uint64
	// Delivered counts copies returned by Step.
	Delivered uint64
	// Dropped counts copies the network stopped, by cause.
	Dropped Drops
	// CutInFlight counts the copies in Dropped.Partition and
	// Dropped.OneWay that were already in flight when their path was cut.
	CutInFlight uint64
	// Reordered counts deliveries whose send sequence on their directed
	// path is lower than that of a copy already delivered on it.
	Reordered uint64
	// Clogged counts copies held at least once by a clog (delayed, not
	// dropped).
	Clogged uint64
	// Timers counts timer events returned by Step.
	Timers uint64
	// BytesSent sums Config.Sizer over Send calls; BytesDelivered over
	// delivered copies.
	BytesSent, BytesDelivered uint64
}

// Drops counts dropped message copies by cause.
type Drops struct {
	// Loss: random loss (Config.Loss or a link's Loss), at send time.
	Loss uint64
	// Partition: a symmetric cut (Partition groups or Isolate), at send
	// time or when the copy fell due.
	Partition uint64
	// OneWay: a CutOneWay cut, at send time or when the copy fell due.
	OneWay uint64
	// InFlight: the path already had Config.MaxInFlight copies in flight.
	InFlight uint64
	// Down: the receiver was Down when the copy fell due.
	Down uint64
}

// Total sums the drops of every cause.
func (d Drops) Total() uint64 { return d.Loss + d.Partition + d.OneWay + d.InFlight + d.Down }

// PartitionCuts counts messages a partition actually stopped, symmetric
// and one-way, at send time or in flight.
func (s Stats) PartitionCuts() uint64 { return s.Dropped.Partition + s.Dropped.OneWay }
