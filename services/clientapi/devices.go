package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"hearth/services/users"
)

// Device management, password change and deactivation (spec:
// device_management.yaml, password_management.yaml,
// account_deactivation.yaml). Deleting devices, changing the password and
// deactivating need user-interactive auth with m.login.password.
//
// Left to other services: deleting the E2EE keys of deleted devices and
// leaving the rooms of a deactivated account. Password change and
// deactivation require an access token here (the spec also allows them
// without one, which only makes sense with email-based UIA stages).
func (a *API) routesDevices() {
	if a.opts.Users == nil {
		return
	}
	a.client("GET", "/devices", a.authed(a.listDevices))
	a.client("GET", "/devices/{deviceId}", a.authed(a.getDevice))
	a.client("PUT", "/devices/{deviceId}", a.authed(a.putDevice))
	a.client("DELETE", "/devices/{deviceId}", a.authed(a.deleteDevice))
	a.client("POST", "/delete_devices", a.authed(a.deleteDevices))
	a.client("POST", "/account/password", a.authed(a.changePassword))
	a.client("POST", "/account/deactivate", a.authed(a.deactivate))
}

func deviceJSON(d users.Device) map[string]any {
	out := map[string]any{"device_id": d.DeviceID}
	if d.DisplayName != "" {
		out["display_name"] = d.DisplayName
	}
	if d.LastSeenIP != "" {
		out["last_seen_ip"] = d.LastSeenIP
	}
	if !d.LastSeen.IsZero() {
		out["last_seen_ts"] = d.LastSeen.UnixMilli()
	}
	return out
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	ds, err := a.opts.Users.Devices(CallerOf(r).UserID)
	if err != nil {
		return userErr(err)
	}
	out := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, deviceJSON(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": out})
	return nil
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := a.opts.Users.Device(CallerOf(r).UserID, r.PathValue("deviceId"))
	if errors.Is(err, users.ErrNotFound) {
		return errNotFound("No such device")
	}
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, deviceJSON(d))
	return nil
}

