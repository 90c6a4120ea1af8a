package roomserver

import (
	"context"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// historyRoom is how many backfilled events fit before a joined room's
// join event in its timeline.
const historyRoom = 1 << 20

// maxStateChangesPerCommit bounds the current-state writes of one
// transaction when a join imports a large room.
const maxStateChangesPerCommit = 1000

// JoinRemote imports a room that a local user joins through another
// server: the state and auth chain of the send_join answer are checked and
// stored as outliers, the state becomes the state before the join, and the
// join itself is received on top of it. A room we hold already (we left it,
// or another local user is in it) is rejoined: the join replaces its
// forward extremities.
func (s *Server) JoinRemote(ctx context.Context, join *pdu.Event, state, authChain []*pdu.Event) (Received, error) {
	if join.Type() != "m.room.member" || join.Membership() != "join" || pdu.Domain(join.Sender()) != s.opts.ServerName {
		return Received{}, fmt.Errorf("%w: not a local user's join", ErrBadEvent)
	}
	r, err := s.room(join.RoomID())
	if err != nil {
		if r, err = s.newImportedRoom(join); err != nil {
			return Received{}, err
		}
	}
	if r.ver.ID != join.Version().ID {
		return Received{}, fmt.Errorf("%w: room is version %s, the join is %s", ErrBadEvent, r.ver.ID, join.Version().ID)
	}
	r.ingestMu.Lock()
	defer r.ingestMu.Unlock()
	r.mu.Lock()
	rejoin := !r.unpublished
	r.mu.Unlock()

	have, err := s.storeOutliers(ctx, r, append(append([]*pdu.Event(nil), authChain...), state...))
	if err != nil {
		return Received{}, err
	}
	view := viewOf(state, have)
	create := view.events.Get("m.room.create", "")
	if create == nil {
		return Received{}, fmt.Errorf("%w: the room state has no create event", ErrBadEvent)
	}
	if v, _ := create.Content().Get("room_version").Str(); v != r.ver.ID && !(v == "" && r.ver.ID == "1") {
		return Received{}, fmt.Errorf("%w: create event says room version %q", ErrBadEvent, v)
	}
	if err := s.installState(r, view); err != nil {
		return Received{}, err
	}
	if !rejoin {
		// Leave positions below the join for history backfilled later
		// (history.go): the timeline orders events by position.
		s.pub.skip(s.seq, historyRoom)
	}
	return s.receiveLocked(ctx, r, join, nil, receiveOpts{given: view, rejoin: rejoin})
}

// newImportedRoom makes the in-memory head of a room being imported; it
// reaches the room index only when the join commits, and until then
// nothing but JoinRemote uses it.
func (s *Server) newImportedRoom(join *pdu.Event) (*room, error) {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	s.mu.Lock()
	r, ok := s.rooms[join.RoomID()]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	r = &room{id: join.RoomID(), ver: join.Version(), state: pdu.StateMap{}, stateNIDs: snapshot{}, unpublished: true}
	err := s.db.Update(func(txn *badger.Txn) error {
		nid, err := s.allocRoomNID(txn)
		r.nid = nid
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.rooms[r.id] = r
	s.mu.Unlock()
	return r, nil
}

// installState makes view the room's current state ahead of the join that
// is built on it, in transactions small enough for any room size: the
// snapshot, then the current-state index in chunks, the last chunk with the
// room head pointing at the new snapshot.
func (s *Server) installState(r *room, view *stateView) error {
	snap, err := s.writeLargeSnapshot(view.nids)
	if err != nil {
		return err
	}
	view.snap = snap
	r.mu.Lock()
	cur := &stateView{events: r.state, nids: r.stateNIDs, snap: r.stateSnap}
	extremities, depth := r.extremities, r.depth
	r.mu.Unlock()
	changes := diffSnapshots(cur.nids, view.nids)
	for {
		n := min(len(changes), maxStateChangesPerCommit)
		last := n == len(changes)
		err := s.db.Update(func(txn *badger.Txn) error {
			if err := s.writeStateChangesTxn(txn, r, changes[:n], view); err != nil {
				return err
			}
			if last && !r.unpublished {
				return txn.Set(keyRoomHead(r.nid), headBytes(r.id, r.ver, extremities, depth, snap, r.resetPos))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("roomserver: install state of %s: %w", r.id, err)
		}
		changes = changes[n:]
		if last {
			break
		}
	}
	r.mu.Lock()
	r.state, r.stateNIDs, r.stateSnap = view.events, view.nids, snap
	r.mu.Unlock()
	return nil
}

// writeLargeSnapshot stores a full snapshot, one transaction per part.
func (s *Server) writeLargeSnapshot(full snapshot) (uint64, error) {
	s.mu.Lock()
	nid := s.nextSnap
	s.nextSnap++
	s.mu.Unlock()
	entries := make([]snapEntry, 0, len(full))
	for k, v := range full {
		entries = append(entries, snapEntry{k, v})
	}
	for part := uint32(0); ; part++ {
		n := min(len(entries), snapshotPartEntries)
		var h *snapHeader
		if part == 0 {
			h = &snapHeader{kind: snapFull}
		}
		if err := s.db.Update(func(txn *badger.Txn) error {
			return txn.Set(keySnapshot(nid, part), encodeSnapPart(h, entries[:n]))
		}); err != nil {
			return 0, err
		}
		entries = entries[n:]
		if len(entries) == 0 {
			return nid, nil
		}
	}
}
