package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// The joining side of the handshakes, for local users.

// ErrNoServer: no server given could do what was asked.
var ErrNoServer = errors.New("federation: no server could be reached for the room")

// ResolveAlias asks the alias's server for the room ID and its servers.
func (s *Server) ResolveAlias(ctx context.Context, alias string) (string, []string, error) {
	var resp struct {
		RoomID  string   `json:"room_id"`
		Servers []string `json:"servers"`
	}
	err := s.o.Client.Do(ctx, pdu.Domain(alias), "GET", "/_matrix/federation/v1/query/directory?room_alias="+url.QueryEscape(alias), nil, &resp)
	if err != nil {
		return "", nil, err
	}
	if resp.RoomID == "" {
		return "", nil, fmt.Errorf("federation: %s gave no room for %s", pdu.Domain(alias), alias)
	}
	return resp.RoomID, resp.Servers, nil
}

// QueryProfile asks a remote user's server for the profile.
func (s *Server) QueryProfile(ctx context.Context, userID string) (map[string]any, error) {
	var out map[string]any
	err := s.o.Client.Do(ctx, pdu.Domain(userID), "GET", "/_matrix/federation/v1/query/profile?user_id="+url.QueryEscape(userID), nil, &out)
	return out, err
}

// candidates orders the servers to ask: the given ones, then the room
// ID's own domain (pre-v12 room IDs name one), without ourselves.
func (s *Server) candidates(roomID string, servers []string) []string {
	list := append([]string(nil), servers...)
	if d := pdu.Domain(roomID); d != "" {
		list = append(list, d)
	}
	return without(list, s.o.ServerName)
}

// supportedVersionsQuery is ?ver=... for make_join and make_knock.
func supportedVersionsQuery() string {
	q := url.Values{}
	for _, v := range pdu.SupportedVersions() {
		q.Add("ver", v)
	}
	return q.Encode()
}

// makeMembership runs make_<membership> on server and rebuilds the event.
func (s *Server) makeMembership(ctx context.Context, server, roomID, userID, membership string, content cjson.Value) (*pdu.Event, error) {
	path := "/_matrix/federation/v1/make_" + membership + "/" + url.PathEscape(roomID) + "/" + url.PathEscape(userID)
	if membership != "leave" {
		path += "?" + supportedVersionsQuery()
	}
	var resp struct {
		RoomVersion string          `json:"room_version"`
		Event       json.RawMessage `json:"event"`
	}
	if err := s.o.Client.Do(ctx, server, "GET", path, nil, &resp); err != nil {
		return nil, err
	}
	if resp.RoomVersion == "" {
		resp.RoomVersion = "1"
	}
	ver, ok := pdu.Version(resp.RoomVersion)
	if !ok {
		return nil, fmt.Errorf("%w: %s", roomserver.ErrUnsupportedVersion, resp.RoomVersion)
	}
	tmpl, err := cjson.Decode(resp.Event)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", roomserver.ErrBadTemplate, err)
	}
	if got, _ := tmpl.Get("room_id").Str(); got != roomID {
		return nil, fmt.Errorf("%w: template for room %q", roomserver.ErrBadTemplate, got)
	}
	return s.o.Rooms.EventFromTemplate(ver, tmpl, userID, membership, content)
}

// Join joins a local user to a room on other servers: make_join on the
// first server that answers, our own join event, send_join, then the
// room's state and auth chain (verified) are imported.
func (s *Server) Join(ctx context.Context, userID, roomID string, servers []string, content cjson.Value) error {
	var lastErr error = ErrNoServer
	for _, server := range s.candidates(roomID, servers) {
		err := s.joinVia(ctx, server, userID, roomID, content)
		if err == nil {
			return nil
		}
		lastErr = err
		s.log.Info("join through server failed", "server", server, "room", roomID, "err", err)
		if st := statusOf(err); st == 403 {
			return err // the room refuses: asking elsewhere will not change that
		}
	}
	return lastErr
}

func (s *Server) joinVia(ctx context.Context, server, userID, roomID string, content cjson.Value) error {
	join, err := s.makeMembership(ctx, server, roomID, userID, "join", content)
	if err != nil {
		return err
	}
	var resp struct {
		State     []json.RawMessage `json:"state"`
		AuthChain []json.RawMessage `json:"auth_chain"`
		Event     json.RawMessage   `json:"event"`
	}
	path := "/_matrix/federation/v2/send_join/" + url.PathEscape(roomID) + "/" + url.PathEscape(join.ID())
	if err := s.o.Client.Do(ctx, server, "PUT", path, json.RawMessage(join.JSON()), &resp); err != nil {
		return err
	}
	ver := join.Version()
	if len(resp.Event) > 0 {
		// A restricted join comes back signed by the authorising server;
		// it must still be our event.
		signed, err := s.verifyPDU(ctx, ver, resp.Event)
		if err == nil && signed.ID() == join.ID() {
			join = signed
		}
	}
	if len(resp.State)+len(resp.AuthChain) > roomserver.MaxAuthChainEvents {
		return fmt.Errorf("federation: the room's state from %s is too large", server)
	}
	state := s.verifyPDUs(ctx, ver, resp.State, roomID)
	chain := s.verifyPDUs(ctx, ver, resp.AuthChain, roomID)
	got, err := s.o.Rooms.JoinRemote(ctx, join, state, chain)
	if err != nil {
		return err
	}
	if got.Outcome != roomserver.Accepted {
		return fmt.Errorf("%w: our join is %s: %s", roomserver.ErrForbidden, got.Outcome, got.Reason)
	}
	return nil
}

