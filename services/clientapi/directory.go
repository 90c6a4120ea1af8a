package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"hearth/services/matrix/ids"
	"hearth/services/roomserver"
)

// Room aliases, the published room directory and forgetting rooms.
//
// Decisions the spec leaves to the server:
//   - Setting an alias needs the caller to be joined to the room; deleting
//     one needs its creator, or a member with the power to send
//     m.room.canonical_alias. Deleting does not edit m.room.canonical_alias.
//   - Publishing a room (PUT /directory/list/room) needs a member with the
//     power to send m.room.canonical_alias (state_default, 50, by default):
//     the same users who curate the room's advertised address.
//   - Remote aliases and remote directories are not resolved yet (no
//     federation queries): 404 M_NOT_FOUND.
//   - /publicRooms orders rooms by joined members, most first, then room ID;
//     pagination tokens are offsets ("p<offset>").
func (a *API) routesDirectory() {
	a.client("PUT", "/directory/room/{roomAlias}", a.authed(a.putAlias))
	a.client("GET", "/directory/room/{roomAlias}", a.open(a.getAlias))
	a.client("DELETE", "/directory/room/{roomAlias}", a.authed(a.deleteAlias))
	a.client("GET", "/rooms/{roomId}/aliases", a.authed(a.roomAliases))
	a.client("GET", "/directory/list/room/{roomId}", a.open(a.getVisibility))
	a.client("PUT", "/directory/list/room/{roomId}", a.authed(a.putVisibility))
	a.client("GET", "/publicRooms", a.open(a.publicRoomsGet))
	a.client("POST", "/publicRooms", a.authed(a.publicRoomsPost))
	a.client("POST", "/rooms/{roomId}/forget", a.authed(a.forgetRoom))
	a.routesRelations()
}

// dirErr maps the room server's directory errors, then the rest as roomErr.
func dirErr(err error) error {
	switch {
	case errors.Is(err, roomserver.ErrInvalidAlias):
		return errInvalidParam("%v", err)
	case errors.Is(err, roomserver.ErrNotLeft):
		return Errf(http.StatusBadRequest, "M_UNKNOWN", "%v", err)
	}
	return roomErr(err)
}

// parseAlias reads a room alias and reports whether it is on this server.
func (a *API) parseAlias(s string) (alias string, local bool, err error) {
	al, perr := ids.ParseRoomAlias(s)
	if perr != nil {
		return "", false, errInvalidParam("Invalid room alias %q", clipParam(s))
	}
	return al.String(), al.Domain() == a.opts.ServerName, nil
}

// localAliasFromName builds the alias createRoom's room_alias_name asks for.
func (a *API) localAliasFromName(name string) (string, error) {
	alias, local, err := a.parseAlias("#" + name + ":" + a.opts.ServerName)
	if err != nil || !local || strings.ContainsRune(name, ':') {
		return "", errInvalidParam("Invalid room_alias_name %q", clipParam(name))
	}
	return alias, nil
}

// resolveRoom turns a room ID or local alias into a room ID.
func (a *API) resolveRoom(r *http.Request, idOrAlias string) (string, error) {
	id, _, err := a.resolveRoomServers(r, idOrAlias)
	return id, err
}

// resolveRoomServers is resolveRoom that also names the servers a remote
// alias's server says are in the room.
func (a *API) resolveRoomServers(r *http.Request, idOrAlias string) (string, []string, error) {
	if !strings.HasPrefix(idOrAlias, "#") {
		if _, err := ids.ParseRoomID(idOrAlias); err != nil {
			return "", nil, errInvalidParam("Invalid room ID")
		}
		return idOrAlias, nil, nil
	}
	alias, local, err := a.parseAlias(idOrAlias)
	if err != nil {
		return "", nil, err
	}
	if !local {
		if a.opts.Federation == nil {
			return "", nil, errNotFound("Room alias %s not found (federation is off)", alias)
		}
		roomID, servers, err := a.opts.Federation.ResolveAlias(r.Context(), alias)
		if err != nil {
			return "", nil, errNotFound("Room alias %s not found: %s", alias, clipParam(err.Error()))
		}
		return roomID, servers, nil
	}
	e, err := a.opts.Rooms.ResolveAlias(r.Context(), alias)
	if err != nil {
		return "", nil, dirErr(err)
	}
	return e.RoomID, nil, nil
}

