package roomserver

import (
	"sync"

	"hearth/services/matrix/pdu"
)

// publisher turns finished commits into notifications. A notification is
// sent only once the watermark has passed its event, in position order, and
// carries the event's own position: a listener told about position P can
// read every event up to P. A commit that finishes before an earlier one
// waits here until the earlier one finishes too.
type publisher struct {
	mu       sync.Mutex
	notify   func(Notification)
	pending  map[uint64]Notification
	notified uint64
}

func newPublisher(notify func(Notification), last uint64) *publisher {
	return &publisher{notify: notify, pending: map[uint64]Notification{}, notified: last}
}

// finish marks position pos finished in seq (ev nil: the commit failed and
// the position stays empty) and sends every notification the new watermark
// releases.
func (p *publisher) finish(seq *sequence, pos uint64, roomID string, ev *pdu.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev != nil {
		p.pending[pos] = Notification{Position: pos, RoomID: roomID, Event: ev}
	}
	mark, _ := seq.finish(pos)
	for q := p.notified + 1; q <= mark; q++ {
		n, ok := p.pending[q]
		if !ok {
			continue
		}
		delete(p.pending, q)
		if p.notify != nil {
			p.notify(n) // under mu: listeners see positions in order
		}
	}
	if mark > p.notified {
		p.notified = mark
	}
}
