package sync_test

import (
	"context"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/presence"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

// fakeReceipts is an UnreadSource with receipts set by the test and the
// predefined push rules (or stored ones).
type fakeReceipts struct {
	mu       gosync.Mutex
	receipts map[string][]string // room+user → event IDs
	rules    map[string][]byte
	reads    int
}

func (f *fakeReceipts) source() hsync.UnreadSource {
	return hsync.UnreadSource{
		ReadReceipts: func(_ context.Context, room, user string) ([]string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.receipts[room+"|"+user], nil
		},
		PushRules: func(_ context.Context, user string) ([]byte, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.reads++
			return f.rules[user], nil
		},
	}
}

func (f *fakeReceipts) set(room, user string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.receipts == nil {
		f.receipts = map[string][]string{}
	}
	f.receipts[room+"|"+user] = ids
}

func mention(body, user string) cjson.Value {
	return cjson.ObjectOf(cjson.M("msgtype", cjson.StrOf("m.text")), cjson.M("body", cjson.StrOf(body)),
		cjson.M("m.mentions", cjson.ObjectOf(cjson.M("user_ids", cjson.Strings([]string{user})))))
}

func counts(t *testing.T, resp *hsync.Response, room string) hsync.UnreadNotifications {
	t.Helper()
	r := resp.Rooms.Join[room]
	if r == nil {
		t.Fatalf("room %s not in the response", room)
	}
	return r.UnreadNotifications
}

func TestUnreadCounts(t *testing.T) {
	f := &fakeReceipts{}
	h := newHarness(t, hsync.Options{Unread: f.source()})
	ctx := context.Background()
	roomID := h.create(roomserver.CreateRequest{Creator: bob, Preset: "public_chat"})
	early := h.send(roomID, bob, "before alice joined")
	h.setMember(roomID, alice, alice, "join")

	first := h.sync(hsync.Request{UserID: alice})
	if c := counts(t, first, roomID); c != (hsync.UnreadNotifications{}) {
		t.Errorf("events before the join counted: %+v", c)
	}

	// A message from another user counts in the same response.
	m1 := h.send(roomID, bob, "hello")
	r1 := h.sync(hsync.Request{UserID: alice, Since: first.NextBatch})
	if c := counts(t, r1, roomID); c.NotificationCount != 1 || c.HighlightCount != 0 {
		t.Errorf("after one message: %+v", c)
	}
	// A mention highlights.
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: mention("hey alice", alice)}, nil); err != nil {
		t.Fatal(err)
	}
	r2 := h.sync(hsync.Request{UserID: alice, Since: r1.NextBatch})
	if c := counts(t, r2, roomID); c.NotificationCount != 2 || c.HighlightCount != 1 {
		t.Errorf("after a mention: %+v", c)
	}
	// The user's own message does not count.
	own := h.send(roomID, alice, "mine")
	r3 := h.sync(hsync.Request{UserID: alice, Since: r2.NextBatch})
	if c := counts(t, r3, roomID); c.NotificationCount != 2 || c.HighlightCount != 1 {
		t.Errorf("after an own message: %+v", c)
	}
	// A receipt on the first message leaves the mention unread.
	f.set(roomID, alice, m1.Event.ID())
	if c := counts(t, h.sync(hsync.Request{UserID: alice}), roomID); c.NotificationCount != 1 || c.HighlightCount != 1 {
		t.Errorf("receipt on the first message: %+v", c)
	}
	// m.read behind, m.read.private ahead: the later one wins. An unknown
	// event and one before the join change nothing.
	f.set(roomID, alice, m1.Event.ID(), own.Event.ID(), "$unknown", early.Event.ID())
	if c := counts(t, h.sync(hsync.Request{UserID: alice}), roomID); c != (hsync.UnreadNotifications{}) {
		t.Errorf("after the receipt: %+v", c)
	}
	if f.reads == 0 || f.reads > 6 {
		t.Errorf("push rules read %d times for 6 syncs", f.reads)
	}

	// Counts are bounded: only the newest events are looked at.
	for i := range 105 {
		h.send(roomID, bob, fmt.Sprint("spam ", i))
	}
	if c := counts(t, h.sync(hsync.Request{UserID: alice}), roomID); c.NotificationCount != 100 {
		t.Errorf("bounded count: %+v", c)
	}
}