func clipParam(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func (a *API) putAlias(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	alias, local, err := a.parseAlias(r.PathValue("roomAlias"))
	if err != nil {
		return err
	}
	if !local {
		return errInvalidParam("Room alias must be on server %s", a.opts.ServerName)
	}
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	roomID, ok := body.Get("room_id").Str()
	if !ok {
		return errMissingParam("room_id is required")
	}
	if _, err := ids.ParseRoomID(roomID); err != nil {
		return errInvalidParam("Invalid room_id")
	}
	if _, err := a.opts.Rooms.Version(r.Context(), roomID); err != nil {
		return dirErr(err) // unknown room: 404
	}
	if err := a.mustBeMember(r.Context(), roomID, c.UserID); err != nil {
		return err
	}
	if err := a.opts.Rooms.SetAlias(r.Context(), alias, roomID, c.UserID); err != nil {
		if errors.Is(err, roomserver.ErrRoomInUse) {
			return Errf(http.StatusConflict, "M_UNKNOWN", "Room alias %s already exists", alias)
		}
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) getAlias(w http.ResponseWriter, r *http.Request) error {
	alias, local, err := a.parseAlias(r.PathValue("roomAlias"))
	if err != nil {
		return err
	}
	if !local {
		return errNotFound("Room alias %s not found (remote aliases are not resolved yet)", alias)
	}
	e, err := a.opts.Rooms.ResolveAlias(r.Context(), alias)
	if err != nil {
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"room_id": e.RoomID, "servers": []string{a.opts.ServerName}})
	return nil
}

func (a *API) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	alias, local, err := a.parseAlias(r.PathValue("roomAlias"))
	if err != nil {
		return err
	}
	if !local {
		return errInvalidParam("Room alias must be on server %s", a.opts.ServerName)
	}
	if err := a.opts.Rooms.DeleteAlias(r.Context(), alias, CallerOf(r).UserID); err != nil {
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) roomAliases(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	if _, err := ids.ParseRoomID(roomID); err != nil {
		return errInvalidParam("Invalid room ID")
	}
	hv, err := a.opts.Rooms.StateEvent(r.Context(), roomID, "m.room.history_visibility", "")
	worldReadable := err == nil && hv.Content().Get("history_visibility").StrOr("") == "world_readable"
	if !worldReadable {
		if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
			return err
		}
	}
	aliases, err := a.opts.Rooms.AliasesOf(r.Context(), roomID)
	if err != nil {
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"aliases": aliases})
	return nil
}

func (a *API) getVisibility(w http.ResponseWriter, r *http.Request) error {
	pub, err := a.opts.Rooms.Published(r.Context(), r.PathValue("roomId"))
	if err != nil {
		return dirErr(err)
	}
	v := "private"
	if pub {
		v = "public"
	}
	writeJSON(w, http.StatusOK, map[string]string{"visibility": v})
	return nil
}

