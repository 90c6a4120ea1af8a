package stateres

import (
	"fmt"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

var plKey = pdu.TypeKey{Type: "m.room.power_levels"}

// resolver holds one resolution's inputs and the events it has loaded.
type resolver struct {
	v      *pdu.RoomVersion
	in     Input
	max    int
	events map[string]*pdu.Event
	levels map[levelsKey]power.Levels

	// the v12 create event ID of the last room ID asked about
	room, createID string
}

func newResolver(in Input) *resolver {
	limit := in.MaxAuthChain
	if limit <= 0 {
		limit = DefaultMaxAuthChain
	}
	size := 0
	for _, s := range in.States {
		size = max(size, len(s))
	}
	return &resolver{
		v:      in.Version,
		in:     in,
		max:    limit,
		events: make(map[string]*pdu.Event, min(2*size, limit)),
		levels: make(map[levelsKey]power.Levels),
	}
}

// load fetches an event once, counting it against the bound.
func (r *resolver) load(id string) (*pdu.Event, error) {
	if ev, ok := r.events[id]; ok {
		return ev, nil
	}
	if len(r.events) >= r.max {
		return nil, fmt.Errorf("%w: more than %d events to load", ErrTooLarge, r.max)
	}
	ev, err := r.in.Event(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMissingEvent, id, err)
	}
	if ev == nil {
		return nil, fmt.Errorf("%w: %s", ErrMissingEvent, id)
	}
	if ev.ID() != id {
		return nil, fmt.Errorf("%w: fetching %s returned %s", ErrBadState, id, ev.ID())
	}
	r.events[id] = ev
	return ev, nil
}

// checkStates loads every event of every input state and checks that it is a
// state event of the key it is stored under.
func (r *resolver) checkStates() error {
	for _, s := range r.in.States {
		for k, id := range s {
			ev, err := r.load(id)
			if err != nil {
				return err
			}
			if !ev.IsState() || ev.Key() != k {
				return fmt.Errorf("%w: %s is stored under (%s, %q) but is not that state event", ErrBadState, id, k.Type, k.StateKey)
			}
		}
	}
	return nil
}

// numAuth is the number of auth edges of ev. In room version 12 the create
// event is never listed in auth_events, yet the auth rules need it (rule 2)
// and it decides who the creators are; it is identified by the room ID. Each
// v12 event but the create event therefore gets it as an implicit last auth
// edge, so that auth chains, sender power levels and the iterative auth checks
// (which may start from an empty state in v2.1) all see it.
func (r *resolver) numAuth(ev *pdu.Event) int {
	n := len(ev.AuthEvents())
	if r.implicitCreate(ev) != "" {
		n++
	}
	return n
}

// authAt is the i-th auth edge of ev, 0 <= i < numAuth(ev).
func (r *resolver) authAt(ev *pdu.Event, i int) string {
	if auth := ev.AuthEvents(); i < len(auth) {
		return auth[i]
	}
	return r.implicitCreate(ev)
}

// implicitCreate is the ID of the create event that a v12 event depends on
// without listing it, or "".
func (r *resolver) implicitCreate(ev *pdu.Event) string {
	if !r.v.RoomIDIsCreateHash || ev.StateKeyIs("m.room.create", "") {
		return ""
	}
	room := ev.RoomID()
	if len(room) < 2 || room[0] != '!' {
		return ""
	}
	if room != r.room {
		r.room, r.createID = room, "$"+room[1:]
	}
	id := r.createID
	for _, a := range ev.AuthEvents() {
		if a == id {
			return ""
		}
	}
	return id
}
