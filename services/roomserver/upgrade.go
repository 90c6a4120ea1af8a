package roomserver

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// UpgradeRequest is a POST /rooms/{roomId}/upgrade call.
type UpgradeRequest struct {
	RoomID     string
	User       string // the upgrader
	NewVersion string
	// AdditionalCreators go into the new create event when the new version
	// has privileged creators (v12+); ignored otherwise. They are not copied
	// from the old room.
	AdditionalCreators []string
}

// upgradeCopiedState is the state copied into the replacement room, the
// spec's recommended list minus m.room.power_levels (handled apart).
// Membership and non-m.* state is not copied: it is sensitive to its sender.
var upgradeCopiedState = []string{
	"m.room.join_rules",
	"m.room.history_visibility",
	"m.room.guest_access",
	"m.room.name",
	"m.room.topic",
	"m.room.avatar",
	"m.room.encryption",
	"m.room.server_acl",
}

// UpgradeRoom replaces a room with a new room of another version, following
// the spec's server behaviour for /upgrade:
//
//  1. the upgrader must be joined and allowed to send m.room.tombstone;
//  2. the new room's create event has predecessor {room_id, event_id} (the
//     old room's latest event before the tombstone) and the old room's type;
//  3. join rules, history visibility, guest access, name, topic, avatar,
//     encryption, server ACL, power levels and the canonical alias are
//     copied. Power levels are adapted to the new version: in v12 the
//     creators are removed from users and m.room.tombstone is raised above
//     state_default; before v12 an old v12 creator gets an explicit level
//     (their old level was infinite). When the upgrader's level would not
//     let them send the copied state, they are raised for the copy and the
//     old levels are restored afterwards;
//  4. local aliases move to the new room;
//  5. the old room gets m.room.tombstone {body, replacement_room} and, when
//     the upgrader may change power levels, events_default and invite are
//     raised to max(50, users_default+1), and its canonical alias is cleared.
//
// The old room is locked for the whole upgrade, so two upgrades of one room
// run one after the other.
func (s *Server) UpgradeRoom(ctx context.Context, req UpgradeRequest) (string, error) {
	ver, ok := pdu.Version(req.NewVersion)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedVersion, req.NewVersion)
	}
	old, err := s.room(req.RoomID)
	if err != nil {
		return "", err
	}
	old.mu.Lock()
	defer old.mu.Unlock()

	if m := old.state.Get("m.room.member", req.User); m == nil || m.Membership() != "join" {
		return "", fmt.Errorf("%w: you are not in room %s", ErrForbidden, req.RoomID)
	}
	oldLevels, err := power.FromState(old.ver, old.state)
	if err != nil {
		return "", fmt.Errorf("%w: the room's power levels do not parse: %v", ErrForbidden, err)
	}
	userLevel := oldLevels.User(req.User)
	if userLevel < oldLevels.Event("m.room.tombstone", true) {
		return "", fmt.Errorf("%w: you need power to send m.room.tombstone to upgrade this room", ErrForbidden)
	}

	// 2. The create event.
	createContent := cjson.ObjectOf(
		cjson.M("room_version", cjson.StrOf(ver.ID)),
		cjson.M("predecessor", cjson.ObjectOf(
			cjson.M("room_id", cjson.StrOf(old.id)),
			cjson.M("event_id", cjson.StrOf(latestEvent(old))),
		)),
	)
	if oldCreate := old.state.Get("m.room.create", ""); oldCreate != nil {
		if t := oldCreate.Content().Get("type"); t.Exists() {
			createContent = createContent.With("type", t)
		}
	}
	if !ver.CreatorIsSender {
		createContent = createContent.With("creator", cjson.StrOf(req.User))
	}
	creators := []string{req.User}
	if ver.PrivilegedCreators {
		var extra []string
		for _, u := range req.AdditionalCreators {
			if u != req.User && !slices.Contains(extra, u) {
				extra = append(extra, u)
			}
		}
		if len(extra) > 0 {
			createContent = createContent.With("additional_creators", cjson.Strings(extra))
			creators = append(creators, extra...)
		}
	}

	// 3. The state to copy.
	sk := func(s string) *string { return &s }
	memberContent := cjson.ObjectOf(cjson.M("membership", cjson.StrOf("join")))
	if m := old.state.Get("m.room.member", req.User); m != nil {
		for _, k := range []string{"displayname", "avatar_url"} {
			if v, ok := m.Content().Get(k).Str(); ok {
				memberContent = memberContent.With(k, cjson.StrOf(v))
			}
		}
	}
	events := []Event{{Type: "m.room.member", StateKey: sk(req.User), Sender: req.User, Content: memberContent}}

	var copied []Event
	need := int64(0) // the level the upgrader needs to send the copied state
	for _, typ := range upgradeCopiedState {
		ev := old.state.Get(typ, "")
		if ev == nil {
			continue
		}
		copied = append(copied, Event{Type: typ, StateKey: sk(""), Sender: req.User, Content: ev.Content()})
	}
	canonical := old.state.Get("m.room.canonical_alias", "")
	if canonical != nil && canonical.Content().Len() > 0 {
		copied = append(copied, Event{Type: "m.room.canonical_alias", StateKey: sk(""), Sender: req.User, Content: canonical.Content()})
	}

	var restorePL cjson.Value
	if pl := old.state.Get("m.room.power_levels", ""); pl != nil {
		content := upgradedPowerLevels(ver, pl.Content(), oldLevels, req.User, userLevel, creators)
		newLevels, err := power.Parse(ver, content)
		if err == nil && !ver.PrivilegedCreators {
			for _, e := range copied {
				need = max(need, newLevels.Event(e.Type, true))
			}
			if have := newLevels.User(req.User); have < need {
				raised := max(need, newLevels.Event("m.room.power_levels", true))
				restorePL = content
				users := content.Get("users")
				if users.Kind() != cjson.Object {
					users = cjson.EmptyObject()
				}
				content = content.With("users", users.With(req.User, cjson.IntOf(raised)))
			}
		}
		events = append(events, Event{Type: "m.room.power_levels", StateKey: sk(""), Sender: req.User, Content: content})
	}
	events = append(events, copied...)
	if restorePL.Exists() {
		events = append(events, Event{Type: "m.room.power_levels", StateKey: sk(""), Sender: req.User, Content: restorePL})
	}

	newID, err := s.createUpgraded(ctx, ver, req.User, createContent, events, old)
	if err != nil {
		return "", err
	}

	// 5. Tombstone the old room, then restrict it (best effort).
	tomb := Event{Type: "m.room.tombstone", StateKey: sk(""), Sender: req.User, Content: cjson.ObjectOf(
		cjson.M("body", cjson.StrOf("This room has been replaced")),
		cjson.M("replacement_room", cjson.StrOf(newID)),
	)}
	if _, err := s.appendLocked(ctx, old, []Event{tomb}, nil); err != nil {
		return "", fmt.Errorf("roomserver: upgrade: the new room %s exists but the tombstone failed: %w", newID, err)
	}
	if pl := old.state.Get("m.room.power_levels", ""); pl != nil {
		usersDefault := oldLevels.UsersDefault
		restricted := max(int64(50), usersDefault+1)
		c := pl.Content()
		if oldLevels.EventsDefault < restricted || oldLevels.Invite < restricted {
			c = c.With("events_default", cjson.IntOf(max(oldLevels.EventsDefault, restricted))).
				With("invite", cjson.IntOf(max(oldLevels.Invite, restricted)))
			if _, err := s.appendLocked(ctx, old, []Event{{Type: "m.room.power_levels", StateKey: sk(""), Sender: req.User, Content: c}}, nil); err != nil {
				s.log.Info("room upgrade: could not restrict the old room's power levels", "room", old.id, "err", err)
			}
		}
	}
	if canonical != nil && canonical.Content().Len() > 0 {
		if _, err := s.appendLocked(ctx, old, []Event{{Type: "m.room.canonical_alias", StateKey: sk(""), Sender: req.User, Content: cjson.EmptyObject()}}, nil); err != nil {
			s.log.Info("room upgrade: could not clear the old room's canonical alias", "room", old.id, "err", err)
		}
	}
	return newID, nil
}

