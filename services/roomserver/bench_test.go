package roomserver_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"hearth/services/roomserver"
)

// BenchmarkDurableSend: 50 senders over 100 rooms, every message synced to
// disk before Send returns (the bar: ≥ 2,000 messages/s on 2 cores).
func BenchmarkDurableSend(b *testing.B) {
	h := open(b, b.TempDir())
	defer h.close()
	ctx := context.Background()
	rooms := make([]string, 100)
	for i := range rooms {
		id, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice})
		if err != nil {
			b.Fatal(err)
		}
		rooms[i] = id
	}
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for s := 0; s < 50; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				room := rooms[(int(i)*7+s)%len(rooms)]
				if _, err := h.rs.Send(ctx, room, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text("benchmark message")}, nil); err != nil {
					b.Error(err)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDurableSendOneRoom: messages per second into a single room, every
// one synced before Send returns. Sends to one room are serialised by the
// room lock, so this is bounded by one commit (one fsync) per message.
func BenchmarkDurableSendOneRoom(b *testing.B) {
	h := open(b, b.TempDir())
	defer h.close()
	ctx := context.Background()
	room, err := h.rs.CreateRoom(ctx, roomserver.CreateRequest{Creator: alice})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.rs.Send(ctx, room, roomserver.Event{Type: "m.room.message", Sender: alice, Content: text("one room")}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
