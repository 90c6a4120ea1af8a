package sync

import (
	"container/list"
	gosync "sync"

	"hearth/services/roomserver"
)

// Notify is the room server's Options.Notify hook: it tells the Notifier
// that a room changed, and for member events also the user whose membership
// changed (an invitee, a joiner, a kicked user), who may not be in the room
// yet or any more. The room server calls it in position order, once the
// watermark has passed the event, with the event's own position.
func (s *Server) Notify(n roomserver.Notification) {
	var users []string
	if ev := n.Event; ev != nil {
		if sk, ok := ev.StateKey(); ok && ev.Type() == "m.room.member" {
			users = []string{sk}
			s.positions.put(ev.ID(), n.Position)
		}
	}
	s.n.RoomChanged(n.RoomID, n.Position, users...)
}

// WakeRoom wakes the long polls of a room's members for an ephemeral
// change (typing, a receipt) that has no event position.
func (s *Server) WakeRoom(roomID string) { s.n.Wake(roomID) }

// WakeUser wakes the long polls of a user at once. Sources of the streams
// that are not room events (account data, to-device messages, key counts)
// call it after they commit a change for the user; the woken request then
// reads every source again.
func (s *Server) WakeUser(user string) {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if ch, ok := s.wake[user]; ok {
		close(ch)
		delete(s.wake, user)
	}
}

// wakeChan returns the channel WakeUser closes for user. A request takes it
// before reading the sources, so a change made while it reads wakes it.
func (s *Server) wakeChan(user string) <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	ch, ok := s.wake[user]
	if !ok {
		if len(s.wake) >= maxWakeUsers {
			// Waking everyone is always safe: requests just read again.
			for u, c := range s.wake {
				close(c)
				delete(s.wake, u)
			}
		}
		ch = make(chan struct{})
		s.wake[user] = ch
	}
	return ch
}

// maxWakeUsers bounds the wake channels kept (one per syncing user).
const maxWakeUsers = 1 << 16

// posCache remembers the positions of events looked up by ID (the users'
// own membership events, asked for on every sync). Positions never change,
// so entries are always right; when full the cache is emptied.
type posCache struct {
	mu gosync.Mutex
	m  map[string]uint64
}

const maxPosCache = 8192

func (c *posCache) get(id string) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[id]
	return p, ok
}

func (c *posCache) put(id string, pos uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPosCache {
		c.m = make(map[string]uint64)
	}
	c.m[id] = pos
}

// lazyCache remembers, per (user, device), which membership events were
// sent to the device while lazy-loading members, so that they are not sent
// again (they would be "redundant members"). Each entry records the
// next_batch position of the response that carried it: a request whose
// since is below that position has not seen that response (it was lost or
// the client went back), so the entry does not count for it.
//
// Bounds: at most maxLazyDevices devices (least recently used dropped) and
// maxLazyEntries members per device (all dropped when exceeded). Forgetting
// is always safe: the member events are just sent again.
type lazyCache struct {
	mu      gosync.Mutex
	max     int
	lru     *list.List // of *lazyDevice, most recent first
	devices map[string]*list.Element
}

type lazyDevice struct {
	key   string
	n     int
	rooms map[string]map[string]lazyEntry // room → member → entry
}

type lazyEntry struct {
	eventID string
	sentAt  uint64
}

const (
	defaultLazyDevices = 1024
	maxLazyEntries     = 50_000
)

func newLazyCache(maxDevices int) *lazyCache {
	if maxDevices <= 0 {
		maxDevices = defaultLazyDevices
	}
	return &lazyCache{max: maxDevices, lru: list.New(), devices: map[string]*list.Element{}}
}

func lazyKey(user, device string) string { return user + "\x00" + device }

// device returns the entry of a device, creating it; the caller holds mu.
func (c *lazyCache) device(key string) *lazyDevice {
	if el, ok := c.devices[key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*lazyDevice)
	}
	d := &lazyDevice{key: key, rooms: map[string]map[string]lazyEntry{}}
	c.devices[key] = c.lru.PushFront(d)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.devices, old.Value.(*lazyDevice).key)
	}
	return d
}

// reset forgets what a device was sent (an initial sync starts afresh).
func (c *lazyCache) reset(user, device string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.devices[lazyKey(user, device)]; ok {
		c.lru.Remove(el)
		delete(c.devices, lazyKey(user, device))
	}
}

// sent reports whether the device was sent this member event in a response
// it has acknowledged (one whose next_batch is at or below since).
func (c *lazyCache) sent(user, device, room, member, eventID string, since uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.devices[lazyKey(user, device)]
	if !ok {
		return false
	}
	e, ok := el.Value.(*lazyDevice).rooms[room][member]
	return ok && e.eventID == eventID && e.sentAt <= since
}

// record notes member events sent in a response whose next_batch is at.
func (c *lazyCache) record(user, device, room string, members map[string]string, at uint64) {
	if len(members) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.device(lazyKey(user, device))
	r := d.rooms[room]
	if r == nil {
		r = map[string]lazyEntry{}
		d.rooms[room] = r
	}
	for m, id := range members {
		if old, ok := r[m]; ok && old.eventID == id && old.sentAt <= at {
			continue // already known from an earlier response
		}
		if _, ok := r[m]; !ok {
			d.n++
		}
		r[m] = lazyEntry{eventID: id, sentAt: at}
	}
	if d.n > maxLazyEntries {
		d.rooms, d.n = map[string]map[string]lazyEntry{}, 0
	}
}
