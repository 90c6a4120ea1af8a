package roomserver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

type harness struct {
	t   testing.TB
	dir string
	db  *storage.DB
	rs  *roomserver.Server
	mu  sync.Mutex
	got []roomserver.Notification
}

func testKey(t testing.TB) signing.Key {
	k, err := signing.KeyFromSeed("ed25519:test", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func open(t testing.TB, dir string) *harness {
	t.Helper()
	h := &harness{t: t, dir: dir}
	db, err := storage.Open(context.Background(), storage.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.db = db
	rs, err := roomserver.New(context.Background(), db, roomserver.Options{
		ServerName: "hearth.test", Key: testKey(t),
		Notify: func(n roomserver.Notification) { h.mu.Lock(); h.got = append(h.got, n); h.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.rs = rs
	return h
}

func (h *harness) close() { h.db.Close() }

func text(body string) cjson.Value {
	return cjson.ObjectOf(cjson.M("msgtype", cjson.StrOf("m.text")), cjson.M("body", cjson.StrOf(body)))
}

func member(m string) cjson.Value { return cjson.ObjectOf(cjson.M("membership", cjson.StrOf(m))) }

func sk(s string) *string { return &s }

const alice, bob = "@alice:hearth.test", "@bob:hearth.test"

func TestCreateRoomPerVersion(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	for _, ver := range pdu.SupportedVersions() {
		roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Version: ver, Name: "n", Topic: "t", Public: true})
		if err != nil {
			t.Fatalf("v%s: %v", ver, err)
		}
		st, err := h.rs.CurrentState(ctx, roomID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.history_visibility", "m.room.guest_access", "m.room.name", "m.room.topic"} {
			if st.Get(k, "") == nil {
				t.Errorf("v%s: missing %s", ver, k)
			}
		}
		if st.Get("m.room.join_rules", "").Content().Get("join_rule").StrOr("") != "public" {
			t.Errorf("v%s: public room not public", ver)
		}
		if m, _ := h.rs.Membership(ctx, roomID, alice); m != "join" {
			t.Errorf("v%s: creator membership %q", ver, m)
		}
		pl := st.Get("m.room.power_levels", "").Content()
		if ver == "12" {
			if pl.Path("users", alice).Exists() {
				t.Error("v12: creator listed in power levels users")
			}
			if n, _ := pl.Path("events", "m.room.tombstone").IntValue(); n <= 50 {
				t.Errorf("v12: tombstone level %d not above state_default", n)
			}
			create := st.Get("m.room.create", "")
			if roomID != "!"+create.ID()[1:] {
				t.Errorf("v12 room ID %s is not the create event's hash", roomID)
			}
		} else if n, _ := pl.Path("users", alice).IntValue(); n != 100 {
			t.Errorf("v%s: creator level %d", ver, n)
		}
	}
	if _, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Version: "5"}); !errors.Is(err, roomserver.ErrUnsupportedVersion) {
		t.Errorf("room version 5: %v", err)
	}
}

func TestSendAuthAndIdempotency(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	// Bob is not invited: he can neither join nor talk.
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("uninvited join: %v", err)
	}
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("hi")}, nil); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("non-member message: %v", err)
	}
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: alice, Content: member("invite")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil); err != nil {
		t.Fatalf("invited join: %v", err)
	}
	// Bob (level 0) may talk but not change the name (state_default 50).
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.name", StateKey: sk(""), Sender: bob, Content: cjson.ObjectOf(cjson.M("name", cjson.StrOf("x")))}, nil); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("bob renamed the room: %v", err)
	}
	txn := &roomserver.TxnKey{User: bob, Device: "D1", Scope: roomID + "/m.room.message", TxnID: "t1"}
	first, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("once")}, txn)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("once")}, txn)
	if err != nil || again.Event.ID() != first.Event.ID() {
		t.Fatalf("retry with the same txn ID gave %v, %v", again.Event, err)
	}
	other := *txn
	other.Device = "D2"
	third, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("once")}, &other)
	if err != nil || third.Event.ID() == first.Event.ID() {
		t.Fatal("another device's txn ID must make a new event")
	}
	// The timeline holds the message once; prev_events chain the events.
	tl, err := h.rs.Timeline(ctx, roomID, 0, roomserver.Backward, 100)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for i, e := range tl {
		if e.Event.ID() == first.Event.ID() {
			count++
		}
		if i+1 < len(tl) && (len(e.Event.PrevEvents()) != 1 || e.Event.PrevEvents()[0] != tl[i+1].Event.ID()) {
			t.Errorf("event %d prev_events %v, want [%s]", i, e.Event.PrevEvents(), tl[i+1].Event.ID())
		}
		if i+1 < len(tl) && e.Position <= tl[i+1].Position {
			t.Error("backward timeline not in descending position order")
		}
	}
	if count != 1 {
		t.Errorf("message appears %d times", count)
	}
	if tl[len(tl)-1].Event.Type() != "m.room.create" {
		t.Errorf("timeline does not end at the create event: %s", tl[len(tl)-1].Event.Type())
	}
}

