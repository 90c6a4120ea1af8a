package sync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
	hsync "hearth/services/sync"
)

const (
	alice = "@alice:hearth.test"
	bob   = "@bob:hearth.test"
	carol = "@carol:hearth.test"
)

type harness struct {
	t  testing.TB
	db *storage.DB
	rs *roomserver.Server
	s  *hsync.Server
}

func newHarness(t testing.TB, o hsync.Options) *harness {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := signing.KeyFromSeed("ed25519:test", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db}
	rs, err := roomserver.New(context.Background(), db, roomserver.Options{
		ServerName: "hearth.test", Key: key,
		Notify: func(n roomserver.Notification) { h.s.Notify(n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.rs = rs
	h.s = hsync.New(rs, hsync.NewNotifier(), o)
	return h
}

func sk(s string) *string { return &s }

func text(body string) cjson.Value {
	return cjson.ObjectOf(cjson.M("msgtype", cjson.StrOf("m.text")), cjson.M("body", cjson.StrOf(body)))
}

func member(m string) cjson.Value { return cjson.ObjectOf(cjson.M("membership", cjson.StrOf(m))) }

func (h *harness) create(req roomserver.CreateRequest) string {
	h.t.Helper()
	id, err := h.rs.CreateRoom(context.Background(), req)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

func (h *harness) send(roomID, sender, body string) roomserver.Sent {
	h.t.Helper()
	s, err := h.rs.Send(context.Background(), roomID, roomserver.Event{Type: "m.room.message", Sender: sender, Content: text(body)}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) state(roomID, sender, typ, key string, content cjson.Value) roomserver.Sent {
	h.t.Helper()
	s, err := h.rs.Send(context.Background(), roomID, roomserver.Event{Type: typ, StateKey: sk(key), Sender: sender, Content: content}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) setMember(roomID, sender, target, m string) roomserver.Sent {
	h.t.Helper()
	return h.state(roomID, sender, "m.room.member", target, member(m))
}

func (h *harness) sync(req hsync.Request) *hsync.Response {
	h.t.Helper()
	if req.DeviceID == "" {
		req.DeviceID = "DEV"
	}
	resp, err := h.s.Sync(context.Background(), req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func mustFilter(t testing.TB, s string) hsync.Filter {
	t.Helper()
	f, err := hsync.ParseFilter([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func str(v cjson.Value, path ...string) string { return v.Path(path...).StrOr("") }

// bodies lists the message bodies of a timeline.
func bodies(evs []cjson.Value) []string {
	var out []string
	for _, e := range evs {
		if str(e, "type") == "m.room.message" {
			out = append(out, str(e, "content", "body"))
		}
	}
	return out
}

func findType(evs []cjson.Value, typ, key string) (cjson.Value, bool) {
	for _, e := range evs {
		if str(e, "type") == typ && e.Has("state_key") && str(e, "state_key") == key {
			return e, true
		}
	}
	return cjson.Value{}, false
}

func decode(t testing.TB, resp *hsync.Response) map[string]any {
	t.Helper()
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInitialSync(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "Lounge", Topic: "chat", Public: true})
	for i := 0; i < 3; i++ {
		h.send(roomID, alice, fmt.Sprint("m", i))
	}
	resp := h.sync(hsync.Request{UserID: alice})
	room := resp.Rooms.Join[roomID]
	if room == nil {
		t.Fatalf("room missing: %+v", resp.Rooms)
	}
	tl := room.Timeline
	if len(tl.Events) != hsync.DefaultTimelineLimit || !tl.Limited || tl.PrevBatch == "" {
		t.Fatalf("timeline: %d events, limited %v, prev %q", len(tl.Events), tl.Limited, tl.PrevBatch)
	}
	if got := bodies(tl.Events); strings.Join(got, ",") != "m0,m1,m2" {
		t.Errorf("timeline bodies %v", got)
	}
	// state ∪ timeline covers the current state once.
	cur, _ := h.rs.CurrentState(context.Background(), roomID)
	seen := map[string]int{}
	for _, e := range append(append([]cjson.Value{}, room.State.Events...), tl.Events...) {
		if e.Has("state_key") {
			seen[str(e, "type")+"|"+str(e, "state_key")]++
		}
		if e.Has("room_id") {
			t.Errorf("room_id in a sync event: %s", e)
		}
		if !e.Path("unsigned", "age").Exists() {
			t.Errorf("no unsigned.age: %s", e)
		}
	}
	for k := range cur {
		if seen[k.Type+"|"+k.StateKey] == 0 {
			t.Errorf("state %v neither in state nor timeline", k)
		}
	}
	// Nothing in state is also in the timeline.
	ids := map[string]bool{}
	for _, e := range tl.Events {
		ids[str(e, "event_id")] = true
	}
	for _, e := range room.State.Events {
		if ids[str(e, "event_id")] {
			t.Errorf("state event %s also in the timeline", str(e, "type"))
		}
	}
	if _, ok := findType(room.State.Events, "m.room.create", ""); !ok {
		t.Error("create event not in state")
	}
	if *room.Summary.JoinedMemberCount != 1 || *room.Summary.InvitedMemberCount != 0 {
		t.Errorf("summary %+v", room.Summary)
	}
	tok, err := hsync.ParseToken(resp.NextBatch)
	if err != nil || tok.Events != h.rs.Position() {
		t.Errorf("next_batch %q (%v), position %d", resp.NextBatch, err, h.rs.Position())
	}
	m := decode(t, resp)
	for _, k := range []string{"next_batch", "rooms", "presence", "account_data", "to_device", "device_one_time_keys_count", "device_unused_fallback_key_types"} {
		if _, ok := m[k]; !ok {
			t.Errorf("response lacks %s", k)
		}
	}
	if fb, ok := m["device_unused_fallback_key_types"].([]any); !ok || len(fb) != 0 {
		t.Errorf("device_unused_fallback_key_types = %#v", m["device_unused_fallback_key_types"])
	}
	jr := m["rooms"].(map[string]any)["join"].(map[string]any)[roomID].(map[string]any)
	for _, k := range []string{"summary", "state", "timeline", "ephemeral", "account_data", "unread_notifications"} {
		if _, ok := jr[k]; !ok {
			t.Errorf("joined room lacks %s", k)
		}
	}
	if ev := jr["ephemeral"].(map[string]any)["events"]; ev == nil {
		t.Error("ephemeral.events is null")
	}
	if _, ok := m["rooms"].(map[string]any)["invite"]; ok {
		t.Error("empty invite section not left out")
	}
}

func TestIncrementalSync(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "n"})
	other := h.create(roomserver.CreateRequest{Creator: alice, Name: "quiet"})
	first := h.sync(hsync.Request{UserID: alice})
	if len(first.Rooms.Join) != 2 {
		t.Fatalf("initial sync has %d rooms", len(first.Rooms.Join))
	}
	a := h.send(roomID, alice, "one")
	b := h.send(roomID, alice, "two")
	resp := h.sync(hsync.Request{UserID: alice, Since: first.NextBatch})
	if resp.Rooms.Join[other] != nil {
		t.Error("room without news included")
	}
	room := resp.Rooms.Join[roomID]
	if room == nil {
		t.Fatal("room with news missing")
	}
	if got := bodies(room.Timeline.Events); strings.Join(got, ",") != "one,two" || len(room.Timeline.Events) != 2 {
		t.Fatalf("timeline %v", room.Timeline.Events)
	}
	if room.Timeline.Limited || len(room.State.Events) != 0 {
		t.Errorf("limited %v, state %d", room.Timeline.Limited, len(room.State.Events))
	}
	if room.Summary.JoinedMemberCount != nil {
		t.Error("summary resent without membership change")
	}
	if str(room.Timeline.Events[0], "event_id") != a.Event.ID() || str(room.Timeline.Events[1], "event_id") != b.Event.ID() {
		t.Error("wrong events")
	}
	if room.Timeline.PrevBatch != hsync.PaginationToken(a.Position-1) {
		t.Errorf("prev_batch %q", room.Timeline.PrevBatch)
	}
	tok, _ := hsync.ParseToken(resp.NextBatch)
	if tok.Events != b.Position {
		t.Errorf("next_batch events %d, want %d", tok.Events, b.Position)
	}
	again := h.sync(hsync.Request{UserID: alice, Since: resp.NextBatch})
	if len(again.Rooms.Join) != 0 || again.NextBatch != resp.NextBatch {
		t.Errorf("nothing new, got %d rooms, next %q vs %q", len(again.Rooms.Join), again.NextBatch, resp.NextBatch)
	}
}

func TestGappySync(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Topic: "old"})
	h.setMember(roomID, alice, bob, "invite")
	h.setMember(roomID, bob, bob, "join")
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	var topicGap roomserver.Sent
	for i := 0; i < 30; i++ {
		if i == 5 {
			topicGap = h.state(roomID, alice, "m.room.topic", "", cjson.ObjectOf(cjson.M("topic", cjson.StrOf("gap"))))
		}
		h.send(roomID, alice, fmt.Sprint(i))
	}
	resp := h.sync(hsync.Request{UserID: alice, Since: since})
	room := resp.Rooms.Join[roomID]
	if room == nil {
		t.Fatal("room missing")
	}
	tl := room.Timeline
	if !tl.Limited || len(tl.Events) != 10 {
		t.Fatalf("limited %v with %d events", tl.Limited, len(tl.Events))
	}
	if got := bodies(tl.Events); got[0] != "20" || got[9] != "29" {
		t.Errorf("timeline %v", got)
	}
	topic, ok := findType(room.State.Events, "m.room.topic", "")
	if !ok || str(topic, "event_id") != topicGap.Event.ID() || str(topic, "content", "topic") != "gap" {
		t.Errorf("state delta lacks the gap's topic: %v", room.State.Events)
	}
	if len(room.State.Events) != 1 {
		t.Errorf("state delta has %d events, want the topic only", len(room.State.Events))
	}
	// prev_batch leads /messages to the event just before the timeline.
	pos, err := hsync.ParsePaginationToken(tl.PrevBatch)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.rs.Timeline(context.Background(), roomID, pos+1, roomserver.Backward, 1)
	if len(before) != 1 || before[0].Event.Content().Get("body").StrOr("") != "19" {
		t.Errorf("event before prev_batch: %v", before)
	}

	// A key changed in the gap and again in the timeline: the delta holds
	// the gap's value, the timeline the later one.
	since = resp.NextBatch
	gapName := h.state(roomID, alice, "m.room.name", "", cjson.ObjectOf(cjson.M("name", cjson.StrOf("first"))))
	for i := 0; i < 15; i++ {
		h.send(roomID, alice, fmt.Sprint("x", i))
	}
	h.state(roomID, alice, "m.room.name", "", cjson.ObjectOf(cjson.M("name", cjson.StrOf("second"))))
	room = h.sync(hsync.Request{UserID: alice, Since: since}).Rooms.Join[roomID]
	if name, ok := findType(room.State.Events, "m.room.name", ""); !ok || str(name, "event_id") != gapName.Event.ID() {
		t.Errorf("state delta name: %v", room.State.Events)
	}
	if name, ok := findType(room.Timeline.Events, "m.room.name", ""); !ok || str(name, "content", "name") != "second" {
		t.Error("timeline lacks the later name")
	}
}

func TestInviteJoinLeave(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "Secret", Preset: "private_chat"})
	bobStart := h.sync(hsync.Request{UserID: bob}).NextBatch
	invite := h.setMember(roomID, alice, bob, "invite")

	for _, resp := range []*hsync.Response{h.sync(hsync.Request{UserID: bob}), h.sync(hsync.Request{UserID: bob, Since: bobStart})} {
		inv := resp.Rooms.Invite[roomID]
		if inv == nil || len(resp.Rooms.Join) != 0 {
			t.Fatalf("invite missing: %+v", resp.Rooms)
		}
		evs := inv.InviteState.Events
		for _, typ := range []string{"m.room.create", "m.room.join_rules", "m.room.name"} {
			if _, ok := findType(evs, typ, ""); !ok {
				t.Errorf("stripped state lacks %s", typ)
			}
		}
		me, ok := findType(evs, "m.room.member", bob)
		if !ok || str(me, "content", "membership") != "invite" || str(me, "sender") != alice {
			t.Fatalf("invite event missing from stripped state: %v", evs)
		}
		for _, e := range evs {
			for _, m := range e.Members() {
				switch m.Key {
				case "type", "state_key", "sender", "content":
				default:
					t.Errorf("stripped event has %q", m.Key)
				}
			}
		}
	}
	afterInvite := h.sync(hsync.Request{UserID: bob, Since: bobStart}).NextBatch
	if again := h.sync(hsync.Request{UserID: bob, Since: afterInvite}); len(again.Rooms.Invite) != 0 {
		t.Error("invite sent twice")
	}

	join := h.setMember(roomID, bob, bob, "join")
	resp := h.sync(hsync.Request{UserID: bob, Since: afterInvite})
	room := resp.Rooms.Join[roomID]
	if room == nil || len(resp.Rooms.Invite) != 0 {
		t.Fatalf("after join: %+v", resp.Rooms)
	}
	if _, ok := findType(append(room.State.Events, room.Timeline.Events...), "m.room.create", ""); !ok {
		t.Error("newly joined room without full state")
	}
	if last := room.Timeline.Events[len(room.Timeline.Events)-1]; str(last, "event_id") != join.Event.ID() {
		t.Error("join event not last in the timeline")
	}
	if _, ok := findType(room.Timeline.Events, "m.room.member", bob); !ok {
		t.Error("no join in timeline")
	}
	if *room.Summary.JoinedMemberCount != 2 {
		t.Errorf("joined count %d", *room.Summary.JoinedMemberCount)
	}
	_ = invite
	joined := resp.NextBatch

	// Alice talks, bob leaves, alice talks again: bob's leave section ends
	// at his leave.
	h.send(roomID, alice, "bye bob")
	leave := h.setMember(roomID, bob, bob, "leave")
	h.send(roomID, alice, "he is gone")
	resp = h.sync(hsync.Request{UserID: bob, Since: joined})
	if len(resp.Rooms.Join) != 0 {
		t.Error("left room still joined")
	}
	lr := resp.Rooms.Leave[roomID]
	if lr == nil {
		t.Fatalf("no leave section: %+v", resp.Rooms)
	}
	evs := lr.Timeline.Events
	if len(evs) != 2 || str(evs[0], "content", "body") != "bye bob" || str(evs[1], "event_id") != leave.Event.ID() {
		t.Errorf("leave timeline %v", evs)
	}
	left := resp.NextBatch
	if again := h.sync(hsync.Request{UserID: bob, Since: left}); len(again.Rooms.Leave) != 0 {
		t.Error("leave sent twice")
	}
	// Initial syncs show left rooms only with include_leave, and not what
	// happened after the leave.
	if resp := h.sync(hsync.Request{UserID: bob}); len(resp.Rooms.Leave) != 0 {
		t.Error("left room without include_leave")
	}
	resp = h.sync(hsync.Request{UserID: bob, Filter: mustFilter(t, `{"room":{"include_leave":true}}`)})
	lr = resp.Rooms.Leave[roomID]
	if lr == nil {
		t.Fatal("include_leave: no leave section")
	}
	if last := lr.Timeline.Events[len(lr.Timeline.Events)-1]; str(last, "event_id") != leave.Event.ID() {
		t.Errorf("archived timeline ends with %s", last)
	}
	if _, ok := findType(append(lr.State.Events, lr.Timeline.Events...), "m.room.name", ""); !ok {
		t.Error("archived room without its name")
	}
}

func TestKickAndRejectedInvite(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Public: true})
	h.setMember(roomID, bob, bob, "join")
	since := h.sync(hsync.Request{UserID: bob}).NextBatch
	kick := h.setMember(roomID, alice, bob, "leave")
	lr := h.sync(hsync.Request{UserID: bob, Since: since}).Rooms.Leave[roomID]
	if lr == nil || str(lr.Timeline.Events[len(lr.Timeline.Events)-1], "event_id") != kick.Event.ID() {
		t.Fatalf("kick not reported: %+v", lr)
	}

	other := h.create(roomserver.CreateRequest{Creator: alice, Name: "private"})
	h.send(other, alice, "secret before")
	since = h.sync(hsync.Request{UserID: carol}).NextBatch
	h.setMember(other, alice, carol, "invite")
	h.send(other, alice, "secret during invite")
	reject := h.setMember(other, carol, carol, "leave")
	lr = h.sync(hsync.Request{UserID: carol, Since: since}).Rooms.Leave[other]
	if lr == nil || len(lr.Timeline.Events) != 1 || str(lr.Timeline.Events[0], "event_id") != reject.Event.ID() || len(lr.State.Events) != 0 {
		t.Fatalf("rejected invite shows %+v", lr)
	}
}

func TestLongPollWakes(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	type result struct {
		resp *hsync.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		r, err := h.s.Sync(context.Background(), hsync.Request{UserID: alice, DeviceID: "D", Since: since, Timeout: 20 * time.Second})
		done <- result{r, err}
	}()
	for h.s.Notifier().Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	sent := h.send(roomID, alice, "wake up")
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		room := r.resp.Rooms.Join[roomID]
		if room == nil || len(room.Timeline.Events) != 1 || str(room.Timeline.Events[0], "event_id") != sent.Event.ID() {
			t.Fatalf("woke with %+v", r.resp.Rooms)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll not woken")
	}

	// An invite wakes the invitee, who is in no room yet.
	bobSince := h.sync(hsync.Request{UserID: bob}).NextBatch
	go func() {
		r, err := h.s.Sync(context.Background(), hsync.Request{UserID: bob, DeviceID: "D", Since: bobSince, Timeout: 20 * time.Second})
		done <- result{r, err}
	}()
	for h.s.Notifier().Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	h.setMember(roomID, alice, bob, "invite")
	select {
	case r := <-done:
		if r.err != nil || r.resp.Rooms.Invite[roomID] == nil {
			t.Fatalf("invitee woke with %+v, %v", r.resp, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("invitee not woken")
	}
}

func TestTimeoutWithoutNews(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	h.create(roomserver.CreateRequest{Creator: alice})
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	// News elsewhere does not wake alice nor show up.
	elsewhere := h.create(roomserver.CreateRequest{Creator: bob})
	h.send(elsewhere, bob, "not for alice")
	start := time.Now()
	resp := h.sync(hsync.Request{UserID: alice, Since: since, Timeout: 80 * time.Millisecond})
	if time.Since(start) < 70*time.Millisecond {
		t.Errorf("returned after %v", time.Since(start))
	}
	if len(resp.Rooms.Join)+len(resp.Rooms.Invite)+len(resp.Rooms.Leave) != 0 {
		t.Errorf("rooms in an empty answer: %+v", resp.Rooms)
	}
	old, _ := hsync.ParseToken(since)
	tok, _ := hsync.ParseToken(resp.NextBatch)
	if tok.Events < old.Events {
		t.Errorf("next_batch went back: %q after %q", resp.NextBatch, since)
	}
	// With no news at all, the position stays the same.
	again := h.sync(hsync.Request{UserID: alice, Since: resp.NextBatch, Timeout: 20 * time.Millisecond})
	if again.NextBatch != resp.NextBatch {
		t.Errorf("next_batch moved without news: %q → %q", resp.NextBatch, again.NextBatch)
	}
	// A cancelled request returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	if _, err := h.s.Sync(ctx, hsync.Request{UserID: alice, Since: again.NextBatch, Timeout: time.Minute}); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("cancelled long poll kept waiting")
	}
	if n := h.s.Notifier().Waiting(); n != 0 {
		t.Errorf("%d waiters left", n)
	}
}

func TestMaxTimeoutCaps(t *testing.T) {
	h := newHarness(t, hsync.Options{MaxTimeout: 30 * time.Millisecond})
	h.create(roomserver.CreateRequest{Creator: alice})
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	start := time.Now()
	h.sync(hsync.Request{UserID: alice, Since: since, Timeout: time.Hour})
	if time.Since(start) > 5*time.Second {
		t.Error("timeout not capped")
	}
}

func TestFullStateIncremental(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "n"})
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	start := time.Now()
	resp := h.sync(hsync.Request{UserID: alice, Since: since, FullState: true, Timeout: time.Minute})
	if time.Since(start) > 5*time.Second {
		t.Error("full_state waited")
	}
	room := resp.Rooms.Join[roomID]
	if room == nil || len(room.Timeline.Events) != 0 {
		t.Fatalf("full_state: %+v", resp.Rooms)
	}
	if _, ok := findType(room.State.Events, "m.room.name", ""); !ok {
		t.Error("full_state without the full state")
	}
}
