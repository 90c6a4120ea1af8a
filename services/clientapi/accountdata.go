package clientapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"sync"

	"hearth/services/matrix/ids"
	"hearth/services/users"
)

// Account data and room tags (spec: account-data.yaml, tags.yaml). Tags are
// room account data of type m.tag: {"tags": {<tag>: {"order": …}}}.
func (a *API) routesAccountData() {
	if a.opts.Users == nil {
		return
	}
	a.client("GET", "/user/{userId}/account_data/{type}", a.authed(a.getAccountData))
	a.client("PUT", "/user/{userId}/account_data/{type}", a.authed(a.putAccountData))
	a.client("GET", "/user/{userId}/rooms/{roomId}/account_data/{type}", a.authed(a.getAccountData))
	a.client("PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}", a.authed(a.putAccountData))
	a.client("GET", "/user/{userId}/rooms/{roomId}/tags", a.authed(a.getTags))
	a.client("PUT", "/user/{userId}/rooms/{roomId}/tags/{tag}", a.authed(a.putTag))
	a.client("DELETE", "/user/{userId}/rooms/{roomId}/tags/{tag}", a.authed(a.deleteTag))
}

// serverManagedTypes are account data types clients may read but not set
// (spec, Client Config "Server Behaviour"): 405 M_BAD_JSON. The pushers
// store is ours too.
var serverManagedTypes = map[string]bool{"m.fully_read": true, "m.push_rules": true, typePushers: true}

const (
	typeTag     = "m.tag"
	maxTagBytes = 255
)

// userLocks serialise read-modify-write cycles on one user's account data
// (tags, push rules, pushers); striped so memory stays fixed.
var userLocks [64]sync.Mutex

func lockUser(userID string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(userID))
	m := &userLocks[h.Sum32()%uint32(len(userLocks))]
	m.Lock()
	return m.Unlock
}

// readJSONObject reads a bounded body that must be a JSON object, keeping
// member values raw. Unlike readObject it accepts any JSON numbers (tag
// orders and client config may hold floats). An empty body is {}.
func (a *API) readJSONObject(r *http.Request) (map[string]json.RawMessage, error) {
	data, err := a.readBody(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if !json.Valid(data) {
		return nil, errNotJSON("Content not JSON")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, errBadJSON("Body must be a JSON object")
	}
	return m, nil
}

// ownRoom checks the path's user is the caller and its room ID (if any) is
// valid, returning the room ID ("" for global data).
func ownRoom(r *http.Request, verb string) (string, error) {
	if r.PathValue("userId") != CallerOf(r).UserID {
		return "", errForbidden("Cannot %s account data of other users", verb)
	}
	room := r.PathValue("roomId")
	if room != "" {
		if _, err := ids.ParseRoomID(room); err != nil {
			return "", errInvalidParam("Invalid room ID: %v", err)
		}
	}
	return room, nil
}

func (a *API) getAccountData(w http.ResponseWriter, r *http.Request) error {
	room, err := ownRoom(r, "read")
	if err != nil {
		return err
	}
	typ := r.PathValue("type")
	content, err := a.opts.Users.AccountData(CallerOf(r).UserID, room, typ)
	if errors.Is(err, users.ErrNotFound) {
		return errNotFound("No account data of type %q", typ)
	}
	if err != nil {
		return userErr(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(content)
	return nil
}

func (a *API) putAccountData(w http.ResponseWriter, r *http.Request) error {
	room, err := ownRoom(r, "set")
	if err != nil {
		return err
	}
	typ := r.PathValue("type")
	if serverManagedTypes[typ] {
		return Errf(http.StatusMethodNotAllowed, "M_BAD_JSON", "Account data of type %s is managed by the server", typ)
	}
	data, err := a.readBody(r)
	if err != nil {
		return err
	}
	if !json.Valid(data) {
		return errNotJSON("Content not JSON")
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return errBadJSON("Account data must be a JSON object")
	}
	if _, err := a.opts.Users.SetAccountData(CallerOf(r).UserID, room, typ, data); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// roomTags loads the tag map of a room; none stored is an empty map.
func (a *API) roomTags(userID, roomID string) (map[string]json.RawMessage, error) {
	raw, err := a.opts.Users.AccountData(userID, roomID, typeTag)
	if errors.Is(err, users.ErrNotFound) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, userErr(err)
	}
	var content struct {
		Tags map[string]json.RawMessage `json:"tags"`
	}
	if json.Unmarshal(raw, &content) != nil || content.Tags == nil {
		// Stored by an older client in another shape: start afresh.
		return map[string]json.RawMessage{}, nil
	}
	return content.Tags, nil
}

func (a *API) getTags(w http.ResponseWriter, r *http.Request) error {
	room, err := ownRoom(r, "read")
	if err != nil {
		return err
	}
	tags, err := a.roomTags(CallerOf(r).UserID, room)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": tags})
	return nil
}

func (a *API) putTag(w http.ResponseWriter, r *http.Request) error {
	room, err := ownRoom(r, "set")
	if err != nil {
		return err
	}
	tag := r.PathValue("tag")
	if tag == "" || len(tag) > maxTagBytes {
		return errInvalidParam("Tag names are 1 to %d bytes", maxTagBytes)
	}
	body, err := a.readJSONObject(r)
	if err != nil {
		return err
	}
	if o, ok := body["order"]; ok {
		var f float64
		if err := json.Unmarshal(o, &f); err != nil {
			return errBadJSON("order must be a number")
		}
	}
	val, _ := json.Marshal(body)
	return a.updateTags(w, r, room, func(tags map[string]json.RawMessage) { tags[tag] = val })
}

func (a *API) deleteTag(w http.ResponseWriter, r *http.Request) error {
	room, err := ownRoom(r, "set")
	if err != nil {
		return err
	}
	tag := r.PathValue("tag")
	return a.updateTags(w, r, room, func(tags map[string]json.RawMessage) { delete(tags, tag) })
}

func (a *API) updateTags(w http.ResponseWriter, r *http.Request, room string, change func(map[string]json.RawMessage)) error {
	user := CallerOf(r).UserID
	defer lockUser(user)()
	tags, err := a.roomTags(user, room)
	if err != nil {
		return err
	}
	change(tags)
	content, _ := json.Marshal(map[string]any{"tags": tags})
	if _, err := a.opts.Users.SetAccountData(user, room, typeTag, content); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