func TestUnreadCountsUseStoredRules(t *testing.T) {
	f := &fakeReceipts{rules: map[string][]byte{
		// Alice turned off the rule for messages in rooms of any size.
		alice: []byte(`{"global":{"underride":[{"rule_id":".m.rule.message","enabled":false,"actions":["notify"]}]}}`),
	}}
	h := newHarness(t, hsync.Options{Unread: f.source()})
	roomID := h.create(roomserver.CreateRequest{Creator: bob, Preset: "public_chat"})
	h.setMember(roomID, alice, alice, "join")
	h.setMember(roomID, carol, carol, "join") // three members: not one-to-one
	h.send(roomID, bob, "hello")
	if c := counts(t, h.sync(hsync.Request{UserID: alice}), roomID); c.NotificationCount != 0 {
		t.Errorf("disabled rule still notifies: %+v", c)
	}
	if c := counts(t, h.sync(hsync.Request{UserID: carol}), roomID); c.NotificationCount != 1 {
		t.Errorf("default rules: %+v", c)
	}
}

func TestForgottenRoomNotSynced(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	ctx := context.Background()
	roomID := h.create(roomserver.CreateRequest{Creator: bob, Preset: "public_chat"})
	h.setMember(roomID, alice, alice, "join")
	before := h.sync(hsync.Request{UserID: alice})
	h.setMember(roomID, alice, alice, "leave")
	includeLeave := mustFilter(t, `{"room":{"include_leave":true}}`)
	if r := h.sync(hsync.Request{UserID: alice, Filter: includeLeave}); r.Rooms.Leave[roomID] == nil {
		t.Fatal("left room missing before forgetting")
	}
	if err := h.rs.Forget(ctx, roomID, alice); err != nil {
		t.Fatal(err)
	}
	if r := h.sync(hsync.Request{UserID: alice, Filter: includeLeave}); r.Rooms.Leave[roomID] != nil {
		t.Error("forgotten room in an initial sync")
	}
	if r := h.sync(hsync.Request{UserID: alice, Since: before.NextBatch}); r.Rooms.Leave[roomID] != nil {
		t.Error("forgotten room in an incremental sync")
	}
	if r := h.sync(hsync.Request{UserID: alice, Since: before.NextBatch, FullState: true, Filter: includeLeave}); r.Rooms.Leave[roomID] != nil {
		t.Error("forgotten room in a full-state sync")
	}
}

// presenceOf returns the presence events of a response by sender.
func presenceOf(resp *hsync.Response) map[string]cjson.Value {
	out := map[string]cjson.Value{}
	for _, ev := range resp.Presence.Events {
		out[str(ev, "sender")] = ev
	}
	return out
}

