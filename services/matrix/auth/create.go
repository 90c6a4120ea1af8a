package auth

import (
	"strconv"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
	"hearth/services/matrix/pdu"
)

// checkCreate applies rule 1 to an event of type m.room.create. Like the spec
// text, it goes by type alone; the state key is not examined. Rule 1 decides
// the event, so no later rule (auth events, membership, power) applies.
func checkCreate(v *pdu.RoomVersion, ev *pdu.Event) error {
	if len(ev.PrevEvents()) > 0 {
		return reject(v, "1.1", "m.room.create has prev_events")
	}
	if v.RoomIDIsCreateHash {
		if ev.Object().Has("room_id") {
			return reject(v, "1.2", "m.room.create has a room_id")
		}
	} else if pdu.Domain(ev.RoomID()) != ev.SenderDomain() {
		return reject(v, "1.2", "room ID domain %q is not the sender's domain %q", pdu.Domain(ev.RoomID()), ev.SenderDomain())
	}
	content := ev.Content()
	if rv := content.Get("room_version"); rv.Exists() {
		s, ok := rv.Str()
		if _, known := pdu.Version(s); !ok || !known {
			return reject(v, "1.3", "room_version %s is not a recognised version", rv)
		}
	}
	switch {
	case v.PrivilegedCreators:
		if ac := content.Get("additional_creators"); ac.Exists() {
			if why := invalidCreators(ac); why != "" {
				return reject(v, "1.4", "additional_creators %s", why)
			}
		}
	case !v.CreatorIsSender:
		if !content.Has("creator") {
			return reject(v, "1.4", "content has no creator")
		}
	}
	return nil
}

// invalidCreators says why additional_creators is not an array of user IDs,
// or "" if it is. Each entry must pass the lenient user ID grammar
// (ids.ParseUserIDLenient), the validation applied to event senders.
func invalidCreators(ac cjson.Value) string {
	if ac.Kind() != cjson.Array {
		return "is not an array"
	}
	for _, it := range ac.Items() {
		s, ok := it.Str()
		if !ok {
			return "holds a " + it.Kind().String() + ", not a user ID"
		}
		if !validUserID(s) {
			return "holds " + strconv.Quote(s) + ", not a valid user ID"
		}
	}
	return ""
}

// validUserID reports whether s is a user ID under the grammar the server
// accepts from other servers (historical localparts included).
func validUserID(s string) bool {
	_, err := ids.ParseUserIDLenient(s)
	return err == nil
}
