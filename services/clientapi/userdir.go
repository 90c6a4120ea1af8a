package clientapi

import (
	"net/http"
	"sort"
	"strings"

	"hearth/services/matrix/ids"
)

// User directory search (spec: users.yaml).
//
// Decisions the spec leaves to the server:
//   - Scope: the joined members of the rooms the searcher is joined to and
//     of published rooms whose join rule is public, found by scanning those
//     rooms' current state (no separate index; bounded by
//     roomserver.MaxDirectoryRooms rooms and MaxDirectoryUsers users), plus
//     any local user whose full user ID is the search term.
//   - Matching is case-insensitive, on the user ID (its localpart in
//     particular) and on the display name, from the member events of the
//     scanned rooms or, for the exact-ID lookup, the global profile.
//   - Order: exact user ID or localpart matches, then prefix matches (of
//     the localpart or of any word of the display name), then other
//     substring matches; within a rank users with a display name come
//     first, then by user ID. limit defaults to 10 and is capped at 50.
//   - Local users are shown with their global profile (displayname,
//     avatar_url), which profile changes keep in step with their rooms.

const (
	userDirDefaultLimit = 10
	userDirMaxLimit     = 50
	userDirMaxTerm      = 256
)

type userDirResult struct {
	UserID      string `json:"user_id"`
	DisplayName string `json:"display_name,omitempty"`
	AvatarURL   string `json:"avatar_url,omitempty"`
	rank        int
}

func (a *API) searchUserDirectory(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	termV := body.Get("search_term")
	if !termV.Exists() {
		return errMissingParam("search_term is required")
	}
	term, ok := termV.Str()
	if !ok {
		return errBadJSON("search_term must be a string")
	}
	limit := int64(userDirDefaultLimit)
	if lv := body.Get("limit"); lv.Exists() {
		n, ok := lv.IntValue()
		if !ok {
			return errBadJSON("limit must be an integer")
		}
		if n > 0 {
			limit = min(n, userDirMaxLimit)
		}
	}
	term = strings.ToLower(strings.TrimSpace(term))
	results := []userDirResult{}
	if term == "" || len(term) > userDirMaxTerm {
		writeJSON(w, http.StatusOK, map[string]any{"results": results, "limited": false})
		return nil
	}

	candidates, err := a.opts.Rooms.DirectoryCandidates(r.Context(), c.UserID)
	if err != nil {
		return roomErr(err)
	}
	seen := map[string]bool{}
	for _, u := range candidates {
		rank, ok := matchUser(term, u.UserID, u.DisplayName)
		if !ok {
			continue
		}
		seen[u.UserID] = true
		results = append(results, userDirResult{UserID: u.UserID, DisplayName: u.DisplayName, AvatarURL: u.AvatarURL, rank: rank})
	}
	// The exact user ID of a local user, whether or not they share a room.
	if uid, err := ids.ParseUserIDLenient(term); err == nil && !seen[uid.String()] && a.opts.Users != nil &&
		uid.Domain() == a.opts.ServerName {
		if _, err := a.opts.Users.Profile(uid.String()); err == nil {
			seen[uid.String()] = true
			results = append(results, userDirResult{UserID: uid.String(), rank: 0})
		}
	}
	// Local users show their global profile.
	if a.opts.Users != nil {
		for i := range results {
			if id, err := ids.ParseUserIDLenient(results[i].UserID); err != nil || id.Domain() != a.opts.ServerName {
				continue
			}
			if p, err := a.opts.Users.Profile(results[i].UserID); err == nil {
				if p.DisplayName != "" {
					results[i].DisplayName = p.DisplayName
				}
				if p.AvatarURL != "" {
					results[i].AvatarURL = p.AvatarURL
				}
			}
		}
	}
	sort.Slice(results, func(i, j int) bool {
		x, y := results[i], results[j]
		if x.rank != y.rank {
			return x.rank < y.rank
		}
		if (x.DisplayName != "") != (y.DisplayName != "") {
			return x.DisplayName != ""
		}
		return x.UserID < y.UserID
	})
	limited := int64(len(results)) > limit
	if limited {
		results = results[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results, "limited": limited})
	return nil
}

// matchUser reports whether a lower-cased term matches a user, and how well
// (0 best).
func matchUser(term, userID, displayName string) (int, bool) {
	id := strings.ToLower(userID)
	local := strings.TrimPrefix(id, "@")
	if i := strings.IndexByte(local, ':'); i >= 0 {
		local = local[:i]
	}
	name := strings.ToLower(displayName)
	t := strings.TrimPrefix(term, "@")
	switch {
	case term == id || t == local || (name != "" && term == name):
		return 0, true
	case strings.HasPrefix(local, t) || strings.HasPrefix(name, term) || wordPrefix(name, term):
		return 1, true
	case strings.Contains(id, term) || strings.Contains(name, term):
		return 2, true
	}
	return 0, false
}

// wordPrefix reports whether any word of s starts with term.
func wordPrefix(s, term string) bool {
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, term) {
			return true
		}
	}
	return false
}
