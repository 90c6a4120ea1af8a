package auth

import (
	"strings"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// Allowed applies the authorization rules of ev's room version, except rule 3
// (see CheckAuthEvents), to ev against state, the room state the event is
// checked against (the state before it, or a StateMap of its own auth
// events). It returns nil if allowed, otherwise an *Error.
//
// Rule 2 of room version 12 ("the room ID is the ID of an accepted create
// event") is checked against the create event in state: it must exist and
// its ID must give ev's room ID. That the create event was accepted is the
// caller's knowledge, as is every other "not rejected" condition. Before v12
// the create event in state must exist and belong to ev's room. In v12 the
// create event is never among an event's auth events, so a caller checking
// an event against a StateMap of its auth events must add the create event.
//
// Allowed does not verify signatures; see rule 5.2 in member.go.
func Allowed(ev *pdu.Event, state pdu.State) error {
	if ev == nil {
		return &Error{Rule: "state", Reason: "no event"}
	}
	v := ev.Version()
	if v == nil {
		return &Error{Rule: "state", Reason: "event has no room version"}
	}
	if ev.Type() == "m.room.create" {
		return checkCreate(v, ev)
	}
	if state == nil {
		state = pdu.StateMap(nil)
	}
	create := state.Get("m.room.create", "")
	if err := checkCreateInState(v, ev, create); err != nil {
		return err
	}
	if federate, ok := create.Content().Get("m.federate").BoolValue(); ok && !federate &&
		ev.SenderDomain() != create.SenderDomain() {
		return reject(v, "4", "room does not federate and sender's server %q is not the creator's", ev.SenderDomain())
	}
	levels, err := power.FromState(v, state)
	if err != nil {
		return &Error{Rule: "state", Reason: "current m.room.power_levels cannot be read: " + err.Error()}
	}
	c := &checker{v: v, ev: ev, state: state, create: create, levels: levels}
	if ev.Type() == "m.room.member" {
		return c.member()
	}
	sender := ev.Sender()
	if c.membership(sender) != "join" {
		return reject(v, "6", "sender is not joined to the room")
	}
	senderLevel := levels.User(sender)
	if ev.Type() == "m.room.third_party_invite" {
		if senderLevel >= levels.Invite {
			return nil
		}
		return reject(v, "7.1", "sender's power level %d is below the invite level %d", senderLevel, levels.Invite)
	}
	if need := levels.Event(ev.Type(), ev.IsState()); need > senderLevel {
		return reject(v, "8", "sending %s needs power level %d, sender has %d", ev.Type(), need, senderLevel)
	}
	if sk, ok := ev.StateKey(); ok && strings.HasPrefix(sk, "@") && sk != sender {
		return reject(v, "9", "state key %q starts with @ and is not the sender", sk)
	}
	if ev.Type() == "m.room.power_levels" {
		return c.powerLevels()
	}
	return nil
}

// checkCreateInState applies v12 rule 2 and, before v12, requires the create
// event that rule 3.4 guarantees among the auth events (and rule 3.5's same
// room).
func checkCreateInState(v *pdu.RoomVersion, ev, create *pdu.Event) error {
	if v.RoomIDIsCreateHash {
		if create == nil {
			return reject(v, "2", "no m.room.create event in the room state")
		}
		if pdu.RoomIDFromCreateEventID(create.ID()) != ev.RoomID() {
			return reject(v, "2", "room ID %q is not the ID of the create event %s", ev.RoomID(), create.ID())
		}
		return nil
	}
	if create == nil {
		return reject(v, "3.4", "no m.room.create event in the room state")
	}
	if create.RoomID() != ev.RoomID() {
		return reject(v, "3.5", "the m.room.create event belongs to room %q, not %q", create.RoomID(), ev.RoomID())
	}
	return nil
}

// checker holds what the rules after rule 4 read.
type checker struct {
	v      *pdu.RoomVersion
	ev     *pdu.Event
	state  pdu.State
	create *pdu.Event
	levels power.Levels
}

// membership is a user's current membership, "" if none (or not a string).
func (c *checker) membership(userID string) string {
	if m := c.state.Get("m.room.member", userID); m != nil {
		return m.Membership()
	}
	return ""
}

// joinRule is the current join rule. A room without an m.room.join_rules
// event, or one whose content has no join_rule, is treated as "invite" (the
// spec is silent; this is the restrictive choice other servers make too). A
// join_rule that is not a string is "", which matches no rule.
func (c *checker) joinRule() string {
	jr := c.state.Get("m.room.join_rules", "")
	if jr == nil {
		return "invite"
	}
	val := jr.Content().Get("join_rule")
	if !val.Exists() {
		return "invite"
	}
	return val.StrOr("")
}
