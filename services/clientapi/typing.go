package clientapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"hearth/services/matrix/ids"
)

// Typing notifications, receipts and read markers (spec: typing.yaml,
// receipts.yaml, read_markers.yaml). They need the ephemeral service; read
// markers also need the users service (m.fully_read is room account data).
func (a *API) routesEphemeral() {
	if a.opts.Ephemeral == nil {
		return
	}
	a.client("PUT", "/rooms/{roomId}/typing/{userId}", a.authed(a.putTyping))
	a.client("POST", "/rooms/{roomId}/receipt/{receiptType}/{eventId}", a.authed(a.postReceipt))
	a.client("POST", "/rooms/{roomId}/read_markers", a.authed(a.postReadMarkers))
}

// joinedRoom checks the path's room ID and that the caller is joined to it
// (403 otherwise), returning the room ID.
func (a *API) joinedRoom(ctx context.Context, r *http.Request) (string, error) {
	room := r.PathValue("roomId")
	if _, err := ids.ParseRoomID(room); err != nil {
		return "", errInvalidParam("Invalid room ID: %v", err)
	}
	m, err := a.opts.Rooms.Membership(ctx, room, CallerOf(r).UserID)
	if err != nil {
		return "", roomErr(err)
	}
	if m != "join" {
		return "", errForbidden("You are not joined to this room")
	}
	return room, nil
}

func (a *API) putTyping(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot set the typing state of another user")
	}
	var body struct {
		Typing  *bool            `json:"typing"`
		Timeout *json.RawMessage `json:"timeout"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Typing == nil {
		return errMissingParam("typing is required")
	}
	timeout := time.Duration(0) // the default
	if body.Timeout != nil && string(*body.Timeout) != "null" {
		var ms int64
		if err := json.Unmarshal(*body.Timeout, &ms); err != nil || ms < 0 {
			return errBadJSON("timeout must be a non-negative integer")
		}
		// Capped by the service; avoid overflow first.
		timeout = time.Duration(min(ms, int64(time.Hour/time.Millisecond))) * time.Millisecond
	}
	room, err := a.joinedRoom(r.Context(), r)
	if err != nil {
		return err
	}
	a.opts.Ephemeral.SetTyping(room, c.UserID, *body.Typing, timeout)
	if a.opts.Federation != nil {
		a.opts.Federation.Typing(r.Context(), room, c.UserID, *body.Typing)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
