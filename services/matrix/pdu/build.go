package pdu

import (
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// Proto is a local event before hashing and signing.
type Proto struct {
	Type     string
	StateKey *string // nil for a message event
	Sender   string
	RoomID   string // ignored for a v12 create event, whose room ID is its hash
	Content  cjson.Value
	// Redacts is the event a redaction redacts; Build puts it at the top level
	// or into content as the room version wants.
	Redacts        string
	PrevEvents     []string
	AuthEvents     []string
	Depth          int64
	OriginServerTS int64
	Unsigned       cjson.Value // optional
}

// Build turns a Proto into a hashed and signed event of this room version.
func (v *RoomVersion) Build(p Proto, serverName string, key signing.Key) (*Event, error) {
	content := p.Content
	if !content.Exists() {
		content = cjson.EmptyObject()
	}
	if content.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: content must be an object", ErrFormat)
	}
	depth := p.Depth
	if depth > cjson.MaxSafeInt {
		depth = cjson.MaxSafeInt
	}
	members := []cjson.Member{
		cjson.M("type", cjson.StrOf(p.Type)),
		cjson.M("sender", cjson.StrOf(p.Sender)),
		cjson.M("origin_server_ts", cjson.IntOf(p.OriginServerTS)),
		cjson.M("depth", cjson.IntOf(depth)),
		cjson.M("prev_events", cjson.Strings(nonNil(p.PrevEvents))),
		cjson.M("auth_events", cjson.Strings(nonNil(p.AuthEvents))),
		cjson.M("signatures", cjson.EmptyObject()),
	}
	isCreate := p.Type == "m.room.create" && p.StateKey != nil && *p.StateKey == ""
	if !(v.RoomIDIsCreateHash && isCreate) {
		members = append(members, cjson.M("room_id", cjson.StrOf(p.RoomID)))
	}
	if p.StateKey != nil {
		members = append(members, cjson.M("state_key", cjson.StrOf(*p.StateKey)))
	}
	if p.Redacts != "" {
		if v.RedactsInContent {
			content = content.With("redacts", cjson.StrOf(p.Redacts))
		} else {
			members = append(members, cjson.M("redacts", cjson.StrOf(p.Redacts)))
		}
	}
	members = append(members, cjson.M("content", content))
	if p.Unsigned.Exists() {
		members = append(members, cjson.M("unsigned", p.Unsigned))
	}
	obj, err := v.SignEvent(cjson.ObjectOf(members...), serverName, key)
	if err != nil {
		return nil, err
	}
	return FromObject(v, obj)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
