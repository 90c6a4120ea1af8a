package clientapi_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// newEphemeralEnv is the whole homeserver with presence off, so that long
// polls in these tests wake only for typing and receipts.
func newEphemeralEnv(t *testing.T) *env { return newHomeserverEnv(t, true) }

// ephemeralOf returns the ephemeral events of a joined room in a sync
// response, by type (the last of each type).
func ephemeralOf(b map[string]any, room string) map[string]map[string]any {
	out := map[string]map[string]any{}
	rooms, _ := b["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	r, _ := join[room].(map[string]any)
	eph, _ := r["ephemeral"].(map[string]any)
	evs, _ := eph["events"].([]any)
	for _, ev := range evs {
		m := ev.(map[string]any)
		out[m["type"].(string)] = m["content"].(map[string]any)
	}
	return out
}

func TestTypingReceiptsReadMarkers(t *testing.T) {
	e := newEphemeralEnv(t)
	alice := e.register("alice", "alice password")
	bob := e.register("bob", "bob password")
	carol := e.register("carol", "carol password")
	room := e.sharedRoom(alice, bob)
	base := v3 + "/rooms/" + url.PathEscape(room)
	s, b := e.do("PUT", base+"/send/m.room.message/t1", alice, map[string]any{"msgtype": "m.text", "body": "hi bob"})
	ok(t, "alice sends", s, b)
	msg := b["event_id"].(string)

	s, b = e.do("GET", v3+"/sync", bob, nil)
	ok(t, "bob initial sync", s, b)
	bobSince := b["next_batch"].(string)
	s, b = e.do("GET", v3+"/sync", alice, nil)
	ok(t, "alice initial sync", s, b)
	aliceSince := b["next_batch"].(string)

	// Bob long-polls; alice starts typing; bob is woken with her in m.typing.
	type result struct {
		s    int
		b    map[string]any
		took time.Duration
	}
	poll := func(token, since string) chan result {
		ch := make(chan result, 1)
		go func() {
			start := time.Now()
			s, b := e.do("GET", v3+"/sync?timeout=10000&since="+url.QueryEscape(since), token, nil)
			ch <- result{s, b, time.Since(start)}
		}()
		time.Sleep(200 * time.Millisecond) // let it start waiting
		return ch
	}
	ch := poll(bob, bobSince)
	s, b = e.do("PUT", base+"/typing/@alice:hearth.test", alice, map[string]any{"typing": true, "timeout": 30000})
	ok(t, "alice types", s, b)
	r := <-ch
	ok(t, "bob's long poll", r.s, r.b)
	if r.took > 5*time.Second {
		t.Errorf("long poll was not woken by typing (took %v)", r.took)
	}
	if got := fmt.Sprint(ephemeralOf(r.b, room)["m.typing"]); got != "map[user_ids:[@alice:hearth.test]]" {
		t.Fatalf("bob's m.typing: %s (%v)", got, r.b)
	}
	bobSince = r.b["next_batch"].(string)

	// She stops: an empty list.
	ch = poll(bob, bobSince)
	s, b = e.do("PUT", base+"/typing/@alice:hearth.test", alice, map[string]any{"typing": false})
	ok(t, "alice stops typing", s, b)
	r = <-ch
	ok(t, "bob's second long poll", r.s, r.b)
	if got := fmt.Sprint(ephemeralOf(r.b, room)["m.typing"]); got != "map[user_ids:[]]" || r.took > 5*time.Second {
		t.Fatalf("bob's m.typing after stop: %s in %v", got, r.took)
	}
	bobSince = r.b["next_batch"].(string)

	// Alice catches up (she sees her typing come and go), then bob reads
	// her message: alice's long poll sees the receipt.
	s, b = e.do("GET", v3+"/sync?since="+url.QueryEscape(aliceSince), alice, nil)
	ok(t, "alice catches up", s, b)
	if got := fmt.Sprint(ephemeralOf(b, room)["m.typing"]); got != "map[user_ids:[]]" {
		t.Errorf("alice's m.typing: %s", got)
	}
	aliceSince = b["next_batch"].(string)
	ch = poll(alice, aliceSince)
	s, b = e.do("POST", base+"/receipt/m.read/"+url.PathEscape(msg), bob, nil)
	ok(t, "bob's receipt", s, b)
	r = <-ch
	ok(t, "alice's long poll", r.s, r.b)
	rc := ephemeralOf(r.b, room)["m.receipt"]
	byType, _ := rc[msg].(map[string]any)
	byUser, _ := byType["m.read"].(map[string]any)
	ts, _ := byUser["@bob:hearth.test"].(map[string]any)
	if ts == nil || ts["ts"] == nil || r.took > 5*time.Second {
		t.Fatalf("alice's m.receipt: %v in %v", rc, r.took)
	}
	aliceSince = r.b["next_batch"].(string)

	// A private receipt and a threaded one: only bob sees the private one,
	// and thread_id is kept.
	s, b = e.do("POST", base+"/receipt/m.read.private/"+url.PathEscape(msg), bob, map[string]any{})
	ok(t, "bob's private receipt", s, b)
	s, b = e.do("POST", base+"/receipt/m.read/"+url.PathEscape(msg), bob, map[string]any{"thread_id": "main"})
	ok(t, "bob's threaded receipt", s, b)
	s, b = e.do("GET", v3+"/sync?since="+url.QueryEscape(aliceSince), alice, nil)
	ok(t, "alice sync", s, b)
	evs := b["rooms"].(map[string]any)["join"].(map[string]any)[room].(map[string]any)["ephemeral"].(map[string]any)["events"].([]any)
	if len(evs) != 1 || fmt.Sprint(evs[0]) != fmt.Sprintf("map[content:map[%s:map[m.read:map[@bob:hearth.test:map[thread_id:main ts:%v]]]] type:m.receipt]", msg, evs[0].(map[string]any)["content"].(map[string]any)[msg].(map[string]any)["m.read"].(map[string]any)["@bob:hearth.test"].(map[string]any)["ts"]) {
		t.Errorf("alice sees %v", evs)
	}
	s, b = e.do("GET", v3+"/sync?since="+url.QueryEscape(bobSince), bob, nil)
	ok(t, "bob sync", s, b)
	bobEvs := b["rooms"].(map[string]any)["join"].(map[string]any)[room].(map[string]any)["ephemeral"].(map[string]any)["events"].([]any)
	private := false
	for _, ev := range bobEvs {
		c := ev.(map[string]any)["content"].(map[string]any)[msg].(map[string]any)
		if _, ok := c["m.read.private"]; ok {
			private = true
		}
	}
	if !private {
		t.Errorf("bob does not see his private receipt: %v", bobEvs)
	}
	// An initial sync of alice shows receipts too, never bob's private one.
	s, b = e.do("GET", v3+"/sync", alice, nil)
	ok(t, "alice initial sync", s, b)
	if ephemeralOf(b, room)["m.receipt"] == nil || containsPrivate(b, room) {
		t.Errorf("alice's initial sync: receipts missing or a private one shown: %v", ephemeralOf(b, room))
	}

	// Read markers: m.fully_read becomes room account data; m.read too.
	s, b = e.do("POST", base+"/read_markers", bob, map[string]any{"m.fully_read": msg, "m.read": msg})
	ok(t, "read_markers", s, b)
	s, b = e.do("GET", v3+"/user/@bob:hearth.test/rooms/"+url.PathEscape(room)+"/account_data/m.fully_read", bob, nil)
	if s != 200 || b["event_id"] != msg {
		t.Errorf("m.fully_read: %d %v", s, b)
	}
	s, b = e.do("POST", base+"/receipt/m.fully_read/"+url.PathEscape(msg), alice, nil)
	ok(t, "fully read as a receipt", s, b)
	s, b = e.do("GET", v3+"/user/@alice:hearth.test/rooms/"+url.PathEscape(room)+"/account_data/m.fully_read", alice, nil)
	if s != 200 || b["event_id"] != msg {
		t.Errorf("alice's m.fully_read: %d %v", s, b)
	}

	// Bad input.
	s, b = e.do("PUT", base+"/typing/@bob:hearth.test", alice, map[string]any{"typing": true})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", base+"/typing/@carol:hearth.test", carol, map[string]any{"typing": true})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("PUT", base+"/typing/@alice:hearth.test", alice, map[string]any{"timeout": 5})
	expectErr(t, s, b, 400, "M_MISSING_PARAM")
	s, b = e.do("PUT", base+"/typing/@alice:hearth.test", alice, map[string]any{"typing": "yes"})
	expectErr(t, s, b, 400, "M_BAD_JSON")
	s, b = e.do("POST", base+"/receipt/m.seen/"+url.PathEscape(msg), bob, nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", base+"/receipt/m.read/"+url.PathEscape(msg), carol, nil)
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("POST", base+"/receipt/m.read/$nope:hearth.test", bob, nil)
	expectErr(t, s, b, 404, "M_NOT_FOUND")
	s, b = e.do("POST", base+"/receipt/m.read/"+url.PathEscape(msg), bob, map[string]any{"thread_id": ""})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", base+"/receipt/m.read/"+url.PathEscape(msg), bob, map[string]any{"thread_id": 5})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", base+"/receipt/m.fully_read/"+url.PathEscape(msg), bob, map[string]any{"thread_id": "main"})
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
	s, b = e.do("POST", base+"/read_markers", carol, map[string]any{"m.fully_read": msg})
	expectErr(t, s, b, 403, "M_FORBIDDEN")
	s, b = e.do("POST", base+"/read_markers", bob, map[string]any{"m.fully_read": "$nope:hearth.test"})
	expectErr(t, s, b, 404, "M_NOT_FOUND")
}

func containsPrivate(b map[string]any, room string) bool {
	rooms, _ := b["rooms"].(map[string]any)
	join, _ := rooms["join"].(map[string]any)
	r, _ := join[room].(map[string]any)
	eph, _ := r["ephemeral"].(map[string]any)
	evs, _ := eph["events"].([]any)
	for _, ev := range evs {
		c, _ := ev.(map[string]any)["content"].(map[string]any)
		for _, byType := range c {
			if _, ok := byType.(map[string]any)["m.read.private"]; ok {
				return true
			}
		}
	}
	return false
}
