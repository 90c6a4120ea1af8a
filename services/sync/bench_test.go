package sync_test

import (
	"context"
	"fmt"
	"testing"

	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

// BenchmarkIncrementalSync: one joined room, one new message since the
// token. Each iteration answers the same request (the message stays new
// relative to the token), so no commit is timed.
func BenchmarkIncrementalSync(b *testing.B) {
	h := newHarness(b, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "bench"})
	for i := 0; i < 20; i++ {
		h.send(roomID, alice, fmt.Sprint(i))
	}
	since := h.sync(hsync.Request{UserID: alice}).NextBatch
	h.send(roomID, alice, "new")
	req := hsync.Request{UserID: alice, DeviceID: "DEV", Since: since}
	ctx := context.Background()
	for b.Loop() {
		resp, err := h.s.Sync(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Rooms.Join[roomID].Timeline.Events) != 1 {
			b.Fatal("wrong answer")
		}
	}
}

// BenchmarkInitialSync: one room of 50 events, default filter.
func BenchmarkInitialSync(b *testing.B) {
	h := newHarness(b, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice, Name: "bench"})
	for i := 0; i < 40; i++ {
		h.send(roomID, alice, fmt.Sprint(i))
	}
	req := hsync.Request{UserID: alice, DeviceID: "DEV"}
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.s.Sync(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotify: the room server's commit hook (one event ID lookup to
// learn the event's position, then the notifier).
func BenchmarkNotify(b *testing.B) {
	h := newHarness(b, hsync.Options{})
	roomID := h.create(roomserver.CreateRequest{Creator: alice})
	sent := h.setMember(roomID, alice, alice, "join")
	n := roomserver.Notification{Position: h.rs.Position(), RoomID: roomID, Event: sent.Event}
	for b.Loop() {
		h.s.Notify(n)
	}
}