func TestTimelinePaging(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, _ := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice})
	start := h.rs.Position()
	for i := 0; i < 25; i++ {
		if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text(fmt.Sprint(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var bodies []string
	from := start
	for {
		page, err := h.rs.Timeline(ctx, roomID, from, roomserver.Forward, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			bodies = append(bodies, e.Event.Content().Get("body").StrOr(""))
		}
		from = page[len(page)-1].Position
	}
	if len(bodies) != 25 || bodies[0] != "0" || bodies[24] != "24" {
		t.Fatalf("forward paging gave %v", bodies)
	}
	back, _ := h.rs.Timeline(ctx, roomID, 0, roomserver.Backward, 5)
	if len(back) != 5 || back[0].Event.Content().Get("body").StrOr("") != "24" {
		t.Fatalf("latest page = %d events", len(back))
	}
	older, _ := h.rs.Timeline(ctx, roomID, back[4].Position, roomserver.Backward, 5)
	if older[0].Event.Content().Get("body").StrOr("") != "19" {
		t.Errorf("next backward page starts at %s", older[0].Event.Content().Get("body"))
	}
}

func TestRestartKeepsRooms(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := open(t, dir)
	roomID, _ := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Public: true, Name: "kept"})
	h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil)
	last, _ := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("before")}, &roomserver.TxnKey{User: bob, Device: "D", Scope: "s", TxnID: "1"})
	pos := h.rs.Position()
	h.close()

	h = open(t, dir)
	defer h.close()
	if h.rs.Position() != pos {
		t.Errorf("position after restart %d, want %d", h.rs.Position(), pos)
	}
	st, err := h.rs.CurrentState(ctx, roomID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Get("m.room.name", "").Content().Get("name").StrOr("") != "kept" || st.Get("m.room.member", bob).Membership() != "join" {
		t.Error("state lost across restart")
	}
	again, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("before")}, &roomserver.TxnKey{User: bob, Device: "D", Scope: "s", TxnID: "1"})
	if err != nil || again.Event.ID() != last.Event.ID() {
		t.Error("txn ID forgotten across restart")
	}
	next, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("after")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if next.Event.PrevEvents()[0] != last.Event.ID() || next.Position <= pos {
		t.Errorf("after restart: prev %v pos %d", next.Event.PrevEvents(), next.Position)
	}
	rooms, _ := h.rs.RoomsOf(ctx, bob)
	if rooms[roomID] != "join" {
		t.Errorf("RoomsOf(bob) = %v", rooms)
	}
	if _, _, err := h.rs.EventByID(ctx, last.Event.ID()); err != nil {
		t.Errorf("event by ID after restart: %v", err)
	}
	if _, _, err := h.rs.EventByID(ctx, "$nope"); !errors.Is(err, roomserver.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
}

