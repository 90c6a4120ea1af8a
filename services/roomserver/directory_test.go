package roomserver_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
)

func TestAliasIndex(t *testing.T) {
	dir := t.TempDir()
	h := open(t, dir)
	ctx := context.Background()
	const alias = "#hall:hearth.test"
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Alias: alias, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := h.rs.StateEvent(ctx, roomID, "m.room.canonical_alias", ""); err != nil || ev.Content().Get("alias").StrOr("") != alias {
		t.Fatalf("canonical alias: %v %v", ev, err)
	}
	if e, err := h.rs.ResolveAlias(ctx, alias); err != nil || e.RoomID != roomID || e.Creator != alice {
		t.Fatalf("resolve: %+v %v", e, err)
	}
	// A taken alias fails createRoom before any room is made.
	before, _ := h.rs.RoomsOf(ctx, bob)
	if _, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: bob, Alias: alias}); !errors.Is(err, roomserver.ErrRoomInUse) {
		t.Fatalf("taken alias on create: %v", err)
	}
	if after, _ := h.rs.RoomsOf(ctx, bob); len(after) != len(before) {
		t.Fatalf("a room was created despite the taken alias: %v", after)
	}
	if err := h.rs.SetAlias(ctx, alias, roomID, alice); !errors.Is(err, roomserver.ErrRoomInUse) {
		t.Fatalf("taken alias: %v", err)
	}
	if err := h.rs.SetAlias(ctx, "#x:elsewhere.test", roomID, alice); !errors.Is(err, roomserver.ErrInvalidAlias) {
		t.Fatalf("remote alias: %v", err)
	}
	if err := h.rs.SetAlias(ctx, "#x:hearth.test", "!nope:hearth.test", alice); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("unknown room: %v", err)
	}
	// Bob joins and adds an alias; he may delete his own, not alice's.
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.rs.SetAlias(ctx, "#bobs:hearth.test", roomID, bob); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.rs.AliasesOf(ctx, roomID); !slices.Equal(got, []string{"#bobs:hearth.test", alias}) {
		t.Fatalf("aliases: %v", got)
	}
	if err := h.rs.DeleteAlias(ctx, alias, bob); !errors.Is(err, roomserver.ErrForbidden) {
		t.Fatalf("bob deleting alice's alias: %v", err)
	}
	// Alice has the power to change the canonical alias: she may delete bob's.
	if err := h.rs.DeleteAlias(ctx, "#bobs:hearth.test", alice); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.ResolveAlias(ctx, "#bobs:hearth.test"); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("deleted alias resolves: %v", err)
	}
	h.close()
	// The index survives a restart.
	h = open(t, dir)
	defer h.close()
	if got, _ := h.rs.AliasesOf(ctx, roomID); !slices.Equal(got, []string{alias}) {
		t.Fatalf("aliases after restart: %v", got)
	}
	if err := h.rs.DeleteAlias(ctx, "#nope:hearth.test", alice); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
}

func TestPublishedRooms(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Public: true, Name: "Hall", Topic: "talk"})
	if err != nil {
		t.Fatal(err)
	}
	if pub, _ := h.rs.Published(ctx, roomID); pub {
		t.Fatal("published before SetPublished")
	}
	if err := h.rs.SetPublished(ctx, roomID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.rs.PublishedRooms(ctx); !slices.Equal(got, []string{roomID}) {
		t.Fatalf("published: %v", got)
	}
	s, err := h.rs.Summary(ctx, roomID)
	if err != nil || s.Name != "Hall" || s.Topic != "talk" || s.JoinRule != "public" || s.NumJoinedMembers != 1 || s.GuestCanJoin {
		t.Fatalf("summary: %+v %v", s, err)
	}
	if err := h.rs.SetPublished(ctx, roomID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.rs.PublishedRooms(ctx); len(got) != 0 {
		t.Fatalf("unpublished: %v", got)
	}
	if _, err := h.rs.Published(ctx, "!nope:hearth.test"); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("unknown room: %v", err)
	}
}

func TestForget(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	join := func(m string) {
		t.Helper()
		if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member(m)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.rs.Forget(ctx, roomID, bob); !errors.Is(err, roomserver.ErrNotLeft) {
		t.Fatalf("forget without membership: %v", err)
	}
	join("join")
	if err := h.rs.Forget(ctx, roomID, bob); !errors.Is(err, roomserver.ErrNotLeft) {
		t.Fatalf("forget while joined: %v", err)
	}
	join("leave")
	if err := h.rs.Forget(ctx, roomID, bob); err != nil {
		t.Fatal(err)
	}
	if !h.rs.Forgotten(ctx, bob, roomID) || h.rs.Forgotten(ctx, alice, roomID) {
		t.Fatal("forgotten marks wrong")
	}
	if rooms, _ := h.rs.RoomsOfFiltered(ctx, bob); len(rooms) != 0 {
		t.Fatalf("filtered rooms: %v", rooms)
	}
	if rooms, _ := h.rs.RoomsOf(ctx, bob); rooms[roomID] != "leave" {
		t.Fatalf("RoomsOf still lists the room: %v", rooms)
	}
	join("join") // rejoining clears the mark
	if h.rs.Forgotten(ctx, bob, roomID) {
		t.Fatal("still forgotten after rejoin")
	}
	if rooms, _ := h.rs.RoomsOfFiltered(ctx, bob); rooms[roomID] != "join" {
		t.Fatalf("filtered after rejoin: %v", rooms)
	}
	if err := h.rs.Forget(ctx, "!nope:hearth.test", bob); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("unknown room: %v", err)
	}
}

