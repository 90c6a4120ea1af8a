package sync_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

func TestTokens(t *testing.T) {
	tok := hsync.Token{Events: 42, AccountData: 7, ToDevice: 0, Receipts: 3, Typing: 18446744073709551615, Presence: 5}
	s := tok.String()
	if s != "s42_7_0_3_18446744073709551615_5" {
		t.Fatalf("String() = %q", s)
	}
	if back, err := hsync.ParseToken(s); err != nil || back != tok {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if short, err := hsync.ParseToken("s9_1"); err != nil || short != (hsync.Token{Events: 9, AccountData: 1}) {
		t.Errorf("short token: %+v, %v", short, err)
	}
	// A token of the five-stream format (before presence) stays valid.
	if old, err := hsync.ParseToken("s9_1_2_3_4"); err != nil || old != (hsync.Token{Events: 9, AccountData: 1, ToDevice: 2, Receipts: 3, Typing: 4}) {
		t.Errorf("five-part token: %+v, %v", old, err)
	}
	if long, err := hsync.ParseToken("s18446744073709551615_18446744073709551615_18446744073709551615_18446744073709551615_18446744073709551615_18446744073709551615"); err != nil || long.Presence != 18446744073709551615 {
		t.Errorf("longest token: %+v, %v", long, err)
	}
	for _, bad := range []string{
		"", "s", "t5", "S5", "s-1", "s+1", "s01", "s1__2", "s1_", "s_1", "s1_2_3_4_5_6_7", "s1 ", " s1",
		"s18446744073709551616", "s1.5", "sx", "s1_2_3_4_5_6_", strings.Repeat("s1", 100), "s١",
	} {
		if _, err := hsync.ParseToken(bad); !errors.Is(err, hsync.ErrBadToken) {
			t.Errorf("ParseToken(%q) = %v", bad, err)
		}
	}
	for in, want := range map[string]uint64{"t0": 0, "t17": 17, "s17_3_4_0_0": 17, "s5": 5} {
		if got, err := hsync.ParsePaginationToken(in); err != nil || got != want {
			t.Errorf("ParsePaginationToken(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "t", "t01", "t-1", "tx", "x5", "t5_1"} {
		if _, err := hsync.ParsePaginationToken(bad); !errors.Is(err, hsync.ErrBadToken) {
			t.Errorf("ParsePaginationToken(%q) = %v", bad, err)
		}
	}
	if hsync.PaginationToken(9) != "t9" {
		t.Error("PaginationToken")
	}
}

func TestSyncRejectsBadInput(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	ctx := context.Background()
	if _, err := h.s.Sync(ctx, hsync.Request{UserID: alice, Since: "garbage"}); !errors.Is(err, hsync.ErrBadToken) {
		t.Errorf("bad since: %v", err)
	}
	if _, err := h.s.Sync(ctx, hsync.Request{UserID: alice, SetPresence: "busy"}); !errors.Is(err, hsync.ErrBadParam) {
		t.Errorf("bad set_presence: %v", err)
	}
	// A token from the future (a restored store) gets an initial sync.
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	resp, err := h.s.Sync(ctx, hsync.Request{UserID: alice, Since: hsync.Token{Events: 1 << 40}.String()})
	if err != nil || resp.Rooms.Join[roomID] == nil {
		t.Errorf("future token: %v, %+v", err, resp)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := hsync.ParseFilter([]byte(`{
		"event_fields": ["type", "content.m\\.relates_to", "a\\\\b.c"],
		"event_format": "client",
		"presence": {"not_types": ["*"]},
		"account_data": {"types": ["m.*"], "limit": 5},
		"room": {
			"rooms": ["!a:x"], "not_rooms": ["!b:x"], "include_leave": true,
			"timeline": {"limit": 5000, "senders": ["@u:x"], "contains_url": false, "unread_thread_notifications": true},
			"state": {"lazy_load_members": true, "include_redundant_members": true},
			"ephemeral": {"types": []},
			"account_data": {"not_types": ["m.tag"]},
			"org.example.unknown": 1
		},
		"unknown": {"whatever": [1, 2]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.EventFields) != 3 || strings.Join(f.EventFields[1], "|") != "content|m.relates_to" || strings.Join(f.EventFields[2], "|") != `a\b|c` {
		t.Errorf("event_fields %q", f.EventFields)
	}
	if f.Room.Timeline.Limit != hsync.MaxTimelineLimit || f.TimelineLimit() != hsync.MaxTimelineLimit {
		t.Errorf("timeline limit %d not capped", f.Room.Timeline.Limit)
	}
	if !f.Room.IncludeLeave || !f.Room.State.LazyLoadMembers || !f.Room.State.IncludeRedundantMembers || f.Room.Timeline.ContainsURL == nil || *f.Room.Timeline.ContainsURL {
		t.Errorf("flags: %+v", f.Room)
	}
	if f.Presence.MatchType("m.presence") || !f.AccountData.MatchType("m.direct") || f.AccountData.MatchType("im.vector.x") {
		t.Error("type patterns")
	}
	if f.Room.Ephemeral.MatchType("m.typing") {
		t.Error("empty types list must match nothing")
	}
	if !f.Room.MatchRoom("!a:x") || f.Room.MatchRoom("!b:x") || f.Room.MatchRoom("!c:x") {
		t.Error("room lists")
	}
	if !f.Room.Timeline.MatchSender("@u:x") || f.Room.Timeline.MatchSender("@v:x") {
		t.Error("senders")
	}
	var zero hsync.Filter
	if zero.TimelineLimit() != hsync.DefaultTimelineLimit || !zero.Room.Timeline.MatchType("anything") {
		t.Error("zero filter")
	}
	if f, _ := hsync.ParseFilter([]byte(`{"room":{"timeline":{"limit":0}}}`)); f.TimelineLimit() != 1 {
		t.Errorf("limit 0 became %d", f.TimelineLimit())
	}
	// A filter built by hand matches without compiling.
	hand := hsync.EventFilter{Types: []string{"m.room.*"}, NotTypes: []string{"m.room.member"}}
	if !hand.MatchType("m.room.message") || hand.MatchType("m.room.member") || hand.MatchType("m.reaction") {
		t.Error("hand-built filter")
	}

	bad := []string{
		``, `[]`, `"x"`, `{`, `{"room": []}`, `{"room": {"timeline": 1}}`,
		`{"room": {"timeline": {"limit": -1}}}`, `{"room": {"timeline": {"limit": 1.5}}}`, `{"room": {"timeline": {"limit": "5"}}}`,
		`{"room": {"rooms": ["not-a-room"]}}`, `{"room": {"timeline": {"senders": ["bob"]}}}`,
		`{"room": {"state": {"types": [1]}}}`, `{"room": {"state": {"types": "m.room.name"}}}`,
		`{"room": {"state": {"lazy_load_members": "yes"}}}`, `{"room": {"include_leave": 1}}`,
		`{"event_format": "raw"}`, `{"event_fields": "content"}`, `{"room": {"timeline": {"types": [""]}}}`,
		`{"room": {"timeline": {"types": ["` + strings.Repeat("x", 256) + `"]}}}`,
		`{"room": {"timeline": {"contains_url": "true"}}}`,
		`{"a": 1, "a": 2}`,
		`{"room": {"not_rooms": [` + strings.Repeat(`"!r:x",`, hsync.MaxFilterList) + `"!r:x"]}}`,
		`{"x": "` + strings.Repeat("y", hsync.MaxFilterBytes) + `"}`,
		strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100),
	}
	for _, b := range bad {
		if _, err := hsync.ParseFilter([]byte(b)); !errors.Is(err, hsync.ErrBadFilter) {
			t.Errorf("ParseFilter(%.60q) = %v", b, err)
		}
	}
}

func TestGlobPatterns(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"m.*", "m.room", true}, {"m.*", "n.room", false},
		{"*.member", "m.room.member", true}, {"m.*.member", "m.room.member", true}, {"m.*.member", "m.member", false},
		{"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXbYY", false}, {"**", "x", true}, {"abc", "abc", true}, {"abc", "abcd", false},
		{"*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	}
	for _, c := range cases {
		f := hsync.EventFilter{Types: []string{c.pattern}}
		if got := f.MatchType(c.s); got != c.want {
			t.Errorf("%q ~ %q = %v", c.pattern, c.s, got)
		}
	}
}

func build(t *testing.T, ver string, p pdu.Proto) *pdu.Event {
	t.Helper()
	key, _ := signing.KeyFromSeed("ed25519:test", make([]byte, 32))
	if p.RoomID == "" {
		p.RoomID = "!room:hearth.test"
	}
	p.PrevEvents, p.AuthEvents, p.Depth = []string{"$prev"}, []string{"$auth"}, 3
	ev, err := pdu.MustVersion(ver).Build(p, "hearth.test", key)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestClientEventFormat(t *testing.T) {
	now := time.UnixMilli(1_000_500)
	msg := build(t, "11", pdu.Proto{Type: "m.room.message", Sender: alice, Content: text("hi"), OriginServerTS: 1_000_000,
		Unsigned: cjson.ObjectOf(cjson.M("age_ts", cjson.IntOf(5)), cjson.M("m.relations", cjson.EmptyObject()),
			cjson.M("replaces_state", cjson.StrOf("$old")))})
	f := hsync.Formatter{Now: func() time.Time { return now }}
	got := f.ClientEvent(msg, true)
	want := `{"content":{"body":"hi","msgtype":"m.text"},"event_id":"` + msg.ID() + `","origin_server_ts":1000000,"room_id":"!room:hearth.test","sender":"` + alice + `","type":"m.room.message","unsigned":{"age":500,"replaces_state":"$old"}}`
	if got.String() != want {
		t.Errorf("client event\n got %s\nwant %s", got, want)
	}
	if f.ClientEvent(msg, false).Has("room_id") {
		t.Error("room_id without includeRoomID")
	}
	st := build(t, "11", pdu.Proto{Type: "m.room.topic", StateKey: new(string), Sender: alice, Content: cjson.EmptyObject()})
	if e := f.ClientEvent(st, false); !e.Has("state_key") || str(e, "state_key") != "" {
		t.Error("state event without state_key")
	}
	if e := f.ClientEvent(msg, false); e.Has("state_key") {
		t.Error("message event with state_key")
	}
	// transaction_id only when the lookup gives one.
	f.TransactionID = func(ev *pdu.Event) string {
		if ev.ID() == msg.ID() {
			return "txn1"
		}
		return ""
	}
	if e := f.ClientEvent(msg, false); str(e, "unsigned", "transaction_id") != "txn1" {
		t.Errorf("transaction_id: %s", e)
	}
	if e := f.ClientEvent(st, false); e.Path("unsigned", "transaction_id").Exists() {
		t.Error("transaction_id on another event")
	}

	// Redactions: v11 keeps redacts in content and copies it to the top;
	// v10 keeps it at the top and copies it into content.
	for _, ver := range []string{"10", "11", "12"} {
		red := build(t, ver, pdu.Proto{Type: "m.room.redaction", Sender: alice, Redacts: "$target", Content: cjson.ObjectOf(cjson.M("reason", cjson.StrOf("spam")))})
		e := hsync.Formatter{}.ClientEvent(red, false)
		if str(e, "redacts") != "$target" || str(e, "content", "redacts") != "$target" || str(e, "content", "reason") != "spam" {
			t.Errorf("v%s redaction: %s", ver, e)
		}
	}
	// Federation format is the PDU.
	if e := (hsync.Formatter{Federation: true}).ClientEvent(msg, false); !e.Equal(msg.Object()) {
		t.Errorf("federation format changed the event: %s", e)
	}
	// event_fields.
	ff := hsync.Formatter{Fields: []hsync.FieldPath{hsync.ParseFieldPath("content.body"), hsync.ParseFieldPath("sender"), hsync.ParseFieldPath("nope.x")}}
	if e := ff.ClientEvent(msg, false); e.String() != `{"content":{"body":"hi"},"sender":"`+alice+`"}` {
		t.Errorf("event_fields: %s", e)
	}
	// Stripped state.
	if e := hsync.StrippedEvent(st); e.String() != `{"content":{},"sender":"`+alice+`","state_key":"","type":"m.room.topic"}` {
		t.Errorf("stripped: %s", e)
	}
}

func TestSyncUsesInjectedClockAndTxnIDs(t *testing.T) {
	var now time.Time
	var sent roomserver.Sent
	h := newHarness(t, hsync.Options{
		Now: func() time.Time { return now },
		TransactionID: func(_ context.Context, user, device, eventID string) string {
			if user == alice && device == "PHONE" && eventID == sent.Event.ID() {
				return "m123"
			}
			return ""
		},
	})
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	sent = h.send(roomID, alice, "hello")
	now = time.UnixMilli(sent.Event.OriginServerTS() + 1234)
	for _, dev := range []string{"PHONE", "LAPTOP"} {
		room := h.sync(hsync.Request{UserID: alice, DeviceID: dev}).Rooms.Join[roomID]
		last := room.Timeline.Events[len(room.Timeline.Events)-1]
		if n, _ := last.Path("unsigned", "age").IntValue(); n != 1234 {
			t.Errorf("age %d", n)
		}
		if got, want := str(last, "unsigned", "transaction_id"), map[string]string{"PHONE": "m123"}[dev]; got != want {
			t.Errorf("%s: transaction_id %q", dev, got)
		}
	}
}

// Fake sources for the non-room streams.
type fakeSources struct {
	mu       sync.Mutex
	pos      uint64
	global   []cjson.Value
	rooms    map[string][]cjson.Value
	toDevice []cjson.Value
	acked    uint64
}

func typed(typ string) cjson.Value {
	return cjson.ObjectOf(cjson.M("type", cjson.StrOf(typ)), cjson.M("content", cjson.EmptyObject()))
}

func (f *fakeSources) AccountDataSince(_ context.Context, user string, from uint64) ([]cjson.Value, map[string][]cjson.Value, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if from >= f.pos {
		return nil, nil, f.pos, nil
	}
	return f.global, f.rooms, f.pos, nil
}

func (f *fakeSources) ToDeviceSince(_ context.Context, user, device string, from uint64, limit int) ([]cjson.Value, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acked = from
	if from >= uint64(len(f.toDevice)) {
		return nil, from, nil
	}
	out := f.toDevice[from:min(len(f.toDevice), int(from)+limit)]
	return out, from + uint64(len(out)), nil
}

func (f *fakeSources) KeyCounts(_ context.Context, user, device string) (map[string]int, []string, error) {
	return map[string]int{"signed_curve25519": 42}, []string{"signed_curve25519"}, nil
}

func TestSources(t *testing.T) {
	src := &fakeSources{}
	h := newHarness(t, hsync.Options{AccountData: src, ToDevice: src, Keys: src})
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	resp := h.sync(hsync.Request{UserID: alice})
	if resp.DeviceOneTimeKeysCount["signed_curve25519"] != 42 || len(resp.DeviceUnusedFallbackKeyTypes) != 1 {
		t.Errorf("key counts: %v %v", resp.DeviceOneTimeKeysCount, resp.DeviceUnusedFallbackKeyTypes)
	}
	since := resp.NextBatch

	// Account data for a quiet room brings the room into the answer, and a
	// long poll is woken by WakeUser.
	done := make(chan *hsync.Response, 1)
	go func() {
		r, err := h.s.Sync(context.Background(), hsync.Request{UserID: alice, DeviceID: "DEV", Since: since, Timeout: 20 * time.Second,
			Filter: mustFilter(t, `{"account_data":{"not_types":["m.hidden"]}}`)})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	for h.s.Notifier().Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	src.mu.Lock()
	src.pos = 3
	src.global = []cjson.Value{typed("m.direct"), typed("m.hidden")}
	src.rooms = map[string][]cjson.Value{roomID: {typed("m.tag")}}
	src.toDevice = []cjson.Value{typed("m.room_key_request"), typed("m.secret.request")}
	src.mu.Unlock()
	h.s.WakeUser(alice)
	var r *hsync.Response
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WakeUser did not wake the long poll")
	}
	if len(r.AccountData.Events) != 1 || str(r.AccountData.Events[0], "type") != "m.direct" {
		t.Errorf("global account data %v", r.AccountData.Events)
	}
	room := r.Rooms.Join[roomID]
	if room == nil || len(room.AccountData.Events) != 1 || len(room.Timeline.Events) != 0 {
		t.Fatalf("room account data: %+v", r.Rooms)
	}
	if len(r.ToDevice.Events) != 2 {
		t.Errorf("to-device %v", r.ToDevice.Events)
	}
	tok, _ := hsync.ParseToken(r.NextBatch)
	if tok.AccountData != 3 || tok.ToDevice != 2 {
		t.Errorf("next_batch %q", r.NextBatch)
	}
	// The next sync acknowledges the to-device messages and sees nothing.
	again := h.sync(hsync.Request{UserID: alice, Since: r.NextBatch})
	if len(again.ToDevice.Events) != 0 || len(again.Rooms.Join) != 0 || src.acked != 2 {
		t.Errorf("after ack: %+v, acked %d", again, src.acked)
	}
}

func TestNotifyTargetsMember(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	before := h.s.Notifier().Latest(bob, nil)
	inv := h.setMember(roomID, alice, bob, "invite")
	if got := h.s.Notifier().Latest(bob, nil); got <= before || got < inv.Position {
		t.Errorf("invitee's latest %d after invite at %d", got, inv.Position)
	}
	if got := h.s.Notifier().Latest("", []string{roomID}); got < inv.Position {
		t.Errorf("room latest %d", got)
	}
}