func TestSyncPresence(t *testing.T) {
	var mu gosync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var h *harness
	store := presence.New(presence.Options{Now: clock, OnChange: func(u string) {
		if h != nil {
			h.s.PresenceChanged(u)
		}
	}})
	h = newHarness(t, hsync.Options{Presence: store, Now: clock})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Preset: "public_chat"})
	h.setMember(roomID, bob, bob, "join")
	h.create(roomserver.CreateRequest{Creator: carol})

	// set_presence=offline changes nothing: nobody is online yet.
	first := h.sync(hsync.Request{UserID: alice, SetPresence: "offline"})
	if len(first.Presence.Events) != 0 {
		t.Fatalf("presence before anyone set it: %v", first.Presence.Events)
	}
	// Bob and carol come online; alice sees bob only (carol shares no room).
	if err := store.Set(bob, presence.Online, ptr("here")); err != nil {
		t.Fatal(err)
	}
	h.sync(hsync.Request{UserID: carol})
	r1 := h.sync(hsync.Request{UserID: alice, Since: first.NextBatch, SetPresence: "offline"})
	got := presenceOf(r1)
	if _, ok := got[carol]; ok || len(got) != 1 {
		t.Fatalf("presence events %v", r1.Presence.Events)
	}
	b := got[bob]
	if str(b, "type") != "m.presence" || str(b, "content", "presence") != "online" || str(b, "content", "status_msg") != "here" ||
		!boolAt(b, "content", "currently_active") || intAt(b, "content", "last_active_ago") != 0 {
		t.Errorf("bob's presence %s", b)
	}
	// Nothing new: no presence, same token.
	r2 := h.sync(hsync.Request{UserID: alice, Since: r1.NextBatch, SetPresence: "offline"})
	if len(r2.Presence.Events) != 0 || r2.NextBatch != r1.NextBatch {
		t.Errorf("repeated presence %v, %q vs %q", r2.Presence.Events, r2.NextBatch, r1.NextBatch)
	}
	// A long poll is woken by a presence change.
	done := make(chan *hsync.Response, 1)
	go func() {
		r, err := h.s.Sync(context.Background(), hsync.Request{UserID: alice, DeviceID: "D", Since: r2.NextBatch, SetPresence: "offline", Timeout: 20 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	for h.s.Notifier().Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := store.Set(bob, presence.Unavailable, nil); err != nil {
		t.Fatal(err)
	}
	var r3 *hsync.Response
	select {
	case r3 = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("presence change did not wake the long poll")
	}
	if b := presenceOf(r3)[bob]; str(b, "content", "presence") != "unavailable" || b.Path("content", "status_msg").Exists() {
		t.Errorf("after unavailable: %v", r3.Presence.Events)
	}

	// Bob syncing (set_presence omitted) makes him online; idle, then gone.
	h.sync(hsync.Request{UserID: bob})
	r4 := h.sync(hsync.Request{UserID: alice, Since: r3.NextBatch, SetPresence: "offline"})
	if b := presenceOf(r4)[bob]; str(b, "content", "presence") != "online" {
		t.Errorf("after bob synced: %v", r4.Presence.Events)
	}
	advance(6 * time.Minute)
	store.Sweep()
	r5 := h.sync(hsync.Request{UserID: alice, Since: r4.NextBatch, SetPresence: "offline"})
	if b := presenceOf(r5)[bob]; str(b, "content", "presence") != "unavailable" || intAt(b, "content", "last_active_ago") != (6*time.Minute).Milliseconds() {
		t.Errorf("after idling: %v", r5.Presence.Events)
	}
	advance(5 * time.Minute)
	store.Sweep()
	r6 := h.sync(hsync.Request{UserID: alice, Since: r5.NextBatch, SetPresence: "offline"})
	if b := presenceOf(r6)[bob]; str(b, "content", "presence") != "offline" {
		t.Errorf("after going away: %v", r6.Presence.Events)
	}

	// Alice's own set_presence shows in her own sync.
	r7 := h.sync(hsync.Request{UserID: alice, Since: r6.NextBatch, SetPresence: "unavailable"})
	if a := presenceOf(r7)[alice]; str(a, "content", "presence") != "unavailable" {
		t.Errorf("own presence: %v", r7.Presence.Events)
	}
	// A token from before a restart (presence position ahead) comes back down.
	tok, _ := hsync.ParseToken(r7.NextBatch)
	tok.Presence += 1000
	r8 := h.sync(hsync.Request{UserID: alice, Since: tok.String(), SetPresence: "offline"})
	if back, _ := hsync.ParseToken(r8.NextBatch); back.Presence != store.Position() {
		t.Errorf("presence position %d, head %d", back.Presence, store.Position())
	}
}

func ptr(s string) *string { return &s }

func boolAt(v cjson.Value, path ...string) bool {
	b, ok := v.Path(path...).BoolValue()
	return b && ok
}

func intAt(v cjson.Value, path ...string) int64 {
	n, ok := v.Path(path...).IntValue()
	if !ok {
		return -1
	}
	return n
}

func TestSyncWithoutPresence(t *testing.T) {
	h := newHarness(t, hsync.Options{})
	h.create(roomserver.CreateRequest{Creator: alice})
	r := h.sync(hsync.Request{UserID: alice, SetPresence: "online"})
	if len(r.Presence.Events) != 0 {
		t.Errorf("presence events without presence: %v", r.Presence.Events)
	}
	if tok, _ := hsync.ParseToken(r.NextBatch); tok.Presence != 0 {
		t.Errorf("presence position %d", tok.Presence)
	}
}
