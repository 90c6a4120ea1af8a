package clientapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hearth/config"
	"hearth/services/homeserver"
	"hearth/services/users"
)

// newHomeserverEnv runs the whole homeserver (as the main does) on a test
// HTTP server, with presence on or off.
func newHomeserverEnv(t *testing.T, presenceDisabled bool) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Name = "hearth.test"
	cfg.Server.DataDir = t.TempDir()
	cfg.Registration.Mode = config.RegistrationOpen
	cfg.Registration.AllowLegacySingleRequest = true
	cfg.Presence.Disabled = presenceDisabled
	cfg.Limits.PerUser.Disabled = true // tests make many quick requests;
	cfg.Limits.PerIP.Disabled = true   // the limiter has its own test
	cheap := users.TestingArgon2()
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Argon2: &cheap,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hs.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return &env{t: t, srv: srv}
}

// presenceEvents returns the m.presence contents of a sync body by sender.
func presenceEvents(b map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	p, _ := b["presence"].(map[string]any)
	evs, _ := p["events"].([]any)
	for _, ev := range evs {
		m := ev.(map[string]any)
		if m["type"] == "m.presence" {
			out[m["sender"].(string)] = m["content"].(map[string]any)
		}
	}
	return out
}

func unreadOf(b map[string]any, room string) string {
	rooms, _ := b["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	r, _ := join[room].(map[string]any)
	return fmt.Sprint(r["unread_notifications"])
}

func TestPresenceOverHTTP(t *testing.T) {
	e := newHomeserverEnv(t, false)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	carol := e.register("carol", "carol password")
	e.sharedRoom(alice, bob)

	s, b := e.do("GET", v3+"/sync?set_presence=offline", alice, nil)
	ok(t, "alice initial sync", s, b)
	since := b["next_batch"].(string)

	s, b = e.do("PUT", v3+"/presence/@bob:hearth.test/status", bob, map[string]any{"presence": "online", "status_msg": "coffee"})
	ok(t, "bob sets presence", s, b)
	s, b = e.do("GET", v3+"/sync?set_presence=offline&since="+url.QueryEscape(since), alice, nil)
	ok(t, "alice syncs", s, b)
	p := presenceEvents(b)["@bob:hearth.test"]
	if p["presence"] != "online" || p["status_msg"] != "coffee" || p["currently_active"] != true {
		t.Errorf("alice sees bob's presence as %v (%v)", p, b["presence"])
	}

	// GET: self and room-mates may read, others may not.
	s, b = e.do("GET", v3+"/presence/@bob:hearth.test/status", alice, nil)
	ok(t, "alice reads bob's presence", s, b)
	if b["presence"] != "online" || b["status_msg"] != "coffee" {
		t.Errorf("GET presence %v", b)
	}
	s, b = e.do("GET", v3+"/presence/@bob:hearth.test/status", carol, nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("GET", v3+"/presence/@carol:hearth.test/status", carol, nil)
	ok(t, "carol reads her own presence", s, b)

	// Setting another user's presence, or a bad one, is refused.
	s, b = e.do("PUT", v3+"/presence/@bob:hearth.test/status", alice, map[string]any{"presence": "offline"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", v3+"/presence/@alice:hearth.test/status", alice, map[string]any{"presence": "busy"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", v3+"/presence/@alice:hearth.test/status", alice, map[string]any{"presence": "online", "status_msg": strings.Repeat("x", 2000)})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("PUT", v3+"/presence/@alice:hearth.test/status", alice, map[string]any{})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("GET", v3+"/sync?set_presence=busy", alice, nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
}

func TestPresenceDisabled(t *testing.T) {
	e := newHomeserverEnv(t, true)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	e.sharedRoom(alice, bob)
	s, b := e.do("GET", v3+"/sync", alice, nil)
	ok(t, "alice initial sync", s, b)
	since := b["next_batch"].(string)

	// PUT is accepted and dropped; GET says offline; /sync carries nothing.
	s, b = e.do("PUT", v3+"/presence/@bob:hearth.test/status", bob, map[string]any{"presence": "online", "status_msg": "hi"})
	ok(t, "bob sets presence", s, b)
	s, b = e.do("GET", v3+"/presence/@bob:hearth.test/status", alice, nil)
	ok(t, "alice reads bob's presence", s, b)
	if fmt.Sprint(b) != "map[presence:offline]" {
		t.Errorf("GET presence with presence disabled: %v", b)
	}
	s, b = e.do("GET", v3+"/sync?timeout=0&since="+url.QueryEscape(since), alice, nil)
	ok(t, "alice syncs", s, b)
	if len(presenceEvents(b)) != 0 {
		t.Errorf("presence events with presence disabled: %v", b["presence"])
	}
	s, b = e.do("PUT", v3+"/presence/@bob:hearth.test/status", alice, map[string]any{"presence": "online"})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
}

func TestUnreadCountsOverHTTP(t *testing.T) {
	e := newHomeserverEnv(t, false)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	room := e.sharedRoom(alice, bob)
	base := v3 + "/rooms/" + url.PathEscape(room)
	s, b := e.do("GET", v3+"/sync", alice, nil)
	ok(t, "alice initial sync", s, b)
	since := b["next_batch"].(string)
	sync := func(what string) map[string]any {
		t.Helper()
		s, b := e.do("GET", v3+"/sync?since="+url.QueryEscape(since), alice, nil)
		ok(t, what, s, b)
		since = b["next_batch"].(string)
		return b
	}

	s, b = e.do("PUT", base+"/send/m.room.message/t1", bob, map[string]any{"msgtype": "m.text", "body": "hello"})
	ok(t, "bob sends", s, b)
	if got := unreadOf(sync("after bob's message"), room); got != "map[highlight_count:0 notification_count:1]" {
		t.Errorf("after bob's message: %s", got)
	}
	s, b = e.do("PUT", base+"/send/m.room.message/t2", bob, map[string]any{"msgtype": "m.text", "body": "alice, look",
		"m.mentions": map[string]any{"user_ids": []string{"@alice:hearth.test"}}})
	ok(t, "bob mentions alice", s, b)
	last := b["event_id"].(string)
	if got := unreadOf(sync("after the mention"), room); got != "map[highlight_count:1 notification_count:2]" {
		t.Errorf("after the mention: %s", got)
	}
	s, b = e.do("PUT", base+"/send/m.room.message/t3", alice, map[string]any{"msgtype": "m.text", "body": "mine"})
	ok(t, "alice sends", s, b)
	if got := unreadOf(sync("after alice's message"), room); got != "map[highlight_count:1 notification_count:2]" {
		t.Errorf("after alice's own message: %s", got)
	}
	s, b = e.do("POST", base+"/receipt/m.read.private/"+url.PathEscape(last), alice, map[string]any{})
	ok(t, "alice's receipt", s, b)
	if got := unreadOf(sync("after the receipt"), room); got != "map[highlight_count:0 notification_count:0]" {
		t.Errorf("after the receipt: %s", got)
	}
}

func TestForgottenRoomOverHTTP(t *testing.T) {
	e := newHomeserverEnv(t, true)
	alice := e.register("alice", "alice password")
	s, b := e.do("POST", v3+"/createRoom", alice, map[string]any{"preset": "private_chat"})
	ok(t, "createRoom", s, b)
	room := b["room_id"].(string)
	base := v3 + "/rooms/" + url.PathEscape(room)
	s, b = e.do("POST", base+"/leave", alice, map[string]any{})
	ok(t, "leave", s, b)
	s, b = e.do("POST", base+"/forget", alice, map[string]any{})
	ok(t, "forget", s, b)
	s, b = e.do("GET", v3+"/sync?filter="+url.QueryEscape(`{"room":{"include_leave":true}}`), alice, nil)
	ok(t, "sync", s, b)
	rooms, _ := b["rooms"].(map[string]any)
	leave, _ := rooms["leave"].(map[string]any)
	if _, ok := leave[room]; ok {
		t.Errorf("forgotten room in the leave section: %v", rooms)
	}
}
