package sync_test

import (
	"fmt"
	"sort"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

// members lists the state keys of the member events among evs.
func members(evs []cjson.Value) []string {
	var out []string
	for _, e := range evs {
		if str(e, "type") == "m.room.member" {
			out = append(out, str(e, "state_key"))
		}
	}
	sort.Strings(out)
	return out
}

func eq(a []string, b ...string) bool {
	sort.Strings(b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestLazyLoadingMembers(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true, Name: "big"})
	h.setMember(roomID, bob, bob, "join")
	h.setMember(roomID, carol, carol, "join")
	for i := 0; i < 12; i++ {
		h.send(roomID, bob, fmt.Sprint("b", i))
	}
	lazy := mustFilter(t, `{"room":{"state":{"lazy_load_members":true}}}`)
	redundant := mustFilter(t, `{"room":{"state":{"lazy_load_members":true,"include_redundant_members":true}}}`)

	// Initial: bob (sender) and alice (self), not carol.
	resp := h.sync(hsync.Request{UserID: alice, Filter: lazy})
	room := resp.Rooms.Join[roomID]
	if got := members(room.State.Events); !eq(got, alice, bob) {
		t.Fatalf("lazy initial members %v", got)
	}
	if _, ok := findType(room.State.Events, "m.room.create", ""); !ok {
		t.Error("lazy-loading dropped non-member state")
	}
	// Without lazy-loading every member is there.
	if got := members(h.sync(hsync.Request{UserID: alice, DeviceID: "OTHER"}).Rooms.Join[roomID].State.Events); !eq(got, alice, bob, carol) {
		t.Errorf("full members %v", got)
	}
	s1 := resp.NextBatch

	// Bob again: his member event is redundant now.
	h.send(roomID, bob, "again")
	resp = h.sync(hsync.Request{UserID: alice, Since: s1, Filter: lazy})
	if got := members(resp.Rooms.Join[roomID].State.Events); len(got) != 0 {
		t.Errorf("redundant members sent: %v", got)
	}
	if got := members(h.sync(hsync.Request{UserID: alice, Since: s1, Filter: redundant}).Rooms.Join[roomID].State.Events); !eq(got, bob) {
		t.Errorf("include_redundant_members: %v", got)
	}
	s2 := resp.NextBatch

	// Carol talks: her member event comes along.
	h.send(roomID, carol, "hello")
	resp = h.sync(hsync.Request{UserID: alice, Since: s2, Filter: lazy})
	if got := members(resp.Rooms.Join[roomID].State.Events); !eq(got, carol) {
		t.Errorf("new sender's member: %v", got)
	}
	s3 := resp.NextBatch
	// That response is "lost": syncing again from s2 sends carol again.
	if got := members(h.sync(hsync.Request{UserID: alice, Since: s2, Filter: lazy}).Rooms.Join[roomID].State.Events); !eq(got, carol) {
		t.Errorf("member of a lost response not resent: %v", got)
	}
	// From s3 she is known.
	h.send(roomID, carol, "more")
	if got := members(h.sync(hsync.Request{UserID: alice, Since: s3, Filter: lazy}).Rooms.Join[roomID].State.Events); len(got) != 0 {
		t.Errorf("known member resent: %v", got)
	}
	s4 := h.sync(hsync.Request{UserID: alice, Since: s3, Filter: lazy}).NextBatch

	// A limited sync: carol's profile change in the gap is sent although
	// she does not appear in the timeline and alice had her member event.
	prof := h.state(roomID, carol, "m.room.member", carol, cjson.ObjectOf(cjson.M("membership", cjson.StrOf("join")), cjson.M("displayname", cjson.StrOf("Carol"))))
	for i := 0; i < 15; i++ {
		h.send(roomID, bob, fmt.Sprint("flood", i))
	}
	room = h.sync(hsync.Request{UserID: alice, Since: s4, Filter: lazy}).Rooms.Join[roomID]
	if !room.Timeline.Limited {
		t.Fatal("not limited")
	}
	c, ok := findType(room.State.Events, "m.room.member", carol)
	if !ok || str(c, "event_id") != prof.Event.ID() {
		t.Errorf("gap membership missing: %v", members(room.State.Events))
	}
	if got := members(room.State.Events); !eq(got, carol) {
		t.Errorf("limited lazy members %v (bob is redundant)", got)
	}
}

func TestLazyHeroes(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true}) // no name: heroes
	h.setMember(roomID, bob, bob, "join")
	h.setMember(roomID, carol, carol, "join")
	for i := 0; i < 12; i++ {
		h.send(roomID, alice, fmt.Sprint(i))
	}
	room := h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"room":{"state":{"lazy_load_members":true}}}`)}).Rooms.Join[roomID]
	if !eq(room.Summary.Heroes, bob, carol) {
		t.Errorf("heroes %v", room.Summary.Heroes)
	}
	if got := members(room.State.Events); !eq(got, alice, bob, carol) {
		t.Errorf("hero members not loaded: %v", got)
	}
	named := h.create(roomserver.CreateRequest{Creator: alice, Name: "named"})
	if hs := h.sync(hsync.Request{UserID: alice}).Rooms.Join[named].Summary.Heroes; hs != nil {
		t.Errorf("heroes for a named room: %v", hs)
	}
}

func TestNewlyJoinedBigRoom(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true, Name: "hall"})
	for i := 0; i < 20; i++ {
		h.send(roomID, alice, fmt.Sprint(i))
	}
	since := h.sync(hsync.Request{UserID: bob}).NextBatch
	h.setMember(roomID, bob, bob, "join")
	room := h.sync(hsync.Request{UserID: bob, Since: since}).Rooms.Join[roomID]
	if room == nil {
		t.Fatal("joined room missing")
	}
	for _, typ := range []string{"m.room.create", "m.room.name", "m.room.power_levels"} {
		if _, ok := findType(room.State.Events, typ, ""); !ok {
			t.Errorf("newly joined room lacks %s in state", typ)
		}
	}
	if _, ok := findType(room.State.Events, "m.room.member", alice); !ok {
		t.Error("newly joined room lacks members")
	}
	if !room.Timeline.Limited || len(room.Timeline.Events) != 10 {
		t.Errorf("timeline of a newly joined room: %d, limited %v", len(room.Timeline.Events), room.Timeline.Limited)
	}
	if room.Summary.JoinedMemberCount == nil || *room.Summary.JoinedMemberCount != 2 {
		t.Error("no summary for a newly joined room")
	}
}

func TestArchivedRoomHidesLaterState(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true, Name: "before"})
	h.setMember(roomID, bob, bob, "join")
	for i := 0; i < 12; i++ {
		h.send(roomID, alice, fmt.Sprint(i))
	}
	h.setMember(roomID, bob, bob, "leave")
	h.state(roomID, alice, "m.room.name", "", cjson.ObjectOf(cjson.M("name", cjson.StrOf("after"))))
	h.send(roomID, alice, "after bob left")
	lr := h.sync(hsync.Request{UserID: bob, Filter: mustFilter(t, `{"room":{"include_leave":true}}`)}).Rooms.Leave[roomID]
	if lr == nil {
		t.Fatal("no archived room")
	}
	for _, e := range append(lr.State.Events, lr.Timeline.Events...) {
		if str(e, "content", "name") == "after" || str(e, "content", "body") == "after bob left" {
			t.Errorf("archived room shows %s from after the leave", e)
		}
	}
}

func TestTimelineFilters(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true})
	other := h.create(roomserver.CreateRequest{Creator: alice, Public: true})
	h.setMember(roomID, bob, bob, "join")
	for i := 0; i < 5; i++ {
		h.send(roomID, alice, fmt.Sprint("a", i))
		h.send(roomID, bob, fmt.Sprint("b", i))
	}
	h.state(roomID, alice, "m.room.topic", "", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("t"))))
	url := cjson.ObjectOf(cjson.M("msgtype", cjson.StrOf("m.image")), cjson.M("body", cjson.StrOf("img")), cjson.M("url", cjson.StrOf("mxc://x/y")))
	h.rs.Send(t.Context(), roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: url}, nil)

	cases := []struct {
		name, filter string
		want         []string // message bodies, or types prefixed with '#'
		limited      bool
	}{
		{"limit", `{"room":{"timeline":{"limit":3}}}`, []string{"b4", "#m.room.topic", "img"}, true},
		{"types wildcard", `{"room":{"timeline":{"types":["m.room.mess*"],"limit":4}}}`, []string{"b3", "a4", "b4", "img"}, true},
		{"not_types", `{"room":{"timeline":{"not_types":["m.room.message"],"limit":2}}}`, []string{"#m.room.member", "#m.room.topic"}, true},
		{"senders", `{"room":{"timeline":{"senders":["` + bob + `"],"types":["m.room.message"],"limit":3}}}`, []string{"b3", "b4", "img"}, true},
		{"not_senders", `{"room":{"timeline":{"not_senders":["` + bob + `"],"types":["m.room.message"],"limit":2}}}`, []string{"a3", "a4"}, true},
		{"contains_url", `{"room":{"timeline":{"contains_url":true}}}`, []string{"img"}, false},
		{"everything excluded", `{"room":{"timeline":{"types":[]}}}`, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			room := h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, c.filter)}).Rooms.Join[roomID]
			var got []string
			for _, e := range room.Timeline.Events {
				if str(e, "type") == "m.room.message" {
					got = append(got, str(e, "content", "body"))
				} else {
					got = append(got, "#"+str(e, "type"))
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) || room.Timeline.Limited != c.limited {
				t.Errorf("got %v limited %v, want %v limited %v", got, room.Timeline.Limited, c.want, c.limited)
			}
		})
	}
	// Room filters.
	resp := h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"room":{"not_rooms":["`+other+`"]}}`)})
	if resp.Rooms.Join[other] != nil || resp.Rooms.Join[roomID] == nil {
		t.Error("room.not_rooms not applied")
	}
	resp = h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"room":{"rooms":["`+other+`"]}}`)})
	if len(resp.Rooms.Join) != 1 || resp.Rooms.Join[other] == nil {
		t.Error("room.rooms not applied")
	}
	// State filter.
	room := h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"room":{"state":{"types":["m.room.create"]},"timeline":{"limit":1}}}`)}).Rooms.Join[roomID]
	if len(room.State.Events) != 1 || str(room.State.Events[0], "type") != "m.room.create" {
		t.Errorf("state filter: %v", room.State.Events)
	}
	// event_fields and event_format.
	room = h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"event_fields":["type","content.body"],"room":{"timeline":{"limit":1}}}`)}).Rooms.Join[roomID]
	if e := room.Timeline.Events[0]; e.String() != `{"content":{"body":"img"},"type":"m.room.message"}` {
		t.Errorf("event_fields: %s", e)
	}
	room = h.sync(hsync.Request{UserID: alice, Filter: mustFilter(t, `{"event_format":"federation","room":{"timeline":{"limit":1}}}`)}).Rooms.Join[roomID]
	if e := room.Timeline.Events[0]; !e.Has("hashes") || !e.Has("signatures") || !e.Has("depth") {
		t.Errorf("federation format: %s", e)
	}
}
