package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

func (a *API) routesRooms() {
	a.client("POST", "/createRoom", a.authed(a.createRoom))
	a.client("POST", "/join/{roomIdOrAlias}", a.authed(a.joinRoom))
	a.client("POST", "/rooms/{roomId}/join", a.authed(a.joinRoom))
	a.client("POST", "/rooms/{roomId}/invite", a.authed(a.membershipOf("invite")))
	a.client("POST", "/rooms/{roomId}/kick", a.authed(a.membershipOf("leave")))
	a.client("POST", "/rooms/{roomId}/ban", a.authed(a.membershipOf("ban")))
	a.client("POST", "/rooms/{roomId}/unban", a.authed(a.membershipOf("unban")))
	a.client("POST", "/rooms/{roomId}/leave", a.authed(a.leaveRoom))
	a.client("GET", "/joined_rooms", a.authed(a.joinedRooms))
	a.routesEvents()
}

type createRoomBody struct {
	Visibility      string            `json:"visibility"`
	RoomAliasName   string            `json:"room_alias_name"`
	Name            *string           `json:"name"`
	Topic           *string           `json:"topic"`
	Invite          []string          `json:"invite"`
	RoomVersion     string            `json:"room_version"`
	CreationContent json.RawMessage   `json:"creation_content"`
	InitialState    []initialStateDef `json:"initial_state"`
	Preset          string            `json:"preset"`
	IsDirect        bool              `json:"is_direct"`
	PowerOverride   json.RawMessage   `json:"power_level_content_override"`
}

type initialStateDef struct {
	Type     string          `json:"type"`
	StateKey string          `json:"state_key"`
	Content  json.RawMessage `json:"content"`
}

// Bounds on createRoom lists.
const (
	maxInvites      = 100
	maxInitialState = 50
)

func (a *API) createRoom(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	var body createRoomBody
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if len(body.Invite) > maxInvites || len(body.InitialState) > maxInitialState {
		return errInvalidParam("Too many invites or initial state events")
	}
	switch body.Visibility {
	case "", "private", "public":
	default:
		return errInvalidParam("visibility must be public or private")
	}
	for _, u := range body.Invite {
		if _, err := ids.ParseUserIDLenient(u); err != nil {
			return errInvalidParam("Invalid user ID %q", u)
		}
	}
	req := roomserver.CreateRequest{
		Creator: c.UserID, Version: body.RoomVersion, Preset: body.Preset, Public: body.Visibility == "public",
		Invite: body.Invite, IsDirect: body.IsDirect,
	}
	if body.Name != nil {
		req.Name = *body.Name
	}
	if body.Topic != nil {
		req.Topic = *body.Topic
	}
	if body.RoomAliasName != "" {
		alias, err := a.localAliasFromName(body.RoomAliasName)
		if err != nil {
			return err
		}
		req.Alias = alias // claimed with the room; taken: 400 M_ROOM_IN_USE
	}
	var err error
	if req.CreationContent, err = optionalObject(body.CreationContent, "creation_content"); err != nil {
		return err
	}
	if req.PowerLevelOverride, err = optionalObject(body.PowerOverride, "power_level_content_override"); err != nil {
		return err
	}
	for _, s := range body.InitialState {
		content, err := optionalObject(s.Content, "initial_state content")
		if err != nil {
			return err
		}
		if s.Type == "" {
			return errMissingParam("initial_state event without type")
		}
		key := s.StateKey
		req.InitialState = append(req.InitialState, roomserver.Event{Type: s.Type, StateKey: &key, Content: content})
	}
	switch req.Preset {
	case "", "private_chat", "public_chat", "trusted_private_chat":
	default:
		return errInvalidParam("Unknown preset %q", req.Preset)
	}
	roomID, err := a.opts.Rooms.CreateRoom(r.Context(), req)
	if err != nil {
		return dirErr(err)
	}
	if body.Visibility == "public" {
		if err := a.opts.Rooms.SetPublished(r.Context(), roomID, true); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"room_id": roomID})
	return nil
}

// optionalObject decodes an optional JSON object field with canonical rules.
func optionalObject(raw json.RawMessage, field string) (cjson.Value, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return cjson.Value{}, nil
	}
	v, err := cjson.Decode(raw)
	if err != nil {
		return cjson.Value{}, errBadJSON("%s: %v", field, err)
	}
	if v.Kind() != cjson.Object {
		return cjson.Value{}, errBadJSON("%s must be an object", field)
	}
	return v, nil
}

