package roomserver

import (
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
)

// Outliers are events we hold without knowing where they sit in the DAG:
// the auth chain and state handed over by a join, or auth events fetched
// for an event from another server. They are checked against their own
// auth events (rejected when that fails) and are never in a timeline.

// maxOutliersPerCommit bounds one transaction (Badger limits a transaction's
// size); a large import is split, which is safe because outliers are only
// reachable once the event that needs them is committed.
const maxOutliersPerCommit = 256

// known is what the store says about an event ID.
type known struct {
	nid   uint64
	flags byte
	ev    *pdu.Event
}

func (k known) rejected() bool { return k.flags&flagRejected != 0 }
func (k known) outlier() bool  { return k.flags&flagOutlier != 0 }

// lookup reads events by ID; unknown IDs are absent from the result.
func (s *Server) lookup(r *room, ids []string) (map[string]known, error) {
	out := make(map[string]known, len(ids))
	err := s.db.View(func(txn *badger.Txn) error {
		for _, id := range ids {
			if _, done := out[id]; done {
				continue
			}
			k, ok, err := s.lookupEventTxn(txn, r, id)
			if err != nil {
				return err
			}
			if ok {
				out[id] = k
			}
		}
		return nil
	})
	return out, err
}

func (s *Server) lookupEventTxn(txn *badger.Txn, r *room, id string) (known, bool, error) {
	it, err := txn.Get(keyEventByID(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return known{}, false, nil
	}
	if err != nil {
		return known{}, false, err
	}
	var nid uint64
	var ok bool
	if err := it.Value(func(b []byte) error { nid, ok = nidOf(b); return nil }); err != nil || !ok {
		return known{}, false, err
	}
	ev, rec, err := s.loadRecordTxn(txn, nid, r.ver)
	if err != nil {
		return known{}, false, err
	}
	if rec.room != r.nid {
		// An event ID is a hash of the event, which names its room.
		return known{}, false, fmt.Errorf("%w: event %s belongs to another room", ErrBadEvent, id)
	}
	return known{nid: nid, flags: rec.flags, ev: ev}, true, nil
}

// storeOutliers checks and stores events not yet known, in an order where
// each event's auth events come first. Events whose auth events are neither
// given nor stored cannot be checked and are dropped; the returned map says,
// for every given event that is now stored, what the store holds.
func (s *Server) storeOutliers(ctx context.Context, r *room, events []*pdu.Event) (map[string]known, error) {
	byID := make(map[string]*pdu.Event, len(events))
	ids := make([]string, 0, len(events))
	for _, ev := range events {
		if ev == nil || ev.RoomID() != r.id {
			continue
		}
		if _, dup := byID[ev.ID()]; !dup {
			byID[ev.ID()] = ev
			ids = append(ids, ev.ID())
		}
	}
	// Everything the events name as auth events, to know what is stored.
	var names []string
	for _, ev := range byID {
		names = append(names, ev.AuthEvents()...)
	}
	have, err := s.lookup(r, append(ids, names...))
	if err != nil {
		return nil, err
	}
	order, err := authOrder(byID, have)
	if err != nil {
		return nil, err
	}
	create := s.createEventOf(r, byID, have)
	var batch []pendingOutlier
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.commitOutliers(r, batch); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	for _, ev := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		flags := byte(flagOutlier)
		if reason := checkOwnAuth(ev, have, create); reason != "" {
			flags |= flagRejected
			s.log.Debug("outlier rejected", "event", ev.ID(), "room", r.id, "reason", reason)
		}
		nid := s.seq.take()
		have[ev.ID()] = known{nid: nid, flags: flags, ev: ev}
		batch = append(batch, pendingOutlier{ev: ev, nid: nid, flags: flags})
		if len(batch) >= maxOutliersPerCommit {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return have, nil
}

type pendingOutlier struct {
	ev    *pdu.Event
	nid   uint64
	flags byte
}

func (s *Server) commitOutliers(r *room, batch []pendingOutlier) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, o := range batch {
			rec := record{room: r.nid, flags: o.flags, id: o.ev.ID(), json: o.ev.JSON()}
			if err := txn.Set(keyEvent(o.nid), rec.encode()); err != nil {
				return err
			}
			if err := txn.Set(keyEventByID(o.ev.ID()), u64(o.nid)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, o := range batch {
		s.pub.finish(s.seq, o.nid, r.id, nil) // outliers are never announced
	}
	if err != nil {
		return fmt.Errorf("roomserver: store outliers: %w", err)
	}
	return nil
}

// authOrder sorts the not-yet-stored events so that each comes after the
// given events among its auth events. Events whose auth events are missing
// (neither given nor stored), and events depending on them, are left out.
func authOrder(byID map[string]*pdu.Event, have map[string]known) ([]*pdu.Event, error) {
	const (
		unvisited = iota
		visiting
		done
		missing
	)
	mark := make(map[string]int, len(byID))
	var order []*pdu.Event
	var visit func(id string, depth int) int
	visit = func(id string, depth int) int {
		if _, ok := have[id]; ok {
			return done
		}
		ev, ok := byID[id]
		if !ok {
			return missing
		}
		switch mark[id] {
		case visiting:
			return missing // a cycle: cannot be ordered, cannot be valid
		case done, missing:
			return mark[id]
		}
		if depth > 10_000 {
			return missing
		}
		mark[id] = visiting
		for _, a := range ev.AuthEvents() {
			if visit(a, depth+1) == missing {
				mark[id] = missing
				return missing
			}
		}
		mark[id] = done
		order = append(order, ev)
		return done
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sortByDepthThenID(ids, byID)
	for _, id := range ids {
		visit(id, 0)
	}
	return order, nil
}

// checkOwnAuth applies the auth rules to ev against its own auth events
// (step 4 of the checks on receipt), returning why it fails or "".
func checkOwnAuth(ev *pdu.Event, have map[string]known, create *pdu.Event) string {
	if ev.Type() == "m.room.create" {
		if err := auth.Allowed(ev, pdu.StateMap{}); err != nil {
			return err.Error()
		}
		return ""
	}
	var list []*pdu.Event
	for _, id := range ev.AuthEvents() {
		k, ok := have[id]
		if !ok {
			return "auth event " + id + " is unknown"
		}
		if k.rejected() {
			return "auth event " + id + " was rejected"
		}
		list = append(list, k.ev)
	}
	if ev.Version().RoomIDIsCreateHash {
		if create == nil {
			return "the room's create event is unknown"
		}
		list = append(list, create)
	}
	if err := auth.CheckAuthEvents(ev, list); err != nil {
		return err.Error()
	}
	if err := auth.Allowed(ev, pdu.StateMapOf(list...)); err != nil {
		return err.Error()
	}
	return ""
}

// createEventOf finds the room's create event among the given or stored
// events (v12 rooms never list it in auth_events).
func (s *Server) createEventOf(r *room, byID map[string]*pdu.Event, have map[string]known) *pdu.Event {
	r.mu.Lock()
	c := r.state.Get("m.room.create", "")
	r.mu.Unlock()
	if c != nil {
		return c
	}
	if r.ver.RoomIDIsCreateHash {
		id := "$" + r.id[1:]
		if ev, ok := byID[id]; ok {
			return ev
		}
		if k, ok := have[id]; ok {
			return k.ev
		}
		if got, err := s.lookup(r, []string{id}); err == nil {
			if k, ok := got[id]; ok {
				return k.ev
			}
		}
		return nil
	}
	for _, ev := range byID {
		if ev.StateKeyIs("m.room.create", "") {
			return ev
		}
	}
	return nil
}
