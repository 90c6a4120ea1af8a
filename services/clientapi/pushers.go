package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"hearth/services/users"
)

// Pushers (spec: pusher.yaml). Only storage: nothing sends pushes yet.
//
// A user's pushers are global account data of the private type
// hearth.pushers ({"pushers": [{"pusher": {…}, "device_id": …}]}), so they
// also reach the user's own /sync account_data (harmless: clients ignore
// unknown types). The device that set a pusher is remembered for when
// logging a device out should remove its pushers. "append": false cannot
// remove other users' pushers with the same app_id and pushkey here (that
// needs an index across users); it is accepted and ignored.
func (a *API) routesPushers() {
	if a.opts.Users == nil {
		return
	}
	a.client("GET", "/pushers", a.authed(a.getPushers))
	a.client("POST", "/pushers/set", a.authed(a.setPusher))
}

const (
	typePushers     = "hearth.pushers"
	maxPushers      = 32
	maxAppIDChars   = 64
	maxPushkeyBytes = 512
	maxPusherString = 512
	pushNotifyPath  = "/_matrix/push/v1/notify"
)

// pusher is a pusher as GET /pushers shows it.
type pusher struct {
	Pushkey           string                     `json:"pushkey"`
	Kind              string                     `json:"kind"`
	AppID             string                     `json:"app_id"`
	AppDisplayName    string                     `json:"app_display_name"`
	DeviceDisplayName string                     `json:"device_display_name"`
	ProfileTag        string                     `json:"profile_tag,omitempty"`
	Lang              string                     `json:"lang"`
	Data              map[string]json.RawMessage `json:"data"`
}

type storedPusher struct {
	Pusher   pusher `json:"pusher"`
	DeviceID string `json:"device_id,omitempty"`
}

func (a *API) pushers(userID string) ([]storedPusher, error) {
	raw, err := a.opts.Users.AccountData(userID, "", typePushers)
	if errors.Is(err, users.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, userErr(err)
	}
	var content struct {
		Pushers []storedPusher `json:"pushers"`
	}
	if err := json.Unmarshal(raw, &content); err != nil {
		a.log.Warn("ignoring unreadable stored pushers", "user", userID, "err", err)
		return nil, nil
	}
	return content.Pushers, nil
}

func (a *API) getPushers(w http.ResponseWriter, r *http.Request) error {
	ps, err := a.pushers(CallerOf(r).UserID)
	if err != nil {
		return err
	}
	out := make([]pusher, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Pusher)
	}
	writeJSON(w, http.StatusOK, map[string]any{"pushers": out})
	return nil
}

type setPusherBody struct {
	Pushkey           *string                    `json:"pushkey"`
	Kind              json.RawMessage            `json:"kind"`
	AppID             *string                    `json:"app_id"`
	AppDisplayName    *string                    `json:"app_display_name"`
	DeviceDisplayName *string                    `json:"device_display_name"`
	ProfileTag        *string                    `json:"profile_tag"`
	Lang              *string                    `json:"lang"`
	Data              map[string]json.RawMessage `json:"data"`
	Append            bool                       `json:"append"`
}

// validate checks the body and returns the kind ("" to delete).
func (b *setPusherBody) validate() (string, error) {
	if b.Pushkey == nil || *b.Pushkey == "" {
		return "", errMissingParam("pushkey is required")
	}
	if b.AppID == nil || *b.AppID == "" {
		return "", errMissingParam("app_id is required")
	}
	if len(b.Kind) == 0 {
		return "", errMissingParam("kind is required")
	}
	if len(*b.Pushkey) > maxPushkeyBytes {
		return "", errInvalidParam("pushkey is longer than %d bytes", maxPushkeyBytes)
	}
	if utf8.RuneCountInString(*b.AppID) > maxAppIDChars {
		return "", errInvalidParam("app_id is longer than %d characters", maxAppIDChars)
	}
	if string(b.Kind) == "null" {
		return "", nil
	}
	var kind string
	if json.Unmarshal(b.Kind, &kind) != nil {
		return "", errBadJSON("kind must be a string or null")
	}
	if kind != "http" {
		return "", errInvalidParam("Unsupported pusher kind %q", kind)
	}
	for name, v := range map[string]*string{"app_display_name": b.AppDisplayName, "device_display_name": b.DeviceDisplayName, "lang": b.Lang} {
		if v == nil {
			return "", errMissingParam("%s is required", name)
		}
		if len(*v) > maxPusherString {
			return "", errInvalidParam("%s is too long", name)
		}
	}
	if b.ProfileTag != nil && len(*b.ProfileTag) > maxPusherString {
		return "", errInvalidParam("profile_tag is too long")
	}
	if b.Data == nil {
		return "", errMissingParam("data is required")
	}
	var rawURL string
	if u, ok := b.Data["url"]; !ok || json.Unmarshal(u, &rawURL) != nil {
		return "", errMissingParam("data.url is required for http pushers")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != pushNotifyPath {
		return "", errInvalidParam("data.url must be an HTTP(S) URL with the path %s", pushNotifyPath)
	}
	if f, ok := b.Data["format"]; ok {
		var format string
		if json.Unmarshal(f, &format) != nil || format != "event_id_only" {
			return "", errInvalidParam("data.format must be event_id_only")
		}
	}
	return kind, nil
}

func (a *API) setPusher(w http.ResponseWriter, r *http.Request) error {
	var body setPusherBody
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	kind, err := body.validate()
	if err != nil {
		return err
	}
	c := CallerOf(r)
	defer lockUser(c.UserID)()
	ps, err := a.pushers(c.UserID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ps, func(p storedPusher) bool {
		return p.Pusher.AppID == *body.AppID && p.Pusher.Pushkey == *body.Pushkey
	})
	if kind == "" {
		if i < 0 {
			writeJSON(w, http.StatusOK, struct{}{})
			return nil
		}
		ps = slices.Delete(ps, i, i+1)
	} else {
		p := storedPusher{DeviceID: c.DeviceID, Pusher: pusher{
			Pushkey: *body.Pushkey, Kind: kind, AppID: *body.AppID,
			AppDisplayName: *body.AppDisplayName, DeviceDisplayName: *body.DeviceDisplayName,
			Lang: *body.Lang, Data: body.Data,
		}}
		if body.ProfileTag != nil {
			p.Pusher.ProfileTag = *body.ProfileTag
		}
		if i >= 0 {
			ps[i] = p
		} else {
			if len(ps) >= maxPushers {
				return errForbidden("Too many pushers")
			}
			ps = append(ps, p)
		}
	}
	if ps == nil {
		ps = []storedPusher{}
	}
	content, _ := json.Marshal(map[string]any{"pushers": ps})
	if _, err := a.opts.Users.SetAccountData(c.UserID, "", typePushers, content); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
