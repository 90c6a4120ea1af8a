package roomserver

import (
	"context"
	"encoding/json"
	"errors"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// EventByID returns a stored event and its position. Rejected and
// soft-failed events are not found: clients never see them.
func (s *Server) EventByID(ctx context.Context, eventID string) (*pdu.Event, uint64, error) {
	var ev *pdu.Event
	var nid uint64
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(keyEventByID(eventID))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var ok bool
		if err := it.Value(func(b []byte) error {
			nid, ok = nidOf(b)
			return nil
		}); err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		var rec record
		ev, rec, err = s.loadEventTxn(txn, nid, nil)
		if err == nil && rec.flags&(flagRejected|flagSoftFailed) != 0 {
			return ErrNotFound
		}
		return err
	})
	return ev, nid, err
}

// CurrentState returns a copy of the room's current state.
func (s *Server) CurrentState(ctx context.Context, roomID string) (pdu.StateMap, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(pdu.StateMap, len(r.state))
	for k, v := range r.state {
		out[k] = v
	}
	return out, nil
}

// StateEvent returns one current state event, or ErrNotFound.
func (s *Server) StateEvent(ctx context.Context, roomID, typ, stateKey string) (*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev := r.state.Get(typ, stateKey); ev != nil {
		return ev, nil
	}
	return nil, ErrNotFound
}

// Membership is a user's current membership in a room ("" if none).
func (s *Server) Membership(ctx context.Context, roomID, userID string) (string, error) {
	ev, err := s.StateEvent(ctx, roomID, "m.room.member", userID)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return ev.Membership(), nil
}

// RoomsOf returns the rooms a user has a membership in, with that membership.
func (s *Server) RoomsOf(ctx context.Context, userID string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := keyUserRoomsPrefix(userID)
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			roomNID, ok := nidOf(k[len(prefix):])
			if !ok {
				continue
			}
			membership, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			hi, err := txn.Get(keyRoomHead(roomNID))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // a room whose import by a join did not finish
			}
			if err != nil {
				return err
			}
			var h head
			if err := hi.Value(func(b []byte) error { return json.Unmarshal(b, &h) }); err != nil {
				return err
			}
			out[h.RoomID] = string(membership)
		}
		return nil
	})
	return out, err
}

// Direction of a timeline walk.
type Direction int

// Timeline directions.
const (
	Forward Direction = iota
	Backward
)

// Timeline returns up to limit events of a room from a position (exclusive)
// in the given direction, never past the watermark. from = 0 going backward
// means "from the latest".
func (s *Server) Timeline(ctx context.Context, roomID string, from uint64, dir Direction, limit int) ([]Sent, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	mark := s.seq.watermark()
	var out []Sent
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := keyTimelinePrefix(r.nid)
		opts := badger.IteratorOptions{Prefix: prefix, Reverse: dir == Backward, PrefetchValues: true}
		it := txn.NewIterator(opts)
		defer it.Close()
		switch {
		case dir == Forward:
			it.Seek(keyTimeline(r.nid, from+1))
		case from == 0 || from > mark:
			it.Seek(keyTimeline(r.nid, mark))
		default:
			it.Seek(keyTimeline(r.nid, from-1))
		}
		for ; it.Valid() && len(out) < limit; it.Next() {
			order, ok := nidOf(it.Item().Key()[len(prefix):])
			if !ok {
				continue
			}
			if order > mark {
				if dir == Forward {
					break
				}
				continue
			}
			// The key orders the timeline; an entry with a value is
			// backfilled history, whose value is the event's NID.
			nid := order
			if err := it.Item().Value(func(b []byte) error {
				if n, ok := nidOf(b); ok {
					nid = n
				}
				return nil
			}); err != nil {
				return err
			}
			ev, _, err := s.loadEventTxn(txn, nid, r.ver)
			if err != nil {
				return err
			}
			out = append(out, Sent{Event: ev, Position: order})
		}
		return nil
	})
	return out, err
}

// StateResetAt is the position of the last event after which state
// resolution changed current state the event did not set itself (0 when
// never): a client that synced before it cannot follow the state from the
// timeline and must be shown the room's state afresh.
func (s *Server) StateResetAt(ctx context.Context, roomID string) uint64 {
	r, err := s.room(roomID)
	if err != nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resetPos
}
