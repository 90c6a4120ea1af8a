package clientapi

import (
	"context"
	"errors"
	"net/http"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
)

// Knocking (spec: knocking.yaml, "Knocking on rooms").
//
// Decisions the spec leaves to the server:
//   - Only rooms this server knows are knockable: knocking over federation
//     (make_knock/send_knock) is not implemented, so an unknown room or a
//     remote alias is 404 M_NOT_FOUND saying so. `via` and the older
//     `server_name` query parameters are accepted and unused for now.
//   - A room whose version predates knocking (v1–v6) is "not set up for
//     knocking": 403 M_FORBIDDEN, as knocking.yaml lists no other error.
//   - The knock carries the knocker's displayname and avatar_url from their
//     profile, as joins do in other servers, so admins can see who knocks.
//   - Accepting a knock is an ordinary invite; the invitee then joins.
//     Knocks are not auto-accepted.

func (a *API) knockRoom(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	_ = r.URL.Query()["via"]         // accepted; no federation yet
	_ = r.URL.Query()["server_name"] // deprecated form of via
	roomID, err := a.resolveRoom(r, r.PathValue("roomIdOrAlias"))
	if err != nil {
		return err
	}
	ver, err := a.opts.Rooms.Version(r.Context(), roomID)
	if errors.Is(err, roomserver.ErrNotFound) {
		return errNotFound("Room %s is not known to this server (knocking on rooms on other servers is not supported yet)", roomID)
	}
	if err != nil {
		return roomErr(err)
	}
	if !ver.Knocking {
		return errForbidden("Room version %s does not support knocking", ver.ID)
	}
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	content := a.memberContent(r.Context(), c.UserID, "knock")
	if reason := body.Get("reason"); reason.Exists() {
		s, ok := reason.Str()
		if !ok {
			return errBadJSON("reason must be a string")
		}
		content = content.With("reason", cjson.StrOf(s))
	}
	uid := c.UserID
	if _, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: "m.room.member", StateKey: &uid, Sender: c.UserID, Content: content}, nil); err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"room_id": roomID})
	return nil
}

// memberContent is a membership event's content with the user's global
// displayname and avatar_url, when the users service knows them.
func (a *API) memberContent(ctx context.Context, userID, membership string) cjson.Value {
	content := cjson.ObjectOf(cjson.M("membership", cjson.StrOf(membership)))
	if a.opts.Users == nil {
		return content
	}
	p, err := a.opts.Users.Profile(userID)
	if err != nil {
		return content
	}
	if p.DisplayName != "" {
		content = content.With("displayname", cjson.StrOf(p.DisplayName))
	}
	if p.AvatarURL != "" {
		content = content.With("avatar_url", cjson.StrOf(p.AvatarURL))
	}
	return content
}
