package clientapi

import (
	"net/http"

	"hearth/services/matrix/ids"
	"hearth/services/roomserver"
)

// routesRoomExtras adds knocking, room upgrades and the user directory.
func (a *API) routesRoomExtras() {
	a.client("POST", "/knock/{roomIdOrAlias}", a.authed(a.knockRoom))
	a.client("POST", "/rooms/{roomId}/upgrade", a.authed(a.upgradeRoom))
	a.client("POST", "/user_directory/search", a.authed(a.searchUserDirectory))
}

// Room upgrades (spec: room_upgrades.yaml, "Room Upgrades" server
// behaviour). The room server does the work (see roomserver.UpgradeRoom);
// here the body is checked and the old room's place in the published room
// directory moves to the new room.
type upgradeBody struct {
	NewVersion         *string  `json:"new_version"`
	AdditionalCreators []string `json:"additional_creators"`
}

// maxAdditionalCreators bounds additional_creators.
const maxAdditionalCreators = 100

func (a *API) upgradeRoom(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID := r.PathValue("roomId")
	if _, err := ids.ParseRoomID(roomID); err != nil {
		return errInvalidParam("Invalid room ID")
	}
	var body upgradeBody
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.NewVersion == nil || *body.NewVersion == "" {
		return errMissingParam("new_version is required")
	}
	if len(body.AdditionalCreators) > maxAdditionalCreators {
		return errInvalidParam("Too many additional_creators")
	}
	for _, u := range body.AdditionalCreators {
		if _, err := ids.ParseUserIDLenient(u); err != nil {
			return errInvalidParam("Invalid user ID %q in additional_creators", clipParam(u))
		}
	}
	newID, err := a.opts.Rooms.UpgradeRoom(r.Context(), roomserver.UpgradeRequest{
		RoomID: roomID, User: c.UserID, NewVersion: *body.NewVersion, AdditionalCreators: body.AdditionalCreators,
	})
	if err != nil {
		return dirErr(err)
	}
	// A published room's directory entry follows the room.
	if pub, err := a.opts.Rooms.Published(r.Context(), roomID); err == nil && pub {
		if err := a.opts.Rooms.SetPublished(r.Context(), newID, true); err != nil {
			a.log.Warn("room upgrade: publishing the new room", "room", newID, "err", err)
		} else if err := a.opts.Rooms.SetPublished(r.Context(), roomID, false); err != nil {
			a.log.Warn("room upgrade: unpublishing the old room", "room", roomID, "err", err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"replacement_room": newID})
	return nil
}
