package roomserver

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/storage"
)

// CreateRequest is a createRoom call, already validated for types by the
// client API.
type CreateRequest struct {
	Creator            string
	Version            string      // "" means pdu.DefaultVersion
	Preset             string      // private_chat, trusted_private_chat, public_chat; "" picks by Public
	Public             bool        // visibility "public" (decides the default preset)
	Name, Topic        string      // optional
	Alias              string      // full local alias: claimed for the room and set as m.room.canonical_alias; optional
	Invite             []string    // users to invite
	IsDirect           bool        // marks invites as direct
	InitialState       []Event     // initial_state (sender is filled in)
	PowerLevelOverride cjson.Value // merged over the default power levels
	CreationContent    cjson.Value // merged into the create event's content
}

// CreateRoom creates a room with the events of the spec's createRoom order:
// create, the creator's join, power levels, canonical alias, the preset's
// join rules, history visibility and guest access, initial_state, name,
// topic, then invites. All of them commit together.
func (s *Server) CreateRoom(ctx context.Context, req CreateRequest) (string, error) {
	verID := req.Version
	if verID == "" {
		verID = pdu.DefaultVersion
	}
	ver, ok := pdu.Version(verID)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedVersion, verID)
	}
	preset := req.Preset
	if preset == "" {
		preset = "private_chat"
		if req.Public {
			preset = "public_chat"
		}
	}
	joinRule, history, guest := "invite", "shared", "can_join"
	switch preset {
	case "public_chat":
		joinRule, guest = "public", "forbidden"
	case "private_chat", "trusted_private_chat":
	default:
		return "", fmt.Errorf("%w: unknown preset %q", ErrBadEvent, preset)
	}
	trusted := preset == "trusted_private_chat"

	// The create event.
	createContent := cjson.EmptyObject()
	if req.CreationContent.Kind() == cjson.Object {
		createContent = req.CreationContent
	}
	createContent = createContent.With("room_version", cjson.StrOf(ver.ID))
	if !ver.CreatorIsSender {
		createContent = createContent.With("creator", cjson.StrOf(req.Creator))
	} else {
		createContent = createContent.Without("creator")
	}
	if ver.PrivilegedCreators && trusted && len(req.Invite) > 0 {
		createContent = createContent.With("additional_creators", cjson.Strings(req.Invite))
	}
	roomID := ""
	if !ver.RoomIDIsCreateHash {
		var b [12]byte
		if _, err := io.ReadFull(s.opts.Rand, b[:]); err != nil {
			return "", err
		}
		roomID = "!" + hex.EncodeToString(b[:]) + ":" + s.opts.ServerName
	}

	// Everything after the create event.
	creator := req.Creator
	sk := func(s string) *string { return &s }
	events := []Event{{Type: "m.room.member", StateKey: sk(creator), Sender: creator,
		Content: cjson.ObjectOf(cjson.M("membership", cjson.StrOf("join")))}}
	events = append(events, Event{Type: "m.room.power_levels", StateKey: sk(""), Sender: creator,
		Content: defaultPowerLevels(ver, creator, trusted, req.Invite, req.PowerLevelOverride)})
	if req.Alias != "" {
		events = append(events, Event{Type: "m.room.canonical_alias", StateKey: sk(""), Sender: creator,
			Content: cjson.ObjectOf(cjson.M("alias", cjson.StrOf(req.Alias)))})
	}
	events = append(events,
		Event{Type: "m.room.join_rules", StateKey: sk(""), Sender: creator, Content: cjson.ObjectOf(cjson.M("join_rule", cjson.StrOf(joinRule)))},
		Event{Type: "m.room.history_visibility", StateKey: sk(""), Sender: creator, Content: cjson.ObjectOf(cjson.M("history_visibility", cjson.StrOf(history)))},
		Event{Type: "m.room.guest_access", StateKey: sk(""), Sender: creator, Content: cjson.ObjectOf(cjson.M("guest_access", cjson.StrOf(guest)))},
	)
	for _, e := range req.InitialState {
		e.Sender = creator
		if e.StateKey == nil {
			e.StateKey = sk("")
		}
		events = append(events, e)
	}
	if req.Name != "" {
		events = append(events, Event{Type: "m.room.name", StateKey: sk(""), Sender: creator, Content: cjson.ObjectOf(cjson.M("name", cjson.StrOf(req.Name)))})
	}
	if req.Topic != "" {
		events = append(events, Event{Type: "m.room.topic", StateKey: sk(""), Sender: creator, Content: cjson.ObjectOf(cjson.M("topic", cjson.StrOf(req.Topic)))})
	}
	for _, u := range req.Invite {
		c := cjson.ObjectOf(cjson.M("membership", cjson.StrOf("invite")))
		if req.IsDirect {
			c = c.With("is_direct", cjson.BoolOf(true))
		}
		events = append(events, Event{Type: "m.room.member", StateKey: sk(u), Sender: creator, Content: c})
	}

	s.createMu.Lock()
	defer s.createMu.Unlock()
	if req.Alias != "" {
		// The alias is claimed before the room exists: a taken alias fails
		// the whole createRoom (M_ROOM_IN_USE) and creates nothing.
		if err := s.checkLocalAlias(req.Alias); err != nil {
			return "", err
		}
		if err := s.aliasFreeLocked(req.Alias); err != nil {
			return "", err
		}
	}
	create, err := s.buildCreate(ver, req.Creator, roomID, createContent)
	if err != nil {
		return "", err
	}
	roomID = create.RoomID()
	r := &room{id: roomID, ver: ver, state: pdu.StateMap{}, stateNIDs: snapshot{}}
	if err := s.insertCreate(r, create); err != nil {
		return "", err
	}
	r.mu.Lock()
	_, err = s.appendLocked(ctx, r, events, nil)
	r.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.rooms[roomID] = r
	s.mu.Unlock()
	if req.Alias != "" {
		if err := s.putAliasLocked(r, req.Alias, req.Creator); err != nil {
			return "", err
		}
	}
	return roomID, nil
}

