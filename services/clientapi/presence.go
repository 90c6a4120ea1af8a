package clientapi

import (
	"context"
	"errors"
	"net/http"

	"hearth/services/matrix/ids"
	"hearth/services/presence"
)

// Presence (spec: presence.yaml, module presence.md).
//
// Who may read: the user, and users who share a joined room with them (the
// audience /sync gives presence to); others get 403 M_FORBIDDEN. Only the
// user may set their own presence (403 otherwise).
//
// With presence disabled (Options.Presence nil, config presence.disabled)
// the endpoints stay, because clients call them unconditionally and the
// spec gives PUT no error answer for it: PUT checks its request as usual
// and answers 200 {} without storing anything, and GET answers
// {"presence": "offline"} to those allowed to ask. /sync then has no
// presence events.
func (a *API) routesPresence() {
	a.client("PUT", "/presence/{userId}/status", a.authed(a.putPresence))
	a.client("GET", "/presence/{userId}/status", a.authed(a.getPresence))
}

func (a *API) putPresence(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot set the presence of another user")
	}
	var body struct {
		Presence  *string `json:"presence"`
		StatusMsg *string `json:"status_msg"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Presence == nil {
		return errMissingParam("presence is required")
	}
	if err := presence.Validate(*body.Presence, body.StatusMsg); err != nil {
		return errInvalidParam("%v", err)
	}
	if p := a.opts.Presence; p != nil {
		if err := p.Set(c.UserID, *body.Presence, body.StatusMsg); err != nil {
			if errors.Is(err, presence.ErrInvalid) {
				return errInvalidParam("%v", err)
			}
			return err
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) getPresence(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	target := r.PathValue("userId")
	if _, err := ids.ParseUserIDLenient(target); err != nil {
		return errInvalidParam("Invalid user ID: %v", err)
	}
	if target != c.UserID {
		ok, err := a.sharesRoom(r.Context(), c.UserID, target)
		if err != nil {
			return err
		}
		if !ok {
			return errForbidden("You are not allowed to see their presence")
		}
	}
	st := presence.State{UserID: target, Presence: presence.Offline}
	if p := a.opts.Presence; p != nil {
		st, _ = p.Get(target)
	}
	writeJSON(w, http.StatusOK, st.Content(a.opts.Now()))
	return nil
}

// sharesRoom reports whether two users are joined to a common room.
func (a *API) sharesRoom(ctx context.Context, u1, u2 string) (bool, error) {
	r1, err := a.opts.Rooms.RoomsOf(ctx, u1)
	if err != nil {
		return false, err
	}
	r2, err := a.opts.Rooms.RoomsOf(ctx, u2)
	if err != nil {
		return false, err
	}
	for id, m := range r1 {
		if m == "join" && r2[id] == "join" {
			return true, nil
		}
	}
	return false, nil
}
