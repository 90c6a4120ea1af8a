package clientapi

import (
	"context"
	"errors"
	"net/http"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// Federation is what the client API asks of the federation service for
// rooms and users on other servers; nil when federation is off.
type Federation interface {
	ResolveAlias(ctx context.Context, alias string) (roomID string, servers []string, err error)
	Join(ctx context.Context, userID, roomID string, servers []string, content cjson.Value) error
	Leave(ctx context.Context, userID, roomID string, servers []string) error
	Invite(ctx context.Context, roomID, sender, invitee string, content cjson.Value) (*pdu.Event, error)
	Typing(ctx context.Context, roomID, userID string, typing bool)
	Receipt(ctx context.Context, roomID, userID, eventID, threadID string)
	// Backfill fetches history from before the earliest event held.
	Backfill(ctx context.Context, roomID string, limit int) (int, error)
}

// remoteErr maps what a federated operation failed with to a Matrix
// error for the client.
func remoteErr(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, roomserver.ErrForbidden):
		return errForbidden("%v", err)
	case errors.Is(err, roomserver.ErrUnsupportedVersion):
		return Errf(http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION", "%v", err)
	}
	return Errf(http.StatusBadGateway, "M_UNKNOWN", "the room's servers could not be reached: %s", clipParam(err.Error()))
}

// viaServers are the servers a client names for a join: via (and the
// deprecated server_name).
func viaServers(r *http.Request) []string {
	q := r.URL.Query()
	out := append([]string(nil), q["via"]...)
	out = append(out, q["server_name"]...)
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}

// inRoom reports whether this server holds the room itself (not only a
// local user's invite to it).
func (a *API) inRoom(ctx context.Context, roomID string) bool {
	return a.opts.Rooms.KnowsRoom(ctx, roomID) && !a.opts.Rooms.IsStub(ctx, roomID)
}

// inviterServer is the server of whoever invited user, for rejecting an
// invite through it.
func (a *API) inviterServer(ctx context.Context, roomID, user string) []string {
	ev, err := a.opts.Rooms.StateEvent(ctx, roomID, "m.room.member", user)
	if err != nil {
		return nil
	}
	return []string{pdu.Domain(ev.Sender())}
}
