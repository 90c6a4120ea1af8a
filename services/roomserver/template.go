package roomserver

import (
	"context"
	"errors"
	"fmt"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// The membership handshakes of federation (make_join/send_join,
// make_leave/send_leave, make_knock/send_knock): the resident server
// hands out an unsigned template; the joining server rebuilds the event
// from it, signs it and sends it back.

// Errors of the handshakes.
var (
	// ErrUnableToAuthorise: a restricted join needs a local user who may
	// invite, and there is none (M_UNABLE_TO_AUTHORISE_JOIN).
	ErrUnableToAuthorise = errors.New("roomserver: no local user can authorise the join")
	// ErrBadTemplate: a template from another server is not the event we
	// asked for.
	ErrBadTemplate = errors.New("roomserver: bad event template")
)

// MembershipTemplate builds the template of a membership event of a
// remote user (join, leave or knock) on the room's current state, checking
// that the auth rules would allow it. For a restricted join it names a
// local user able to invite in join_authorised_via_users_server.
func (s *Server) MembershipTemplate(ctx context.Context, roomID, userID, membership string) (*pdu.RoomVersion, cjson.Value, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, cjson.Value{}, err
	}
	content := cjson.ObjectOf(cjson.M("membership", cjson.StrOf(membership)))
	if membership == "join" {
		// Decided on a snapshot of the state, without holding the room's
		// lock while other rooms are looked at.
		if via, err := s.restrictedAuthoriser(r, r.currentView().events, userID); err != nil {
			return nil, cjson.Value{}, err
		} else if via != "" {
			content = content.With("join_authorised_via_users_server", cjson.StrOf(via))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sk := userID
	ev, err := s.build(r, Event{Type: "m.room.member", StateKey: &sk, Sender: userID, Content: content}, r.state, r.extremities, r.depth)
	if err != nil {
		return nil, cjson.Value{}, err
	}
	if err := auth.Allowed(ev, r.state); err != nil {
		return nil, cjson.Value{}, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return r.ver, ev.Object().Without("signatures", "hashes", "unsigned", "event_id"), nil
}

// restrictedAuthoriser picks the local user that authorises a restricted
// join, or "" when the join needs none (public room, or the user is
// already invited or joined).
func (s *Server) restrictedAuthoriser(r *room, state pdu.StateMap, userID string) (string, error) {
	jr := state.Get("m.room.join_rules", "")
	if jr == nil || !r.ver.Restricted {
		return "", nil
	}
	rule, _ := jr.Content().Get("join_rule").Str()
	if rule != "restricted" && rule != "knock_restricted" {
		return "", nil
	}
	if m := state.Get("m.room.member", userID); m != nil && (m.Membership() == "join" || m.Membership() == "invite") {
		return "", nil
	}
	if !s.meetsAllow(r, jr, userID) {
		return "", fmt.Errorf("%w: %s is not a member of a room the join rules allow", ErrForbidden, userID)
	}
	levels, err := power.FromState(r.ver, state)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnableToAuthorise, err)
	}
	for k, m := range state {
		if k.Type == "m.room.member" && m.Membership() == "join" && pdu.Domain(k.StateKey) == s.opts.ServerName &&
			levels.User(k.StateKey) >= levels.Invite {
			return k.StateKey, nil
		}
	}
	return "", ErrUnableToAuthorise
}

// EventFromTemplate rebuilds, hashes and signs a local user's membership
// event from a template another server sent. Only the room, the DAG
// position (prev_events, auth_events, depth) and, for a restricted join,
// the authorising user are taken from the template; everything else is
// ours. The template must be the membership event we asked for.
func (s *Server) EventFromTemplate(ver *pdu.RoomVersion, template cjson.Value, userID, membership string, content cjson.Value) (*pdu.Event, error) {
	str := func(k string) string { v, _ := template.Get(k).Str(); return v }
	if template.Kind() != cjson.Object || str("type") != "m.room.member" || str("sender") != userID ||
		str("state_key") != userID || template.Get("content").Get("membership").StrOr("") != membership {
		return nil, fmt.Errorf("%w: not a %s of %s", ErrBadTemplate, membership, userID)
	}
	roomID := str("room_id")
	prev, ok1 := template.Get("prev_events").StringList()
	authIDs, ok2 := template.Get("auth_events").StringList()
	depth, ok3 := template.Get("depth").IntValue()
	if roomID == "" || !ok1 || !ok2 || !ok3 || len(prev) == 0 || len(prev) > pdu.MaxPrevEvents || len(authIDs) > 10 || depth < 1 {
		return nil, fmt.Errorf("%w: room_id, prev_events, auth_events or depth missing or out of range", ErrBadTemplate)
	}
	if content.Kind() != cjson.Object {
		content = cjson.EmptyObject()
	}
	content = content.With("membership", cjson.StrOf(membership))
	if membership == "join" {
		if via, ok := template.Get("content").Get("join_authorised_via_users_server").Str(); ok {
			content = content.With("join_authorised_via_users_server", cjson.StrOf(via))
		}
	}
	sk := userID
	ev, err := ver.Build(pdu.Proto{
		Type: "m.room.member", StateKey: &sk, Sender: userID, RoomID: roomID, Content: content,
		PrevEvents: prev, AuthEvents: authIDs, Depth: depth, OriginServerTS: s.now(),
	}, s.opts.ServerName, s.opts.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTemplate, err)
	}
	return ev, nil
}

// CoSign adds this server's signature to an event (a restricted join we
// authorise, or an invite of a local user).
func (s *Server) CoSign(ev *pdu.Event) (*pdu.Event, error) {
	obj, err := ev.Version().SignEvent(ev.Object(), s.opts.ServerName, s.opts.Key)
	if err != nil {
		return nil, err
	}
	return pdu.FromObject(ev.Version(), obj)
}

// meetsAllow reports whether the user is joined to one of the rooms a
// restricted join rule allows, as far as this server knows (rooms it is
// not in cannot vouch for anyone).
func (s *Server) meetsAllow(r *room, joinRules *pdu.Event, userID string) bool {
	for _, cond := range joinRules.Content().Get("allow").Items() {
		if t, _ := cond.Get("type").Str(); t != "m.room_membership" {
			continue
		}
		allowed, _ := cond.Get("room_id").Str()
		if allowed == "" || allowed == r.id {
			continue
		}
		other, err := s.room(allowed)
		if err != nil {
			continue
		}
		m := other.currentView().events.Get("m.room.member", userID)
		if m != nil && m.Membership() == "join" {
			return true
		}
	}
	return false
}
