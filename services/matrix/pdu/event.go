package pdu

import (
	"errors"
	"fmt"
	"strings"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
)

// Limits from the spec (client-server API, "Size limits"; PDU schemas).
const (
	MaxEventSize     = 65536 // canonical JSON of the whole PDU, signatures included
	MaxIDSize        = 255   // sender, room_id, event_id, state_key, type
	MaxPrevEvents    = 20
	MaxAuthEvents    = 10
	maxRawEventBytes = 2 * MaxEventSize // reject before decoding; whitespace may pad a valid event
)

// ErrFormat marks an event that is not valid for its room version. Such an
// event is dropped over federation and refused with M_BAD_JSON (or M_TOO_LARGE
// for ErrTooLarge) on the client API.
var ErrFormat = errors.New("invalid event format")

// ErrTooLarge marks an event over MaxEventSize bytes.
var ErrTooLarge = errors.New("event too large")

// Event is a parsed PDU. It keeps the exact bytes it was parsed from (hashes
// and signatures are over them, and they are what we store and forward) and
// the fields the protocol needs, extracted once. Events are immutable.
type Event struct {
	raw      []byte
	obj      cjson.Value
	ver      *RoomVersion
	id       string
	roomID   string
	typ      string
	sender   string
	stateKey string
	isState  bool
	content  cjson.Value
	prev     []string
	auth     []string
	depth    int64
	ts       int64
	redacts  string
}

// Parse checks a received PDU against the format of its room version and
// computes its event ID. raw is kept exactly as given.
func Parse(v *RoomVersion, raw []byte) (*Event, error) {
	if len(raw) > maxRawEventBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(raw))
	}
	obj, err := cjson.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	e, err := fromObject(v, obj)
	if err != nil {
		return nil, err
	}
	e.raw = append([]byte(nil), raw...)
	return e, nil
}

// ParseStored parses an event this server stored after checking it, whose
// event ID was computed then. It skips recomputing the ID (the reference
// hash), which dominates reading events back; everything else is parsed
// as in Parse. Never use it for bytes from outside.
func ParseStored(v *RoomVersion, raw []byte, eventID string) (*Event, error) {
	obj, err := cjson.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	e, err := fromObjectWithID(v, obj, eventID)
	if err != nil {
		return nil, err
	}
	e.raw = raw
	return e, nil
}

// FromObject builds an Event from an already decoded object; its bytes are the
// canonical encoding.
func FromObject(v *RoomVersion, obj cjson.Value) (*Event, error) {
	e, err := fromObject(v, obj)
	if err != nil {
		return nil, err
	}
	e.raw = cjson.Encode(obj)
	return e, nil
}

func fromObject(v *RoomVersion, obj cjson.Value) (*Event, error) {
	return fromObjectWithID(v, obj, "")
}

// fromObjectWithID checks the format. id "" means an event from outside:
// its size is checked and its ID computed. A given id means an event this
// server stored after those checks, and both are skipped.
func fromObjectWithID(v *RoomVersion, obj cjson.Value, id string) (*Event, error) {
	if obj.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: not an object", ErrFormat)
	}
	if id == "" {
		if n := len(cjson.Encode(obj)); n > MaxEventSize {
			return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
		}
	}
	e := &Event{obj: obj, ver: v}
	var err error
	if e.typ, err = idString(obj, "type", true); err != nil {
		return nil, err
	}
	if e.sender, err = idString(obj, "sender", true); err != nil {
		return nil, err
	}
	if _, err := ids.ParseUserIDLenient(e.sender); err != nil {
		return nil, fmt.Errorf("%w: sender: %w", ErrFormat, err)
	}
	if sk := obj.Get("state_key"); sk.Exists() {
		s, ok := sk.Str()
		if !ok || len(s) > MaxIDSize {
			return nil, fmt.Errorf("%w: state_key must be a string of at most %d bytes", ErrFormat, MaxIDSize)
		}
		e.stateKey, e.isState = s, true
	}
	isCreate := e.typ == "m.room.create" && e.isState && e.stateKey == ""
	e.roomID, err = idString(obj, "room_id", !(v.RoomIDIsCreateHash && isCreate))
	if err != nil {
		return nil, err
	}
	if e.roomID != "" {
		if _, err := ids.ParseRoomID(e.roomID); err != nil {
			return nil, fmt.Errorf("%w: room_id: %w", ErrFormat, err)
		}
	}
	if e.content = obj.Get("content"); e.content.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: content must be an object", ErrFormat)
	}
	var ok bool
	if e.ts, ok = obj.Get("origin_server_ts").IntValue(); !ok {
		return nil, fmt.Errorf("%w: origin_server_ts must be an integer", ErrFormat)
	}
	if e.depth, ok = obj.Get("depth").IntValue(); !ok || e.depth < 0 {
		return nil, fmt.Errorf("%w: depth must be a non-negative integer", ErrFormat)
	}
	if e.prev, err = eventIDList(obj, "prev_events", MaxPrevEvents); err != nil {
		return nil, err
	}
	if e.auth, err = eventIDList(obj, "auth_events", MaxAuthEvents); err != nil {
		return nil, err
	}
	if _, ok := obj.Path("hashes", "sha256").Str(); !ok {
		return nil, fmt.Errorf("%w: hashes.sha256 must be a string", ErrFormat)
	}
	if err := checkSignatures(obj.Get("signatures")); err != nil {
		return nil, err
	}
	if u := obj.Get("unsigned"); u.Exists() && u.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: unsigned must be an object", ErrFormat)
	}
	if e.typ == "m.room.redaction" {
		r := obj.Get("redacts")
		if v.RedactsInContent {
			r = e.content.Get("redacts")
		}
		if r.Exists() {
			s, ok := r.Str()
			if !ok || !looksLikeEventID(s) {
				return nil, fmt.Errorf("%w: redacts must be an event ID", ErrFormat)
			}
			e.redacts = s
		}
	}
	if id == "" {
		id = v.EventID(obj)
	}
	e.id = id
	if e.roomID == "" {
		e.roomID = RoomIDFromCreateEventID(e.id)
	}
	return e, nil
}

