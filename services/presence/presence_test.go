package presence

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var changed []string
	s := New(Options{Now: func() time.Time { return now }, MaxUsers: 3, OnChange: func(u string) { changed = append(changed, u) }})

	if st, ok := s.Get("@a:x"); ok || st.Presence != Offline {
		t.Errorf("unknown user: %+v %v", st, ok)
	}
	if err := s.Set("@a:x", "busy", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad state: %v", err)
	}
	long := strings.Repeat("é", MaxStatusMsgBytes)
	if err := s.Set("@a:x", Online, &long); !errors.Is(err, ErrInvalid) {
		t.Errorf("long status: %v", err)
	}
	msg := "hi"
	if err := s.Set("@a:x", Online, &msg); err != nil {
		t.Fatal(err)
	}
	s.Synced("@a:x", "")       // no change: no new position
	s.Synced("@b:x", Offline)  // offline changes nothing
	s.Synced("@c:x", "online") // a new user
	if s.Position() != 2 || strings.Join(changed, ",") != "@a:x,@c:x" {
		t.Fatalf("position %d, changed %v", s.Position(), changed)
	}
	states, pos := s.Since(0, 1)
	if len(states) != 1 || states[0].UserID != "@a:x" || pos != 1 {
		t.Fatalf("limited Since: %+v %d", states, pos)
	}
	states, pos = s.Since(pos, 10)
	if len(states) != 1 || states[0].UserID != "@c:x" || pos != 2 {
		t.Fatalf("rest: %+v %d", states, pos)
	}
	// From ahead of the head (a restart): everything.
	if states, pos = s.Since(99, 10); len(states) != 2 || pos != 2 {
		t.Errorf("from ahead: %+v %d", states, pos)
	}

	// Idle, then offline; content follows.
	now = now.Add(DefaultIdleAfter)
	s.Synced("@c:x", Unavailable) // seen but not active
	s.Sweep()
	a, _ := s.Get("@a:x")
	if a.Presence != Unavailable {
		t.Errorf("idle user %+v", a)
	}
	if got := a.Content(now).String(); got != `{"last_active_ago":300000,"presence":"unavailable","status_msg":"hi"}` {
		t.Errorf("content %s", got)
	}
	now = now.Add(DefaultOfflineAfter - DefaultIdleAfter)
	s.Sweep()
	if a, _ := s.Get("@a:x"); a.Presence != Offline {
		t.Errorf("gone user %+v", a)
	}
	if c, _ := s.Get("@c:x"); c.Presence != Unavailable {
		t.Errorf("user seen %v ago: %+v", DefaultOfflineAfter-DefaultIdleAfter, c)
	}
	// The log is compacted and Since still sees one entry per user.
	for range 200 {
		s.Synced("@c:x", Online)
		s.Synced("@c:x", Unavailable)
	}
	if len(s.log) > 2*len(s.users)+64 {
		t.Errorf("log not compacted: %d entries", len(s.log))
	}
	if states, _ := s.Since(0, 0); len(states) != 2 {
		t.Errorf("after compaction: %+v", states)
	}

	// Full: offline users are forgotten to make room.
	s.Synced("@d:x", Online)
	s.Synced("@e:x", Online)
	if _, ok := s.Get("@a:x"); ok {
		t.Error("offline user kept when full")
	}
	if _, ok := s.Get("@e:x"); !ok {
		t.Error("new user not tracked")
	}
	s.Synced("@f:x", Online) // full of online users: not tracked
	if _, ok := s.Get("@f:x"); ok || len(s.users) > 3 {
		t.Errorf("bound not kept: %d users", len(s.users))
	}
}

func TestSweeperStops(t *testing.T) {
	s := New(Options{})
	stop := s.StartSweeper(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	stop()
	stop()
}
