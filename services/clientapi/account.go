package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"hearth/services/users"
)

// Registration modes (config registration.mode).
const (
	RegistrationClosed = "closed"
	RegistrationToken  = "token"
	RegistrationOpen   = "open"
)

// Registration configures /register.
type Registration struct {
	Mode string // closed (default), token or open
	// AllowLegacySingleRequest lets open-mode registration succeed in one
	// request carrying {"auth":{"type":"m.login.dummy"}} without a session,
	// as older SDKs (matrix-nio) send it.
	AllowLegacySingleRequest bool
	// SharedSecret enables /_synapse/admin/v1/register when non-empty.
	SharedSecret string
}

func (a *API) routesAccount() {
	if a.opts.Users == nil {
		return
	}
	a.client("GET", "/login", a.open(a.loginFlows))
	a.client("POST", "/login", a.open(a.login))
	a.client("POST", "/logout", a.authed(a.logout))
	a.client("POST", "/logout/all", a.authed(a.logoutAll))
	a.client("GET", "/account/whoami", a.authed(a.whoami))
	a.client("POST", "/register", a.open(a.register))
	a.client("GET", "/register/available", a.open(a.available))
	a.client("POST", "/refresh", a.open(a.refresh))
	a.clientV1("GET", "/register/m.login.registration_token/validity", a.open(a.tokenValidity))
	a.rt.handle("GET /_synapse/admin/v1/register", a.open(a.sharedSecretNonce))
	a.rt.handle("POST /_synapse/admin/v1/register", a.open(a.sharedSecretRegister))
}

func (a *API) loginFlows(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"flows": []map[string]string{{"type": "m.login.password"}}})
	return nil
}

type identifier struct {
	Type string `json:"type"`
	User string `json:"user"`
}