func idString(obj cjson.Value, key string, required bool) (string, error) {
	val := obj.Get(key)
	if !val.Exists() {
		if required {
			return "", fmt.Errorf("%w: %s is missing", ErrFormat, key)
		}
		return "", nil
	}
	s, ok := val.Str()
	if !ok || s == "" || len(s) > MaxIDSize {
		return "", fmt.Errorf("%w: %s must be a non-empty string of at most %d bytes", ErrFormat, key, MaxIDSize)
	}
	return s, nil
}

func eventIDList(obj cjson.Value, key string, max int) ([]string, error) {
	val := obj.Get(key)
	ids, ok := val.StringList()
	if !ok {
		return nil, fmt.Errorf("%w: %s must be an array of event IDs", ErrFormat, key)
	}
	if len(ids) > max {
		return nil, fmt.Errorf("%w: %s has %d entries, at most %d allowed", ErrFormat, key, len(ids), max)
	}
	for _, id := range ids {
		if !looksLikeEventID(id) {
			return nil, fmt.Errorf("%w: %s holds %q, not an event ID", ErrFormat, key, id)
		}
	}
	return ids, nil
}

func checkSignatures(sigs cjson.Value) error {
	if sigs.Kind() != cjson.Object {
		return fmt.Errorf("%w: signatures must be an object", ErrFormat)
	}
	for _, ent := range sigs.Members() {
		if ent.Value.Kind() != cjson.Object {
			return fmt.Errorf("%w: signatures of %q must be an object", ErrFormat, ent.Key)
		}
		for _, s := range ent.Value.Members() {
			if s.Value.Kind() != cjson.String {
				return fmt.Errorf("%w: signature %s of %q must be a string", ErrFormat, s.Key, ent.Key)
			}
		}
	}
	return nil
}

func looksLikeEventID(s string) bool {
	return len(s) >= 2 && len(s) <= MaxIDSize && s[0] == '$'
}

// ID is the event ID.
func (e *Event) ID() string { return e.id }

// Version is the room version the event was parsed under.
func (e *Event) Version() *RoomVersion { return e.ver }

// RoomID is the room; for a v12 create event it is derived from its ID.
func (e *Event) RoomID() string { return e.roomID }

// Type is the event type.
func (e *Event) Type() string { return e.typ }

// Sender is the sending user's ID.
func (e *Event) Sender() string { return e.sender }

// SenderDomain is the server name of the sender.
func (e *Event) SenderDomain() string { return Domain(e.sender) }

// StateKey returns the state key and whether the event is a state event.
func (e *Event) StateKey() (string, bool) { return e.stateKey, e.isState }

// IsState reports whether the event has a state_key.
func (e *Event) IsState() bool { return e.isState }

// StateKeyIs reports whether this is a state event of the given type and key.
func (e *Event) StateKeyIs(typ, stateKey string) bool {
	return e.isState && e.typ == typ && e.stateKey == stateKey
}

// Content is the content object.
func (e *Event) Content() cjson.Value { return e.content }

// Membership is content.membership for member events, or "".
func (e *Event) Membership() string {
	if e.typ != "m.room.member" {
		return ""
	}
	return e.content.Get("membership").StrOr("")
}

// PrevEvents are the IDs of the event's prev_events.
func (e *Event) PrevEvents() []string { return e.prev }

// AuthEvents are the IDs of the event's auth_events.
func (e *Event) AuthEvents() []string { return e.auth }

// Depth is the event's depth.
func (e *Event) Depth() int64 { return e.depth }

// OriginServerTS is the sender's timestamp in milliseconds.
func (e *Event) OriginServerTS() int64 { return e.ts }

// Redacts is the ID of the event a redaction redacts (from the top level
// before v11, from content since), or "".
func (e *Event) Redacts() string { return e.redacts }

// JSON returns the exact bytes the event was parsed from. Do not modify.
func (e *Event) JSON() []byte { return e.raw }

// Object is the decoded event.
func (e *Event) Object() cjson.Value { return e.obj }

// Unsigned is the unsigned object (absent if none).
func (e *Event) Unsigned() cjson.Value { return e.obj.Get("unsigned") }

// Redacted returns the event as its room version redacts it. The event ID is
// unchanged, since it is computed from the redacted form.
func (e *Event) Redacted() *Event {
	r, err := FromObject(e.ver, e.ver.Redact(e.obj))
	if err != nil {
		// Redaction keeps every key the format requires, so a valid event
		// always has a valid redacted form; keep the event if not.
		return e
	}
	return r
}

// Domain returns the server name part of a user ID, room alias or legacy
// room/event ID (everything after the first ':'), or "" if there is none.
func Domain(id string) string {
	i := strings.IndexByte(id, ':')
	if i < 0 {
		return ""
	}
	return id[i+1:]
}
