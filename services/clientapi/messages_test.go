package clientapi_test

import (
	"fmt"
	"net/url"
	"testing"
)

func TestMessagesFilter(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/_matrix/client/v3/createRoom", "alice-token", map[string]any{"preset": "public_chat"})
	room := b["room_id"].(string)
	base := "/_matrix/client/v3/rooms/" + room
	e.do("POST", base+"/join", "bob-token", map[string]any{})
	for i := 0; i < 30; i++ {
		typ, who := "m.room.message", "alice-token"
		if i%3 == 0 {
			typ, who = "org.example.ping", "bob-token"
		}
		if s, b := e.do("PUT", fmt.Sprintf("%s/send/%s/f%d", base, typ, i), who, map[string]any{"n": i}); s != 200 {
			t.Fatalf("send: %d %v", s, b)
		}
	}
	get := func(filter string, limit int, from string) map[string]any {
		q := fmt.Sprintf("?dir=b&limit=%d&filter=%s", limit, url.QueryEscape(filter))
		if from != "" {
			q += "&from=" + from
		}
		s, b := e.do("GET", base+"/messages"+q, "alice-token", nil)
		if s != 200 {
			t.Fatalf("messages %s: %d %v", filter, s, b)
		}
		return b
	}
	// Only pings, newest first, and paging continues across skipped events.
	var ns []float64
	from := ""
	for pages := 0; pages < 10; pages++ {
		b := get(`{"types":["org.example.ping"],"lazy_load_members":true}`, 4, from)
		for _, ev := range b["chunk"].([]any) {
			m := ev.(map[string]any)
			if m["type"] != "org.example.ping" {
				t.Fatalf("filter let through %v", m["type"])
			}
			ns = append(ns, m["content"].(map[string]any)["n"].(float64))
		}
		if st, _ := b["state"].([]any); len(b["chunk"].([]any)) > 0 && (len(st) != 1 || st[0].(map[string]any)["state_key"] != "@bob:hearth.test") {
			t.Errorf("lazy-loaded members = %v, want bob's member event", st)
		}
		end, ok := b["end"].(string)
		if !ok {
			break
		}
		from = end
	}
	if len(ns) != 10 || ns[0] != 27 || ns[9] != 0 {
		t.Errorf("pings seen: %v", ns)
	}
	// not_senders excludes bob; wildcard types.
	b = get(`{"not_senders":["@bob:hearth.test"],"types":["m.room.*"]}`, 5, "")
	for _, ev := range b["chunk"].([]any) {
		if ev.(map[string]any)["sender"] == "@bob:hearth.test" {
			t.Error("not_senders let bob through")
		}
	}
	if len(b["chunk"].([]any)) != 5 {
		t.Errorf("got %d events", len(b["chunk"].([]any)))
	}
	s, b := e.do("GET", base+"/messages?dir=b&filter="+url.QueryEscape(`{"types":"nope"}`), "alice-token", nil)
	expectErr(t, s, b, 400, "M_INVALID_PARAM")
}
