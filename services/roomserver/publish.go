package roomserver

import (
	"slices"
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
	p.finishWith(seq, pos, roomID, ev, nil)
}

// finishWith is finish for a local event, with the room's servers.
func (p *publisher) finishWith(seq *sequence, pos uint64, roomID string, ev *pdu.Event, servers []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev != nil {
		p.pending[pos] = Notification{Position: pos, RoomID: roomID, Event: ev, Servers: servers}
	}
	mark, _ := seq.finish(pos)
	p.release(mark)
}

// release sends the pending notifications up to mark, in position order.
// The caller holds mu.
func (p *publisher) release(mark uint64) {
	var ready []uint64
	for q := range p.pending {
		if q <= mark {
			ready = append(ready, q)
		}
	}
	slices.Sort(ready)
	for _, q := range ready {
		n := p.pending[q]
		delete(p.pending, q)
		if p.notify != nil {
			p.notify(n) // under mu: listeners see positions in order
		}
	}
	if mark > p.notified {
		p.notified = mark
	}
}

// skip reserves n empty positions (see sequence.skip).
func (p *publisher) skip(seq *sequence, n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seq.skip(n)
	mark := seq.watermark()
	p.release(mark)
	if mark > p.notified {
		p.notified = mark
	}
}