func (a *API) putDevice(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		DisplayName *string `json:"display_name"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	user, id := CallerOf(r).UserID, r.PathValue("deviceId")
	var err error
	if body.DisplayName == nil {
		_, err = a.opts.Users.Device(user, id) // nothing to change, but 404 if absent
	} else {
		err = a.opts.Users.RenameDevice(user, id, *body.DisplayName)
	}
	if errors.Is(err, users.ErrNotFound) {
		return errNotFound("No such device")
	}
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// passwordAuth is the auth dict of a UIA request using m.login.password.
type passwordAuth struct {
	Type       string     `json:"type"`
	Session    string     `json:"session"`
	Identifier identifier `json:"identifier"`
	User       string     `json:"user"` // deprecated form of identifier
	Password   string     `json:"password"`
}

var passwordFlows = [][]string{{users.StagePassword}}

// uiaPassword runs user-interactive auth with the m.login.password flow for
// the caller. op names the request so a session authorises only it. When
// done is false the response (a 401 challenge) has been written; when it is
// true the caller performs the request and then ends the session.
func (a *API) uiaPassword(w http.ResponseWriter, r *http.Request, auth *passwordAuth, op string) (session string, done bool, err error) {
	u := a.opts.Users.UIA()
	caller := CallerOf(r).UserID
	op = op + "\x00" + caller
	fresh := func(stageErr *Error) (string, bool, error) {
		s, err := u.Begin(passwordFlows, nil)
		if err != nil {
			return "", false, userErr(err)
		}
		if err := u.Bind(s, op); err != nil {
			return "", false, userErr(err)
		}
		return "", false, a.challenge(w, s, stageErr)
	}
	if auth == nil || auth.Session == "" && auth.Type == "" {
		return fresh(nil)
	}
	session = auth.Session
	if session == "" {
		// A client that sends its password at once, without a session.
		if session, err = u.Begin(passwordFlows, nil); err != nil {
			return "", false, userErr(err)
		}
	}
	if err := u.Bind(session, op); err != nil {
		if errors.Is(err, users.ErrUnknownSession) {
			return fresh(nil)
		}
		return "", false, userErr(err)
	}
	switch auth.Type {
	case users.StagePassword:
		id := auth.Identifier.User
		if auth.Identifier.Type != "" && auth.Identifier.Type != "m.id.user" {
			return "", false, Errf(http.StatusBadRequest, "M_UNKNOWN", "Unsupported identifier type %q", auth.Identifier.Type)
		}
		if id == "" {
			id = auth.User
		}
		if id == "" {
			return "", false, errMissingParam("auth.identifier is required")
		}
		if resolved, err := a.opts.Users.ResolveUser(id); err != nil || resolved != caller {
			return "", false, errForbidden("The identifier does not name the authenticated user")
		}
		err = a.opts.Users.AuthPassword(r.Context(), session, caller, auth.Password)
	case "":
	default:
		return "", false, Errf(http.StatusBadRequest, "M_UNRECOGNIZED", "Unknown auth type %q", auth.Type)
	}
	switch {
	case errors.Is(err, users.ErrUnknownSession):
		return fresh(nil)
	case errors.Is(err, users.ErrForbidden):
		stageErr := errForbidden("Invalid password")
		if _, cerr := u.Challenge(session); cerr != nil {
			return fresh(stageErr) // too many failures dropped the session
		}
		return "", false, a.challenge(w, session, stageErr)
	case err != nil:
		return "", false, userErr(err)
	}
	done, err = u.Done(session)
	if errors.Is(err, users.ErrUnknownSession) {
		return fresh(nil)
	}
	if err != nil {
		return "", false, userErr(err)
	}
	if !done {
		return "", false, a.challenge(w, session, nil)
	}
	return session, true, nil
}

func (a *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Auth *passwordAuth `json:"auth"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	user, id := CallerOf(r).UserID, r.PathValue("deviceId")
	if _, err := a.opts.Users.Device(user, id); errors.Is(err, users.ErrNotFound) {
		return errNotFound("No such device")
	} else if err != nil {
		return userErr(err)
	}
	return a.removeDevices(w, r, body.Auth, []string{id})
}

func (a *API) deleteDevices(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Devices *[]string     `json:"devices"`
		Auth    *passwordAuth `json:"auth"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Devices == nil {
		return errMissingParam("devices is required")
	}
	return a.removeDevices(w, r, body.Auth, *body.Devices)
}

func (a *API) removeDevices(w http.ResponseWriter, r *http.Request, auth *passwordAuth, ids []string) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	session, done, err := a.uiaPassword(w, r, auth, "delete_devices\x00"+strings.Join(sorted, "\x00"))
	if err != nil || !done {
		return err
	}
	defer a.opts.Users.UIA().End(session)
	if err := a.opts.Users.DeleteDevices(CallerOf(r).UserID, sorted); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewPassword   *string       `json:"new_password"`
		LogoutDevices *bool         `json:"logout_devices"`
		Auth          *passwordAuth `json:"auth"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.NewPassword == nil || *body.NewPassword == "" {
		return errMissingParam("new_password is required")
	}
	session, done, err := a.uiaPassword(w, r, body.Auth, "password")
	if err != nil || !done {
		return err
	}
	defer a.opts.Users.UIA().End(session)
	c := CallerOf(r)
	logout := body.LogoutDevices == nil || *body.LogoutDevices
	if _, err := a.opts.Users.SetPassword(r.Context(), c.UserID, *body.NewPassword, logout, c.DeviceID); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) deactivate(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Auth     *passwordAuth   `json:"auth"`
		Erase    bool            `json:"erase"`
		IDServer json.RawMessage `json:"id_server"` // no 3PIDs are bound here
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	session, done, err := a.uiaPassword(w, r, body.Auth, "deactivate")
	if err != nil || !done {
		return err
	}
	defer a.opts.Users.UIA().End(session)
	if _, err := a.opts.Users.Deactivate(CallerOf(r).UserID, body.Erase); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_server_unbind_result": "success"})
	return nil
}
