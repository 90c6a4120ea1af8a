package power

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// Infinite is the level of a v12 room creator: above every level an event can
// carry (those are at most 2^53-1).
const Infinite int64 = math.MaxInt64

// Defaults from the m.room.power_levels schema.
const (
	DefaultBan           = 50
	DefaultKick          = 50
	DefaultRedact        = 50
	DefaultInvite        = 0
	DefaultStateDefault  = 50
	DefaultEventsDefault = 0
	DefaultUsersDefault  = 0
	DefaultNotifyRoom    = 50
	// CreatorLevel is the creator's level in rooms before v12 that have no
	// power-levels event.
	CreatorLevel = 100
)

// ErrInvalid marks power-level content that the room version does not allow.
var ErrInvalid = errors.New("invalid power levels")

// Levels is a parsed m.room.power_levels content with defaults applied.
type Levels struct {
	Ban, Kick, Redact, Invite                 int64
	StateDefault, EventsDefault, UsersDefault int64
	Events                                    map[string]int64
	Notifications                             map[string]int64
	Users                                     map[string]int64
	// Creators have Infinite power (room v12); nil before v12.
	Creators map[string]bool
}

// Parse reads power-level content. From room version 10 every value must be an
// integer; before, a string holding an integer is accepted too (the spec's
// "stringy" power levels). Anything else is ErrInvalid.
func Parse(v *pdu.RoomVersion, content cjson.Value) (Levels, error) {
	l := Levels{
		Ban: DefaultBan, Kick: DefaultKick, Redact: DefaultRedact, Invite: DefaultInvite,
		StateDefault: DefaultStateDefault, EventsDefault: DefaultEventsDefault, UsersDefault: DefaultUsersDefault,
	}
	if content.Kind() != cjson.Object {
		return l, fmt.Errorf("%w: content is not an object", ErrInvalid)
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{
		{"ban", &l.Ban}, {"kick", &l.Kick}, {"redact", &l.Redact}, {"invite", &l.Invite},
		{"state_default", &l.StateDefault}, {"events_default", &l.EventsDefault}, {"users_default", &l.UsersDefault},
	} {
		val := content.Get(f.key)
		if !val.Exists() {
			continue
		}
		n, err := level(v, val)
		if err != nil {
			return l, fmt.Errorf("%w: %s: %w", ErrInvalid, f.key, err)
		}
		*f.dst = n
	}
	var err error
	if l.Events, err = levelMap(v, content, "events"); err != nil {
		return l, err
	}
	if l.Notifications, err = levelMap(v, content, "notifications"); err != nil {
		return l, err
	}
	if l.Users, err = levelMap(v, content, "users"); err != nil {
		return l, err
	}
	return l, nil
}

func levelMap(v *pdu.RoomVersion, content cjson.Value, key string) (map[string]int64, error) {
	val := content.Get(key)
	if !val.Exists() {
		return map[string]int64{}, nil
	}
	if val.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: %s is not an object", ErrInvalid, key)
	}
	m := make(map[string]int64, val.Len())
	for _, mem := range val.Members() {
		n, err := level(v, mem.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: %w", ErrInvalid, key, mem.Key, err)
		}
		m[mem.Key] = n
	}
	return m, nil
}

// level reads one power-level value.
func level(v *pdu.RoomVersion, val cjson.Value) (int64, error) {
	if n, ok := val.IntValue(); ok {
		return n, nil
	}
	if s, ok := val.Str(); ok && !v.IntegerPowerLevels {
		return parseStringy(s)
	}
	return 0, fmt.Errorf("%s is not an integer", val.Kind())
}

// parseStringy parses the spec's string form: optional surrounding white
// space, an optional single sign, then decimal digits (leading zeroes allowed).
func parseStringy(s string) (int64, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	for _, c := range []byte(t) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
	}
	t = strings.TrimLeft(t, "0")
	if t == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > cjson.MaxSafeInt {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// FromState returns the power levels in force in a room state: the
// m.room.power_levels event if there is one, else the defaults under which the
// creator has 100 (v12: every creator is Infinite whether or not there is a
// power-levels event).
func FromState(v *pdu.RoomVersion, st pdu.State) (Levels, error) {
	create := st.Get("m.room.create", "")
	var l Levels
	if pl := st.Get("m.room.power_levels", ""); pl != nil {
		var err error
		if l, err = Parse(v, pl.Content()); err != nil {
			return l, err
		}
	} else {
		l, _ = Parse(v, cjson.EmptyObject())
		if !v.PrivilegedCreators && create != nil {
			if c := Creator(v, create); c != "" {
				l.Users[c] = CreatorLevel
			}
		}
	}
	if v.PrivilegedCreators && create != nil {
		l.Creators = make(map[string]bool)
		for _, c := range Creators(v, create) {
			l.Creators[c] = true
		}
	}
	return l, nil
}

// Creator is the room creator before v12: content.creator until v10, the
// create event's sender from v11.
func Creator(v *pdu.RoomVersion, create *pdu.Event) string {
	if v.CreatorIsSender {
		return create.Sender()
	}
	return create.Content().Get("creator").StrOr("")
}

// Creators are the room's creators: the create event's sender plus, in v12,
// content.additional_creators (non-string entries are ignored here; the auth
// rules reject a create event that has any).
func Creators(v *pdu.RoomVersion, create *pdu.Event) []string {
	if !v.PrivilegedCreators {
		if c := Creator(v, create); c != "" {
			return []string{c}
		}
		return nil
	}
	out := []string{create.Sender()}
	for _, it := range create.Content().Get("additional_creators").Items() {
		if s, ok := it.Str(); ok {
			out = append(out, s)
		}
	}
	return out
}

// User is a user's level: Infinite for a v12 creator, else users[user], else
// users_default.
func (l Levels) User(userID string) int64 {
	if l.Creators[userID] {
		return Infinite
	}
	if n, ok := l.Users[userID]; ok {
		return n
	}
	return l.UsersDefault
}

// Event is the level needed to send an event of the given type.
func (l Levels) Event(typ string, isState bool) int64 {
	if n, ok := l.Events[typ]; ok {
		return n
	}
	if isState {
		return l.StateDefault
	}
	return l.EventsDefault
}

// Notification is the level needed to trigger a notification of the given
// kind ("room" for @room); unknown kinds default to 50 like "room".
func (l Levels) Notification(kind string) int64 {
	if n, ok := l.Notifications[kind]; ok {
		return n
	}
	return DefaultNotifyRoom
}

// CanRedactOthers reports whether a user may redact events sent by others.
func (l Levels) CanRedactOthers(userID string) bool { return l.User(userID) >= l.Redact }
