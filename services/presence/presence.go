// Package presence keeps the online/offline/unavailable status of local
// users in memory (presence.md) and serves it to /sync as a stream with
// its own positions.
//
// Nothing is persisted: after a restart everyone is offline until they
// sync or set their presence again, and the stream starts again at 1 (a
// since token with a higher presence position is treated as 0).
//
// Timeouts (checked by Sweep, which the owner calls periodically): a user
// whose last activity is older than IdleAfter goes from online to
// unavailable (presence.md "Idle timeout"); a user not seen at all (no
// /sync, no presence update) for OfflineAfter goes offline. Activity is a
// PUT of presence "online" or a /sync with set_presence online (or
// omitted); a /sync with set_presence unavailable keeps the user seen but
// not active; set_presence offline changes nothing.
//
// Only changes of the presence state or status message make stream
// entries; last_active_ago and currently_active are computed when read, so
// a user who keeps syncing does not flood the stream (the
// currently_active mechanism of presence.md).
package presence

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	gosync "sync"
	"time"
	"unicode/utf8"

	"hearth/services/matrix/cjson"
)

// Presence states.
const (
	Online      = "online"
	Offline     = "offline"
	Unavailable = "unavailable"
)

// MaxStatusMsgBytes bounds a status message (UTF-8 bytes).
const MaxStatusMsgBytes = 1024

// ErrInvalid marks a bad presence state or status message.
var ErrInvalid = errors.New("presence: invalid")

// Defaults of Options.
const (
	DefaultIdleAfter    = 5 * time.Minute
	DefaultOfflineAfter = 10 * time.Minute
	DefaultMaxUsers     = 100_000
	// activeWindow is how recent the last activity must be for
	// currently_active.
	activeWindow = time.Minute
)

// Options configures a Store. The zero value works.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IdleAfter and OfflineAfter are the timeouts described in the package
	// comment; 0 means the defaults.
	IdleAfter, OfflineAfter time.Duration
	// MaxUsers bounds the users tracked. When full, offline users are
	// forgotten first; if all are online, new users are not tracked
	// (they read as offline).
	MaxUsers int
	// OnChange, if not nil, is called (without locks held) after a user's
	// presence changed, to wake the long polls of those who share a room.
	OnChange func(userID string)
}

// State is a user's presence as read.
type State struct {
	UserID    string
	Presence  string
	StatusMsg *string
	// LastActive is zero when the user was never active.
	LastActive time.Time
	// Pos is the stream position of the last change.
	Pos uint64
}

type entry struct {
	presence   string
	statusMsg  *string
	lastActive time.Time
	lastSeen   time.Time
	pos        uint64
}

type logEntry struct {
	pos  uint64
	user string
}

// Store is the in-memory presence store. It is safe for concurrent use.
type Store struct {
	opts  Options
	mu    gosync.Mutex
	pos   uint64
	users map[string]*entry
	// log holds (pos, user) in position order; entries whose pos is no
	// longer the user's are stale and skipped. It is compacted when it
	// grows past twice the number of users.
	log []logEntry
}

// New returns an empty store.
func New(o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.IdleAfter <= 0 {
		o.IdleAfter = DefaultIdleAfter
	}
	if o.OfflineAfter <= 0 {
		o.OfflineAfter = DefaultOfflineAfter
	}
	if o.MaxUsers <= 0 {
		o.MaxUsers = DefaultMaxUsers
	}
	return &Store{opts: o, users: map[string]*entry{}}
}

// Validate checks a presence state and status message as Set would.
func Validate(presence string, statusMsg *string) error {
	switch presence {
	case Online, Offline, Unavailable:
	default:
		return fmt.Errorf("%w: presence must be online, offline or unavailable", ErrInvalid)
	}
	if statusMsg != nil && (len(*statusMsg) > MaxStatusMsgBytes || !utf8.ValidString(*statusMsg)) {
		return fmt.Errorf("%w: status_msg longer than %d bytes", ErrInvalid, MaxStatusMsgBytes)
	}
	return nil
}

// Position is the latest stream position.
func (s *Store) Position() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// Set records a presence update by the user (PUT /presence/{userId}/status):
// the state and status message (nil clears it). Setting online counts as
// activity. Errors: ErrInvalid.
func (s *Store) Set(userID, presence string, statusMsg *string) error {
	if err := Validate(presence, statusMsg); err != nil {
		return err
	}
	var msg *string
	if statusMsg != nil {
		m := *statusMsg
		msg = &m
	}
	s.update(userID, func(e *entry, now time.Time) {
		e.presence, e.statusMsg = presence, msg
		e.lastSeen = now
		if presence == Online {
			e.lastActive = now
		}
	})
	return nil
}

// Synced records a /sync of the user with its set_presence parameter
// ("" means online). Unknown values are ignored.
func (s *Store) Synced(userID, setPresence string) {
	switch setPresence {
	case "", Online:
		s.update(userID, func(e *entry, now time.Time) {
			e.presence, e.lastSeen, e.lastActive = Online, now, now
		})
	case Unavailable:
		s.update(userID, func(e *entry, now time.Time) {
			e.presence, e.lastSeen = Unavailable, now
		})
	}
}

