package clientapi

import (
	"net/http"

	"hearth/services/matrix/pdu"
)

// specVersions are the Client-Server API versions we serve. Element Web
// needs v1.5 or later; v1.11+ makes clients use authenticated media.
var specVersions = []string{"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"}

func (a *API) routesDiscovery() {
	a.rt.handle("GET /_matrix/client/versions", a.open(a.versions))
	a.rt.handle("GET /.well-known/matrix/client", a.open(a.wellKnown))
	a.client("GET", "/capabilities", a.authed(a.capabilities))
}

func (a *API) versions(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"versions": specVersions, "unstable_features": map[string]bool{}})
	return nil
}

func (a *API) wellKnown(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"m.homeserver": map[string]string{"base_url": a.opts.PublicBaseURL}})
	return nil
}

func (a *API) capabilities(w http.ResponseWriter, r *http.Request) error {
	available := map[string]string{}
	for _, v := range pdu.SupportedVersions() {
		available[v] = "stable"
	}
	writeJSON(w, http.StatusOK, map[string]any{"capabilities": map[string]any{
		"m.change_password": map[string]bool{"enabled": true},
		"m.room_versions":   map[string]any{"default": pdu.DefaultVersion, "available": available},
		"m.set_displayname": map[string]bool{"enabled": true},
		"m.set_avatar_url":  map[string]bool{"enabled": true},
		"m.3pid_changes":    map[string]bool{"enabled": false},
		"m.get_login_token": map[string]bool{"enabled": false},
	}})
	return nil
}