// Leave sends a local user's leave (rejecting an invite, or retracting a
// knock) through a server in the room, when this server is not in it, and
// records it.
func (s *Server) Leave(ctx context.Context, userID, roomID string, servers []string) error {
	var lastErr error = ErrNoServer
	for _, server := range s.candidates(roomID, servers) {
		leave, err := s.makeMembership(ctx, server, roomID, userID, "leave", cjson.Value{})
		if err != nil {
			lastErr = err
			continue
		}
		path := "/_matrix/federation/v2/send_leave/" + url.PathEscape(roomID) + "/" + url.PathEscape(leave.ID())
		if err := s.o.Client.Do(ctx, server, "PUT", path, json.RawMessage(leave.JSON()), nil); err != nil {
			lastErr = err
			continue
		}
		_, err = s.o.Rooms.StoreStubMembership(ctx, leave)
		return err
	}
	return lastErr
}

// Invite invites a user of another server: the invite is built on the
// room's current state, co-signed by the invitee's server through
// /v2/invite, then committed (and so sent to the room's servers).
func (s *Server) Invite(ctx context.Context, roomID, sender, invitee string, content cjson.Value) (*pdu.Event, error) {
	if content.Kind() != cjson.Object {
		content = cjson.EmptyObject()
	}
	content = content.With("membership", cjson.StrOf("invite"))
	sk := invitee
	ev, err := s.o.Rooms.BuildLocal(ctx, roomID, roomserver.Event{Type: "m.room.member", StateKey: &sk, Sender: sender, Content: content})
	if err != nil {
		return nil, err
	}
	body := map[string]any{"room_version": ev.Version().ID, "event": json.RawMessage(ev.JSON()),
		"invite_room_state": s.strippedState(ctx, roomID)}
	var resp struct {
		Event json.RawMessage `json:"event"`
	}
	dest := pdu.Domain(invitee)
	path := "/_matrix/federation/v2/invite/" + url.PathEscape(roomID) + "/" + url.PathEscape(ev.ID())
	if err := s.o.Client.Do(ctx, dest, "PUT", path, body, &resp); err != nil {
		return nil, err
	}
	signed, err := s.verifyPDU(ctx, ev.Version(), resp.Event)
	if err != nil {
		return nil, fmt.Errorf("federation: %s's invite answer: %w", dest, err)
	}
	if signed.ID() != ev.ID() || len(signed.Object().Get("signatures").Get(dest).Members()) == 0 {
		return nil, fmt.Errorf("federation: %s did not sign the invite", dest)
	}
	got, err := s.o.Rooms.Receive(ctx, signed, nil)
	if err != nil {
		return nil, err
	}
	if got.Outcome != roomserver.Accepted {
		return nil, fmt.Errorf("%w: the invite is %s: %s", roomserver.ErrForbidden, got.Outcome, got.Reason)
	}
	return signed, nil
}

// Backfill fetches up to limit events of a room's history from before the
// earliest event this server holds, from a server in the room, and adds
// them to the start of the timeline. It returns how many were added (0
// when the room's beginning is already here).
func (s *Server) Backfill(ctx context.Context, roomID string, limit int) (int, error) {
	start, complete, err := s.o.Rooms.TimelineStart(ctx, roomID)
	if err != nil || complete {
		return 0, err
	}
	ver, err := s.o.Rooms.Version(ctx, roomID)
	if err != nil {
		return 0, err
	}
	servers, err := s.o.Rooms.ServersInRoom(ctx, roomID)
	if err != nil {
		return 0, err
	}
	limit = min(max(limit, 1), maxBackfill)
	var lastErr error = ErrNoServer
	for _, server := range without(servers, s.o.ServerName) {
		var resp struct {
			PDUs []json.RawMessage `json:"pdus"`
		}
		path := "/_matrix/federation/v1/backfill/" + url.PathEscape(roomID) + "?v=" + url.QueryEscape(start) + "&limit=" + fmt.Sprint(limit)
		if err := s.o.Client.Do(ctx, server, "GET", path, nil, &resp); err != nil {
			lastErr = err
			continue
		}
		if len(resp.PDUs) > limit+1 {
			resp.PDUs = resp.PDUs[:limit+1]
		}
		return s.o.Rooms.InsertHistory(ctx, roomID, s.verifyPDUs(ctx, ver, resp.PDUs, roomID))
	}
	return 0, lastErr
}
