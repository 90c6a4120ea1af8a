package federationtest

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
)

// Rooms gives a benchmark the node's room server, to build large rooms
// quickly.
func (nd *Node) Rooms() *roomserver.Server {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.hs.Rooms
}

// buildLargeRoom fills a public room on nd with members local users
// joined and messages messages, committed in batches.
func buildLargeRoom(b *testing.B, nd *Node, roomID string, members, messages int) {
	ctx := context.Background()
	rs := nd.Rooms()
	var batch []roomserver.Event
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := rs.SendMany(ctx, roomID, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 0; i < members; i++ {
		u := fmt.Sprintf("@member%05d:%s", i, nd.Name)
		batch = append(batch, roomserver.Event{Type: "m.room.member", StateKey: &u, Sender: u,
			Content: cjson.ObjectOf(cjson.M("membership", cjson.StrOf("join")), cjson.M("displayname", cjson.StrOf(u[1:12])))})
		if len(batch) == 100 {
			flush()
		}
	}
	flush()
	for i := 0; i < messages; i++ {
		u := fmt.Sprintf("@member%05d:%s", i%members, nd.Name)
		batch = append(batch, roomserver.Event{Type: "m.room.message", Sender: u,
			Content: cjson.ObjectOf(cjson.M("msgtype", cjson.StrOf("m.text")), cjson.M("body", cjson.StrOf(fmt.Sprint("message ", i))))})
		if len(batch) == 100 {
			flush()
		}
	}
	flush()
}

// heapPeak samples the process's heap while fn runs and returns the
// peak growth over the heap before it.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// BenchmarkJoinLargeRoom: a user on a fresh server joins a room of
// 10,000 members and 1,000 timeline events on another server. Reported:
// time to join (make_join, send_join, verifying and importing the state)
// and the heap growth of the process while joining (both servers share
// the process; the joining side dominates).
func BenchmarkJoinLargeRoom(b *testing.B) {
	n := NewNetwork(b)
	hs2 := n.Add("hs2.test")
	owner := hs2.Register("owner")
	roomID := owner.CreateRoom(map[string]any{"preset": "public_chat", "name": "Big"})
	start := time.Now()
	buildLargeRoom(b, hs2, roomID, 10_000, 1_000)
	b.Logf("built the room in %v", time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var heap uint64
	for i := 0; i < b.N; i++ {
		nd := n.Add(fmt.Sprintf("join%d.test", i))
		u := nd.Register("joiner")
		b.StartTimer()
		heap = max(heap, heapPeak(func() {
			if st, body := u.Join(roomID, "hs2.test"); st != 200 {
				b.Fatalf("join: %d %v", st, body)
			}
		}))
		b.StopTimer()
		nd.Stop()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
}

// BenchmarkFederatedMessages: messages sent on hs1 by 10 users, received
// by hs2 (committed there). Reports messages per second and the delivery
// latency of single messages on an idle link (send on hs1 → committed on
// hs2), p50 and p99.
func BenchmarkFederatedMessages(b *testing.B) {
	n := NewNetwork(b)
	hs1, hs2 := n.Add("hs1.test"), n.Add("hs2.test")
	alice := hs1.Register("alice")
	roomID := alice.CreateRoom(map[string]any{"preset": "public_chat"})
	var senders []*User
	for i := 0; i < 10; i++ {
		u := hs1.Register(fmt.Sprint("sender", i))
		u.Join(roomID)
		senders = append(senders, u)
	}
	bob := hs2.Register("bob")
	if st, body := bob.Join(roomID, "hs1.test"); st != 200 {
		b.Fatalf("join: %d %v", st, body)
	}
	rs2 := hs2.Rooms()
	ctx := context.Background()
	latest := func() string {
		evs, _ := rs2.Timeline(ctx, roomID, 0, roomserver.Backward, 1)
		if len(evs) == 0 {
			return ""
		}
		return evs[0].Event.ID()
	}
	time.Sleep(200 * time.Millisecond)

	// Latency of one message at a time: sent on hs1 → committed on hs2.
	var lat []time.Duration
	for i := 0; i < 200; i++ {
		t0 := time.Now()
		id := alice.Send(roomID, fmt.Sprint("ping ", i))
		for latest() != id {
			time.Sleep(100 * time.Microsecond)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pos := rs2.Position()
	count := func() int {
		evs, _ := rs2.Timeline(ctx, roomID, pos, roomserver.Forward, 1_000_000)
		return len(evs)
	}
	base := 0

	b.ResetTimer()
	total := b.N * 100
	start := time.Now()
	var wg sync.WaitGroup
	for _, u := range senders {
		wg.Add(1)
		go func(u *User) {
			defer wg.Done()
			for i := 0; i < total/len(senders); i++ {
				u.Send(roomID, "bulk")
			}
		}(u)
	}
	wg.Wait()
	for count() < base+total/len(senders)*len(senders) {
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	b.ReportMetric(float64(total)/el.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
