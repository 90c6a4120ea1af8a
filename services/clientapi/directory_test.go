package clientapi_test

import (
	"fmt"
	"net/url"
	"testing"
)

func esc(s string) string { return url.PathEscape(s) }

// mkRoom creates a room as alice and returns its ID.
func (e *env) mkRoom(body map[string]any) string {
	e.t.Helper()
	s, b := e.do("POST", v3+"/createRoom", "alice-token", body)
	if s != 200 {
		e.t.Fatalf("createRoom: %d %v", s, b)
	}
	return b["room_id"].(string)
}

func (e *env) send(token, roomID, txn string, content map[string]any) string {
	e.t.Helper()
	s, b := e.do("PUT", v3+"/rooms/"+esc(roomID)+"/send/m.room.message/"+txn, token, content)
	if s != 200 {
		e.t.Fatalf("send: %d %v", s, b)
	}
	return b["event_id"].(string)
}

func TestRoomAliases(t *testing.T) {
	e := newEnv(t)
	roomID := e.mkRoom(map[string]any{"preset": "public_chat", "room_alias_name": "hall"})
	alias := "#hall:hearth.test"

	// Resolution needs no token.
	s, b := e.do("GET", v3+"/directory/room/"+esc(alias), "", nil)
	if s != 200 || b["room_id"] != roomID || fmt.Sprint(b["servers"]) != "[hearth.test]" {
		t.Fatalf("resolve: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/rooms/"+esc(roomID)+"/state/m.room.canonical_alias/", "alice-token", nil)
	if s != 200 || b["alias"] != alias {
		t.Fatalf("canonical alias: %d %v", s, b)
	}
	// createRoom with a taken alias: 400 M_ROOM_IN_USE, no room made.
	s, b = e.do("POST", v3+"/createRoom", "bob-token", map[string]any{"room_alias_name": "hall"})
	expectErr(t, s, b, 400, "M_ROOM_IN_USE")
	s, b = e.do("GET", v3+"/joined_rooms", "bob-token", nil)
	if fmt.Sprint(b["joined_rooms"]) != "[]" {
		t.Fatalf("bob got a room: %v", b)
	}
	s, b = e.do("POST", v3+"/createRoom", "bob-token", map[string]any{"room_alias_name": "a:b"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")

	// PUT: bad, remote, taken, not a member, fine.
	s, b = e.do("PUT", v3+"/directory/room/"+esc("nope"), "alice-token", map[string]any{"room_id": roomID})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", v3+"/directory/room/"+esc("#x:elsewhere.test"), "alice-token", map[string]any{"room_id": roomID})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", v3+"/directory/room/"+esc(alias), "alice-token", map[string]any{"room_id": roomID})
	expectErr(t, s, b, 409, "M_UNKNOWN")
	s, b = e.do("PUT", v3+"/directory/room/"+esc("#bob:hearth.test"), "bob-token", map[string]any{"room_id": roomID})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", v3+"/directory/room/"+esc("#x:hearth.test"), "alice-token", map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", v3+"/directory/room/"+esc("#x:hearth.test"), "alice-token", map[string]any{"room_id": "!nope:hearth.test"})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	if s, b = e.do("POST", v3+"/join/"+esc(alias), "bob-token", nil); s != 200 || b["room_id"] != roomID {
		t.Fatalf("join by alias: %d %v", s, b)
	}
	if s, b = e.do("PUT", v3+"/directory/room/"+esc("#bob:hearth.test"), "bob-token", map[string]any{"room_id": roomID}); s != 200 {
		t.Fatalf("bob's alias: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/rooms/"+esc(roomID)+"/aliases", "bob-token", nil)
	if s != 200 || fmt.Sprint(b["aliases"]) != "[#bob:hearth.test #hall:hearth.test]" {
		t.Fatalf("aliases: %d %v", s, b)
	}
	// Bob may not delete alice's alias; alice may delete bob's.
	s, b = e.do("DELETE", v3+"/directory/room/"+esc(alias), "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	if s, b = e.do("DELETE", v3+"/directory/room/"+esc("#bob:hearth.test"), "alice-token", nil); s != 200 {
		t.Fatalf("delete: %d %v", s, b)
	}
	s, b = e.do("DELETE", v3+"/directory/room/"+esc("#bob:hearth.test"), "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", v3+"/directory/room/"+esc("#bob:hearth.test"), "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", v3+"/directory/room/"+esc("#x:elsewhere.test"), "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", v3+"/join/"+esc("#x:elsewhere.test"), "bob-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", v3+"/join/"+esc("#missing:hearth.test"), "bob-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	// Non-members cannot list aliases of a private room.
	private := e.mkRoom(map[string]any{"preset": "private_chat"})
	s, b = e.do("GET", v3+"/rooms/"+esc(private)+"/aliases", "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
}

func TestRoomDirectory(t *testing.T) {
	e := newEnv(t)
	hall := e.mkRoom(map[string]any{"visibility": "public", "preset": "public_chat", "name": "Town Hall", "topic": "civic", "room_alias_name": "townhall"})
	quiet := e.mkRoom(map[string]any{"preset": "public_chat", "name": "Quiet"})
	s, b := e.do("GET", v3+"/directory/list/room/"+esc(hall), "", nil)
	if s != 200 || b["visibility"] != "public" {
		t.Fatalf("hall visibility: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/directory/list/room/"+esc(quiet), "", nil)
	if s != 200 || b["visibility"] != "private" {
		t.Fatalf("quiet visibility: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/directory/list/room/"+esc("!nope:hearth.test"), "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	// Bob is not in the room: he may not publish it.
	s, b = e.do("PUT", v3+"/directory/list/room/"+esc(quiet), "bob-token", map[string]any{"visibility": "public"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", v3+"/directory/list/room/"+esc(quiet), "alice-token", map[string]any{"visibility": "secret"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	if s, b = e.do("PUT", v3+"/directory/list/room/"+esc(quiet), "alice-token", map[string]any{"visibility": "public"}); s != 200 {
		t.Fatalf("publish: %d %v", s, b)
	}
	if s, b := e.do("POST", v3+"/rooms/"+esc(hall)+"/join", "bob-token", nil); s != 200 {
		t.Fatalf("bob joins hall: %d %v", s, b)
	}

	// GET needs no token; the bigger room comes first.
	s, b = e.do("GET", v3+"/publicRooms", "", nil)
	chunk, _ := b["chunk"].([]any)
	if s != 200 || len(chunk) != 2 || b["total_room_count_estimate"] != float64(2) {
		t.Fatalf("publicRooms: %d %v", s, b)
	}
	first := chunk[0].(map[string]any)
	if first["room_id"] != hall || first["name"] != "Town Hall" || first["topic"] != "civic" || first["canonical_alias"] != "#townhall:hearth.test" ||
		first["num_joined_members"] != float64(2) || first["join_rule"] != "public" || first["world_readable"] != false || first["guest_can_join"] != false {
		t.Fatalf("hall entry: %v", first)
	}
	// Paging one at a time.
	s, b = e.do("GET", v3+"/publicRooms?limit=1", "", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["next_batch"] == nil || b["prev_batch"] != nil {
		t.Fatalf("page 1: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/publicRooms?limit=1&since="+b["next_batch"].(string), "", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["next_batch"] != nil || b["prev_batch"] == nil ||
		b["chunk"].([]any)[0].(map[string]any)["room_id"] != quiet {
		t.Fatalf("page 2: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/publicRooms?since=bogus", "", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", v3+"/publicRooms?limit=-1", "", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")

	// POST needs a token and filters.
	s, b = e.do("POST", v3+"/publicRooms", "", map[string]any{})
	expectErr(t, s, b, 401, "M_MISSING_TOKEN")
	s, b = e.do("POST", v3+"/publicRooms", "bob-token", map[string]any{"filter": map[string]any{"generic_search_term": "QUIET"}})
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["chunk"].([]any)[0].(map[string]any)["room_id"] != quiet {
		t.Fatalf("search: %d %v", s, b)
	}
	s, b = e.do("POST", v3+"/publicRooms", "bob-token", map[string]any{"filter": map[string]any{"room_types": []any{"m.space"}}})
	if s != 200 || len(b["chunk"].([]any)) != 0 {
		t.Fatalf("room_types: %d %v", s, b)
	}
	s, b = e.do("POST", v3+"/publicRooms", "bob-token", map[string]any{"since": "p-1"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", v3+"/publicRooms", "bob-token", map[string]any{"limit": "ten"})
	expectErr(t, s, b, 400, "M_BAD_JSON")

	// Unpublishing removes the room.
	if s, b = e.do("PUT", v3+"/directory/list/room/"+esc(quiet), "alice-token", map[string]any{"visibility": "private"}); s != 200 {
		t.Fatalf("unpublish: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/publicRooms", "", nil)
	if len(b["chunk"].([]any)) != 1 {
		t.Fatalf("after unpublish: %v", b)
	}
}

func TestForgetRoom(t *testing.T) {
	e := newEnv(t)
	roomID := e.mkRoom(map[string]any{"preset": "public_chat"})
	path := v3 + "/rooms/" + esc(roomID) + "/forget"
	s, b := e.do("POST", path, "alice-token", nil)
	expectErr(t, s, b, 400, "M_UNKNOWN")
	s, b = e.do("POST", v3+"/rooms/"+esc("!nope:hearth.test")+"/forget", "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", v3+"/rooms/nope/forget", "alice-token", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	if s, b = e.do("POST", v3+"/rooms/"+esc(roomID)+"/join", "bob-token", nil); s != 200 {
		t.Fatalf("join: %d %v", s, b)
	}
	if s, b = e.do("POST", v3+"/rooms/"+esc(roomID)+"/leave", "bob-token", nil); s != 200 {
		t.Fatalf("leave: %d %v", s, b)
	}
	if s, b = e.do("POST", path, "bob-token", nil); s != 200 {
		t.Fatalf("forget: %d %v", s, b)
	}
	// Forgetting twice is fine; rejoining works.
	if s, b = e.do("POST", path, "bob-token", nil); s != 200 {
		t.Fatalf("forget again: %d %v", s, b)
	}
	if s, b = e.do("POST", v3+"/rooms/"+esc(roomID)+"/join", "bob-token", nil); s != 200 {
		t.Fatalf("rejoin: %d %v", s, b)
	}
	s, b = e.do("POST", path, "bob-token", nil)
	expectErr(t, s, b, 400, "M_UNKNOWN")
}

func TestEventContext(t *testing.T) {
	e := newEnv(t)
	roomID := e.mkRoom(map[string]any{"preset": "private_chat"})
	var evs []string
	for i := 0; i < 7; i++ {
		evs = append(evs, e.send("alice-token", roomID, fmt.Sprint("c", i), map[string]any{"msgtype": "m.text", "body": fmt.Sprint(i)}))
	}
	base := v3 + "/rooms/" + esc(roomID) + "/context/"
	s, b := e.do("GET", base+esc(evs[3])+"?limit=4", "alice-token", nil)
	if s != 200 {
		t.Fatalf("context: %d %v", s, b)
	}
	before, after := b["events_before"].([]any), b["events_after"].([]any)
	if b["event"].(map[string]any)["event_id"] != evs[3] || len(before) != 2 || len(after) != 2 ||
		before[0].(map[string]any)["event_id"] != evs[2] || after[0].(map[string]any)["event_id"] != evs[4] ||
		len(b["state"].([]any)) == 0 {
		t.Fatalf("context body: %v", b)
	}
	// start and end continue the timeline through /messages.
	s, m := e.do("GET", v3+"/rooms/"+esc(roomID)+"/messages?dir=b&limit=1&from="+b["start"].(string), "alice-token", nil)
	if s != 200 || m["chunk"].([]any)[0].(map[string]any)["event_id"] != evs[0] {
		t.Fatalf("messages from start: %d %v", s, m)
	}
	s, m = e.do("GET", v3+"/rooms/"+esc(roomID)+"/messages?dir=f&limit=1&from="+b["end"].(string), "alice-token", nil)
	if s != 200 || m["chunk"].([]any)[0].(map[string]any)["event_id"] != evs[6] {
		t.Fatalf("messages from end: %d %v", s, m)
	}
	// limit=0 still returns the event.
	s, b = e.do("GET", base+esc(evs[3])+"?limit=0", "alice-token", nil)
	if s != 200 || len(b["events_before"].([]any)) != 0 || b["event"] == nil {
		t.Fatalf("limit 0: %d %v", s, b)
	}
	s, b = e.do("GET", base+esc("$nope"), "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", base+esc(evs[3])+"?limit=x", "alice-token", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", base+esc(evs[3]), "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	// An event of another room is not found here.
	other := e.mkRoom(map[string]any{"preset": "private_chat"})
	s, b = e.do("GET", v3+"/rooms/"+esc(other)+"/context/"+esc(evs[3]), "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
}

const v1 = "/_matrix/client/v1"

func TestRelationsThreadsTimestamp(t *testing.T) {
	e := newEnv(t)
	roomID := e.mkRoom(map[string]any{"preset": "public_chat"})
	if s, b := e.do("POST", v3+"/rooms/"+esc(roomID)+"/join", "bob-token", nil); s != 200 {
		t.Fatalf("join: %d %v", s, b)
	}
	rel := func(relType, parent, body string) map[string]any {
		return map[string]any{"msgtype": "m.text", "body": body, "m.relates_to": map[string]any{"rel_type": relType, "event_id": parent}}
	}
	root := e.send("alice-token", roomID, "r", map[string]any{"msgtype": "m.text", "body": "root"})
	other := e.send("alice-token", roomID, "o", map[string]any{"msgtype": "m.text", "body": "other"})
	var replies []string
	for i := 0; i < 3; i++ {
		replies = append(replies, e.send("bob-token", roomID, fmt.Sprint("t", i), rel("m.thread", root, "reply")))
	}
	s, b := e.do("PUT", v3+"/rooms/"+esc(roomID)+"/send/m.reaction/x", "alice-token",
		map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": root, "key": "👍"}})
	if s != 200 {
		t.Fatalf("reaction: %d %v", s, b)
	}
	reaction := b["event_id"].(string)

	base := v1 + "/rooms/" + esc(roomID) + "/relations/" + esc(root)
	s, b = e.do("GET", base, "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 4 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != reaction || b["recursion_depth"] != nil {
		t.Fatalf("all relations: %d %v", s, b)
	}
	s, b = e.do("GET", base+"/m.annotation/m.reaction", "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 {
		t.Fatalf("annotations: %d %v", s, b)
	}
	// Paging the thread two at a time.
	s, b = e.do("GET", base+"/m.thread?limit=2", "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 2 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != replies[2] || b["next_batch"] == nil {
		t.Fatalf("thread page 1: %d %v", s, b)
	}
	s, b = e.do("GET", base+"/m.thread?limit=2&from="+b["next_batch"].(string), "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != replies[0] || b["next_batch"] != nil || b["prev_batch"] == nil {
		t.Fatalf("thread page 2: %d %v", s, b)
	}
	s, b = e.do("GET", base+"/m.thread?dir=f&recurse=true", "alice-token", nil)
	if s != 200 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != replies[0] || b["recursion_depth"] != float64(1) {
		t.Fatalf("thread forward: %d %v", s, b)
	}
	for _, q := range []string{"?from=bogus", "?to=x1", "?dir=sideways", "?limit=-3", "?recurse=maybe"} {
		s, b = e.do("GET", base+q, "alice-token", nil)
		expectErr(t, s, b, 400, "M_INVALID_PARAM")
	}
	s, b = e.do("GET", v1+"/rooms/"+esc(roomID)+"/relations/"+esc("$nope"), "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	private := e.mkRoom(map[string]any{"preset": "private_chat"})
	s, b = e.do("GET", v1+"/rooms/"+esc(private)+"/relations/"+esc(root), "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")

	// Threads.
	e.send("alice-token", roomID, "t-other", rel("m.thread", other, "alice's thread"))
	threads := v1 + "/rooms/" + esc(roomID) + "/threads"
	s, b = e.do("GET", threads, "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 2 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != other {
		t.Fatalf("threads: %d %v", s, b)
	}
	s, b = e.do("GET", threads+"?limit=1", "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["next_batch"] == nil {
		t.Fatalf("threads page 1: %d %v", s, b)
	}
	s, b = e.do("GET", threads+"?limit=1&from="+b["next_batch"].(string), "alice-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != root {
		t.Fatalf("threads page 2: %d %v", s, b)
	}
	s, b = e.do("GET", threads+"?include=participated", "bob-token", nil)
	if s != 200 || len(b["chunk"].([]any)) != 1 || b["chunk"].([]any)[0].(map[string]any)["event_id"] != root {
		t.Fatalf("bob's threads: %d %v", s, b)
	}
	for _, q := range []string{"?include=some", "?limit=0", "?from=zzz"} {
		s, b = e.do("GET", threads+q, "alice-token", nil)
		expectErr(t, s, b, 400, "M_INVALID_PARAM")
	}
	s, b = e.do("GET", v1+"/rooms/"+esc(private)+"/threads", "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")

	// timestamp_to_event.
	tte := v1 + "/rooms/" + esc(roomID) + "/timestamp_to_event"
	s, b = e.do("GET", tte+"?ts=0&dir=f", "alice-token", nil)
	if s != 200 || b["event_id"] == nil || b["origin_server_ts"] == nil {
		t.Fatalf("ts forward: %d %v", s, b)
	}
	s, b = e.do("GET", tte+"?ts=99999999999999&dir=b", "alice-token", nil)
	if s != 200 || b["event_id"] == nil {
		t.Fatalf("ts backward: %d %v", s, b)
	}
	s, b = e.do("GET", tte+"?ts=0&dir=b", "alice-token", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", tte+"?ts=abc&dir=f", "alice-token", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", tte+"?ts=1&dir=x", "alice-token", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", tte+"?dir=f", "alice-token", nil)
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("GET", v1+"/rooms/"+esc(private)+"/timestamp_to_event?ts=0&dir=f", "bob-token", nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
}
