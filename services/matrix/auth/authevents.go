package auth

import (
	"hearth/services/matrix/pdu"
)

// CheckAuthEvents applies rule 3 (rule 2 in v6–v11) to ev's auth events:
//
//   - 3.1: no two entries share a (type, state_key) pair (an ID listed twice
//     in auth_events counts as a duplicate);
//   - 3.2: every entry is one the auth events selection algorithm picks for
//     ev (pdu.RoomVersion.AuthEventKeys; in v12 never the create event);
//   - 3.4 (v6–v11): an m.room.create event is among them;
//   - 3.5: every entry belongs to ev's room.
//
// authEvents must hold every event ev.AuthEvents() names, in any order; a
// missing one is an error, since the rules cannot be applied without it. In
// room version 12 the caller may add the room's create event, which is never
// an auth event: if it is given and not named in auth_events, it is used only
// to check rule 2 (ev's room ID is the create event's ID). Any other event
// not named in auth_events is an error.
//
// Rule 3.3 (no entry was itself rejected) is the caller's job: only it knows
// which events were rejected. A caller must reject ev if any of its auth
// events was rejected, before or after calling CheckAuthEvents.
//
// An m.room.create event is decided by rule 1 alone, so CheckAuthEvents
// returns nil for one.
func CheckAuthEvents(ev *pdu.Event, authEvents []*pdu.Event) error {
	if ev == nil || ev.Version() == nil {
		return &Error{Rule: "state", Reason: "no event or room version"}
	}
	v := ev.Version()
	if ev.Type() == "m.room.create" {
		return nil
	}
	named := make(map[string]bool, len(ev.AuthEvents()))
	for _, id := range ev.AuthEvents() {
		if named[id] {
			return reject(v, "3.1", "auth_events lists %s twice", id)
		}
		named[id] = true
	}
	var list []*pdu.Event // the named auth events, each once
	seenID := make(map[string]bool, len(authEvents))
	for _, a := range authEvents {
		switch {
		case a == nil || seenID[a.ID()]:
			continue
		case named[a.ID()]:
			seenID[a.ID()] = true
			list = append(list, a)
		case v.RoomIDIsCreateHash && a.StateKeyIs("m.room.create", ""):
			if pdu.RoomIDFromCreateEventID(a.ID()) != ev.RoomID() {
				return reject(v, "2", "room ID %q is not the ID of the create event %s", ev.RoomID(), a.ID())
			}
		default:
			return reject(v, "3", "%s is not named in auth_events", a.ID())
		}
	}
	for _, id := range ev.AuthEvents() {
		if !seenID[id] {
			return reject(v, "3", "auth event %s was not supplied", id)
		}
	}
	seenKey := make(map[pdu.TypeKey]bool, len(list))
	for _, a := range list {
		if !a.IsState() {
			continue // not a state event: rule 3.2 rejects it
		}
		if seenKey[a.Key()] {
			return reject(v, "3.1", "auth_events has two %s events with state key %q", a.Type(), a.Key().StateKey)
		}
		seenKey[a.Key()] = true
	}
	stateKey, _ := ev.StateKey()
	allowed := map[pdu.TypeKey]bool{}
	for _, k := range v.AuthEventKeys(ev.Type(), stateKey, ev.Sender(), ev.Content()) {
		allowed[k] = true
	}
	for _, a := range list {
		if !a.IsState() || !allowed[a.Key()] {
			return reject(v, "3.2", "auth event %s (%s, %q) is not one the selection algorithm picks for this event", a.ID(), a.Type(), a.Key().StateKey)
		}
	}
	if !v.RoomIDIsCreateHash && !seenKey[pdu.TypeKey{Type: "m.room.create"}] {
		return reject(v, "3.4", "no m.room.create event among the auth events")
	}
	for _, a := range list {
		if a.RoomID() != ev.RoomID() {
			return reject(v, "3.5", "auth event %s belongs to room %q, not %q", a.ID(), a.RoomID(), ev.RoomID())
		}
	}
	return nil
}