// buildCreate builds a create event whose room ID is not taken. A v12 room
// ID is the create event's hash, so the same creator making two rooms in the
// same millisecond with the same content would collide: the timestamp is
// moved on by a millisecond until the ID is free. The caller holds createMu.
func (s *Server) buildCreate(ver *pdu.RoomVersion, creator, roomID string, content cjson.Value) (*pdu.Event, error) {
	empty := ""
	ts := s.now()
	for attempt := 0; attempt < 1000; attempt++ {
		create, err := ver.Build(pdu.Proto{
			Type: "m.room.create", StateKey: &empty, Sender: creator, RoomID: roomID,
			Content: content, OriginServerTS: ts + int64(attempt),
		}, s.opts.ServerName, s.opts.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
		}
		if _, err := s.db.Get(keyRoomByID(create.RoomID())); errors.Is(err, storage.ErrNotFound) {
			return create, nil
		} else if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: no free room ID", ErrBadEvent)
}

// insertCreate commits the create event with the room's index and head.
// The room stays invisible to clients until its creator has joined (the
// joined-rooms index only names rooms with memberships).
func (s *Server) insertCreate(r *room, create *pdu.Event) error {
	nid := s.seq.take()
	err := s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(keyRoomByID(r.id)); err == nil {
			return fmt.Errorf("%w: room %s exists", ErrBadEvent, r.id)
		}
		roomNID, err := s.allocRoomNID(txn)
		if err != nil {
			return err
		}
		r.nid = roomNID
		r.extremities, r.depth = []string{create.ID()}, create.Depth()
		r.state[create.Key()] = create
		r.stateNIDs[create.Key()] = nid
		snap, err := s.writeFullTxn(txn, r.stateNIDs)
		if err != nil {
			return err
		}
		r.stateSnap = snap
		if err := txn.Set(keyStateAt(nid), stateAt{0, snap}.encode()); err != nil {
			return err
		}
		if err := txn.Set(keyRoomByID(r.id), u64(roomNID)); err != nil {
			return err
		}
		if err := txn.Set(keyRoomHead(roomNID), r.headBytes()); err != nil {
			return err
		}
		return s.writeEvent(txn, r, create, nid)
	})
	if err != nil {
		s.pub.finish(s.seq, nid, r.id, nil)
		return fmt.Errorf("roomserver: create room: %w", err)
	}
	s.pub.finish(s.seq, nid, r.id, create)
	return nil
}

// defaultPowerLevels are the initial power levels of a new room, with the
// client's override merged over them key by key.
func defaultPowerLevels(ver *pdu.RoomVersion, creator string, trusted bool, invitees []string, override cjson.Value) cjson.Value {
	users := cjson.EmptyObject()
	if !ver.PrivilegedCreators {
		users = users.With(creator, cjson.IntOf(100))
		if trusted {
			for _, u := range invitees {
				users = users.With(u, cjson.IntOf(100))
			}
		}
	}
	tombstone := int64(100)
	if ver.PrivilegedCreators {
		tombstone = 150 // must be above state_default in v12
	}
	events := cjson.ObjectOf(
		cjson.M("m.room.name", cjson.IntOf(50)),
		cjson.M("m.room.power_levels", cjson.IntOf(100)),
		cjson.M("m.room.history_visibility", cjson.IntOf(100)),
		cjson.M("m.room.canonical_alias", cjson.IntOf(50)),
		cjson.M("m.room.avatar", cjson.IntOf(50)),
		cjson.M("m.room.tombstone", cjson.IntOf(tombstone)),
		cjson.M("m.room.server_acl", cjson.IntOf(100)),
		cjson.M("m.room.encryption", cjson.IntOf(100)),
	)
	pl := cjson.ObjectOf(
		cjson.M("users", users),
		cjson.M("users_default", cjson.IntOf(0)),
		cjson.M("events", events),
		cjson.M("events_default", cjson.IntOf(0)),
		cjson.M("state_default", cjson.IntOf(50)),
		cjson.M("ban", cjson.IntOf(50)),
		cjson.M("kick", cjson.IntOf(50)),
		cjson.M("redact", cjson.IntOf(50)),
		cjson.M("invite", cjson.IntOf(0)),
		cjson.M("notifications", cjson.ObjectOf(cjson.M("room", cjson.IntOf(50)))),
	)
	for _, m := range override.Members() {
		pl = pl.With(m.Key, m.Value)
	}
	return pl
}
