package sync

import (
	"context"
	gosync "sync"
	"time"
)

// Notifier wakes long-polling /sync requests. It remembers, per room and per
// user, the latest position that concerned them, so a request that computed
// its answer up to position P and then waits is woken at once if anything
// newer happened in between (no lost wake-ups).
type Notifier struct {
	mu         gosync.Mutex
	roomLatest map[string]uint64
	userLatest map[string]uint64
	byRoom     map[string]map[*waiter]struct{}
	byUser     map[string]map[*waiter]struct{}
	waiting    int
	// eph counts Wake calls; roomEph is the count at each room's last one.
	// They let a request that read the ephemeral streams before waiting
	// notice a change made in between.
	eph     uint64
	roomEph map[string]uint64
}

type waiter struct {
	ch   chan struct{}
	done bool
}

// NewNotifier returns an empty notifier.
func NewNotifier() *Notifier {
	return &Notifier{
		roomLatest: map[string]uint64{}, userLatest: map[string]uint64{},
		byRoom: map[string]map[*waiter]struct{}{}, byUser: map[string]map[*waiter]struct{}{},
		roomEph: map[string]uint64{},
	}
}

// RoomChanged records that position pos concerns every member of roomID and
// wakes their waiters; users lists extra users it concerns (the target of a
// membership change, who may not be in the room yet).
func (n *Notifier) RoomChanged(roomID string, pos uint64, users ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos > n.roomLatest[roomID] {
		n.roomLatest[roomID] = pos
	}
	n.wakeLocked(n.byRoom[roomID])
	for _, u := range users {
		if pos > n.userLatest[u] {
			n.userLatest[u] = pos
		}
		n.wakeLocked(n.byUser[u])
	}
}

// Wake wakes the waiters of roomID's members without a new event position:
// for ephemeral changes (typing, receipts) that live in their own streams.
// A request that read those streams before EphemeralMark returned the mark
// it waits with is woken at once.
func (n *Notifier) Wake(roomID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.eph++
	if len(n.roomEph) >= maxRoomEph {
		// Forgetting is safe when every waiter is woken: they read again.
		clear(n.roomEph)
		for _, ws := range n.byRoom {
			n.wakeLocked(ws)
		}
	}
	n.roomEph[roomID] = n.eph
	n.wakeLocked(n.byRoom[roomID])
}

// maxRoomEph bounds the rooms whose last ephemeral change is remembered.
const maxRoomEph = 1 << 16

// EphemeralMark is the count of Wake calls so far; pass it to WaitMark.
func (n *Notifier) EphemeralMark() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.eph
}

// UserChanged records that pos concerns user (account data, to-device,
// device lists …) and wakes the user's waiters.
func (n *Notifier) UserChanged(user string, pos uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pos > n.userLatest[user] {
		n.userLatest[user] = pos
	}
	n.wakeLocked(n.byUser[user])
}

func (n *Notifier) wakeLocked(ws map[*waiter]struct{}) {
	for w := range ws {
		if !w.done {
			w.done = true
			close(w.ch)
		}
	}
}

// Latest is the newest position that concerned user or any of rooms.
func (n *Notifier) Latest(user string, rooms []string) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.latestLocked(user, rooms)
}

func (n *Notifier) latestLocked(user string, rooms []string) uint64 {
	latest := n.userLatest[user]
	for _, r := range rooms {
		if p := n.roomLatest[r]; p > latest {
			latest = p
		}
	}
	return latest
}

// Wait blocks until something newer than upTo concerns user or one of rooms,
// the timeout passes or ctx ends. It reports whether it was woken by news.
func (n *Notifier) Wait(ctx context.Context, user string, rooms []string, upTo uint64, timeout time.Duration) bool {
	return n.WaitMark(ctx, user, rooms, upTo, ^uint64(0), timeout)
}

// WaitMark is Wait that also returns at once when Wake was called for one
// of rooms after EphemeralMark returned mark.
func (n *Notifier) WaitMark(ctx context.Context, user string, rooms []string, upTo, mark uint64, timeout time.Duration) bool {
	n.mu.Lock()
	if n.latestLocked(user, rooms) > upTo {
		n.mu.Unlock()
		return true
	}
	for _, r := range rooms {
		if n.roomEph[r] > mark {
			n.mu.Unlock()
			return true
		}
	}
	w := &waiter{ch: make(chan struct{})}
	n.add(n.byUser, user, w)
	for _, r := range rooms {
		n.add(n.byRoom, r, w)
	}
	n.waiting++
	n.mu.Unlock()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	woken := false
	select {
	case <-w.ch:
		woken = true
	case <-timer.C:
	case <-ctx.Done():
	}

	n.mu.Lock()
	n.remove(n.byUser, user, w)
	for _, r := range rooms {
		n.remove(n.byRoom, r, w)
	}
	n.waiting--
	n.mu.Unlock()
	return woken
}

// Waiting is the number of requests currently waiting.
func (n *Notifier) Waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.waiting
}

func (n *Notifier) add(m map[string]map[*waiter]struct{}, key string, w *waiter) {
	set := m[key]
	if set == nil {
		set = map[*waiter]struct{}{}
		m[key] = set
	}
	set[w] = struct{}{}
}

func (n *Notifier) remove(m map[string]map[*waiter]struct{}, key string, w *waiter) {
	set := m[key]
	delete(set, w)
	if len(set) == 0 {
		delete(m, key)
	}
}