type loginBody struct {
	Type                     string     `json:"type"`
	Identifier               identifier `json:"identifier"`
	User                     string     `json:"user"` // deprecated form
	Password                 string     `json:"password"`
	DeviceID                 string     `json:"device_id"`
	InitialDeviceDisplayName string     `json:"initial_device_display_name"`
	RefreshToken             bool       `json:"refresh_token"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var body loginBody
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Type != "m.login.password" {
		return Errf(http.StatusBadRequest, "M_UNKNOWN", "Unsupported login type %q", body.Type)
	}
	user := body.Identifier.User
	if body.Identifier.Type != "" && body.Identifier.Type != "m.id.user" {
		return Errf(http.StatusBadRequest, "M_UNKNOWN", "Unsupported identifier type %q", body.Identifier.Type)
	}
	if user == "" {
		user = body.User
	}
	if user == "" || body.Password == "" {
		return errMissingParam("user and password are required")
	}
	userID, err := a.opts.Users.ResolveUser(user)
	if err != nil {
		return errForbidden("Invalid username or password")
	}
	if err := a.opts.Users.CheckPassword(r.Context(), userID, body.Password); err != nil {
		if errors.Is(err, users.ErrUserDeactivated) {
			return userErr(err)
		}
		if errors.Is(err, users.ErrForbidden) || errors.Is(err, users.ErrNotFound) {
			return errForbidden("Invalid username or password")
		}
		return userErr(err)
	}
	s, err := a.opts.Users.Login(r.Context(), userID, body.DeviceID, body.InitialDeviceDisplayName, body.RefreshToken)
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, a.sessionBody(s))
	return nil
}

func (a *API) sessionBody(s users.Session) map[string]any {
	out := map[string]any{"user_id": s.UserID, "device_id": s.DeviceID, "access_token": s.AccessToken, "home_server": a.opts.ServerName}
	if s.RefreshToken != "" {
		out["refresh_token"] = s.RefreshToken
	}
	if s.ExpiresIn > 0 {
		out["expires_in_ms"] = s.ExpiresIn.Milliseconds()
	}
	return out
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.opts.Users.Logout(accessToken(r)); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) logoutAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.opts.Users.LogoutAll(CallerOf(r).UserID); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	writeJSON(w, http.StatusOK, map[string]any{"user_id": c.UserID, "device_id": c.DeviceID, "is_guest": c.IsGuest})
	return nil
}

func (a *API) available(w http.ResponseWriter, r *http.Request) error {
	name := r.URL.Query().Get("username")
	if name == "" {
		return errMissingParam("username is required")
	}
	ok, err := a.opts.Users.Available(name)
	if err != nil {
		return userErr(err)
	}
	if !ok {
		return Errf(http.StatusBadRequest, "M_USER_IN_USE", "User ID already taken")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"available": true})
	return nil
}

func (a *API) tokenValidity(w http.ResponseWriter, r *http.Request) error {
	if a.opts.Registration.Mode != RegistrationToken {
		return errForbidden("Registration tokens are not in use")
	}
	tok := r.URL.Query().Get("token")
	if tok == "" {
		return errMissingParam("token is required")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": a.opts.Users.RegTokenValid(tok)})
	return nil
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.RefreshToken == "" {
		return errMissingParam("refresh_token is required")
	}
	s, err := a.opts.Users.Refresh(body.RefreshToken)
	if err != nil {
		return userErr(err)
	}
	out := map[string]any{"access_token": s.AccessToken, "refresh_token": s.RefreshToken}
	if s.ExpiresIn > 0 {
		out["expires_in_ms"] = s.ExpiresIn.Milliseconds()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type authDict struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	Token   string `json:"token"`
}

type registerBody struct {
	Username                 string    `json:"username"`
	Password                 string    `json:"password"`
	DeviceID                 string    `json:"device_id"`
	InitialDeviceDisplayName string    `json:"initial_device_display_name"`
	InhibitLogin             bool      `json:"inhibit_login"`
	RefreshToken             bool      `json:"refresh_token"`
	Auth                     *authDict `json:"auth"`
}

// registerFlows are the UIA flows of the configured registration mode.
func (a *API) registerFlows() [][]string {
	if a.opts.Registration.Mode == RegistrationToken {
		return [][]string{{users.StageRegistrationToken}}
	}
	return [][]string{{users.StageDummy}}
}

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	mode := a.opts.Registration.Mode
	if mode != RegistrationOpen && mode != RegistrationToken {
		return errForbidden("Registration is disabled")
	}
	if kind := r.URL.Query().Get("kind"); kind != "" && kind != "user" {
		return errForbidden("Guest access is disabled")
	}
	var body registerBody
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	legacy := mode == RegistrationOpen && a.opts.Registration.AllowLegacySingleRequest &&
		body.Auth != nil && body.Auth.Type == users.StageDummy && body.Auth.Session == ""
	session := ""
	if !legacy {
		var done bool
		var err error
		session, done, err = a.runUIA(r.Context(), body.Auth, "register")
		var me *Error
		if errors.As(err, &me) && me.Code == "M_FORBIDDEN" && session != "" {
			return a.challenge(w, session, me) // a failed stage: 401 with the challenge
		}
		if err != nil {
			return err
		}
		if !done {
			return a.challenge(w, session, nil)
		}
	}
	if body.Username == "" || body.Password == "" {
		return errMissingParam("username and password are required")
	}
	acct, err := a.opts.Users.Register(r.Context(), body.Username, body.Password, users.RegisterOpts{UIASession: session})
	if err != nil {
		return userErr(err)
	}
	if body.InhibitLogin {
		writeJSON(w, http.StatusOK, map[string]any{"user_id": acct.UserID, "home_server": a.opts.ServerName})
		return nil
	}
	s, err := a.opts.Users.Login(r.Context(), acct.UserID, body.DeviceID, body.InitialDeviceDisplayName, body.RefreshToken)
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, a.sessionBody(s))
	return nil
}

// runUIA advances registration UIA: with no auth dict it starts a session;
// otherwise it runs the stage given. done reports whether all stages of a
// flow are complete.
func (a *API) runUIA(ctx context.Context, auth *authDict, op string) (session string, done bool, err error) {
	u := a.opts.Users.UIA()
	if auth == nil || auth.Session == "" {
		session, err = u.Begin(a.registerFlows(), nil)
		if err != nil {
			return "", false, userErr(err)
		}
		if auth == nil || auth.Type == "" {
			return session, false, nil
		}
	} else {
		session = auth.Session
	}
	if err := u.Bind(session, op); err != nil {
		if errors.Is(err, users.ErrUnknownSession) {
			s, _ := u.Begin(a.registerFlows(), nil)
			return s, false, nil
		}
		return "", false, userErr(err)
	}
	switch auth.Type {
	case users.StageDummy:
		err = a.opts.Users.AuthDummy(session)
	case users.StageRegistrationToken:
		err = a.opts.Users.AuthRegistrationToken(session, auth.Token)
	case "":
	default:
		return "", false, Errf(http.StatusBadRequest, "M_UNRECOGNIZED", "Unknown auth type %q", auth.Type)
	}
	if err != nil {
		if errors.Is(err, users.ErrUnknownSession) {
			s, _ := u.Begin(a.registerFlows(), nil)
			return s, false, nil
		}
		if errors.Is(err, users.ErrForbidden) {
			return session, false, errForbidden("%v", err)
		}
		return "", false, userErr(err)
	}
	done, err = u.Done(session)
	if err != nil {
		return "", false, userErr(err)
	}
	return session, done, nil
}

// challenge writes the 401 UIA body for a session.
func (a *API) challenge(w http.ResponseWriter, session string, stageErr *Error) error {
	ch, err := a.opts.Users.UIA().Challenge(session)
	if err != nil {
		return userErr(err)
	}
	b, _ := json.Marshal(ch)
	var body map[string]any
	json.Unmarshal(b, &body)
	if stageErr != nil {
		body["errcode"], body["error"] = stageErr.Code, stageErr.Msg
	}
	writeJSON(w, http.StatusUnauthorized, body)
	return nil
}
