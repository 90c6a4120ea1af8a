package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"hearth/services/users"
)

// Profile endpoints (spec: profile.yaml, v1.16 extended profiles).
//
// Not done yet: changing displayname or avatar_url SHOULD also update the
// user's m.room.member event in every joined room; that propagation belongs
// with the room membership code and is left out here. Profiles of users on
// other servers (a federation query) are 404 for now.
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
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
