package stateres

import (
	"fmt"
	"math"
	"slices"

	"hearth/services/matrix/pdu"
)

// infinite is the mainline position of an event whose power-levels ancestry
// never meets the mainline.
const infinite = math.MaxInt

// plAuth is the m.room.power_levels event among ev's auth events, nil if none.
func (r *resolver) plAuth(ev *pdu.Event) (*pdu.Event, error) {
	for i, n := 0, len(ev.AuthEvents()); i < n; i++ {
		a, err := r.load(ev.AuthEvents()[i])
		if err != nil {
			return nil, err
		}
		if a.StateKeyIs("m.room.power_levels", "") {
			return a, nil
		}
	}
	return nil, nil
}

// mainlineOrder sorts events by the mainline ordering based on pl (which may
// be nil: the mainline is then empty and every position infinite): greater
// mainline position first, then smaller origin_server_ts, then smaller event
// ID.
func (r *resolver) mainlineOrder(events []*pdu.Event, pl *pdu.Event) error {
	// The mainline: pl, the power-levels event in its auth events, and so on.
	index := make(map[string]int)
	for i, p := 0, pl; p != nil; i++ {
		if _, dup := index[p.ID()]; dup {
			return fmt.Errorf("%w: in the mainline of %s", ErrCycle, pl.ID())
		}
		index[p.ID()] = i
		next, err := r.plAuth(p)
		if err != nil {
			return err
		}
		p = next
	}

	// pos[e] is e's mainline position: the index of the first of e_1, e_2, …
	// (e's power-levels auth event, its power-levels auth event, …) on the
	// mainline. It is memoised for every event passed on the way.
	pos := make(map[string]int, len(events))
	position := func(ev *pdu.Event) (int, error) {
		if p, ok := pos[ev.ID()]; ok {
			return p, nil
		}
		var path []string
		cur, val := ev, infinite
		for {
			path = append(path, cur.ID())
			// A path longer than the events loaded repeats one: a cycle.
			if len(path) > len(r.events)+1 {
				return 0, fmt.Errorf("%w: through %s", ErrCycle, cur.ID())
			}
			next, err := r.plAuth(cur)
			if err != nil {
				return 0, err
			}
			if next == nil {
				break
			}
			if i, ok := index[next.ID()]; ok {
				val = i
				break
			}
			if p, ok := pos[next.ID()]; ok {
				val = p
				break
			}
			cur = next
		}
		for _, id := range path {
			pos[id] = val
		}
		return val, nil
	}

	type keyed struct {
		pos int
		ev  *pdu.Event
	}
	ks := make([]keyed, len(events))
	for i, ev := range events {
		p, err := position(ev)
		if err != nil {
			return err
		}
		ks[i] = keyed{p, ev}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		switch {
		case a.pos != b.pos:
			if a.pos > b.pos {
				return -1
			}
			return 1
		case a.ev.OriginServerTS() != b.ev.OriginServerTS():
			if a.ev.OriginServerTS() < b.ev.OriginServerTS() {
				return -1
			}
			return 1
		case a.ev.ID() < b.ev.ID():
			return -1
		case a.ev.ID() > b.ev.ID():
			return 1
		}
		return 0
	})
	for i := range ks {
		events[i] = ks[i].ev
	}
	return nil
}