// latestEvent is the ID of the room's most recent event (a forward
// extremity). The caller holds r.mu.
func latestEvent(r *room) string {
	if len(r.extremities) > 0 {
		return r.extremities[0]
	}
	return ""
}

// upgradedPowerLevels adapts old power-level content to the new version:
// stringy levels become integers, v12 creators leave users, a v12
// m.room.tombstone level is raised above state_default, and a creator of an
// old v12 room upgrading to an older version gets an explicit level.
func upgradedPowerLevels(newVer *pdu.RoomVersion, content cjson.Value, lv power.Levels, upgrader string, upgraderLevel int64, creators []string) cjson.Value {
	out := content
	// Integers only (v10+), from the parsed levels.
	for _, f := range []struct {
		key string
		n   int64
	}{
		{"ban", lv.Ban}, {"kick", lv.Kick}, {"redact", lv.Redact}, {"invite", lv.Invite},
		{"state_default", lv.StateDefault}, {"events_default", lv.EventsDefault}, {"users_default", lv.UsersDefault},
	} {
		if out.Has(f.key) {
			out = out.With(f.key, cjson.IntOf(f.n))
		}
	}
	intMap := func(m map[string]int64) cjson.Value {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		v := cjson.EmptyObject()
		for _, k := range keys {
			v = v.With(k, cjson.IntOf(m[k]))
		}
		return v
	}
	users := map[string]int64{}
	for k, n := range lv.Users {
		users[k] = n
	}
	events := map[string]int64{}
	for k, n := range lv.Events {
		events[k] = n
	}
	if newVer.PrivilegedCreators {
		for _, c := range creators {
			delete(users, c)
		}
		if t, ok := events["m.room.tombstone"]; !ok || t <= lv.StateDefault {
			events["m.room.tombstone"] = max(lv.StateDefault+1, 150)
		}
	} else if upgraderLevel == power.Infinite || upgraderLevel > users[upgrader] {
		// A v12 creator's level was infinite: give them the highest level
		// the room uses, at least 100.
		top := int64(100)
		for _, n := range users {
			top = max(top, n)
		}
		for _, n := range events {
			top = max(top, n)
		}
		top = max(top, lv.Ban, lv.Kick, lv.Redact, lv.Invite, lv.StateDefault, lv.EventsDefault)
		if upgraderLevel != power.Infinite {
			top = upgraderLevel
		}
		users[upgrader] = top
	}
	out = out.With("users", intMap(users)).With("events", intMap(events))
	if out.Has("notifications") || len(lv.Notifications) > 0 {
		out = out.With("notifications", intMap(lv.Notifications))
	}
	return out
}

