package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

// The resident side of the membership handshakes: make_* hands out a
// template, send_* accepts the signed event.

func (s *Server) handleMake(membership string) func(w http.ResponseWriter, r *request) error {
	return func(w http.ResponseWriter, r *request) error {
		ctx := r.Context()
		roomID, userID := r.PathValue("roomId"), r.PathValue("userId")
		if pdu.Domain(userID) != r.origin {
			return errForbidden("the user does not belong to the requesting server")
		}
		ver, err := s.roomVersion(ctx, roomID)
		if err != nil {
			return err
		}
		if err := s.checkACL(ctx, roomID, r.origin); err != nil {
			return err
		}
		if membership != "leave" {
			supported := r.URL.Query()["ver"]
			if len(supported) == 0 {
				supported = []string{"1"} // the spec's default
			}
			if !slices.Contains(supported, ver.ID) {
				return &Error{Status: http.StatusBadRequest, Code: "M_INCOMPATIBLE_ROOM_VERSION",
					Msg: "the room's version " + ver.ID + " is not one the server supports"}
			}
		}
		_, tmpl, err := s.o.Rooms.MembershipTemplate(ctx, roomID, userID, membership)
		if err != nil {
			return mapRoomErr(err)
		}
		writeJSON(w, http.StatusOK, map[string]any{"room_version": ver.ID, "event": json.RawMessage(cjson.Encode(tmpl))})
		return nil
	}
}

// receiveMembership checks a send_* body: the signed membership event of
// one of the origin's users, with the event ID of the path.
func (s *Server) receiveMembership(ctx context.Context, r *request, membership string) (*pdu.Event, error) {
	roomID, eventID := r.PathValue("roomId"), r.PathValue("eventId")
	ver, err := s.roomVersion(ctx, roomID)
	if err != nil {
		return nil, err
	}
	if err := s.checkACL(ctx, roomID, r.origin); err != nil {
		return nil, err
	}
	if len(r.body) > MaxPDUBytes {
		return nil, errf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "event over %d bytes", MaxPDUBytes)
	}
	ev, err := pdu.Parse(ver, r.body)
	if err != nil {
		return nil, errBadJSON("bad event: %v", err)
	}
	sk, _ := ev.StateKey()
	switch {
	case ev.ID() != eventID:
		return nil, errBadJSON("the event ID is %s, not %s", ev.ID(), eventID)
	case ev.RoomID() != roomID || ev.Type() != "m.room.member" || ev.Membership() != membership:
		return nil, errBadJSON("not a %s event of this room", membership)
	case sk != ev.Sender() || pdu.Domain(ev.Sender()) != r.origin:
		return nil, errForbidden("the event is not the requesting server's user's own %s", membership)
	}
	if membership == "join" {
		// A restricted join we authorise carries our signature too.
		if via, ok := ev.Content().Get("join_authorised_via_users_server").Str(); ok && pdu.Domain(via) == s.o.ServerName {
			if ev, err = s.o.Rooms.CoSign(ev); err != nil {
				return nil, err
			}
		}
	}
	if err := pdu.VerifySignatures(ev, s.o.Keys.Lookup(ctx, ev.OriginServerTS())); err != nil {
		return nil, errForbidden("signature check failed: %v", err)
	}
	if !ev.ContentHashOK() {
		return nil, errBadJSON("content hash mismatch")
	}
	got, err := s.o.Rooms.Receive(ctx, ev, s.fetcherFor(r.origin, ver))
	if err != nil {
		return nil, mapRoomErr(err)
	}
	if got.Outcome.String() != "accepted" {
		return nil, errForbidden("the %s is %s: %s", membership, got.Outcome, got.Reason)
	}
	return ev, nil
}

func (s *Server) handleSendJoin(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	ev, err := s.receiveMembership(ctx, r, "join")
	if err != nil {
		return err
	}
	state, err := s.o.Rooms.StateBefore(ctx, ev.RoomID(), ev.ID())
	if err != nil {
		return mapRoomErr(err)
	}
	list := make([]*pdu.Event, 0, len(state))
	for _, e := range state {
		list = append(list, e)
	}
	chain, err := s.o.Rooms.AuthChain(ctx, ev.RoomID(), append(list, ev))
	if err != nil {
		return mapRoomErr(err)
	}
	servers, err := s.o.Rooms.ServersInRoom(ctx, ev.RoomID())
	if err != nil {
		return mapRoomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"origin": s.o.ServerName, "state": rawPDUs(list), "auth_chain": rawPDUs(chain),
		"event": json.RawMessage(ev.JSON()), "members_omitted": false, "servers_in_room": servers,
	})
	return nil
}

