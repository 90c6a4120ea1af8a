package pdu

import "hearth/services/matrix/cjson"

// AuthEventKeys lists the state an event of this kind must cite as its
// auth_events (server-server API, "Auth events selection"). The caller picks
// the current event for each key that exists.
func (v *RoomVersion) AuthEventKeys(typ, stateKey, sender string, content cjson.Value) []TypeKey {
	if typ == "m.room.create" && stateKey == "" {
		return nil
	}
	keys := make([]TypeKey, 0, 6)
	if !v.RoomIDIsCreateHash {
		keys = append(keys, TypeKey{"m.room.create", ""})
	}
	keys = append(keys, TypeKey{"m.room.power_levels", ""}, TypeKey{"m.room.member", sender})
	if typ != "m.room.member" {
		return keys
	}
	if stateKey != sender {
		keys = append(keys, TypeKey{"m.room.member", stateKey})
	}
	membership := content.Get("membership").StrOr("")
	switch membership {
	case "join", "invite", "knock":
		keys = append(keys, TypeKey{"m.room.join_rules", ""})
	}
	if membership == "invite" {
		if token, ok := content.Path("third_party_invite", "signed", "token").Str(); ok {
			keys = append(keys, TypeKey{"m.room.third_party_invite", token})
		}
	}
	if membership == "join" && v.Restricted {
		if via, ok := content.Get("join_authorised_via_users_server").Str(); ok && via != sender {
			keys = append(keys, TypeKey{"m.room.member", via})
		}
	}
	return keys
}

// SelectAuthEvents returns the IDs of the current state events an event must
// cite, in the order of AuthEventKeys.
func (v *RoomVersion) SelectAuthEvents(typ, stateKey, sender string, content cjson.Value, state State) []string {
	var ids []string
	for _, k := range v.AuthEventKeys(typ, stateKey, sender, content) {
		if e := state.Get(k.Type, k.StateKey); e != nil {
			ids = append(ids, e.ID())
		}
	}
	return ids
}
