package clientapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// newFullEnv runs the whole homeserver (as the main builds it) on a test
// HTTP server, with open registration.
func newFullEnv(t *testing.T) *env { return newHomeserverEnv(t, false) }

const v3 = "/_matrix/client/v3"

// register makes an account and returns its access token.
func (e *env) register(name, password string) string {
	e.t.Helper()
	s, b := e.do("POST", v3+"/register", "", map[string]any{"username": name, "password": password,
		"auth": map[string]any{"type": "m.login.dummy"}})
	if s != 200 {
		e.t.Fatalf("register %s: %d %v", name, s, b)
	}
	return b["access_token"].(string)
}

func (e *env) login(name, password, device string) string {
	e.t.Helper()
	s, b := e.do("POST", v3+"/login", "", map[string]any{"type": "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": name}, "password": password, "device_id": device})
	if s != 200 {
		e.t.Fatalf("login %s: %d %v", name, s, b)
	}
	return b["access_token"].(string)
}

func ok(t *testing.T, what string, s int, b map[string]any) {
	t.Helper()
	if s != 200 {
		t.Fatalf("%s: %d %v", what, s, b)
	}
}

func TestProfileEndpoints(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	p := v3 + "/profile/@alice:hearth.test"

	s, b := e.do("PUT", p+"/displayname", alice, map[string]any{"displayname": "Alice"})
	ok(t, "set displayname", s, b)
	s, b = e.do("PUT", p+"/avatar_url", alice, map[string]any{"avatar_url": "mxc://hearth.test/abc123"})
	ok(t, "set avatar", s, b)
	s, b = e.do("PUT", p+"/m.tz", alice, map[string]any{"m.tz": "Europe/London"})
	ok(t, "set m.tz", s, b)
	s, b = e.do("PUT", p+"/org.example.pets", alice, `{"org.example.pets": {"cats": 2, "weight": 4.5}}`)
	ok(t, "set custom field", s, b)

	// Reading needs no token.
	s, b = e.do("GET", p, "", nil)
	ok(t, "get profile", s, b)
	if b["displayname"] != "Alice" || b["avatar_url"] != "mxc://hearth.test/abc123" || b["m.tz"] != "Europe/London" ||
		fmt.Sprint(b["org.example.pets"]) != "map[cats:2 weight:4.5]" {
		t.Errorf("profile: %v", b)
	}
	s, b = e.do("GET", p+"/displayname", "", nil)
	if s != 200 || b["displayname"] != "Alice" || len(b) != 1 {
		t.Errorf("get displayname: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/profile/@nobody:hearth.test", "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", v3+"/profile/@nobody:hearth.test/displayname", "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", p+"/org.example.unset", "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	// Delete, then the field is gone.
	s, b = e.do("DELETE", p+"/org.example.pets", alice, nil)
	ok(t, "delete custom field", s, b)
	s, b = e.do("GET", p+"/org.example.pets", "", nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("DELETE", p+"/org.example.pets", alice, nil) // again: no error
	ok(t, "delete again", s, b)

	// Bad input.
	s, b = e.do("PUT", p+"/displayname", bob, map[string]any{"displayname": "Mallory"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("DELETE", p+"/displayname", bob, nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", p+"/displayname", "", map[string]any{"displayname": "Anon"})
	expectErr(t, s, b, 401, "M_MISSING_TOKEN")
	s, b = e.do("PUT", p+"/displayname", alice, "{not json")
	expectErr(t, s, b, 400, "M_NOT_JSON")
	s, b = e.do("PUT", p+"/displayname", alice, `["Alice"]`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", p+"/displayname", alice, map[string]any{"displayname": 5})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", p+"/displayname", alice, map[string]any{"name": "Alice"})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", p+"/avatar_url", alice, map[string]any{"avatar_url": "https://example.com/a.png"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", p+"/NotNamespaced", alice, map[string]any{"NotNamespaced": 1})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	long := "org.example." + strings.Repeat("k", 250)
	s, b = e.do("PUT", p+"/"+long, alice, map[string]any{long: 1})
	expectErr(t, s, b, 400, "M_KEY_TOO_LARGE")
	big := strings.Repeat("x", 40<<10)
	s, b = e.do("PUT", p+"/org.example.big1", alice, map[string]any{"org.example.big1": big})
	ok(t, "first big field", s, b)
	s, b = e.do("PUT", p+"/org.example.big2", alice, map[string]any{"org.example.big2": big})
	expectErr(t, s, b, 400, "M_PROFILE_TOO_LARGE")
	// Still what was set before the failures.
	s, b = e.do("GET", p+"/displayname", bob, nil)
	if s != 200 || b["displayname"] != "Alice" {
		t.Errorf("displayname after failures: %d %v", s, b)
	}
}

func TestAccountDataAndTags(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	ad := v3 + "/user/@alice:hearth.test/account_data/"
	room := "!somewhere:hearth.test"
	rad := v3 + "/user/@alice:hearth.test/rooms/" + room + "/account_data/"

	s, b := e.do("GET", ad+"org.example.config", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("PUT", ad+"org.example.config", alice, `{"theme": "dark", "ratio": 0.5}`)
	ok(t, "put account data", s, b)
	s, b = e.do("GET", ad+"org.example.config", alice, nil)
	if s != 200 || b["theme"] != "dark" || b["ratio"] != 0.5 {
		t.Errorf("get account data: %d %v", s, b)
	}
	s, b = e.do("PUT", ad+"org.example.flags", alice, map[string]any{"beta": true})
	ok(t, "put flags", s, b)
	s, b = e.do("PUT", ad+"m.direct", alice, map[string]any{"@bob:hearth.test": []string{"!dm:hearth.test"}})
	ok(t, "put m.direct", s, b)
	s, b = e.do("PUT", rad+"org.example.room_config", alice, map[string]any{"muted": true})
	ok(t, "put room account data", s, b)
	s, b = e.do("GET", rad+"org.example.room_config", alice, nil)
	if s != 200 || b["muted"] != true {
		t.Errorf("get room account data: %d %v", s, b)
	}
	s, b = e.do("GET", ad+"org.example.room_config", alice, nil) // not global
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	// Other users, server-managed types, bad bodies and room IDs.
	s, b = e.do("GET", ad+"org.example.config", bob, nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", ad+"org.example.config", bob, map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("GET", rad+"org.example.room_config", bob, nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", ad+"m.push_rules", alice, map[string]any{})
	expectErr(t, s, b, 405, "M_BAD_JSON")
	s, b = e.do("PUT", ad+"hearth.pushers", alice, map[string]any{})
	expectErr(t, s, b, 405, "M_BAD_JSON")
	s, b = e.do("PUT", rad+"m.fully_read", alice, map[string]any{"event_id": "$x"})
	expectErr(t, s, b, 405, "M_BAD_JSON")
	s, b = e.do("PUT", ad+"org.example.config", alice, "{nope")
	expectErr(t, s, b, 400, "M_NOT_JSON")
	s, b = e.do("PUT", ad+"org.example.config", alice, `"a string"`)
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", v3+"/user/@alice:hearth.test/rooms/not-a-room/account_data/x.y", alice, map[string]any{})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", v3+"/user/@alice:hearth.test/rooms/not-a-room/account_data/x.y", alice, nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")

	// Tags.
	tags := v3 + "/user/@alice:hearth.test/rooms/" + room + "/tags"
	s, b = e.do("GET", tags, alice, nil)
	if s != 200 || fmt.Sprint(b["tags"]) != "map[]" {
		t.Errorf("no tags: %d %v", s, b)
	}
	s, b = e.do("PUT", tags+"/m.favourite", alice, `{"order": 0.25}`)
	ok(t, "put tag", s, b)
	s, b = e.do("PUT", tags+"/u.work", alice, map[string]any{})
	ok(t, "put tag without order", s, b)
	s, b = e.do("PUT", tags+"/u.bad", alice, map[string]any{"order": "first"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", tags+"/"+strings.Repeat("t", 256), alice, map[string]any{})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", tags+"/m.lowpriority", bob, map[string]any{})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("GET", tags, alice, nil)
	if s != 200 || fmt.Sprint(b["tags"]) != "map[m.favourite:map[order:0.25] u.work:map[]]" {
		t.Errorf("tags: %d %v", s, b)
	}
	s, b = e.do("GET", rad+"m.tag", alice, nil) // the same data as account data
	if s != 200 || fmt.Sprint(b["tags"]) != "map[m.favourite:map[order:0.25] u.work:map[]]" {
		t.Errorf("m.tag account data: %d %v", s, b)
	}
	s, b = e.do("DELETE", tags+"/u.work", alice, nil)
	ok(t, "delete tag", s, b)
	s, b = e.do("DELETE", tags+"/u.never", alice, nil)
	ok(t, "delete missing tag", s, b)
	s, b = e.do("GET", tags, alice, nil)
	if s != 200 || fmt.Sprint(b["tags"]) != "map[m.favourite:map[order:0.25]]" {
		t.Errorf("tags after delete: %d %v", s, b)
	}

	// The global account data reaches /sync.
	s, b = e.do("GET", v3+"/sync", alice, nil)
	ok(t, "sync", s, b)
	var types []string
	for _, ev := range b["account_data"].(map[string]any)["events"].([]any) {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	if !slices.Contains(types, "org.example.flags") || !slices.Contains(types, "m.direct") || !slices.Contains(types, "org.example.config") {
		t.Errorf("sync account_data types: %v (floats must pass through too)", types)
	}
	since := b["next_batch"].(string)
	s, b = e.do("PUT", ad+"org.example.later", alice, map[string]any{"n": 1})
	ok(t, "put later", s, b)
	s, b = e.do("GET", v3+"/sync?timeout=5000&since="+since, alice, nil)
	ok(t, "incremental sync", s, b)
	evs := b["account_data"].(map[string]any)["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["type"] != "org.example.later" {
		t.Errorf("incremental account data: %v", evs)
	}
}

func TestDevicesAndUIA(t *testing.T) {
	e := newFullEnv(t)
	e.register("alice", "alice password")
	alice := e.login("alice", "alice password", "LAPTOP")
	phone := e.login("alice", "alice password", "PHONE")
	bob := e.register("bob", "bob password")

	s, b := e.do("GET", v3+"/devices", alice, nil)
	ok(t, "list devices", s, b)
	var ids []string
	for _, d := range b["devices"].([]any) {
		ids = append(ids, d.(map[string]any)["device_id"].(string))
	}
	if !slices.Contains(ids, "LAPTOP") || !slices.Contains(ids, "PHONE") || len(ids) != 3 {
		t.Errorf("devices: %v", ids)
	}
	s, b = e.do("PUT", v3+"/devices/PHONE", alice, map[string]any{"display_name": "Alice's phone"})
	ok(t, "rename", s, b)
	s, b = e.do("GET", v3+"/devices/PHONE", alice, nil)
	if s != 200 || b["device_id"] != "PHONE" || b["display_name"] != "Alice's phone" {
		t.Errorf("get device: %d %v", s, b)
	}
	s, b = e.do("PUT", v3+"/devices/PHONE", alice, map[string]any{})
	ok(t, "put without change", s, b)
	s, b = e.do("GET", v3+"/devices/NOPE", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("PUT", v3+"/devices/NOPE", alice, map[string]any{"display_name": "x"})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("PUT", v3+"/devices/PHONE", alice, map[string]any{"display_name": 7})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", v3+"/devices/PHONE", alice, "{x")
	expectErr(t, s, b, 400, "M_NOT_JSON")
	s, b = e.do("GET", v3+"/devices/PHONE", bob, nil) // bob has no such device
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("DELETE", v3+"/devices/NOPE", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	// UIA: challenge, wrong password, wrong user, right password.
	s, b = e.do("DELETE", v3+"/devices/PHONE", alice, nil)
	if s != 401 || b["session"] == nil || fmt.Sprint(b["flows"]) != "[map[stages:[m.login.password]]]" {
		t.Fatalf("delete challenge: %d %v", s, b)
	}
	session := b["session"].(string)
	auth := func(user, pw string) map[string]any {
		return map[string]any{"auth": map[string]any{"type": "m.login.password", "session": session,
			"identifier": map[string]any{"type": "m.id.user", "user": user}, "password": pw}}
	}
	s, b = e.do("DELETE", v3+"/devices/PHONE", alice, auth("alice", "wrong"))
	if s != 401 || b["errcode"] != "M_FORBIDDEN" || b["session"] != session || b["flows"] == nil {
		t.Errorf("wrong password: %d %v", s, b)
	}
	s, b = e.do("DELETE", v3+"/devices/PHONE", alice, auth("@bob:hearth.test", "bob password"))
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	// The session is bound to this request: it cannot delete another device.
	s, b = e.do("DELETE", v3+"/devices/LAPTOP", alice, auth("alice", "alice password"))
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("DELETE", v3+"/devices/PHONE", alice, auth("alice", "alice password"))
	ok(t, "delete device", s, b)
	s, b = e.do("GET", v3+"/devices/PHONE", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", v3+"/account/whoami", phone, nil)
	expectErr(t, s, b, 401, "M_UNKNOWN_TOKEN")

	// Bulk delete, with the password in the first request.
	tablet := e.login("alice", "alice password", "TABLET")
	s, b = e.do("POST", v3+"/delete_devices", alice, map[string]any{"devices": "TABLET"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", v3+"/delete_devices", alice, map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("POST", v3+"/delete_devices", alice, map[string]any{"devices": []string{"TABLET", "GHOST"}})
	if s != 401 || b["session"] == nil {
		t.Fatalf("delete_devices challenge: %d %v", s, b)
	}
	session = b["session"].(string)
	body := auth("@alice:hearth.test", "alice password")
	body["devices"] = []string{"TABLET", "GHOST"}
	s, b = e.do("POST", v3+"/delete_devices", alice, body)
	ok(t, "delete_devices", s, b)
	s, b = e.do("GET", v3+"/account/whoami", tablet, nil)
	expectErr(t, s, b, 401, "M_UNKNOWN_TOKEN")
	s, b = e.do("GET", v3+"/account/whoami", alice, nil)
	ok(t, "caller still logged in", s, b)

	// An unknown session gets a fresh challenge.
	session = "no-such-session"
	s, b = e.do("POST", v3+"/delete_devices", alice, map[string]any{"devices": []string{}, "auth": auth("alice", "alice password")["auth"]})
	if s != 401 || b["session"] == nil || b["session"] == "no-such-session" {
		t.Errorf("unknown session: %d %v", s, b)
	}
}

func TestPasswordChangeAndDeactivate(t *testing.T) {
	e := newFullEnv(t)
	e.register("alice", "alice password")
	alice := e.login("alice", "alice password", "LAPTOP")
	phone := e.login("alice", "alice password", "PHONE")

	s, b := e.do("POST", v3+"/account/password", alice, map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("POST", v3+"/account/password", alice, map[string]any{"new_password": "new alice password"})
	if s != 401 || b["session"] == nil {
		t.Fatalf("password challenge: %d %v", s, b)
	}
	session := b["session"]
	s, b = e.do("POST", v3+"/account/password", alice, map[string]any{"new_password": "new alice password",
		"auth": map[string]any{"type": "m.login.password", "session": session,
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "alice password"}})
	ok(t, "change password", s, b)
	// Other devices are logged out; this one stays.
	s, b = e.do("GET", v3+"/account/whoami", phone, nil)
	expectErr(t, s, b, 401, "M_UNKNOWN_TOKEN")
	s, b = e.do("GET", v3+"/account/whoami", alice, nil)
	ok(t, "current device kept", s, b)
	s, b = e.do("POST", v3+"/login", "", map[string]any{"type": "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "alice password"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	phone = e.login("alice", "new alice password", "PHONE")

	// logout_devices false keeps the others.
	s, b = e.do("POST", v3+"/account/password", alice, map[string]any{"new_password": "third password", "logout_devices": false})
	session = b["session"]
	s, b = e.do("POST", v3+"/account/password", alice, map[string]any{"new_password": "third password", "logout_devices": false,
		"auth": map[string]any{"type": "m.login.password", "session": session,
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "new alice password"}})
	ok(t, "change password keeping devices", s, b)
	s, b = e.do("GET", v3+"/account/whoami", phone, nil)
	ok(t, "phone kept", s, b)

	// Deactivation.
	s, b = e.do("POST", v3+"/account/deactivate", alice, map[string]any{"erase": true})
	if s != 401 || b["session"] == nil {
		t.Fatalf("deactivate challenge: %d %v", s, b)
	}
	session = b["session"]
	s, b = e.do("POST", v3+"/account/deactivate", alice, map[string]any{"erase": "yes"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", v3+"/account/deactivate", alice, map[string]any{"erase": true,
		"auth": map[string]any{"type": "m.login.password", "session": session,
			"identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "third password"}})
	if s != 200 || b["id_server_unbind_result"] != "success" {
		t.Fatalf("deactivate: %d %v", s, b)
	}
	s, b = e.do("GET", v3+"/account/whoami", alice, nil)
	expectErr(t, s, b, 401, "M_UNKNOWN_TOKEN")
	s, b = e.do("POST", v3+"/login", "", map[string]any{"type": "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": "alice"}, "password": "third password"})
	if s != 403 {
		t.Errorf("login after deactivation: %d %v", s, b)
	}
}

func ruleIDs(rules any) []string {
	var out []string
	for _, r := range rules.([]any) {
		out = append(out, r.(map[string]any)["rule_id"].(string))
	}
	return out
}

func TestPushRules(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	pr := v3 + "/pushrules/global/"

	s, b := e.do("GET", v3+"/pushrules/", alice, nil)
	ok(t, "get pushrules", s, b)
	global := b["global"].(map[string]any)
	wantOverride := []string{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event",
		".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction",
		".m.rule.room.server_acl", ".m.rule.suppress_edits"}
	wantUnderride := []string{".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
		".m.rule.message", ".m.rule.encrypted"}
	if got := ruleIDs(global["override"]); !slices.Equal(got, wantOverride) {
		t.Errorf("override: %v", got)
	}
	if got := ruleIDs(global["underride"]); !slices.Equal(got, wantUnderride) {
		t.Errorf("underride: %v", got)
	}
	for _, k := range []string{"content", "room", "sender"} {
		if got, isList := global[k].([]any); !isList || len(got) != 0 {
			t.Errorf("%s: %v", k, global[k])
		}
	}
	master := global["override"].([]any)[0].(map[string]any)
	if master["enabled"] != false || master["default"] != true || fmt.Sprint(master["conditions"]) != "[]" || fmt.Sprint(master["actions"]) != "[]" {
		t.Errorf("master: %v", master)
	}
	invite := global["override"].([]any)[2].(map[string]any)
	if !strings.Contains(fmt.Sprint(invite["conditions"]), "pattern:@alice:hearth.test") {
		t.Errorf("invite_for_me is not for alice: %v", invite)
	}
	s, b = e.do("GET", pr, bob, nil)
	ok(t, "get global", s, b)
	if got := ruleIDs(b["override"]); !slices.Equal(got, wantOverride) {
		t.Errorf("global override: %v", got)
	}
	mention := b["override"].([]any)[4].(map[string]any)
	if !strings.Contains(fmt.Sprint(mention["conditions"]), "value:@bob:hearth.test") ||
		!strings.Contains(fmt.Sprint(mention["conditions"]), `content.m\.mentions.user_ids`) {
		t.Errorf("is_user_mention for bob: %v", mention)
	}
	s, b = e.do("GET", pr+"underride/.m.rule.call", alice, nil)
	if s != 200 || b["rule_id"] != ".m.rule.call" || fmt.Sprint(b["actions"]) != "[notify map[set_tweak:sound value:ring]]" {
		t.Errorf("get .m.rule.call: %d %v", s, b)
	}

	// User rules: added first among user rules (after master), before= and after=.
	cond := []map[string]any{{"kind": "event_match", "key": "content.body", "pattern": "cake"}}
	s, b = e.do("PUT", pr+"override/cake", alice, map[string]any{"actions": []any{"notify"}, "conditions": cond})
	ok(t, "put cake", s, b)
	s, b = e.do("PUT", pr+"override/pie?before=cake", alice, map[string]any{"actions": []any{"notify"}, "conditions": cond})
	ok(t, "put pie before cake", s, b)
	s, b = e.do("PUT", pr+"override/tart?after=cake", alice, map[string]any{"actions": []any{}, "conditions": cond})
	ok(t, "put tart after cake", s, b)
	s, b = e.do("GET", pr, alice, nil)
	if got := ruleIDs(b["override"]); !slices.Equal(got[:5], []string{".m.rule.master", "pie", "cake", "tart", ".m.rule.suppress_notices"}) {
		t.Errorf("override order: %v", got)
	}
	s, b = e.do("GET", pr+"override/pie", alice, nil)
	if s != 200 || b["default"] != false || b["enabled"] != true || fmt.Sprint(b["actions"]) != "[notify]" {
		t.Errorf("get pie: %d %v", s, b)
	}
	s, b = e.do("PUT", pr+"content/cheese", alice, map[string]any{"actions": []any{"notify"}, "pattern": "cheese*"})
	ok(t, "put content rule", s, b)
	s, b = e.do("PUT", pr+"room/!r:hearth.test", alice, map[string]any{"actions": []any{}})
	ok(t, "put room rule", s, b)
	s, b = e.do("GET", pr+"content/cheese", alice, nil)
	if s != 200 || b["pattern"] != "cheese*" {
		t.Errorf("content rule: %d %v", s, b)
	}

	// Enabled and actions, on user and default rules.
	s, b = e.do("PUT", pr+"override/cake/enabled", alice, map[string]any{"enabled": false})
	ok(t, "disable cake", s, b)
	s, b = e.do("GET", pr+"override/cake/enabled", alice, nil)
	if s != 200 || b["enabled"] != false {
		t.Errorf("cake enabled: %d %v", s, b)
	}
	s, b = e.do("PUT", pr+"override/.m.rule.master/enabled", alice, map[string]any{"enabled": true})
	ok(t, "enable master", s, b)
	s, b = e.do("PUT", pr+"underride/.m.rule.message/actions", alice, map[string]any{"actions": []any{"notify", map[string]any{"set_tweak": "sound", "value": "default"}}})
	ok(t, "set message actions", s, b)
	s, b = e.do("GET", pr+"underride/.m.rule.message/actions", alice, nil)
	if s != 200 || fmt.Sprint(b["actions"]) != "[notify map[set_tweak:sound value:default]]" {
		t.Errorf("message actions: %d %v", s, b)
	}
	s, b = e.do("GET", pr+"override/.m.rule.master", alice, nil)
	if s != 200 || b["enabled"] != true || b["default"] != true {
		t.Errorf("master after enabling: %d %v", s, b)
	}
	// Updating a rule keeps its place and its enabled flag.
	s, b = e.do("PUT", pr+"override/cake", alice, map[string]any{"actions": []any{"notify", map[string]any{"set_tweak": "highlight"}}, "conditions": cond})
	ok(t, "update cake", s, b)
	s, b = e.do("GET", pr, alice, nil)
	if got := ruleIDs(b["override"]); !slices.Equal(got[:4], []string{".m.rule.master", "pie", "cake", "tart"}) {
		t.Errorf("override order after update: %v", got)
	}
	if cake := b["override"].([]any)[2].(map[string]any); cake["enabled"] != false {
		t.Errorf("cake after update: %v", cake)
	}
	// Bob's rules are untouched.
	s, b = e.do("GET", pr+"override/.m.rule.master/enabled", bob, nil)
	if s != 200 || b["enabled"] != false {
		t.Errorf("bob's master: %d %v", s, b)
	}
	s, b = e.do("GET", pr+"override/cake", bob, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")

	// The whole ruleset reaches /sync as m.push_rules.
	s, b = e.do("GET", v3+"/sync", alice, nil)
	ok(t, "sync", s, b)
	found := false
	for _, ev := range b["account_data"].(map[string]any)["events"].([]any) {
		ev := ev.(map[string]any)
		if ev["type"] == "m.push_rules" {
			found = true
			g := ev["content"].(map[string]any)["global"].(map[string]any)
			if got := ruleIDs(g["override"]); !slices.Contains(got, "cake") || got[0] != ".m.rule.master" {
				t.Errorf("m.push_rules override in sync: %v", got)
			}
		}
	}
	if !found {
		t.Errorf("no m.push_rules in sync account_data")
	}

	// Bad input.
	s, b = e.do("GET", pr+"sideways/cake", alice, nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", pr+"sideways/cake", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("GET", pr+"override/nope", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("PUT", pr+"override/nope/enabled", alice, map[string]any{"enabled": true})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("PUT", pr+"override/.m.rule.mine", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", pr+"override/a%2Fb", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", pr+"override/x", alice, map[string]any{"conditions": cond})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", pr+"override/x", alice, map[string]any{"actions": "notify"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", pr+"override/x", alice, map[string]any{"actions": []any{5}})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", pr+"override/x", alice, map[string]any{"actions": []any{}, "conditions": []any{map[string]any{"key": "type"}}})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", pr+"override/x?before=nope", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_UNKNOWN")
	s, b = e.do("PUT", pr+"override/x?after=.m.rule.master", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_UNKNOWN")
	s, b = e.do("PUT", pr+"content/x", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", pr+"room/not-a-room", alice, map[string]any{"actions": []any{}})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", pr+"override/cake/enabled", alice, map[string]any{"enabled": "no"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("PUT", pr+"override/cake/enabled", alice, map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", pr+"override/cake/actions", alice, "{bad")
	expectErr(t, s, b, 400, "M_NOT_JSON")
	s, b = e.do("DELETE", pr+"override/.m.rule.reaction", alice, nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")

	// Delete.
	s, b = e.do("DELETE", pr+"override/cake", alice, nil)
	ok(t, "delete cake", s, b)
	s, b = e.do("GET", pr+"override/cake", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("DELETE", pr+"override/cake", alice, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("GET", pr, alice, nil)
	if got := ruleIDs(b["override"]); !slices.Equal(got[:3], []string{".m.rule.master", "pie", "tart"}) {
		t.Errorf("override after delete: %v", got)
	}
}

func TestPushers(t *testing.T) {
	e := newFullEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")

	s, b := e.do("GET", v3+"/pushers", alice, nil)
	if s != 200 || fmt.Sprint(b["pushers"]) != "[]" {
		t.Errorf("no pushers: %d %v", s, b)
	}
	p := map[string]any{"pushkey": "abc", "kind": "http", "app_id": "org.example.app.android",
		"app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
		"data": map[string]any{"url": "https://push.example.org/_matrix/push/v1/notify", "format": "event_id_only", "custom": 1}}
	s, b = e.do("POST", v3+"/pushers/set", alice, p)
	ok(t, "set pusher", s, b)
	p["device_display_name"] = "Renamed phone"
	s, b = e.do("POST", v3+"/pushers/set", alice, p) // same app_id+pushkey: updated
	ok(t, "update pusher", s, b)
	s, b = e.do("GET", v3+"/pushers", alice, nil)
	ps := b["pushers"].([]any)
	if s != 200 || len(ps) != 1 {
		t.Fatalf("pushers: %d %v", s, b)
	}
	got := ps[0].(map[string]any)
	if got["pushkey"] != "abc" || got["device_display_name"] != "Renamed phone" || got["kind"] != "http" ||
		fmt.Sprint(got["data"]) != "map[custom:1 format:event_id_only url:https://push.example.org/_matrix/push/v1/notify]" {
		t.Errorf("pusher: %v", got)
	}
	s, b = e.do("GET", v3+"/pushers", bob, nil)
	if s != 200 || fmt.Sprint(b["pushers"]) != "[]" {
		t.Errorf("bob's pushers: %d %v", s, b)
	}

	bad := func(change func(map[string]any), status int, code string) {
		t.Helper()
		q := map[string]any{}
		for k, v := range p {
			q[k] = v
		}
		q["data"] = map[string]any{"url": "https://push.example.org/_matrix/push/v1/notify"}
		change(q)
		s, b := e.do("POST", v3+"/pushers/set", alice, q)
		expectErr(t, s, b, status, code)
	}
	bad(func(q map[string]any) { delete(q, "pushkey") }, 400, "M_MISSING_PARAM")
	bad(func(q map[string]any) { delete(q, "kind") }, 400, "M_MISSING_PARAM")
	bad(func(q map[string]any) { delete(q, "lang") }, 400, "M_MISSING_PARAM")
	bad(func(q map[string]any) { delete(q, "data") }, 400, "M_MISSING_PARAM")
	bad(func(q map[string]any) { q["data"] = map[string]any{} }, 400, "M_MISSING_PARAM")
	bad(func(q map[string]any) { q["kind"] = "carrier_pigeon" }, 400, "M_INVALID_PARAM")
	bad(func(q map[string]any) { q["kind"] = 3 }, 400, "M_BAD_JSON")
	bad(func(q map[string]any) { q["app_id"] = strings.Repeat("a", 65) }, 400, "M_INVALID_PARAM")
	bad(func(q map[string]any) { q["pushkey"] = strings.Repeat("k", 513) }, 400, "M_INVALID_PARAM")
	bad(func(q map[string]any) { q["data"] = map[string]any{"url": "https://push.example.org/other"} }, 400, "M_INVALID_PARAM")
	bad(func(q map[string]any) {
		q["data"] = map[string]any{"url": "ftp://push.example.org/_matrix/push/v1/notify"}
	}, 400, "M_INVALID_PARAM")
	bad(func(q map[string]any) { q["data"] = "https://push.example.org/_matrix/push/v1/notify" }, 400, "M_BAD_JSON")
	s, b = e.do("POST", v3+"/pushers/set", alice, "{nope")
	expectErr(t, s, b, 400, "M_NOT_JSON")

	// kind null deletes.
	s, b = e.do("POST", v3+"/pushers/set", alice, map[string]any{"pushkey": "abc", "app_id": "org.example.app.android", "kind": nil})
	ok(t, "delete pusher", s, b)
	s, b = e.do("GET", v3+"/pushers", alice, nil)
	if s != 200 || fmt.Sprint(b["pushers"]) != "[]" {
		t.Errorf("pushers after delete: %d %v", s, b)
	}
}
