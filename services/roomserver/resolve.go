package roomserver

import (
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/stateres"
)

// stateView is a room state as events and as event NIDs; snap is the
// snapshot that stores it, or 0 when it is not stored yet. A view is never
// changed once built: views share maps with the room's current state.
type stateView struct {
	events pdu.StateMap
	nids   snapshot
	snap   uint64
}

// viewOf builds a view from state events and what the store knows of them;
// rejected and unknown events are left out.
func viewOf(state []*pdu.Event, have map[string]known) *stateView {
	v := &stateView{events: pdu.StateMap{}, nids: snapshot{}}
	for _, e := range state {
		if k, ok := have[e.ID()]; ok && !k.rejected() && e.IsState() {
			v.events[e.Key()] = k.ev
			v.nids[e.Key()] = k.nid
		}
	}
	return v
}

// currentView is the room's current state. The caller holds r.mu or
// r.ingestMu (the maps are replaced, never changed, after publication).
func (r *room) currentView() *stateView {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &stateView{events: r.state, nids: r.stateNIDs, snap: r.stateSnap}
}

// stateAfterEvents is the state after the given events of the DAG: the
// state after one of them, or the resolution of the states after each.
// cur is the room's current state, used when a snapshot is the current one.
func (s *Server) stateAfterEvents(r *room, cur *stateView, ids []string) (*stateView, error) {
	snaps := map[uint64]bool{}
	var list []uint64
	err := s.db.View(func(txn *badger.Txn) error {
		for _, id := range ids {
			k, ok, err := s.lookupEventTxn(txn, r, id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: event %s", ErrNotFound, id)
			}
			at, ok, err := readStateAtTxn(txn, k.nid)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: no state recorded at %s", ErrNotFound, id)
			}
			if !snaps[at.after] {
				snaps[at.after] = true
				list = append(list, at.after)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	views := make([]*stateView, 0, len(list))
	for _, snap := range list {
		if snap == cur.snap {
			views = append(views, cur)
			continue
		}
		v, err := s.loadView(r, snap)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return s.resolveViews(r, views)
}

// loadView reads a stored snapshot with its events.
func (s *Server) loadView(r *room, snap uint64) (*stateView, error) {
	v := &stateView{events: pdu.StateMap{}, snap: snap}
	err := s.db.View(func(txn *badger.Txn) error {
		nids, err := readSnapshotTxn(txn, snap)
		if err != nil {
			return err
		}
		v.nids = nids
		for k, nid := range nids {
			ev, _, err := s.loadRecordTxn(txn, nid, r.ver)
			if err != nil {
				return err
			}
			v.events[k] = ev
		}
		return nil
	})
	return v, err
}

// resolveViews runs state resolution over several states; one state is
// its own answer.
func (s *Server) resolveViews(r *room, views []*stateView) (*stateView, error) {
	switch len(views) {
	case 0:
		return &stateView{events: pdu.StateMap{}, nids: snapshot{}}, nil
	case 1:
		return views[0], nil
	}
	states := make([]stateres.StateIDs, len(views))
	cache := map[string]known{}
	for i, v := range views {
		ids := make(stateres.StateIDs, len(v.events))
		for k, ev := range v.events {
			ids[k] = ev.ID()
			cache[ev.ID()] = known{nid: v.nids[k], ev: ev}
		}
		states[i] = ids
	}
	load := func(id string) (known, error) {
		if k, ok := cache[id]; ok && k.ev != nil {
			return k, nil
		}
		got, err := s.lookup(r, []string{id})
		if err != nil {
			return known{}, err
		}
		k, ok := got[id]
		if !ok {
			return known{}, fmt.Errorf("%w: %s", stateres.ErrMissingEvent, id)
		}
		cache[id] = k
		return k, nil
	}
	rejected := map[string]bool{}
	resolved, err := stateres.Resolve(stateres.Input{
		Version: r.ver,
		States:  states,
		Event: func(id string) (*pdu.Event, error) {
			k, err := load(id)
			if err != nil {
				return nil, err
			}
			if k.rejected() {
				rejected[id] = true
			}
			return k.ev, nil
		},
		Rejected: func(id string) bool {
			if k, err := load(id); err == nil {
				return k.rejected()
			}
			return rejected[id]
		},
	})
	if err != nil {
		return nil, fmt.Errorf("roomserver: resolving state of %s: %w", r.id, err)
	}
	out := &stateView{events: make(pdu.StateMap, len(resolved)), nids: make(snapshot, len(resolved))}
	for key, id := range resolved {
		k, err := load(id)
		if err != nil {
			return nil, err
		}
		if k.nid == 0 {
			return nil, errors.New("roomserver: resolved state names an event with no NID")
		}
		out.events[key] = k.ev
		out.nids[key] = k.nid
	}
	return out, nil
}