func (a *API) joinRoom(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID := r.PathValue("roomId")
	if roomID == "" {
		roomID = r.PathValue("roomIdOrAlias")
	}
	roomID, servers, err := a.resolveRoomServers(r, roomID)
	if err != nil {
		return err
	}
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	content := cjson.ObjectOf(cjson.M("membership", cjson.StrOf("join")))
	if reason, ok := body.Get("reason").Str(); ok {
		content = content.With("reason", cjson.StrOf(reason))
	}
	if m, err := a.opts.Rooms.Membership(r.Context(), roomID, c.UserID); err == nil && m == "join" {
		writeJSON(w, http.StatusOK, map[string]string{"room_id": roomID})
		return nil
	}
	if a.opts.Federation != nil && !a.inRoom(r.Context(), roomID) {
		servers = append(viaServers(r), servers...)
		if err := a.opts.Federation.Join(r.Context(), c.UserID, roomID, servers, content); err != nil {
			return remoteErr(err)
		}
		writeJSON(w, http.StatusOK, map[string]string{"room_id": roomID})
		return nil
	}
	uid := c.UserID
	if _, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: "m.room.member", StateKey: &uid, Sender: c.UserID, Content: content}, nil); err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"room_id": roomID})
	return nil
}

// membershipOf handles invite, kick, ban and unban: the caller changes the
// membership of body.user_id.
func (a *API) membershipOf(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c := CallerOf(r)
		roomID := r.PathValue("roomId")
		body, err := a.readObject(r)
		if err != nil {
			return err
		}
		target, ok := body.Get("user_id").Str()
		if !ok {
			return errMissingParam("user_id is required")
		}
		if _, err := ids.ParseUserIDLenient(target); err != nil {
			return errInvalidParam("Invalid user_id")
		}
		membership := action
		if action == "unban" {
			if m, _ := a.opts.Rooms.Membership(r.Context(), roomID, target); m != "ban" {
				return errForbidden("%s is not banned", target)
			}
			membership = "leave"
		}
		if action == "invite" {
			if m, _ := a.opts.Rooms.Membership(r.Context(), roomID, target); m == "join" {
				return errForbidden("%s is already in the room", target)
			}
		}
		content := cjson.ObjectOf(cjson.M("membership", cjson.StrOf(membership)))
		if reason, ok := body.Get("reason").Str(); ok {
			content = content.With("reason", cjson.StrOf(reason))
		}
		if action == "invite" && a.opts.Federation != nil && pdu.Domain(target) != a.opts.ServerName {
			if _, err := a.opts.Federation.Invite(r.Context(), roomID, c.UserID, target, content); err != nil {
				if errors.Is(err, roomserver.ErrForbidden) || errors.Is(err, roomserver.ErrNotFound) {
					return roomErr(err)
				}
				return remoteErr(err)
			}
			writeJSON(w, http.StatusOK, struct{}{})
			return nil
		}
		if _, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: "m.room.member", StateKey: &target, Sender: c.UserID, Content: content}, nil); err != nil {
			return roomErr(err)
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
}

func (a *API) leaveRoom(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID := r.PathValue("roomId")
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	content := cjson.ObjectOf(cjson.M("membership", cjson.StrOf("leave")))
	if reason, ok := body.Get("reason").Str(); ok {
		content = content.With("reason", cjson.StrOf(reason))
	}
	if a.opts.Federation != nil && a.opts.Rooms.IsStub(r.Context(), roomID) {
		// Rejecting an invite (or retracting a knock) to a room this
		// server is not in goes through the inviter's server.
		if err := a.opts.Federation.Leave(r.Context(), c.UserID, roomID, a.inviterServer(r.Context(), roomID, c.UserID)); err != nil {
			return remoteErr(err)
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
	uid := c.UserID
	if _, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: "m.room.member", StateKey: &uid, Sender: c.UserID, Content: content}, nil); err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) joinedRooms(w http.ResponseWriter, r *http.Request) error {
	rooms, err := a.opts.Rooms.RoomsOf(r.Context(), CallerOf(r).UserID)
	if err != nil {
		return err
	}
	joined := []string{}
	for id, m := range rooms {
		if m == "join" {
			joined = append(joined, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"joined_rooms": joined})
	return nil
}
