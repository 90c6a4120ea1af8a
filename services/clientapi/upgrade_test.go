package clientapi_test

import (
	"fmt"
	"slices"
	"testing"
)

// stateOf reads one state event's content as token.
func (e *env) stateOf(token, roomID, typ, key string) (int, map[string]any) {
	e.t.Helper()
	return e.do("GET", v3+"/rooms/"+esc(roomID)+"/state/"+typ+"/"+esc(key), token, nil)
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func TestKnock(t *testing.T) {
	e := newEnv(t)
	knockState := []map[string]any{{"type": "m.room.join_rules", "content": map[string]any{"join_rule": "knock"}}}
	room := e.mkRoom(map[string]any{"room_version": "10", "initial_state": knockState, "room_alias_name": "knocky"})

	// Knock by alias with via (accepted, unused), with a reason.
	s, b := e.do("POST", v3+"/knock/"+esc("#knocky:hearth.test")+"?via=hearth.test&server_name=hearth.test", "bob-token", map[string]any{"reason": "let me in"})
	if s != 200 || b["room_id"] != room {
		t.Fatalf("knock: %d %v", s, b)
	}
	s, b = e.stateOf("alice-token", room, "m.room.member", "@bob:hearth.test")
	if s != 200 || b["membership"] != "knock" || b["reason"] != "let me in" {
		t.Fatalf("knock member event: %d %v", s, b)
	}
	// Knocking again from knock is allowed by the auth rules.
	s, b = e.do("POST", v3+"/knock/"+esc(room), "bob-token", map[string]any{})
	ok(t, "knock again", s, b)
	// A knocker cannot join by themselves.
	s, b = e.do("POST", v3+"/join/"+esc(room), "bob-token", map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	// The admin accepts with an invite; bob joins.
	s, b = e.do("POST", v3+"/rooms/"+esc(room)+"/invite", "alice-token", map[string]any{"user_id": "@bob:hearth.test"})
	ok(t, "invite over knock", s, b)
	s, b = e.do("POST", v3+"/join/"+esc(room), "bob-token", map[string]any{})
	ok(t, "join after knock", s, b)
	if s, b = e.stateOf("alice-token", room, "m.room.member", "@bob:hearth.test"); b["membership"] != "join" {
		t.Fatalf("after join: %d %v", s, b)
	}
	// A joined user cannot knock.
	s, b = e.do("POST", v3+"/knock/"+esc(room), "bob-token", map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")

	// knock_restricted works like knock for knocking.
	kr := e.mkRoom(map[string]any{"room_version": "10", "initial_state": []map[string]any{{"type": "m.room.join_rules",
		"content": map[string]any{"join_rule": "knock_restricted", "allow": []any{}}}}})
	s, b = e.do("POST", v3+"/knock/"+esc(kr), "bob-token", map[string]any{})
	ok(t, "knock on knock_restricted", s, b)
	// Retracting a knock is a leave.
	s, b = e.do("POST", v3+"/rooms/"+esc(kr)+"/leave", "bob-token", map[string]any{})
	ok(t, "retract knock", s, b)

	// Invite-only room: 403.
	inv := e.mkRoom(map[string]any{"preset": "private_chat"})
	s, b = e.do("POST", v3+"/knock/"+esc(inv), "bob-token", map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	// A room version without knocking: 403 (not set up for knocking).
	v6 := e.mkRoom(map[string]any{"room_version": "6", "initial_state": knockState})
	s, b = e.do("POST", v3+"/knock/"+esc(v6), "bob-token", map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	// Unknown and remote rooms: 404.
	s, b = e.do("POST", v3+"/knock/"+esc("!nope:elsewhere.test"), "bob-token", map[string]any{})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", v3+"/knock/"+esc("#room:elsewhere.test"), "bob-token", map[string]any{})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", v3+"/knock/"+esc(room), "bob-token", map[string]any{"reason": 5})
	if s != 400 {
		t.Errorf("non-string reason: %d %v", s, b)
	}
}

func TestRoomUpgrade(t *testing.T) {
	e := newEnv(t)
	old := e.mkRoom(map[string]any{"room_version": "10", "preset": "public_chat", "visibility": "public",
		"name": "Old name", "topic": "Old topic", "room_alias_name": "upg"})
	oldBase := v3 + "/rooms/" + esc(old)
	s, b := e.do("POST", oldBase+"/join", "bob-token", map[string]any{})
	ok(t, "bob joins", s, b)
	e.send("bob-token", old, "m1", map[string]any{"msgtype": "m.text", "body": "before"})

	s, b = e.do("POST", oldBase+"/upgrade", "bob-token", map[string]any{"new_version": "12"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("POST", oldBase+"/upgrade", "alice-token", map[string]any{"new_version": "999"})
	expectErr(t, s, b, 400, "M_UNSUPPORTED_ROOM_VERSION")
	s, b = e.do("POST", oldBase+"/upgrade", "alice-token", map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("POST", oldBase+"/upgrade", "alice-token", map[string]any{"new_version": "12", "additional_creators": []any{"nope"}})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", v3+"/rooms/"+esc("!unknown:hearth.test")+"/upgrade", "alice-token", map[string]any{"new_version": "12"})
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	s, b = e.do("POST", oldBase+"/upgrade", "alice-token", map[string]any{"new_version": "12", "additional_creators": []any{"@bob:hearth.test"}})
	ok(t, "upgrade", s, b)
	nw, _ := b["replacement_room"].(string)
	if nw == "" || nw == old {
		t.Fatalf("replacement_room: %v", b)
	}

	// The new room: create event with predecessor, copied state.
	s, b = e.stateOf("alice-token", nw, "m.room.create", "")
	pred, _ := b["predecessor"].(map[string]any)
	if s != 200 || b["room_version"] != "12" || pred["room_id"] != old || pred["event_id"] == nil ||
		fmt.Sprint(b["additional_creators"]) != "[@bob:hearth.test]" {
		t.Errorf("new create: %d %v", s, b)
	}
	for _, c := range []struct{ typ, key, want string }{
		{"m.room.name", "name", "Old name"},
		{"m.room.topic", "topic", "Old topic"},
		{"m.room.join_rules", "join_rule", "public"},
		{"m.room.history_visibility", "history_visibility", "shared"},
		{"m.room.guest_access", "guest_access", "forbidden"},
		{"m.room.canonical_alias", "alias", "#upg:hearth.test"},
	} {
		if s, b = e.stateOf("alice-token", nw, c.typ, ""); s != 200 || b[c.key] != c.want {
			t.Errorf("new room %s: %d %v", c.typ, s, b)
		}
	}
	s, b = e.stateOf("alice-token", nw, "m.room.power_levels", "")
	users, _ := b["users"].(map[string]any)
	events, _ := b["events"].(map[string]any)
	if _, listed := users["@alice:hearth.test"]; listed || users["@bob:hearth.test"] != nil {
		t.Errorf("v12 power levels list creators: %v", b)
	}
	if num(events["m.room.tombstone"]) <= num(b["state_default"]) {
		t.Errorf("tombstone level not above state_default: %v", b)
	}
	// Alias moved; directory entry moved.
	s, b = e.do("GET", v3+"/directory/room/"+esc("#upg:hearth.test"), "", nil)
	if s != 200 || b["room_id"] != nw {
		t.Errorf("alias after upgrade: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/rooms/"+esc(nw)+"/aliases", "alice-token", nil)
	if al, _ := b["aliases"].([]any); s != 200 || !slices.Contains(al, any("#upg:hearth.test")) {
		t.Errorf("new room aliases: %d %v", s, b)
	}
	if s, b = e.do("GET", v3+"/directory/list/room/"+esc(nw), "", nil); b["visibility"] != "public" {
		t.Errorf("new room visibility: %d %v", s, b)
	}
	if s, b = e.do("GET", v3+"/directory/list/room/"+esc(old), "", nil); b["visibility"] != "private" {
		t.Errorf("old room visibility: %d %v", s, b)
	}

	// The old room: tombstone, restricted power levels, no canonical alias.
	s, b = e.stateOf("alice-token", old, "m.room.tombstone", "")
	if s != 200 || b["replacement_room"] != nw || b["body"] == "" {
		t.Errorf("tombstone: %d %v", s, b)
	}
	s, b = e.stateOf("alice-token", old, "m.room.power_levels", "")
	if num(b["events_default"]) != 50 || num(b["invite"]) != 50 {
		t.Errorf("old room power levels not restricted: %v", b)
	}
	if s, b = e.stateOf("alice-token", old, "m.room.canonical_alias", ""); b["alias"] != nil {
		t.Errorf("old canonical alias: %d %v", s, b)
	}
	s, b = e.do("PUT", oldBase+"/send/m.room.message/after", "bob-token", map[string]any{"msgtype": "m.text", "body": "x"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")

	// The new room works: bob (an additional creator) joins and speaks.
	s, b = e.do("POST", v3+"/join/"+esc(nw), "bob-token", map[string]any{})
	ok(t, "join new room", s, b)
	e.send("bob-token", nw, "m2", map[string]any{"msgtype": "m.text", "body": "after"})

	// Upgrading a v12 room to v11: the creator gets an explicit level.
	s, b = e.do("POST", v3+"/rooms/"+esc(nw)+"/upgrade", "alice-token", map[string]any{"new_version": "11"})
	ok(t, "upgrade 12 -> 11", s, b)
	v11 := b["replacement_room"].(string)
	s, b = e.stateOf("alice-token", v11, "m.room.power_levels", "")
	if users, _ := b["users"].(map[string]any); num(users["@alice:hearth.test"]) < 100 {
		t.Errorf("v11 power levels: %v", b)
	}
	if s, b = e.stateOf("alice-token", v11, "m.room.name", ""); b["name"] != "Old name" {
		t.Errorf("v11 name: %d %v", s, b)
	}
	s, b = e.do("PUT", v3+"/rooms/"+esc(v11)+"/state/m.room.topic/", "alice-token", map[string]any{"topic": "new"})
	ok(t, "alice still administers the v11 room", s, b)
}
