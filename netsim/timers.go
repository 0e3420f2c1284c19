package netsim

// timerEntry is a pending timer: the sequence number of its queue item
// (never 0: sequence numbers start at 1) and its instant.
type timerEntry struct {
	seq uint64
	at  int64
}

// maxDenseTimer bounds the ids a timerSet keeps in its slice.
const maxDenseTimer = 1 << 16

// timerSet holds the pending timers by id: small ids (a simulator numbers
// its timers densely, one per node) in a slice, the rest in a map.
type timerSet struct {
	dense  []timerEntry // by id; seq 0: not pending
	sparse map[uint64]timerEntry
	count  int
}

func (s *timerSet) get(id uint64) (timerEntry, bool) {
	if id < maxDenseTimer {
		if id < uint64(len(s.dense)) && s.dense[id].seq != 0 {
			return s.dense[id], true
		}
		return timerEntry{}, false
	}
	e, ok := s.sparse[id]
	return e, ok
}

// set makes e the pending entry of id.
func (s *timerSet) set(id uint64, e timerEntry) {
	if id < maxDenseTimer {
		for uint64(len(s.dense)) <= id {
			s.dense = append(s.dense, timerEntry{})
		}
		if s.dense[id].seq == 0 {
			s.count++
		}
		s.dense[id] = e
		return
	}
	if s.sparse == nil {
		s.sparse = map[uint64]timerEntry{}
	}
	if _, ok := s.sparse[id]; !ok {
		s.count++
	}
	s.sparse[id] = e
}

// remove forgets id's entry, if any.
func (s *timerSet) remove(id uint64) {
	if id < maxDenseTimer {
		if id < uint64(len(s.dense)) && s.dense[id].seq != 0 {
			s.dense[id] = timerEntry{}
			s.count--
		}
		return
	}
	if _, ok := s.sparse[id]; ok {
		delete(s.sparse, id)
		s.count--
	}
}

// len returns how many timers are pending.
func (s *timerSet) len() int { return s.count }