// createUpgraded creates the replacement room with the given create content
// and events (all committed together) and moves the old room's local
// aliases to it. The caller holds old.mu.
func (s *Server) createUpgraded(ctx context.Context, ver *pdu.RoomVersion, creator string, createContent cjson.Value, events []Event, old *room) (string, error) {
	roomID := ""
	if !ver.RoomIDIsCreateHash {
		var b [12]byte
		if _, err := io.ReadFull(s.opts.Rand, b[:]); err != nil {
			return "", err
		}
		roomID = "!" + hex.EncodeToString(b[:]) + ":" + s.opts.ServerName
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	create, err := s.buildCreate(ver, creator, roomID, createContent)
	if err != nil {
		return "", err
	}
	r := &room{id: create.RoomID(), ver: ver, state: pdu.StateMap{}, stateNIDs: snapshot{}}
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
	s.rooms[r.id] = r
	s.mu.Unlock()
	if err := s.moveAliasesLocked(old, r); err != nil {
		return "", fmt.Errorf("roomserver: upgrade: moving aliases to %s: %w", r.id, err)
	}
	return r.id, nil
}

// moveAliasesLocked points every local alias of room from at room to, in
// one transaction. The caller holds createMu.
func (s *Server) moveAliasesLocked(from, to *room) error {
	return s.db.Update(func(txn *badger.Txn) error {
		prefix := keyRoomAliasesPrefix(from.nid)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		var aliases []string
		for it.Rewind(); it.Valid(); it.Next() {
			aliases = append(aliases, string(it.Item().Key()[len(prefix):]))
		}
		it.Close()
		for _, alias := range aliases {
			entry := AliasEntry{RoomID: to.id}
			if item, err := txn.Get(keyAlias(alias)); err == nil {
				_ = item.Value(func(b []byte) error { return json.Unmarshal(b, &entry) })
			}
			entry.RoomID = to.id
			b, _ := json.Marshal(entry)
			if err := txn.Set(keyAlias(alias), b); err != nil {
				return err
			}
			if err := txn.Delete(keyRoomAlias(from.nid, alias)); err != nil {
				return err
			}
			if err := txn.Set(keyRoomAlias(to.nid, alias), nil); err != nil {
				return err
			}
		}
		return nil
	})
}