func relates(relType, parent, body string) cjson.Value {
	return text(body).With("m.relates_to", cjson.ObjectOf(cjson.M("rel_type", cjson.StrOf(relType)), cjson.M("event_id", cjson.StrOf(parent))))
}

func TestRelationsAndThreads(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: sk(bob), Sender: bob, Content: member("join")}, nil); err != nil {
		t.Fatal(err)
	}
	send := func(sender string, c cjson.Value) roomserver.Sent {
		t.Helper()
		s, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: sender, Content: c}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	root1 := send(alice, text("root 1"))
	root2 := send(alice, text("root 2"))
	var thread1 []string
	for i := 0; i < 3; i++ {
		thread1 = append(thread1, send(alice, relates("m.thread", root1.Event.ID(), "reply")).Event.ID())
	}
	edit := send(alice, relates("m.replace", root1.Event.ID(), "edit"))
	bobReply := send(bob, relates("m.thread", root2.Event.ID(), "bob"))
	send(alice, relates("m.thread", "$unknown", "orphan")) // not indexed

	all, more, err := h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{Dir: roomserver.Backward, Limit: 10})
	if err != nil || more || len(all) != 4 || all[0].Event.ID() != edit.Event.ID() {
		t.Fatalf("all relations: %d %v %v", len(all), more, err)
	}
	// Paging through the thread two at a time, newest first.
	page, more, err := h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{RelType: "m.thread", Dir: roomserver.Backward, Limit: 2})
	if err != nil || !more || len(page) != 2 || page[0].Event.ID() != thread1[2] || page[1].Event.ID() != thread1[1] {
		t.Fatalf("page 1: %v %v", more, err)
	}
	page, more, err = h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{RelType: "m.thread", Dir: roomserver.Backward, Limit: 2, From: page[1].Position})
	if err != nil || more || len(page) != 1 || page[0].Event.ID() != thread1[0] {
		t.Fatalf("page 2: %v %v", more, err)
	}
	fwd, _, _ := h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{RelType: "m.thread", Dir: roomserver.Forward, Limit: 10})
	if len(fwd) != 3 || fwd[0].Event.ID() != thread1[0] {
		t.Fatalf("forward: %d", len(fwd))
	}
	if got, _, _ := h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{RelType: "m.thread", EventType: "m.reaction", Limit: 10}); len(got) != 0 {
		t.Fatalf("event type filter: %d", len(got))
	}
	if _, _, err := h.rs.Relations(ctx, roomID, "$unknown", roomserver.RelationQuery{Limit: 10}); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("unknown parent: %v", err)
	}
	// A redacted child drops out.
	if _, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.redaction", Sender: alice, Redacts: edit.Event.ID()}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := h.rs.Relations(ctx, roomID, root1.Event.ID(), roomserver.RelationQuery{RelType: "m.replace", Limit: 10}); len(got) != 0 {
		t.Fatalf("redacted child still listed: %d", len(got))
	}

	// Threads: root2 has the latest reply, so it comes first.
	threads, more, err := h.rs.Threads(ctx, roomID, "", 0, 10)
	if err != nil || more || len(threads) != 2 || threads[0].Root.ID() != root2.Event.ID() || threads[0].Latest != bobReply.Position {
		t.Fatalf("threads: %v %v %v", threads, more, err)
	}
	threads, more, _ = h.rs.Threads(ctx, roomID, "", 0, 1)
	if len(threads) != 1 || !more {
		t.Fatalf("threads page 1: %d %v", len(threads), more)
	}
	threads, _, _ = h.rs.Threads(ctx, roomID, "", threads[0].Latest, 1)
	if len(threads) != 1 || threads[0].Root.ID() != root1.Event.ID() {
		t.Fatalf("threads page 2: %v", threads)
	}
	// A new reply in thread 1 moves it to the front.
	send(alice, relates("m.thread", root1.Event.ID(), "bump"))
	threads, _, _ = h.rs.Threads(ctx, roomID, "", 0, 10)
	if len(threads) != 2 || threads[0].Root.ID() != root1.Event.ID() {
		t.Fatalf("after bump: %v", threads)
	}
	// Bob took part in thread 2 only (alice sent both roots).
	threads, _, _ = h.rs.Threads(ctx, roomID, bob, 0, 10)
	if len(threads) != 1 || threads[0].Root.ID() != root2.Event.ID() {
		t.Fatalf("bob's threads: %v", threads)
	}
}

func TestEventNearTimestamp(t *testing.T) {
	h := open(t, t.TempDir())
	defer h.close()
	ctx := context.Background()
	roomID, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice})
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.rs.Send(ctx, roomID, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text("hi")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := s.Event.OriginServerTS()
	if ev, err := h.rs.EventNearTimestamp(ctx, roomID, ts+1_000_000, roomserver.Backward); err != nil || ev.ID() != s.Event.ID() {
		t.Fatalf("backward: %v", err)
	}
	if ev, err := h.rs.EventNearTimestamp(ctx, roomID, 0, roomserver.Forward); err != nil || ev.Type() != "m.room.create" {
		t.Fatalf("forward from 0: %v %v", ev, err)
	}
	if _, err := h.rs.EventNearTimestamp(ctx, roomID, ts+1_000_000, roomserver.Forward); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("forward past the end: %v", err)
	}
	if _, err := h.rs.EventNearTimestamp(ctx, roomID, 0, roomserver.Backward); !errors.Is(err, roomserver.ErrNotFound) {
		t.Fatalf("backward before the start: %v", err)
	}
}
