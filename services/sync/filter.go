package sync

import (
	"errors"
	"fmt"
	"strings"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// ErrBadFilter marks a filter that does not parse or breaks a limit. The HTTP
// layer answers it with 400 M_INVALID_PARAM for the filter query parameter
// of /sync and M_BAD_JSON for the body of POST /user/{userId}/filter.
var ErrBadFilter = errors.New("sync: invalid filter")

// Filter limits. A filter larger than these is refused, not truncated.
const (
	// MaxFilterBytes bounds the JSON of one filter.
	MaxFilterBytes = 16 << 10
	// MaxFilterList bounds every list in a filter (types, senders, rooms,
	// event_fields and their not_ forms).
	MaxFilterList = 256
	// MaxFilterString bounds every string in those lists (the spec's limit
	// for types, user IDs and room IDs).
	MaxFilterString = 255

	// DefaultTimelineLimit is the timeline limit when the filter gives none.
	DefaultTimelineLimit = 10
	// MaxTimelineLimit caps the timeline limit: larger values are lowered to
	// it, as the spec lets servers impose a maximum.
	MaxTimelineLimit = 100
	// MaxEventLimit caps every other limit in a filter.
	MaxEventLimit = 1000
)

// Filter is a parsed Matrix filter (the spec's sync_filter). The zero value
// is the empty filter: everything included, default limits.
//
// In every list field nil means "absent" (no restriction) and a non-nil empty
// list means "present and empty": an empty types or senders list matches
// nothing, an empty not_ list excludes nothing.
type Filter struct {
	// EventFields are the event_fields as parsed dot-separated paths; nil
	// means every field.
	EventFields []FieldPath
	// Federation is event_format "federation": events as stored PDUs.
	Federation  bool
	Presence    EventFilter
	AccountData EventFilter
	Room        RoomFilter
}

// RoomFilter is the room part of a filter.
type RoomFilter struct {
	Rooms, NotRooms []string
	Timeline        RoomEventFilter
	State           RoomEventFilter
	Ephemeral       RoomEventFilter
	AccountData     RoomEventFilter
	IncludeLeave    bool
}

// EventFilter is the spec's EventFilter. Limit 0 means "not given".
type EventFilter struct {
	Limit                 int
	Types, NotTypes       []string
	Senders, NotSenders   []string
	typeMatch, notTypeSet *patternSet
}

// RoomEventFilter is the spec's RoomEventFilter.
type RoomEventFilter struct {
	EventFilter
	Rooms, NotRooms           []string
	LazyLoadMembers           bool
	IncludeRedundantMembers   bool
	UnreadThreadNotifications bool
	// ContainsURL: nil means the url key is not considered.
	ContainsURL *bool
}

// FieldPath is one dot-separated property path of event_fields, split into
// its keys with the escapes removed.
type FieldPath []string

// ParseFilter parses and validates a filter's JSON. Unknown keys are ignored
// (clients send unstable ones); wrong types, malformed IDs, negative limits
// and over-long lists or strings are refused with ErrBadFilter. A limit of 0
// is raised to 1 (the spec wants a positive limit) and limits above the
// maximum are lowered to it.
func ParseFilter(data []byte) (Filter, error) {
	if len(data) > MaxFilterBytes {
		return Filter{}, fmt.Errorf("%w: larger than %d bytes", ErrBadFilter, MaxFilterBytes)
	}
	// cjson bounds nesting and refuses duplicate keys and non-integers.
	obj, err := cjson.DecodeObject(data)
	if err != nil {
		return Filter{}, fmt.Errorf("%w: %v", ErrBadFilter, err)
	}
	var f Filter
	fields, err := stringList(obj, "", "event_fields", 0)
	if err != nil {
		return Filter{}, err
	}
	if fields != nil {
		f.EventFields = make([]FieldPath, 0, len(fields))
		for _, p := range fields {
			f.EventFields = append(f.EventFields, ParseFieldPath(p))
		}
	}
	if v := obj.Get("event_format"); v.Exists() {
		switch v.StrOr("") {
		case "client":
		case "federation":
			f.Federation = true
		default:
			return Filter{}, fmt.Errorf("%w: event_format must be client or federation", ErrBadFilter)
		}
	}
	if f.Presence, err = eventFilter(obj, "presence", MaxEventLimit); err != nil {
		return Filter{}, err
	}
	if f.AccountData, err = eventFilter(obj, "account_data", MaxEventLimit); err != nil {
		return Filter{}, err
	}
	room, err := object(obj, "", "room")
	if err != nil {
		return Filter{}, err
	}
	r := &f.Room
	if r.Rooms, err = stringList(room, "room", "rooms", '!'); err != nil {
		return Filter{}, err
	}
	if r.NotRooms, err = stringList(room, "room", "not_rooms", '!'); err != nil {
		return Filter{}, err
	}
	if r.IncludeLeave, err = boolean(room, "room", "include_leave"); err != nil {
		return Filter{}, err
	}
	if r.Timeline, err = roomEventFilter(room, "timeline", MaxTimelineLimit); err != nil {
		return Filter{}, err
	}
	if r.State, err = roomEventFilter(room, "state", MaxEventLimit); err != nil {
		return Filter{}, err
	}
	if r.Ephemeral, err = roomEventFilter(room, "ephemeral", MaxEventLimit); err != nil {
		return Filter{}, err
	}
	if r.AccountData, err = roomEventFilter(room, "account_data", MaxEventLimit); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// eventFilter reads the EventFilter under key of parent.
func eventFilter(parent cjson.Value, key string, maxLimit int) (EventFilter, error) {
	var f EventFilter
	v, err := object(parent, "", key)
	if err != nil || !v.Exists() {
		return f, err
	}
	if err := f.read(v, key, maxLimit); err != nil {
		return EventFilter{}, err
	}
	return f, nil
}

func (f *EventFilter) read(v cjson.Value, path string, maxLimit int) error {
	if l := v.Get("limit"); l.Exists() {
		n, ok := l.IntValue()
		if !ok || n < 0 {
			return fmt.Errorf("%w: %s.limit must be a positive integer", ErrBadFilter, path)
		}
		f.Limit = int(max(1, min(n, int64(maxLimit))))
	}
	var err error
	if f.Types, err = stringList(v, path, "types", 0); err != nil {
		return err
	}
	if f.NotTypes, err = stringList(v, path, "not_types", 0); err != nil {
		return err
	}
	if f.Senders, err = stringList(v, path, "senders", '@'); err != nil {
		return err
	}
	if f.NotSenders, err = stringList(v, path, "not_senders", '@'); err != nil {
		return err
	}
	f.compile()
	return nil
}

// roomEventFilter reads the RoomEventFilter under room.key.
func roomEventFilter(room cjson.Value, key string, maxLimit int) (RoomEventFilter, error) {
	var f RoomEventFilter
	path := "room." + key
	v, err := object(room, "room", key)
	if err != nil || !v.Exists() {
		return f, err
	}
	if err := f.EventFilter.read(v, path, maxLimit); err != nil {
		return RoomEventFilter{}, err
	}
	if f.Rooms, err = stringList(v, path, "rooms", '!'); err != nil {
		return RoomEventFilter{}, err
	}
	if f.NotRooms, err = stringList(v, path, "not_rooms", '!'); err != nil {
		return RoomEventFilter{}, err
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"lazy_load_members", &f.LazyLoadMembers}, {"include_redundant_members", &f.IncludeRedundantMembers},
		{"unread_thread_notifications", &f.UnreadThreadNotifications}} {
		if *b.dst, err = boolean(v, path, b.key); err != nil {
			return RoomEventFilter{}, err
		}
	}
	if c := v.Get("contains_url"); c.Exists() {
		b, ok := c.BoolValue()
		if !ok {
			return RoomEventFilter{}, fmt.Errorf("%w: %s.contains_url must be a boolean", ErrBadFilter, path)
		}
		f.ContainsURL = &b
	}
	return f, nil
}

func object(parent cjson.Value, path, key string) (cjson.Value, error) {
	v := parent.Get(key)
	if v.Exists() && v.Kind() != cjson.Object {
		return cjson.Value{}, fmt.Errorf("%w: %s must be an object", ErrBadFilter, join(path, key))
	}
	return v, nil
}

func boolean(parent cjson.Value, path, key string) (bool, error) {
	v := parent.Get(key)
	if !v.Exists() {
		return false, nil
	}
	b, ok := v.BoolValue()
	if !ok {
		return false, fmt.Errorf("%w: %s must be a boolean", ErrBadFilter, join(path, key))
	}
	return b, nil
}

// stringList reads an optional list of strings: nil when absent, a non-nil
// (possibly empty) slice when present.
func stringList(parent cjson.Value, path, key string, sigil byte) ([]string, error) {
	v := parent.Get(key)
	if !v.Exists() {
		return nil, nil
	}
	list, ok := v.StringList()
	if !ok {
		return nil, fmt.Errorf("%w: %s must be a list of strings", ErrBadFilter, join(path, key))
	}
	if err := checkList(join(path, key), list, sigil); err != nil {
		return nil, err
	}
	return list, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkList bounds a list and its strings; a non-zero sigil is the required
// first byte (user and room IDs).
func checkList(path string, list []string, sigil byte) error {
	if len(list) > MaxFilterList {
		return fmt.Errorf("%w: %s has more than %d entries", ErrBadFilter, path, MaxFilterList)
	}
	for _, s := range list {
		if s == "" || len(s) > MaxFilterString {
			return fmt.Errorf("%w: %s entries must be 1 to %d bytes", ErrBadFilter, path, MaxFilterString)
		}
		if sigil != 0 && s[0] != sigil {
			return fmt.Errorf("%w: %s entries must start with %q", ErrBadFilter, path, sigil)
		}
	}
	return nil
}

// compile prepares the type patterns of a parsed filter.
func (f *EventFilter) compile() {
	f.typeMatch = compilePatterns(f.Types)
	f.notTypeSet = compilePatterns(f.NotTypes)
}

// MatchType reports whether an event type passes types and not_types. A
// filter built by hand rather than parsed is matched without the compiled
// sets (same result, slower).
func (f *EventFilter) MatchType(typ string) bool {
	if matchPatterns(f.NotTypes, f.notTypeSet, typ) {
		return false
	}
	return f.Types == nil || matchPatterns(f.Types, f.typeMatch, typ)
}

func matchPatterns(list []string, compiled *patternSet, s string) bool {
	if compiled != nil {
		return compiled.match(s)
	}
	for _, p := range list {
		if p == s || globMatch(p, s) {
			return true
		}
	}
	return false
}

// MatchSender reports whether a sender passes senders and not_senders.
func (f *EventFilter) MatchSender(sender string) bool {
	if contains(f.NotSenders, sender) {
		return false
	}
	return f.Senders == nil || contains(f.Senders, sender)
}

// Match reports whether an event of this type and sender passes the filter
// (used for account data, presence and ephemeral events, whose "sender" is
// the user they concern).
func (f *EventFilter) Match(typ, sender string) bool {
	return f.MatchType(typ) && (sender == "" || f.MatchSender(sender))
}

// MatchRoom reports whether a room passes rooms and not_rooms.
func (f *RoomEventFilter) MatchRoom(roomID string) bool {
	return matchRoom(f.Rooms, f.NotRooms, roomID)
}

// MatchRoom reports whether a room passes the room filter's rooms and
// not_rooms, which apply before every other room filter.
func (f *RoomFilter) MatchRoom(roomID string) bool {
	return matchRoom(f.Rooms, f.NotRooms, roomID)
}

func matchRoom(rooms, notRooms []string, roomID string) bool {
	if contains(notRooms, roomID) {
		return false
	}
	return rooms == nil || contains(rooms, roomID)
}

// MatchEvent reports whether a room event passes the filter: its room, type,
// sender and, with contains_url, whether its content has a url key.
func (f *RoomEventFilter) MatchEvent(ev *pdu.Event) bool {
	if !f.MatchRoom(ev.RoomID()) || !f.MatchType(ev.Type()) || !f.MatchSender(ev.Sender()) {
		return false
	}
	if f.ContainsURL != nil && ev.Content().Has("url") != *f.ContainsURL {
		return false
	}
	return true
}

// TimelineLimit is the timeline limit to use: the filter's, or the default.
func (f *Filter) TimelineLimit() int {
	if f.Room.Timeline.Limit > 0 {
		return min(f.Room.Timeline.Limit, MaxTimelineLimit)
	}
	return DefaultTimelineLimit
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// patternSet is a compiled list of type patterns where '*' matches any run
// of characters. Plain names are looked up in a set; wildcard patterns are
// matched one by one.
type patternSet struct {
	exact map[string]struct{}
	globs []string
}

func compilePatterns(list []string) *patternSet {
	if list == nil {
		return nil
	}
	p := &patternSet{exact: make(map[string]struct{}, len(list))}
	for _, s := range list {
		if strings.IndexByte(s, '*') >= 0 {
			p.globs = append(p.globs, s)
		} else {
			p.exact[s] = struct{}{}
		}
	}
	return p
}

func (p *patternSet) match(s string) bool {
	if p == nil {
		return false
	}
	if _, ok := p.exact[s]; ok {
		return true
	}
	for _, g := range p.globs {
		if globMatch(g, s) {
			return true
		}
	}
	return false
}

// globMatch matches s against a pattern where '*' stands for any sequence
// of bytes (possibly empty) and every other byte for itself. It runs in
// O(len(pattern)·len(s)) at worst, without recursion.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ParseFieldPath splits a dot-separated property path (appendix "Dot-separated
// property paths"): '.' separates keys, "\." is a literal dot, "\\" a literal
// backslash, and any other backslash is kept as it is.
func ParseFieldPath(s string) FieldPath {
	var out FieldPath
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '.' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case c == '.':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// ParseRoomEventFilter parses a RoomEventFilter on its own, as /messages
// and /context take it in their filter parameter, with the same rules as
// ParseFilter.
func ParseRoomEventFilter(data []byte) (RoomEventFilter, error) {
	if len(data) > MaxFilterBytes {
		return RoomEventFilter{}, fmt.Errorf("%w: larger than %d bytes", ErrBadFilter, MaxFilterBytes)
	}
	v, err := cjson.DecodeObject(data)
	if err != nil {
		return RoomEventFilter{}, fmt.Errorf("%w: %v", ErrBadFilter, err)
	}
	return roomEventFilter(cjson.ObjectOf(cjson.M("filter", v)), "filter", MaxEventLimit)
}
