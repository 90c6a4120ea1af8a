package roomserver

import (
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
)

// Published rooms: PrefixPublicRoom + room NID → (key only).
func keyPublicRoom(room uint64) []byte { return storage.Key(storage.PrefixPublicRoom, u64(room)) }

// Forgotten rooms: PrefixForgotten + user + 0 + room NID → (key only).
func keyForgotten(user string, room uint64) []byte {
	return storage.Key(storage.PrefixForgotten, []byte(user), []byte{0}, u64(room))
}
func keyForgottenPrefix(user string) []byte {
	return storage.Key(storage.PrefixForgotten, []byte(user), []byte{0})
}

// ErrNotLeft: forgetting a room the user has not left (M_UNKNOWN, 400).
var ErrNotLeft = errors.New("roomserver: user has not left the room")

// SetPublished publishes a room in (or removes it from) this server's
// room directory. Permission checks are the caller's.
func (s *Server) SetPublished(ctx context.Context, roomID string, public bool) error {
	r, err := s.room(roomID)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		if public {
			return txn.Set(keyPublicRoom(r.nid), nil)
		}
		return txn.Delete(keyPublicRoom(r.nid))
	})
}

// Published reports whether a room is in the room directory.
func (s *Server) Published(ctx context.Context, roomID string) (bool, error) {
	r, err := s.room(roomID)
	if err != nil {
		return false, err
	}
	_, err = s.db.Get(keyPublicRoom(r.nid))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PublishedRooms lists the rooms in the room directory, in room creation
// order.
func (s *Server) PublishedRooms(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := []byte{byte(storage.PrefixPublicRoom)}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			nid, ok := nidOf(it.Item().Key()[1:])
			if !ok {
				continue
			}
			id, err := roomIDOfNID(txn, nid)
			if err != nil {
				return err
			}
			out = append(out, id)
		}
		return nil
	})
	return out, err
}

// RoomSummary is what the room directory shows of a room.
type RoomSummary struct {
	RoomID           string
	Name, Topic      string
	CanonicalAlias   string
	AvatarURL        string
	JoinRule         string
	RoomType         string
	NumJoinedMembers int
	WorldReadable    bool
	GuestCanJoin     bool
}

// Summary describes a room from its current state.
func (s *Server) Summary(ctx context.Context, roomID string) (RoomSummary, error) {
	st, err := s.CurrentState(ctx, roomID)
	if err != nil {
		return RoomSummary{}, err
	}
	sum := RoomSummary{
		RoomID:         roomID,
		Name:           stateStr(st, "m.room.name", "name"),
		Topic:          stateStr(st, "m.room.topic", "topic"),
		CanonicalAlias: stateStr(st, "m.room.canonical_alias", "alias"),
		AvatarURL:      stateStr(st, "m.room.avatar", "url"),
		JoinRule:       stateStr(st, "m.room.join_rules", "join_rule"),
		RoomType:       stateStr(st, "m.room.create", "type"),
		WorldReadable:  stateStr(st, "m.room.history_visibility", "history_visibility") == "world_readable",
		GuestCanJoin:   stateStr(st, "m.room.guest_access", "guest_access") == "can_join",
	}
	for k, ev := range st {
		if k.Type == "m.room.member" && ev.Membership() == "join" {
			sum.NumJoinedMembers++
		}
	}
	return sum, nil
}

// Forget marks a room forgotten for a user who has left or been banned
// from it (ErrNotLeft otherwise, including for users who were never in the
// room). A later join, invite or knock clears the mark (see writeEvent).
func (s *Server) Forget(ctx context.Context, roomID, user string) error {
	r, err := s.room(roomID)
	if err != nil {
		return err
	}
	// r.mu orders the check against membership changes: a join committed
	// after this clears the mark, one committed before fails the check.
	r.mu.Lock()
	defer r.mu.Unlock()
	m := ""
	if ev := r.state.Get("m.room.member", user); ev != nil {
		m = ev.Membership()
	}
	if m != "leave" && m != "ban" {
		return fmt.Errorf("%w: %s is not a former member of %s", ErrNotLeft, user, roomID)
	}
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(keyForgotten(user, r.nid), nil)
	})
}

// Forgotten reports whether a user has forgotten a room. Errors (an unknown
// room, a storage failure) count as not forgotten.
func (s *Server) Forgotten(ctx context.Context, user, roomID string) bool {
	r, err := s.room(roomID)
	if err != nil {
		return false
	}
	_, err = s.db.Get(keyForgotten(user, r.nid))
	return err == nil
}

// ForgottenRooms returns the set of rooms a user has forgotten, for callers
// of RoomsOf (sync, joined rooms) that skip them.
func (s *Server) ForgottenRooms(ctx context.Context, user string) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := keyForgottenPrefix(user)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			nid, ok := nidOf(it.Item().Key()[len(prefix):])
			if !ok {
				continue
			}
			id, err := roomIDOfNID(txn, nid)
			if err != nil {
				return err
			}
			out[id] = true
		}
		return nil
	})
	return out, err
}

// RoomsOfFiltered is RoomsOf without the rooms the user has forgotten.
func (s *Server) RoomsOfFiltered(ctx context.Context, user string) (map[string]string, error) {
	rooms, err := s.RoomsOf(ctx, user)
	if err != nil {
		return nil, err
	}
	forgotten, err := s.ForgottenRooms(ctx, user)
	if err != nil {
		return nil, err
	}
	for id := range forgotten {
		delete(rooms, id)
	}
	return rooms, nil
}
