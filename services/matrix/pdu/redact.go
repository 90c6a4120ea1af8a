package pdu

import "hearth/services/matrix/cjson"

var topKeysV6 = []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
	"signatures", "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership"}

var topKeysV11 = []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes",
	"signatures", "depth", "prev_events", "auth_events", "origin_server_ts"}

var plKeysV6 = []string{"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
var plKeysV11 = []string{"ban", "events", "events_default", "invite", "kick", "redact", "state_default", "users", "users_default"}

// Redact returns the redacted form of an event object under this version's
// algorithm: the keys that survive at the top level and in content. It is
// idempotent. unsigned is dropped like every other unlisted key.
func (v *RoomVersion) Redact(obj cjson.Value) cjson.Value {
	if obj.Kind() != cjson.Object {
		return obj
	}
	top := topKeysV6
	if v.Redaction >= RedactV11 {
		top = topKeysV11
	}
	out := obj.Only(top...)
	content := obj.Get("content")
	if !content.Exists() {
		return out
	}
	typ, _ := obj.Get("type").Str()
	return out.With("content", v.redactContent(typ, content))
}

func (v *RoomVersion) redactContent(typ string, content cjson.Value) cjson.Value {
	if content.Kind() != cjson.Object {
		return cjson.EmptyObject()
	}
	r := v.Redaction
	switch typ {
	case "m.room.member":
		if r < RedactV9 {
			return content.Only("membership")
		}
		kept := content.Only("membership", "join_authorised_via_users_server")
		if r >= RedactV11 {
			if signed := content.Path("third_party_invite", "signed"); signed.Exists() {
				kept = kept.With("third_party_invite", cjson.ObjectOf(cjson.M("signed", signed)))
			}
		}
		return kept
	case "m.room.create":
		if r >= RedactV11 {
			return content
		}
		return content.Only("creator")
	case "m.room.join_rules":
		if r < RedactV8 {
			return content.Only("join_rule")
		}
		return content.Only("join_rule", "allow")
	case "m.room.power_levels":
		if r >= RedactV11 {
			return content.Only(plKeysV11...)
		}
		return content.Only(plKeysV6...)
	case "m.room.history_visibility":
		return content.Only("history_visibility")
	case "m.room.redaction":
		if r >= RedactV11 {
			return content.Only("redacts")
		}
	}
	return cjson.EmptyObject()
}
