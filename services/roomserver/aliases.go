package roomserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
	"hearth/services/storage"
)

// Alias errors.
var (
	// ErrInvalidAlias: not a room alias, or one on another server
	// (M_INVALID_PARAM).
	ErrInvalidAlias = errors.New("roomserver: invalid room alias")
)

// Alias index:
//
//	PrefixRoomAlias   + alias               → aliasEntry (JSON)
//	PrefixRoomAliases + room NID + alias    → (key only)
//
// Both are written in one transaction under createMu, so an alias is never
// half-set, and the check that an alias is free cannot race another writer.
func keyAlias(alias string) []byte { return storage.Key(storage.PrefixRoomAlias, []byte(alias)) }
func keyRoomAlias(room uint64, alias string) []byte {
	return storage.Key(storage.PrefixRoomAliases, u64(room), []byte(alias))
}
func keyRoomAliasesPrefix(room uint64) []byte {
	return storage.Key(storage.PrefixRoomAliases, u64(room))
}

// AliasEntry is what an alias maps to.
type AliasEntry struct {
	RoomID  string `json:"room_id"`
	Creator string `json:"creator"`
}

// checkLocalAlias parses an alias and requires it to be on this server.
func (s *Server) checkLocalAlias(alias string) error {
	a, err := ids.ParseRoomAlias(alias)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidAlias, err)
	}
	if a.Domain() != s.opts.ServerName {
		return fmt.Errorf("%w: %s is not on server %s", ErrInvalidAlias, alias, s.opts.ServerName)
	}
	return nil
}

// aliasFreeLocked reports ErrRoomInUse when alias is taken. The caller holds
// createMu.
func (s *Server) aliasFreeLocked(alias string) error {
	_, err := s.db.Get(keyAlias(alias))
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s", ErrRoomInUse, alias)
	case errors.Is(err, storage.ErrNotFound):
		return nil
	default:
		return err
	}
}

// putAliasLocked stores a free alias for room r. The caller holds createMu
// and has checked that the alias is free.
func (s *Server) putAliasLocked(r *room, alias, creator string) error {
	b, _ := json.Marshal(AliasEntry{RoomID: r.id, Creator: creator})
	return s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(keyAlias(alias)); err == nil {
			return fmt.Errorf("%w: %s", ErrRoomInUse, alias)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := txn.Set(keyAlias(alias), b); err != nil {
			return err
		}
		return txn.Set(keyRoomAlias(r.nid, alias), nil)
	})
}

// SetAlias maps a local alias to a room. A taken alias is ErrRoomInUse
// (even when it already points at the same room), an alias on another
// server ErrInvalidAlias, an unknown room ErrNotFound.
func (s *Server) SetAlias(ctx context.Context, alias, roomID, creator string) error {
	if err := s.checkLocalAlias(alias); err != nil {
		return err
	}
	r, err := s.room(roomID)
	if err != nil {
		return err
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.aliasFreeLocked(alias); err != nil {
		return err
	}
	return s.putAliasLocked(r, alias, creator)
}

// ResolveAlias returns what a local alias maps to, or ErrNotFound.
func (s *Server) ResolveAlias(ctx context.Context, alias string) (AliasEntry, error) {
	v, err := s.db.Get(keyAlias(alias))
	if errors.Is(err, storage.ErrNotFound) {
		return AliasEntry{}, fmt.Errorf("%w: room alias %s", ErrNotFound, alias)
	}
	if err != nil {
		return AliasEntry{}, err
	}
	var e AliasEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return AliasEntry{}, fmt.Errorf("roomserver: corrupt alias %s: %w", alias, err)
	}
	return e, nil
}

// DeleteAlias removes a local alias. Only the alias's creator or a user
// whose power level lets them send m.room.canonical_alias in the room may
// delete it (ErrForbidden otherwise). The room's m.room.canonical_alias
// event is left alone: the spec lets a server update it but does not
// require it, and aliases in it are not trusted by clients anyway.
func (s *Server) DeleteAlias(ctx context.Context, alias, user string) error {
	e, err := s.ResolveAlias(ctx, alias)
	if err != nil {
		return err
	}
	r, err := s.room(e.RoomID)
	if err != nil {
		return err
	}
	if e.Creator != user {
		r.mu.Lock()
		ok := mayStateLocked(r, user, "m.room.canonical_alias")
		r.mu.Unlock()
		if !ok {
			return fmt.Errorf("%w: only the alias's creator or a user who may change the canonical alias can delete it", ErrForbidden)
		}
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	return s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(keyAlias(alias)); err != nil {
			return err
		}
		return txn.Delete(keyRoomAlias(r.nid, alias))
	})
}

// mayStateLocked reports whether user is joined to r and has the power to
// send a state event of type typ. The caller holds r.mu.
func mayStateLocked(r *room, user, typ string) bool {
	if m := r.state.Get("m.room.member", user); m == nil || m.Membership() != "join" {
		return false
	}
	levels, err := power.FromState(r.ver, r.state)
	return err == nil && levels.User(user) >= levels.Event(typ, true)
}

// MayState reports whether user is joined to the room and may send a state
// event of type typ there (the client API's check for directory changes).
func (s *Server) MayState(ctx context.Context, roomID, user, typ string) (bool, error) {
	r, err := s.room(roomID)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return mayStateLocked(r, user, typ), nil
}

// AliasesOf lists the local aliases of a room, sorted.
func (s *Server) AliasesOf(ctx context.Context, roomID string) ([]string, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	out := []string{}
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := keyRoomAliasesPrefix(r.nid)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// roomIDOfNID reads a room's ID from its head.
func roomIDOfNID(txn *badger.Txn, roomNID uint64) (string, error) {
	hi, err := txn.Get(keyRoomHead(roomNID))
	if err != nil {
		return "", err
	}
	var h head
	if err := hi.Value(func(b []byte) error { return json.Unmarshal(b, &h) }); err != nil {
		return "", err
	}
	return h.RoomID, nil
}

// stateStr reads a string field of a current state event's content.
func stateStr(st pdu.StateMap, typ, field string) string {
	if ev := st.Get(typ, ""); ev != nil {
		return ev.Content().Get(field).StrOr("")
	}
	return ""
}