// update applies f to the user's entry and records a change when the
// state or status message moved.
func (s *Store) update(userID string, f func(e *entry, now time.Time)) {
	now := s.opts.Now()
	s.mu.Lock()
	e, ok := s.users[userID]
	if !ok {
		if len(s.users) >= s.opts.MaxUsers && !s.evictLocked() {
			s.mu.Unlock()
			return
		}
		e = &entry{presence: Offline}
		s.users[userID] = e
	}
	before, beforeMsg := e.presence, e.statusMsg
	f(e, now)
	changed := !ok || e.presence != before || !sameMsg(beforeMsg, e.statusMsg)
	if changed {
		s.bumpLocked(userID, e)
	}
	s.mu.Unlock()
	if changed && s.opts.OnChange != nil {
		s.opts.OnChange(userID)
	}
}

func sameMsg(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// bumpLocked gives the entry a new position.
func (s *Store) bumpLocked(userID string, e *entry) {
	s.pos++
	e.pos = s.pos
	s.log = append(s.log, logEntry{pos: s.pos, user: userID})
	if len(s.log) > 2*len(s.users)+64 {
		live := s.log[:0]
		for _, le := range s.log {
			if u, ok := s.users[le.user]; ok && u.pos == le.pos {
				live = append(live, le)
			}
		}
		s.log = slices.Clip(live)
	}
}

// evictLocked forgets the offline users to make room; it reports whether
// there is room now.
func (s *Store) evictLocked() bool {
	for u, e := range s.users {
		if e.presence == Offline {
			delete(s.users, u)
		}
	}
	return len(s.users) < s.opts.MaxUsers
}

// Get returns a user's presence; ok is false for a user never seen (who
// reads as offline).
func (s *Store) Get(userID string) (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.users[userID]
	if !ok {
		return State{UserID: userID, Presence: Offline}, false
	}
	return e.state(userID), true
}

func (e *entry) state(user string) State {
	return State{UserID: user, Presence: e.presence, StatusMsg: e.statusMsg, LastActive: e.lastActive, Pos: e.pos}
}

// Since returns the users whose presence changed after position from,
// oldest change first, at most limit of them, and the position the answer
// is complete up to (the last returned change's position when limit was
// reached, else the head). A from ahead of the head (after a restart)
// counts as 0.
func (s *Store) Since(from uint64, limit int) ([]State, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from > s.pos {
		from = 0
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].pos > from })
	var out []State
	for ; i < len(s.log); i++ {
		le := s.log[i]
		e, ok := s.users[le.user]
		if !ok || e.pos != le.pos {
			continue
		}
		if limit > 0 && len(out) >= limit {
			return out, out[len(out)-1].Pos
		}
		out = append(out, e.state(le.user))
	}
	return out, s.pos
}

// Sweep applies the timeouts: online users idle for IdleAfter become
// unavailable, users not seen for OfflineAfter become offline.
func (s *Store) Sweep() {
	now := s.opts.Now()
	var changed []string
	s.mu.Lock()
	for u, e := range s.users {
		next := e.presence
		switch {
		case e.presence != Offline && now.Sub(e.lastSeen) >= s.opts.OfflineAfter:
			next = Offline
		case e.presence == Online && now.Sub(e.lastActive) >= s.opts.IdleAfter:
			next = Unavailable
		}
		if next != e.presence {
			e.presence = next
			changed = append(changed, u)
		}
	}
	slices.Sort(changed)
	for _, u := range changed {
		s.bumpLocked(u, s.users[u])
	}
	s.mu.Unlock()
	if s.opts.OnChange != nil {
		for _, u := range changed {
			s.opts.OnChange(u)
		}
	}
}

// StartSweeper calls Sweep every interval (0 means one minute) until the
// returned stop function is called.
func (s *Store) StartSweeper(interval time.Duration) (stop func()) {
	if interval <= 0 {
		interval = time.Minute
	}
	done := make(chan struct{})
	t := time.NewTicker(interval)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.Sweep()
			case <-done:
				return
			}
		}
	}()
	var once gosync.Once
	return func() { once.Do(func() { close(done) }) }
}

// Content is the content of a user's m.presence event (and the body of GET
// /presence/{userId}/status) as of now.
func (st State) Content(now time.Time) cjson.Value {
	members := []cjson.Member{cjson.M("presence", cjson.StrOf(st.Presence))}
	if !st.LastActive.IsZero() {
		ago := max(now.Sub(st.LastActive).Milliseconds(), 0)
		members = append(members, cjson.M("last_active_ago", cjson.IntOf(ago)))
		if st.Presence == Online {
			members = append(members, cjson.M("currently_active", cjson.BoolOf(now.Sub(st.LastActive) < activeWindow)))
		}
	}
	if st.StatusMsg != nil {
		members = append(members, cjson.M("status_msg", cjson.StrOf(*st.StatusMsg)))
	}
	return cjson.ObjectOf(members...)
}

// Event is the user's m.presence event as of now.
func (st State) Event(now time.Time) cjson.Value {
	return cjson.ObjectOf(
		cjson.M("type", cjson.StrOf("m.presence")),
		cjson.M("sender", cjson.StrOf(st.UserID)),
		cjson.M("content", st.Content(now)),
	)
}

// SyncPresence is Synced, for /sync (sync.PresenceSource).
func (s *Store) SyncPresence(userID, setPresence string) { s.Synced(userID, setPresence) }

// PresenceSince serves /sync (sync.PresenceSource): the m.presence events
// of at most limit users whose presence changed after from, the position
// the answer is complete up to, and whether more changes follow it.
func (s *Store) PresenceSince(from uint64, limit int) ([]cjson.Value, uint64, bool) {
	states, pos := s.Since(from, limit)
	now := s.opts.Now()
	out := make([]cjson.Value, 0, len(states))
	for _, st := range states {
		out = append(out, st.Event(now))
	}
	return out, pos, pos < s.Position()
}
