package linkem

// event is a packet held in a stage until its release time.
type event struct {
	at  int64  // release time on the emulator's clock
	seq uint64 // order of arrival, so equal times leave first in, first out
	pkt *packet
	hop int // which stage of the packet's path holds it: 0 up, 1 down
}

// eventHeap is a min-heap of events by release time: the emulator's one
// timer queue, whatever the number of links and packets.
type eventHeap []event

func (h eventHeap) before(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.before(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// pop removes and returns the earliest event; h must not be empty.
func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = event{}
	s = s[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.before(l, m) {
			m = l
		}
		if r < len(s) && s.before(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
