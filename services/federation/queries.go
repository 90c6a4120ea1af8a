package federation

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"hearth/services/federation/keys"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// Unauthenticated and query endpoints: version, server keys and the
// notary, directory and profile queries, public rooms.

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"server": map[string]string{"name": "Hearth", "version": s.o.Version}})
	return nil
}

func (s *Server) handleOwnKeys(w http.ResponseWriter, r *http.Request) error {
	b, err := keys.OwnKeys(s.o.ServerName, s.o.Signer, nil, s.o.KeyValidity, s.o.Now())
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

// maxNotaryBody bounds a notary query.
const maxNotaryBody = 64 << 10

func (s *Server) handleNotaryPost(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotaryBody+1))
	if err != nil {
		return errBadJSON("reading the body failed")
	}
	if len(body) > maxNotaryBody {
		return errf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "body over %d bytes", maxNotaryBody)
	}
	b, err := s.o.Keys.NotaryResponse(r.Context(), body)
	if errors.Is(err, keys.ErrBadQuery) {
		return errBadJSON("%v", err)
	}
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) handleNotaryGet(w http.ResponseWriter, r *http.Request) error {
	var minValid int64
	if v := r.URL.Query().Get("minimum_valid_until_ts"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errInvalidParam("bad minimum_valid_until_ts")
		}
		minValid = n
	}
	b, err := s.o.Keys.NotaryGet(r.Context(), r.PathValue("serverName"), minValid)
	if errors.Is(err, keys.ErrBadQuery) {
		return errInvalidParam("%v", err)
	}
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, b)
	return nil
}

func (s *Server) handleQueryDirectory(w http.ResponseWriter, r *request) error {
	alias := r.URL.Query().Get("room_alias")
	if !strings.HasPrefix(alias, "#") || pdu.Domain(alias) != s.o.ServerName {
		return errNotFound("room alias not found")
	}
	entry, err := s.o.Rooms.ResolveAlias(r.Context(), alias)
	if errors.Is(err, roomserver.ErrNotFound) {
		return errNotFound("room alias not found")
	}
	if err != nil {
		return err
	}
	servers, err := s.o.Rooms.ServersInRoom(r.Context(), entry.RoomID)
	if err != nil {
		return mapRoomErr(err)
	}
	if len(servers) == 0 {
		servers = []string{s.o.ServerName}
	}
	writeJSON(w, http.StatusOK, map[string]any{"room_id": entry.RoomID, "servers": servers})
	return nil
}

func (s *Server) handleQueryProfile(w http.ResponseWriter, r *request) error {
	user, field := r.URL.Query().Get("user_id"), r.URL.Query().Get("field")
	if pdu.Domain(user) != s.o.ServerName || s.o.Profiles == nil {
		return errNotFound("profile not found")
	}
	name, avatar, err := s.o.Profiles.ProfileOf(user)
	if err != nil {
		return errNotFound("profile not found")
	}
	out := map[string]string{}
	if name != "" && (field == "" || field == "displayname") {
		out["displayname"] = name
	}
	if avatar != "" && (field == "" || field == "avatar_url") {
		out["avatar_url"] = avatar
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handlePublicRooms(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	chunk := []map[string]any{}
	if s.o.PublicRooms != nil {
		ids, err := s.o.PublicRooms(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			sum, err := s.o.Rooms.Summary(ctx, id)
			if err != nil {
				continue
			}
			chunk = append(chunk, map[string]any{"room_id": id, "name": sum.Name, "topic": sum.Topic,
				"num_joined_members": sum.NumJoinedMembers, "world_readable": sum.WorldReadable, "guest_can_join": sum.GuestCanJoin,
				"join_rule": sum.JoinRule})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"chunk": chunk, "total_room_count_estimate": len(chunk)})
	return nil
}

// handleUserDevices answers GET /user/devices/{userId}. End-to-end
// encryption is not served yet, so no device has keys: the list is empty,
// which tells other servers there is nothing to encrypt for.
func (s *Server) handleUserDevices(w http.ResponseWriter, r *request) error {
	user := r.PathValue("userId")
	if pdu.Domain(user) != s.o.ServerName {
		return errNotFound("not a user of this server")
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": user, "stream_id": 0, "devices": []any{}})
	return nil
}

// handleKeysQuery answers POST /user/keys/query: no device keys yet.
func (s *Server) handleKeysQuery(w http.ResponseWriter, r *request) error {
	writeJSON(w, http.StatusOK, map[string]any{"device_keys": map[string]any{}})
	return nil
}