func (a *API) putVisibility(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	v := body.Get("visibility")
	vis, ok := v.Str()
	if !v.Exists() {
		vis, ok = "public", true // the spec's default
	}
	if !ok || (vis != "public" && vis != "private") {
		return errInvalidParam("visibility must be public or private")
	}
	may, err := a.opts.Rooms.MayState(r.Context(), roomID, CallerOf(r).UserID, "m.room.canonical_alias")
	if err != nil {
		return dirErr(err)
	}
	if !may {
		return errForbidden("You may not change the directory visibility of %s", roomID)
	}
	if err := a.opts.Rooms.SetPublished(r.Context(), roomID, vis == "public"); err != nil {
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// Bounds on /publicRooms.
const (
	defaultPublicRooms = 100
	maxPublicRooms     = 500
	maxSearchTermBytes = 256
)

// publicRoomsQuery is a parsed /publicRooms request.
type publicRoomsQuery struct {
	limit     int
	offset    int
	term      string
	roomTypes []*string // nil: all; a nil entry: rooms without a type
	server    string
}

func (a *API) publicRoomsGet(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pq := publicRoomsQuery{limit: defaultPublicRooms, server: q.Get("server")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errInvalidParam("Invalid limit")
		}
		pq.limit = n
	}
	if s := q.Get("since"); s != "" {
		off, err := parseDirectoryToken(s)
		if err != nil {
			return err
		}
		pq.offset = off
	}
	return a.publicRooms(w, r, pq)
}

func (a *API) publicRoomsPost(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Limit  *int   `json:"limit"`
		Since  string `json:"since"`
		Filter *struct {
			GenericSearchTerm string             `json:"generic_search_term"`
			RoomTypes         *[]json.RawMessage `json:"room_types"`
		} `json:"filter"`
		IncludeAllNetworks   bool   `json:"include_all_networks"`
		ThirdPartyInstanceID string `json:"third_party_instance_id"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	pq := publicRoomsQuery{limit: defaultPublicRooms, server: r.URL.Query().Get("server")}
	if body.Limit != nil {
		if *body.Limit < 0 {
			return errInvalidParam("Invalid limit")
		}
		pq.limit = *body.Limit
	}
	if body.Since != "" {
		off, err := parseDirectoryToken(body.Since)
		if err != nil {
			return err
		}
		pq.offset = off
	}
	if body.ThirdPartyInstanceID != "" {
		// No application-service networks here: nothing matches.
		writeJSON(w, http.StatusOK, map[string]any{"chunk": []any{}, "total_room_count_estimate": 0})
		return nil
	}
	if f := body.Filter; f != nil {
		if len(f.GenericSearchTerm) > maxSearchTermBytes {
			return errInvalidParam("generic_search_term is too long")
		}
		pq.term = strings.ToLower(strings.TrimSpace(f.GenericSearchTerm))
		if f.RoomTypes != nil {
			pq.roomTypes = []*string{}
			for _, raw := range *f.RoomTypes {
				if string(raw) == "null" {
					pq.roomTypes = append(pq.roomTypes, nil)
					continue
				}
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return errBadJSON("room_types entries must be strings or null")
				}
				pq.roomTypes = append(pq.roomTypes, &s)
			}
		}
	}
	return a.publicRooms(w, r, pq)
}

func parseDirectoryToken(s string) (int, error) {
	if len(s) < 2 || len(s) > 12 || s[0] != 'p' || (len(s) > 2 && s[1] == '0') {
		return 0, errInvalidParam("Invalid pagination token")
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 || strings.ContainsAny(s[1:], "+-") {
		return 0, errInvalidParam("Invalid pagination token")
	}
	return n, nil
}

func (a *API) publicRooms(w http.ResponseWriter, r *http.Request, q publicRoomsQuery) error {
	if q.server != "" && q.server != a.opts.ServerName {
		return errNotFound("Room directories of other servers are not available yet")
	}
	q.limit = min(q.limit, maxPublicRooms)
	published, err := a.opts.Rooms.PublishedRooms(r.Context())
	if err != nil {
		return err
	}
	var rooms []roomserver.RoomSummary
	for _, id := range published {
		s, err := a.opts.Rooms.Summary(r.Context(), id)
		if err != nil {
			if errors.Is(err, roomserver.ErrNotFound) {
				continue
			}
			return err
		}
		if q.matches(s) {
			rooms = append(rooms, s)
		}
	}
	sort.Slice(rooms, func(i, j int) bool {
		if rooms[i].NumJoinedMembers != rooms[j].NumJoinedMembers {
			return rooms[i].NumJoinedMembers > rooms[j].NumJoinedMembers
		}
		return rooms[i].RoomID < rooms[j].RoomID
	})
	resp := map[string]any{"total_room_count_estimate": len(rooms)}
	start := min(q.offset, len(rooms))
	end := min(start+q.limit, len(rooms))
	chunk := make([]map[string]any, 0, end-start)
	for _, s := range rooms[start:end] {
		chunk = append(chunk, publicRoomChunk(s))
	}
	resp["chunk"] = chunk
	if end < len(rooms) {
		resp["next_batch"] = "p" + strconv.Itoa(end)
	}
	if start > 0 {
		resp["prev_batch"] = "p" + strconv.Itoa(max(0, start-q.limit))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (q publicRoomsQuery) matches(s roomserver.RoomSummary) bool {
	if q.roomTypes != nil {
		ok := false
		for _, t := range q.roomTypes {
			if (t == nil && s.RoomType == "") || (t != nil && *t == s.RoomType) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if q.term == "" {
		return true
	}
	for _, f := range []string{s.Name, s.Topic, s.CanonicalAlias, s.RoomID} {
		if strings.Contains(strings.ToLower(f), q.term) {
			return true
		}
	}
	return false
}

func publicRoomChunk(s roomserver.RoomSummary) map[string]any {
	m := map[string]any{
		"room_id":            s.RoomID,
		"num_joined_members": s.NumJoinedMembers,
		"world_readable":     s.WorldReadable,
		"guest_can_join":     s.GuestCanJoin,
	}
	for k, v := range map[string]string{"name": s.Name, "topic": s.Topic, "canonical_alias": s.CanonicalAlias,
		"avatar_url": s.AvatarURL, "join_rule": s.JoinRule, "room_type": s.RoomType} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

func (a *API) forgetRoom(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	if _, err := ids.ParseRoomID(roomID); err != nil {
		return errInvalidParam("Invalid room ID")
	}
	if err := a.opts.Rooms.Forget(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return dirErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
