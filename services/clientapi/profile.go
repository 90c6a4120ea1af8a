package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
	"hearth/services/users"
)

// Profile endpoints (spec: profile.yaml, v1.16 extended profiles).
//
// Changing (or deleting) displayname or avatar_url also sends an updated
// m.room.member event into every room the user is joined to (see
// propagateProfile); that is best effort and never fails the request.
// Profiles of users on other servers (a federation query) are 404 for now.
func (a *API) routesProfile() {
	if a.opts.Users == nil {
		return
	}
	a.client("GET", "/profile/{userId}", a.open(a.getProfile))
	a.client("GET", "/profile/{userId}/{keyName}", a.open(a.getProfileField))
	a.client("PUT", "/profile/{userId}/{keyName}", a.authed(a.putProfileField))
	a.client("DELETE", "/profile/{userId}/{keyName}", a.authed(a.deleteProfileField))
}

// profileErr maps users errors for the profile endpoints, where a profile
// over its size cap is M_PROFILE_TOO_LARGE.
func profileErr(err error) error {
	if errors.Is(err, users.ErrTooLarge) {
		return Errf(http.StatusBadRequest, "M_PROFILE_TOO_LARGE", "%v", err)
	}
	return userErr(err)
}

func (a *API) getProfile(w http.ResponseWriter, r *http.Request) error {
	fields, err := a.opts.Users.ProfileFields(r.PathValue("userId"))
	if errors.Is(err, users.ErrNotFound) {
		return errNotFound("Profile not found")
	}
	if err != nil {
		return userErr(err)
	}
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, fields)
	return nil
}

func (a *API) getProfileField(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("keyName")
	fields, err := a.opts.Users.ProfileFields(r.PathValue("userId"))
	if errors.Is(err, users.ErrNotFound) {
		return errNotFound("Profile not found")
	}
	if err != nil {
		return userErr(err)
	}
	v, ok := fields[key]
	if !ok {
		return errNotFound("Profile field %q not set", key)
	}
	writeJSON(w, http.StatusOK, map[string]json.RawMessage{key: v})
	return nil
}

// stringFields are the profile keys whose values must be strings.
var stringFields = map[string]bool{"displayname": true, "avatar_url": true, "m.tz": true}

func (a *API) putProfileField(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot change the profile of another user")
	}
	key := r.PathValue("keyName")
	body, err := a.readJSONObject(r)
	if err != nil {
		return err
	}
	v, ok := body[key]
	if !ok {
		return errMissingParam("The body must contain the key %q", key)
	}
	if stringFields[key] {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errBadJSON("%s must be a string", key)
		}
	}
	if err := a.opts.Users.SetProfileField(c.UserID, key, v); err != nil {
		return profileErr(err)
	}
	if memberProfileFields[key] {
		a.propagateProfile(r.Context(), c.UserID)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) deleteProfileField(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot change the profile of another user")
	}
	if err := a.opts.Users.DeleteProfileField(c.UserID, r.PathValue("keyName")); err != nil {
		return profileErr(err)
	}
	if memberProfileFields[r.PathValue("keyName")] {
		a.propagateProfile(r.Context(), c.UserID)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// memberProfileFields are the profile keys membership events carry.
var memberProfileFields = map[string]bool{"displayname": true, "avatar_url": true}

// propagateProfile sends a new m.room.member event (membership join, the
// other content keys kept except reason and join_authorised_via_users_server, displayname and avatar_url from the current
// profile, removed when unset) into every room the user is joined to whose
// member event differs. Failures are logged and skipped: the profile change
// itself has already succeeded. The request's cancellation does not stop
// it half way.
func (a *API) propagateProfile(ctx context.Context, userID string) {
	ctx = context.WithoutCancel(ctx)
	p, err := a.opts.Users.Profile(userID)
	if err != nil {
		a.log.Warn("profile propagation: reading profile", "user", userID, "err", err)
		return
	}
	rooms, err := a.opts.Rooms.RoomsOf(ctx, userID)
	if err != nil {
		a.log.Warn("profile propagation: listing rooms", "user", userID, "err", err)
		return
	}
	for roomID, m := range rooms {
		if m != "join" {
			continue
		}
		cur, err := a.opts.Rooms.StateEvent(ctx, roomID, "m.room.member", userID)
		if err != nil || cur.Membership() != "join" {
			continue
		}
		// reason and join_authorised_via_users_server belong to the join
		// itself, not to a profile change.
		content := cur.Content().Without("displayname", "avatar_url", "reason", "join_authorised_via_users_server")
		if p.DisplayName != "" {
			content = content.With("displayname", cjson.StrOf(p.DisplayName))
		}
		if p.AvatarURL != "" {
			content = content.With("avatar_url", cjson.StrOf(p.AvatarURL))
		}
		if content.Equal(cur.Content()) {
			continue
		}
		uid := userID
		if _, err := a.opts.Rooms.Send(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: &uid, Sender: userID, Content: content}, nil); err != nil {
			a.log.Warn("profile propagation: updating member event", "user", userID, "room", roomID, "err", err)
		}
	}
}
