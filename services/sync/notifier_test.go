package sync_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	hsync "hearth/services/sync"
)

func TestWaitWakesOnRoomNews(t *testing.T) {
	n := hsync.NewNotifier()
	woke := make(chan bool, 1)
	go func() { woke <- n.Wait(context.Background(), "@a:x", []string{"!r"}, 0, 10*time.Second) }()
	for n.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	n.RoomChanged("!other", 5) // not ours
	select {
	case <-woke:
		t.Fatal("woken by another room")
	case <-time.After(20 * time.Millisecond):
	}
	n.RoomChanged("!r", 6)
	if !<-woke {
		t.Fatal("not woken by news")
	}
}

func TestNoLostWakeup(t *testing.T) {
	n := hsync.NewNotifier()
	// News arrives between computing the answer (up to 3) and waiting.
	n.RoomChanged("!r", 4)
	start := time.Now()
	if !n.Wait(context.Background(), "@a:x", []string{"!r"}, 3, 5*time.Second) || time.Since(start) > time.Second {
		t.Fatal("waited despite news newer than the answer")
	}
	// Old news does not wake.
	if n.Wait(context.Background(), "@a:x", []string{"!r"}, 4, 10*time.Millisecond) {
		t.Fatal("woken by news already answered")
	}
}

func TestUserNewsAndTimeout(t *testing.T) {
	n := hsync.NewNotifier()
	go func() {
		for n.Waiting() == 0 {
			time.Sleep(time.Millisecond)
		}
		n.RoomChanged("!new", 9, "@invitee:x") // an invite into a room the user is not in yet
	}()
	if !n.Wait(context.Background(), "@invitee:x", nil, 0, 5*time.Second) {
		t.Fatal("invitee not woken")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n.Wait(ctx, "@b:x", nil, 100, time.Minute) {
		t.Fatal("cancelled wait reported news")
	}
	if n.Waiting() != 0 {
		t.Fatalf("%d waiters left behind", n.Waiting())
	}
}

func TestManyWaitersAllWoken(t *testing.T) {
	n := hsync.NewNotifier()
	var woken atomic.Int32
	done := make(chan struct{})
	for i := 0; i < 100; i++ {
		go func() {
			if n.Wait(context.Background(), "@u:x", []string{"!r"}, 0, 10*time.Second) {
				woken.Add(1)
			}
			done <- struct{}{}
		}()
	}
	for n.Waiting() < 100 {
		time.Sleep(time.Millisecond)
	}
	n.RoomChanged("!r", 1)
	for i := 0; i < 100; i++ {
		<-done
	}
	if woken.Load() != 100 || n.Waiting() != 0 {
		t.Fatalf("woken %d, still waiting %d", woken.Load(), n.Waiting())
	}
}

// BenchmarkWake100: one event wakes 100 long polls.
func BenchmarkWake100(b *testing.B) {
	n := hsync.NewNotifier()
	rooms := []string{"!r"}
	for i := 0; b.Loop(); i++ {
		done := make(chan struct{}, 100)
		for j := 0; j < 100; j++ {
			go func() { n.Wait(context.Background(), "@u:x", rooms, uint64(i), time.Minute); done <- struct{}{} }()
		}
		for n.Waiting() < 100 {
			time.Sleep(10 * time.Microsecond)
		}
		n.RoomChanged("!r", uint64(i+1))
		for j := 0; j < 100; j++ {
			<-done
		}
	}
}

func TestWakeEphemeral(t *testing.T) {
	n := hsync.NewNotifier()
	mark := n.EphemeralMark()
	// A Wake between reading the streams (at mark) and waiting: no wait.
	n.Wake("!r")
	start := time.Now()
	if !n.WaitMark(context.Background(), "@a:x", []string{"!r"}, 0, mark, 5*time.Second) || time.Since(start) > time.Second {
		t.Fatal("waited despite an ephemeral change after the mark")
	}
	// With a fresh mark it waits, and Wake of its room wakes it without
	// a new event position.
	mark = n.EphemeralMark()
	woke := make(chan bool, 1)
	go func() {
		woke <- n.WaitMark(context.Background(), "@a:x", []string{"!r"}, 0, mark, 10*time.Second)
	}()
	for n.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	n.Wake("!other")
	select {
	case <-woke:
		t.Fatal("woken by another room")
	case <-time.After(20 * time.Millisecond):
	}
	n.Wake("!r")
	if !<-woke {
		t.Fatal("not woken by Wake")
	}
	if n.Latest("@a:x", []string{"!r"}) != 0 {
		t.Fatal("Wake moved the event position")
	}
}