func TestConcurrentRoomsAndWatermark(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	var rooms []string
	for i := 0; i < 8; i++ {
		id, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice})
		if err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, id)
	}
	var wg sync.WaitGroup
	for _, id := range rooms {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := h.rs.Send(ctx, id, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text("x")}, nil); err != nil {
					t.Error(err)
				}
			}
		}(id)
	}
	wg.Wait()
	// Every event position up to the watermark is present exactly once, and
	// notifications never announced a position past a missing event.
	total := 0
	for _, id := range rooms {
		tl, _ := h.rs.Timeline(ctx, id, 0, roomserver.Backward, 1000)
		total += len(tl)
	}
	if want := 8 * (20 + 6); total != want {
		t.Errorf("timeline events = %d, want %d", total, want)
	}
	if h.rs.Position() != uint64(total) {
		t.Errorf("watermark %d, want %d", h.rs.Position(), total)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// One notification per event, in strictly increasing position order.
	if len(h.got) != total {
		t.Errorf("%d notifications for %d events", len(h.got), total)
	}
	for i, n := range h.got {
		if n.Position != uint64(i+1) {
			t.Fatalf("notification %d has position %d", i, n.Position)
		}
	}
}

func TestSameMillisecondRoomsDiffer(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(context.Background(), storage.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	frozen := func() time.Time { return time.UnixMilli(1_700_000_000_000) }
	rs, err := roomserver.New(context.Background(), db, roomserver.Options{ServerName: "hearth.test", Key: testKey(t), Now: frozen})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		id, err := rs.CreateRoom(context.Background(), roomserver.CreateRequest{Creator: alice})
		if err != nil {
			t.Fatalf("room %d: %v", i, err)
		}
		if seen[id] {
			t.Fatalf("room ID %s handed out twice", id)
		}
		seen[id] = true
	}
}

func TestRedactions(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, _ := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Public: true})
	h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil)
	msg, _ := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text("secret")}, nil)
	// Bob (level 0) may not redact alice's message; alice (100) may redact anything.
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.redaction", Sender: bob, Redacts: msg.Event.ID()}, nil); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("bob redacted alice's message: %v", err)
	}
	red, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.redaction", Sender: alice, Redacts: msg.Event.ID(), Content: cjson.ObjectOf(cjson.M("reason", cjson.StrOf("oops")))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := h.rs.EventByID(ctx, msg.Event.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Content().Has("body") || got.ID() != msg.Event.ID() {
		t.Errorf("redacted event still has its body: %s", got.Content())
	}
	if by := got.Unsigned().Path("redacted_because", "event_id").StrOr(""); by != red.Event.ID() {
		t.Errorf("redacted_because.event_id = %q, want %s", by, red.Event.ID())
	}
	if got.Unsigned().Path("redacted_because", "type").StrOr("") != "m.room.redaction" {
		t.Errorf("no redacted_because: %s", got.Unsigned())
	}
	tl, _ := h.rs.Timeline(ctx, roomID, 0, roomserver.Backward, 2)
	if tl[0].Event.ID() != red.Event.ID() || tl[1].Event.Content().Has("body") {
		t.Error("timeline serves the unredacted message")
	}
	// A redacted state event still counts as state, without its content.
	topic, _ := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.topic", StateKey: sk(""), Sender: alice, Content: cjson.ObjectOf(cjson.M("topic", cjson.StrOf("t")))}, nil)
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.redaction", Sender: alice, Redacts: topic.Event.ID()}, nil); err != nil {
		t.Fatal(err)
	}
	cur, err := h.rs.StateEvent(ctx, roomID, "m.room.topic", "")
	if err != nil || cur.ID() != topic.Event.ID() || cur.Content().Has("topic") {
		t.Errorf("redacted topic in state: %v %v", cur, err)
	}
	// Bob may redact his own message.
	own, _ := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: bob, Content: text("mine")}, nil)
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.redaction", Sender: bob, Redacts: own.Event.ID()}, nil); err != nil {
		t.Errorf("own redaction: %v", err)
	}
}
