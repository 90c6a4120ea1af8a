package ephemeral

import (
	"slices"
	gosync "sync"
	"time"
)

// Typing timeouts.
const (
	DefaultTypingTimeout = 30 * time.Second
	MaxTypingTimeout     = 120 * time.Second
	// maxTypingRooms and maxTypersPerRoom bound the memory typing may use.
	maxTypingRooms   = 10_000
	maxTypersPerRoom = 100
)

// Typing remembers who is typing in which room, in memory. It is safe for
// concurrent use.
type Typing struct {
	mu      gosync.Mutex
	now     func() time.Time
	onWake  func(roomID string)
	pos     uint64
	rooms   map[string]map[string]time.Time // room → user → expiry
	changed map[string]uint64               // room → position of its last change
	floor   uint64                          // highest position of a forgotten change
	timer   *time.Timer
	timerAt time.Time
	closed  bool
}

// NewTyping returns an empty typing tracker. now is the clock (nil means
// time.Now); onChange, if not nil, is called (without locks held) with a
// room whose typing list changed, including when a user times out.
func NewTyping(now func() time.Time, onChange func(roomID string)) *Typing {
	if now == nil {
		now = time.Now
	}
	return &Typing{
		now: now, onWake: onChange,
		pos:   uint64(max(now().UnixMicro(), 0)),
		rooms: map[string]map[string]time.Time{}, changed: map[string]uint64{},
	}
}

// Set records that user is typing in room for timeout (typing true; 0
// means the default, and it is capped at MaxTypingTimeout) or stopped
// typing (typing false).
func (t *Typing) Set(roomID, userID string, typing bool, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTypingTimeout
	}
	timeout = min(timeout, MaxTypingTimeout)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	now := t.now()
	woke := t.expireLocked(now)
	users := t.rooms[roomID]
	changed := false
	if typing {
		_, was := users[userID]
		if users == nil {
			if len(t.rooms) >= maxTypingRooms {
				t.mu.Unlock()
				t.wake(woke)
				return // full: drop, typing is best effort
			}
			users = map[string]time.Time{}
			t.rooms[roomID] = users
		}
		if was || len(users) < maxTypersPerRoom {
			users[userID] = now.Add(timeout)
			changed = !was // a renewal changes nothing a client sees
		}
	} else if _, was := users[userID]; was {
		delete(users, userID)
		if len(users) == 0 {
			delete(t.rooms, roomID)
		}
		changed = true
	}
	if changed {
		t.bumpLocked(roomID)
		woke = append(woke, roomID)
	}
	t.scheduleLocked(now)
	t.mu.Unlock()
	t.wake(woke)
}

func (t *Typing) wake(rooms []string) {
	if t.onWake == nil {
		return
	}
	for _, r := range rooms {
		t.onWake(r)
	}
}

// bumpLocked gives room's change a new position.
func (t *Typing) bumpLocked(roomID string) {
	t.pos++
	t.changed[roomID] = t.pos
	if len(t.changed) > 2*maxTypingRooms {
		// Forget the changes of rooms nobody types in; a sync from before
		// floor gets an (empty) typing event for them, which is harmless.
		for r, p := range t.changed {
			if _, busy := t.rooms[r]; !busy && r != roomID {
				t.floor = max(t.floor, p)
				delete(t.changed, r)
			}
		}
	}
}

// expireLocked removes the typers whose time is up and returns the rooms
// that changed.
func (t *Typing) expireLocked(now time.Time) []string {
	var out []string
	for r, users := range t.rooms {
		n := len(users)
		for u, exp := range users {
			if !now.Before(exp) {
				delete(users, u)
			}
		}
		if len(users) != n {
			if len(users) == 0 {
				delete(t.rooms, r)
			}
			t.bumpLocked(r)
			out = append(out, r)
		}
	}
	return out
}

// scheduleLocked arms the timer for the next expiry.
func (t *Typing) scheduleLocked(now time.Time) {
	var next time.Time
	for _, users := range t.rooms {
		for _, exp := range users {
			if next.IsZero() || exp.Before(next) {
				next = exp
			}
		}
	}
	if next.IsZero() || (t.timer != nil && !t.timerAt.IsZero() && !next.Before(t.timerAt)) {
		return
	}
	d := max(next.Sub(now), 0) + 10*time.Millisecond
	t.timerAt = next
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.Sweep)
	} else {
		t.timer.Reset(d)
	}
}

// Sweep expires the typers whose timeout has passed and wakes their rooms.
// A timer calls it; tests with a fake clock call it directly.
func (t *Typing) Sweep() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	now := t.now()
	woke := t.expireLocked(now)
	t.timerAt = time.Time{}
	t.scheduleLocked(now)
	t.mu.Unlock()
	t.wake(woke)
}

// Typing returns the users typing in room, sorted.
func (t *Typing) Typing(roomID string) []string {
	t.mu.Lock()
	now := t.now()
	woke := t.expireLocked(now)
	out := t.typingLocked(roomID, now)
	t.mu.Unlock()
	t.wake(woke)
	return out
}

func (t *Typing) typingLocked(roomID string, now time.Time) []string {
	out := []string{}
	for u, exp := range t.rooms[roomID] {
		if now.Before(exp) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// Position is the current typing stream position.
func (t *Typing) Position() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Since returns the rooms whose typing list changed after position from
// (sorted), and the current position. A from ahead of the stream (from
// before a restart with a clock that went back) counts as 0.
func (t *Typing) Since(from uint64) (rooms []string, pos uint64) {
	t.mu.Lock()
	woke := t.expireLocked(t.now())
	defer t.wake(woke)
	defer t.mu.Unlock()
	if from > t.pos {
		from = 0
	}
	for r, p := range t.changed {
		if p > from {
			rooms = append(rooms, r)
		}
	}
	slices.Sort(rooms)
	return rooms, t.pos
}

// changes returns, for those of rooms whose typing list changed after
// from (for from 0: where someone types), the current list, and the
// position it is complete up to. Typers whose time is up are expired first.
func (t *Typing) changes(rooms []string, from uint64) (map[string][]string, uint64) {
	t.mu.Lock()
	now := t.now()
	woke := t.expireLocked(now)
	if from > t.pos {
		from = 0
	}
	out := map[string][]string{}
	for _, r := range rooms {
		users := t.typingLocked(r, now)
		var changed bool
		if from == 0 {
			changed = len(users) > 0
		} else if p, ok := t.changed[r]; ok {
			changed = p > from
		} else {
			changed = from < t.floor
		}
		if changed {
			out[r] = users
		}
	}
	pos := t.pos
	t.mu.Unlock()
	t.wake(woke)
	return out, pos
}

// Close stops the expiry timer.
func (t *Typing) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
	}
}