func (s *Server) handleSendLeave(w http.ResponseWriter, r *request) error {
	if _, err := s.receiveMembership(r.Context(), r, "leave"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (s *Server) handleSendKnock(w http.ResponseWriter, r *request) error {
	ev, err := s.receiveMembership(r.Context(), r, "knock")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"knock_room_state": s.strippedState(r.Context(), ev.RoomID())})
	return nil
}

// strippedTypes are the state events an invitee or knocker may see.
var strippedTypes = []string{"m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar",
	"m.room.topic", "m.room.canonical_alias", "m.room.encryption"}

// strippedState is the stripped state of a room for invites and knocks.
func (s *Server) strippedState(ctx context.Context, roomID string) []map[string]any {
	out := []map[string]any{}
	for _, t := range strippedTypes {
		ev, err := s.o.Rooms.StateEvent(ctx, roomID, t, "")
		if err != nil {
			continue
		}
		out = append(out, map[string]any{"type": ev.Type(), "state_key": "", "sender": ev.Sender(),
			"content": json.RawMessage(cjson.Encode(ev.Content()))})
	}
	return out
}

// handleInvite is PUT /v2/invite: a remote server invites one of our
// users. We co-sign the invite and keep it (with the stripped state it
// came with) so the user sees it.
func (s *Server) handleInvite(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	var body struct {
		RoomVersion     string            `json:"room_version"`
		Event           json.RawMessage   `json:"event"`
		InviteRoomState []json.RawMessage `json:"invite_room_state"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		return errBadJSON("bad invite: %v", err)
	}
	ver, ok := pdu.Version(body.RoomVersion)
	if !ok {
		return &Error{Status: http.StatusBadRequest, Code: "M_INCOMPATIBLE_ROOM_VERSION", Msg: "unsupported room version " + body.RoomVersion}
	}
	if len(body.Event) > MaxPDUBytes || len(body.InviteRoomState) > 64 {
		return errf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "invite too large")
	}
	ev, err := pdu.Parse(ver, body.Event)
	if err != nil {
		return errBadJSON("bad invite event: %v", err)
	}
	sk, _ := ev.StateKey()
	switch {
	case ev.ID() != r.PathValue("eventId") || ev.RoomID() != r.PathValue("roomId"):
		return errBadJSON("the event does not match the path")
	case ev.Type() != "m.room.member" || ev.Membership() != "invite":
		return errBadJSON("not an invite")
	case pdu.Domain(sk) != s.o.ServerName:
		return errForbidden("the invitee is not a user of this server")
	case pdu.Domain(ev.Sender()) != r.origin:
		return errForbidden("the inviter does not belong to the requesting server")
	}
	if err := s.checkACL(ctx, ev.RoomID(), r.origin); err != nil {
		return err
	}
	if err := pdu.VerifySignatures(ev, s.o.Keys.Lookup(ctx, ev.OriginServerTS())); err != nil {
		return errForbidden("signature check failed: %v", err)
	}
	signed, err := s.o.Rooms.CoSign(ev)
	if err != nil {
		return err
	}
	if !s.o.Rooms.KnowsRoom(ctx, ev.RoomID()) || s.o.Rooms.IsStub(ctx, ev.RoomID()) {
		// We are not in the room: keep the invite with its stripped state
		// (in unsigned, where clients read it) for the invitee.
		stripped := make([]cjson.Value, 0, len(body.InviteRoomState))
		for _, raw := range body.InviteRoomState {
			if v, err := cjson.Decode(raw); err == nil {
				stripped = append(stripped, v)
			}
		}
		withState, err := pdu.FromObject(ver, signed.Object().With("unsigned",
			cjson.ObjectOf(cjson.M("invite_room_state", cjson.ArrayOf(stripped...)))))
		if err != nil {
			return errBadJSON("%v", err)
		}
		if _, err := s.o.Rooms.StoreStubMembership(ctx, withState); err != nil {
			return mapRoomErr(err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"event": json.RawMessage(signed.JSON())})
	return nil
}
