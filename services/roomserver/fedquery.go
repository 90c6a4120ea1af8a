package roomserver

import (
	"context"
	"fmt"
	"slices"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// Reads that other servers make through federation: state at an event,
// auth chains, history walks. Each is bounded by its caller's limit.

// MaxAuthChainEvents bounds one auth chain walk.
const MaxAuthChainEvents = 200_000

// StateBefore returns the room state before an event of the DAG.
func (s *Server) StateBefore(ctx context.Context, roomID, eventID string) (pdu.StateMap, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	var snap uint64
	err = s.db.View(func(txn *badger.Txn) error {
		k, ok, err := s.lookupEventTxn(txn, r, eventID)
		if err != nil {
			return err
		}
		if !ok || k.outlier() {
			return fmt.Errorf("%w: event %s", ErrNotFound, eventID)
		}
		at, ok, err := readStateAtTxn(txn, k.nid)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no state recorded at %s", ErrNotFound, eventID)
		}
		snap = at.before
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cur := r.currentView(); cur.snap == snap {
		return cur.events, nil
	}
	v, err := s.loadView(r, snap)
	if err != nil {
		return nil, err
	}
	return v.events, nil
}

// AuthChain returns the auth chain of the given events: their auth
// events, and theirs, and so on (not the events themselves).
func (s *Server) AuthChain(ctx context.Context, roomID string, events []*pdu.Event) ([]*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var queue []string
	for _, ev := range events {
		queue = append(queue, ev.AuthEvents()...)
	}
	var out []*pdu.Event
	err = s.db.View(func(txn *badger.Txn) error {
		for len(queue) > 0 {
			id := queue[0]
			queue = queue[1:]
			if seen[id] {
				continue
			}
			seen[id] = true
			if len(seen) > MaxAuthChainEvents {
				return fmt.Errorf("%w: auth chain too long", ErrBadEvent)
			}
			k, ok, err := s.lookupEventTxn(txn, r, id)
			if err != nil {
				return err
			}
			if !ok {
				continue // we do not have it either
			}
			out = append(out, k.ev)
			queue = append(queue, k.ev.AuthEvents()...)
		}
		return ctx.Err()
	})
	return out, err
}

// EventsByID returns the stored events of a room with these IDs, as
// stored (not redacted for readers); unknown IDs are skipped.
func (s *Server) EventsByID(ctx context.Context, roomID string, ids []string) ([]*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	have, err := s.lookup(r, ids)
	if err != nil {
		return nil, err
	}
	var out []*pdu.Event
	for _, id := range ids {
		if k, ok := have[id]; ok {
			out = append(out, k.ev)
		}
	}
	return out, nil
}

// Backfill walks the DAG backwards from the given events (included),
// newest first by depth, returning at most limit events.
func (s *Server) Backfill(ctx context.Context, roomID string, from []string, limit int) ([]*pdu.Event, error) {
	return s.walkBack(ctx, roomID, from, nil, limit, 0, true)
}

// MissingEvents answers /get_missing_events: events reachable backwards
// from latest's prev_events that are not in or before earliest, with depth
// at least minDepth, oldest first, at most limit.
func (s *Server) MissingEvents(ctx context.Context, roomID string, earliest, latest []string, limit int, minDepth int64) ([]*pdu.Event, error) {
	stop := map[string]bool{}
	for _, id := range earliest {
		stop[id] = true
	}
	got, err := s.walkBack(ctx, roomID, latest, stop, limit, minDepth, false)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(got, func(i, j int) bool { return got[i].Depth() < got[j].Depth() })
	return got, nil
}

// walkBack is a breadth-first walk over prev_events in order of depth,
// deepest first. Rejected events and outliers are not returned or
// walked through.
func (s *Server) walkBack(ctx context.Context, roomID string, from []string, stop map[string]bool, limit int, minDepth int64, includeFrom bool) ([]*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var frontier []*pdu.Event
	var out []*pdu.Event
	err = s.db.View(func(txn *badger.Txn) error {
		push := func(id string, emit bool) error {
			if seen[id] || stop[id] {
				return nil
			}
			seen[id] = true
			k, ok, err := s.lookupEventTxn(txn, r, id)
			if err != nil || !ok || k.outlier() || k.rejected() {
				return err
			}
			if k.ev.Depth() < minDepth {
				return nil
			}
			frontier = append(frontier, k.ev)
			return nil
		}
		for _, id := range from {
			if includeFrom {
				if err := push(id, true); err != nil {
					return err
				}
				continue
			}
			seen[id] = true
			k, ok, err := s.lookupEventTxn(txn, r, id)
			if err != nil {
				return err
			}
			if ok {
				for _, p := range k.ev.PrevEvents() {
					if err := push(p, true); err != nil {
						return err
					}
				}
			}
		}
		for len(frontier) > 0 && len(out) < limit {
			if err := ctx.Err(); err != nil {
				return err
			}
			// Take the deepest event of the frontier.
			best := 0
			for i, ev := range frontier {
				if ev.Depth() > frontier[best].Depth() || (ev.Depth() == frontier[best].Depth() && ev.ID() < frontier[best].ID()) {
					best = i
				}
			}
			ev := frontier[best]
			frontier = append(frontier[:best], frontier[best+1:]...)
			out = append(out, ev)
			for _, p := range ev.PrevEvents() {
				if err := push(p, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// ServersInRoom lists the servers with joined members in the room's
// current state, in a stable order.
func (s *Server) ServersInRoom(ctx context.Context, roomID string) ([]string, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.joinedServers()), nil
}

// ServerInRoom reports whether a server has a joined member in the room's
// current state. Servers outside a room may not read its history.
func (s *Server) ServerInRoom(ctx context.Context, roomID, server string) (bool, error) {
	r, err := s.room(roomID)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, found := slices.BinarySearch(r.joinedServers(), server)
	return found, nil
}

// KnowsRoom reports whether the room is stored here.
func (s *Server) KnowsRoom(ctx context.Context, roomID string) bool {
	_, err := s.room(roomID)
	return err == nil
}
