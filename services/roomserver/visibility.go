package roomserver

import (
	"context"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// What another server may read of a room's history: the history
// visibility at each event, applied to the server as a whole (spec,
// "Room History Visibility", and the server-server API's note that
// servers withhold or redact what the requesting server may not see).
//
//   - world_readable, shared: visible (the server is in the room now,
//     which every federation read checks first);
//   - invited: visible when one of the server's users was invited or
//     joined at the event;
//   - joined: visible when one of the server's users was joined at the
//     event.
//
// Events the server may not see come back in their redacted form.

// ForServer filters events of a room for another server.
func (s *Server) ForServer(ctx context.Context, roomID, server string, evs []*pdu.Event) ([]*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	verdict := map[uint64]bool{} // state snapshot before an event → visible
	out := make([]*pdu.Event, 0, len(evs))
	err = s.db.View(func(txn *badger.Txn) error {
		for _, ev := range evs {
			k, ok, err := s.lookupEventTxn(txn, r, ev.ID())
			if err != nil {
				return err
			}
			visible := false
			if ok {
				at, found, err := readStateAtTxn(txn, k.nid)
				if err != nil {
					return err
				}
				if found {
					v, seen := verdict[at.before]
					if !seen {
						if v, err = s.visibleAt(txn, r, at.before, server); err != nil {
							return err
						}
						verdict[at.before] = v
					}
					visible = v
				}
			}
			// A server's own users' events, and membership events about
			// them, are always theirs to see.
			sk, _ := ev.StateKey()
			if pdu.Domain(ev.Sender()) == server || (ev.Type() == "m.room.member" && pdu.Domain(sk) == server) {
				visible = true
			}
			if visible {
				out = append(out, ev)
			} else {
				out = append(out, ev.Redacted())
			}
		}
		return nil
	})
	return out, err
}

// visibleAt decides for the state in a snapshot.
func (s *Server) visibleAt(txn *badger.Txn, r *room, snap uint64, server string) (bool, error) {
	nids, err := readSnapshotTxn(txn, snap)
	if err != nil {
		return false, err
	}
	rule := "shared"
	if nid, ok := nids[pdu.TypeKey{Type: "m.room.history_visibility"}]; ok {
		ev, _, err := s.loadEventTxn(txn, nid, r.ver)
		if err != nil {
			return false, err
		}
		if v, ok := ev.Content().Get("history_visibility").Str(); ok {
			rule = v
		}
	}
	switch rule {
	case "world_readable", "shared":
		return true, nil
	case "invited", "joined":
	default:
		return true, nil // an unknown value counts as shared
	}
	for k, nid := range nids {
		if k.Type != "m.room.member" || pdu.Domain(k.StateKey) != server {
			continue
		}
		ev, _, err := s.loadEventTxn(txn, nid, r.ver)
		if err != nil {
			return false, err
		}
		switch ev.Membership() {
		case "join":
			return true, nil
		case "invite":
			if rule == "invited" {
				return true, nil
			}
		}
	}
	return false, nil
}
