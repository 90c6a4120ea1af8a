package roomserver

import (
	"context"
	"encoding/json"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// A stub room is a room this server is not in but a local user has a
// membership in: an invite (or knock) that came over federation, and the
// leave that rejects it. It holds just that user's membership event, so
// that sync and the client API see it like any room; joining it through
// JoinRemote turns it into a full room.

// StoreStubMembership records a local user's membership event in a room
// this server does not participate in (the event is not checked against
// room state, which we do not have; federation has verified its
// signatures). It is an error if the server is in the room.
func (s *Server) StoreStubMembership(ctx context.Context, ev *pdu.Event) (Sent, error) {
	sk, _ := ev.StateKey()
	if ev.Type() != "m.room.member" || pdu.Domain(sk) != s.opts.ServerName {
		return Sent{}, fmt.Errorf("%w: not a membership of a local user", ErrBadEvent)
	}
	s.createMu.Lock()
	r, err := s.room(ev.RoomID())
	if err != nil {
		r = &room{id: ev.RoomID(), ver: ev.Version(), state: pdu.StateMap{}, stateNIDs: snapshot{}, stub: true}
		if err := s.db.Update(func(txn *badger.Txn) error {
			nid, err := s.allocRoomNID(txn)
			r.nid = nid
			return err
		}); err != nil {
			s.createMu.Unlock()
			return Sent{}, err
		}
	}
	s.createMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stub {
		return Sent{}, fmt.Errorf("%w: this server is in room %s", ErrBadEvent, r.id)
	}
	if r.ver.ID != ev.Version().ID {
		return Sent{}, fmt.Errorf("%w: room version mismatch", ErrBadEvent)
	}
	if k, ok, err := s.lookupOne(r, ev.ID()); err != nil {
		return Sent{}, err
	} else if ok {
		return Sent{Event: k.ev, Position: k.nid}, nil
	}
	nid := s.seq.take()
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(keyRoomByID(r.id), u64(r.nid)); err != nil {
			return err
		}
		hb, _ := json.Marshal(head{RoomID: r.id, Version: r.ver.ID, Stub: true})
		if err := txn.Set(keyRoomHead(r.nid), hb); err != nil {
			return err
		}
		return s.writeEvent(txn, r, ev, nid)
	})
	if err != nil {
		s.pub.finish(s.seq, nid, r.id, nil)
		return Sent{}, fmt.Errorf("roomserver: store membership: %w", err)
	}
	state := copyState(r.state)
	state[ev.Key()] = ev
	nids := copySnapshot(r.stateNIDs)
	nids[ev.Key()] = nid
	r.state, r.stateNIDs = state, nids
	s.mu.Lock()
	s.rooms[r.id] = r
	s.mu.Unlock()
	s.pub.finish(s.seq, nid, r.id, ev)
	return Sent{Event: ev, Position: nid}, nil
}

// IsStub reports whether the server holds only a local user's membership
// in a room, not the room.
func (s *Server) IsStub(ctx context.Context, roomID string) bool {
	r, err := s.room(roomID)
	if err != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stub
}

func (s *Server) lookupOne(r *room, id string) (known, bool, error) {
	got, err := s.lookup(r, []string{id})
	if err != nil {
		return known{}, false, err
	}
	k, ok := got[id]
	return k, ok, nil
}
