package clientapi_test

import (
	"net/url"
	"testing"
)

// mkRoomAs creates a room as the token's user.
func (e *env) mkRoomAs(token string, body map[string]any) string {
	e.t.Helper()
	s, b := e.do("POST", v3+"/createRoom", token, body)
	if s != 200 {
		e.t.Fatalf("createRoom: %d %v", s, b)
	}
	return b["room_id"].(string)
}

// sharedRoom creates a public room as creator, has every joiner join it,
// and returns its ID.
func (e *env) sharedRoom(creator string, joiners ...string) string {
	e.t.Helper()
	room := e.mkRoomAs(creator, map[string]any{"preset": "public_chat"})
	for _, j := range joiners {
		if s, b := e.do("POST", v3+"/rooms/"+url.PathEscape(room)+"/join", j, map[string]any{}); s != 200 {
			e.t.Fatalf("join: %d %v", s, b)
		}
	}
	return room
}

func TestProfilePropagation(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	room1 := e.mkRoomAs(alice, map[string]any{"preset": "public_chat"})
	room2 := e.mkRoomAs(alice, map[string]any{"preset": "private_chat", "invite": []any{"@bob:hearth.test"}})
	left := e.mkRoomAs(alice, map[string]any{"preset": "public_chat"})
	for _, r := range []string{room1, room2, left} {
		s, b := e.do("POST", v3+"/join/"+esc(r), bob, map[string]any{})
		ok(t, "bob joins", s, b)
	}
	s, b := e.do("POST", v3+"/rooms/"+esc(left)+"/leave", alice, map[string]any{})
	ok(t, "alice leaves", s, b)

	p := v3 + "/profile/@alice:hearth.test"
	s, b = e.do("PUT", p+"/displayname", alice, map[string]any{"displayname": "Alice Liddell"})
	ok(t, "set displayname", s, b)
	s, b = e.do("PUT", p+"/avatar_url", alice, map[string]any{"avatar_url": "mxc://hearth.test/rabbit"})
	ok(t, "set avatar", s, b)
	for _, r := range []string{room1, room2} {
		s, b = e.do("GET", v3+"/rooms/"+esc(r)+"/joined_members", bob, nil)
		joined, _ := b["joined"].(map[string]any)
		me, _ := joined["@alice:hearth.test"].(map[string]any)
		if s != 200 || me["display_name"] != "Alice Liddell" || me["avatar_url"] != "mxc://hearth.test/rabbit" {
			t.Errorf("joined_members of %s: %d %v", r, s, b)
		}
	}
	// The room alice left is untouched: her membership stays leave.
	s, b = e.stateOf(bob, left, "m.room.member", "@alice:hearth.test")
	if s != 200 || b["membership"] != "leave" || b["displayname"] != nil {
		t.Errorf("left room member event: %d %v", s, b)
	}
	// Deleting the display name removes it from the member events.
	s, b = e.do("DELETE", p+"/displayname", alice, nil)
	ok(t, "delete displayname", s, b)
	s, b = e.stateOf(bob, room1, "m.room.member", "@alice:hearth.test")
	if s != 200 || b["membership"] != "join" || b["displayname"] != nil || b["avatar_url"] != "mxc://hearth.test/rabbit" {
		t.Errorf("after delete: %d %v", s, b)
	}
	// An unrelated field does not send member events.
	s, b = e.do("GET", v3+"/rooms/"+esc(room1)+"/messages?dir=b&limit=1", bob, nil)
	before := b["chunk"].([]any)[0].(map[string]any)["event_id"]
	s, b = e.do("PUT", p+"/m.tz", alice, map[string]any{"m.tz": "Europe/London"})
	ok(t, "set m.tz", s, b)
	s, b = e.do("GET", v3+"/rooms/"+esc(room1)+"/messages?dir=b&limit=1", bob, nil)
	if after := b["chunk"].([]any)[0].(map[string]any)["event_id"]; after != before {
		t.Errorf("m.tz change sent an event: %v", b)
	}
}

func resultIDs(b map[string]any) []string {
	var out []string
	res, _ := b["results"].([]any)
	for _, r := range res {
		out = append(out, r.(map[string]any)["user_id"].(string))
	}
	return out
}

func TestUserDirectorySearch(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	carol := e.register("carol", "carol password")
	dave := e.register("dave", "dave password")
	bobby := e.register("bobby", "bobby password")
	shared := e.mkRoomAs(alice, map[string]any{"preset": "private_chat", "invite": []any{"@bob:hearth.test"}})
	s, b := e.do("POST", v3+"/join/"+esc(shared), bob, map[string]any{})
	ok(t, "bob joins", s, b)
	s, b = e.do("PUT", v3+"/profile/@bob:hearth.test/displayname", bob, map[string]any{"displayname": "Robert Tables"})
	ok(t, "bob's name", s, b)
	e.mkRoomAs(carol, map[string]any{"preset": "public_chat", "visibility": "public"})
	e.mkRoomAs(dave, map[string]any{"preset": "private_chat"})
	// bobby is in a public room that is not published: not in scope.
	e.mkRoomAs(bobby, map[string]any{"preset": "public_chat"})

	search := func(body map[string]any) (int, map[string]any) {
		return e.do("POST", v3+"/user_directory/search", alice, body)
	}
	s, b = search(map[string]any{"search_term": "BOB"})
	if ids := resultIDs(b); s != 200 || len(ids) != 1 || ids[0] != "@bob:hearth.test" || b["limited"] != false {
		t.Fatalf("search bob: %d %v", s, b)
	}
	if r := b["results"].([]any)[0].(map[string]any); r["display_name"] != "Robert Tables" {
		t.Errorf("bob's result: %v", r)
	}
	s, b = search(map[string]any{"search_term": "tables"})
	if ids := resultIDs(b); s != 200 || len(ids) != 1 || ids[0] != "@bob:hearth.test" {
		t.Errorf("search by display name: %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": "car"})
	if ids := resultIDs(b); s != 200 || len(ids) != 1 || ids[0] != "@carol:hearth.test" {
		t.Errorf("search public room member: %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": "dave"})
	if ids := resultIDs(b); s != 200 || len(ids) != 0 {
		t.Errorf("dave shares nothing: %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": "@dave:hearth.test"})
	if ids := resultIDs(b); s != 200 || len(ids) != 1 || ids[0] != "@dave:hearth.test" {
		t.Errorf("exact user ID: %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": "@nobody:hearth.test"})
	if ids := resultIDs(b); s != 200 || len(ids) != 0 {
		t.Errorf("unknown exact user ID: %d %v", s, b)
	}
	// Every visible user matches the server name; limit cuts the list.
	s, b = search(map[string]any{"search_term": "hearth.test", "limit": 2})
	if ids := resultIDs(b); s != 200 || len(ids) != 2 || b["limited"] != true {
		t.Errorf("limited: %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": "hearth.test"})
	if ids := resultIDs(b); s != 200 || len(ids) != 3 || b["limited"] != false {
		t.Errorf("all visible (alice, bob, carol): %d %v", s, b)
	}
	s, b = search(map[string]any{"search_term": ""})
	if ids := resultIDs(b); s != 200 || len(ids) != 0 {
		t.Errorf("empty term: %d %v", s, b)
	}
	s, b = search(map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = search(map[string]any{"search_term": 3})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", v3+"/user_directory/search", "", map[string]any{"search_term": "bob"})
	expectErr(t, s, b, 401, "M_MISSING_TOKEN")
}
