package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// fetcher asks one server for what the room server lacks; every event it
// returns has passed verifyPDU.
type fetcher struct {
	s    *Server
	dest string
	ver  *pdu.RoomVersion
}

var _ roomserver.Fetcher = (*fetcher)(nil)

func (s *Server) fetcherFor(dest string, ver *pdu.RoomVersion) *fetcher {
	return &fetcher{s: s, dest: dest, ver: ver}
}

func (f *fetcher) MissingEvents(ctx context.Context, roomID string, earliest, latest []string, limit int, minDepth int64) ([]*pdu.Event, error) {
	body := map[string]any{"earliest_events": earliest, "latest_events": latest, "limit": limit, "min_depth": minDepth}
	var resp struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := f.s.o.Client.Do(ctx, f.dest, "POST", "/_matrix/federation/v1/get_missing_events/"+url.PathEscape(roomID), body, &resp); err != nil {
		return nil, err
	}
	if len(resp.Events) > limit {
		resp.Events = resp.Events[:limit]
	}
	return f.s.verifyPDUs(ctx, f.ver, resp.Events, roomID), nil
}

func (f *fetcher) StateBefore(ctx context.Context, roomID, eventID string) ([]*pdu.Event, []*pdu.Event, error) {
	var resp struct {
		PDUs      []json.RawMessage `json:"pdus"`
		AuthChain []json.RawMessage `json:"auth_chain"`
	}
	path := "/_matrix/federation/v1/state/" + url.PathEscape(roomID) + "?event_id=" + url.QueryEscape(eventID)
	if err := f.s.o.Client.Do(ctx, f.dest, "GET", path, nil, &resp); err != nil {
		return nil, nil, err
	}
	if len(resp.PDUs)+len(resp.AuthChain) > roomserver.MaxAuthChainEvents {
		return nil, nil, fmt.Errorf("federation: state of %s from %s is too large", roomID, f.dest)
	}
	return f.s.verifyPDUs(ctx, f.ver, resp.PDUs, roomID), f.s.verifyPDUs(ctx, f.ver, resp.AuthChain, roomID), nil
}

func (f *fetcher) AuthChain(ctx context.Context, roomID, eventID string) ([]*pdu.Event, error) {
	var resp struct {
		AuthChain []json.RawMessage `json:"auth_chain"`
	}
	path := "/_matrix/federation/v1/event_auth/" + url.PathEscape(roomID) + "/" + url.PathEscape(eventID)
	if err := f.s.o.Client.Do(ctx, f.dest, "GET", path, nil, &resp); err != nil {
		return nil, err
	}
	if len(resp.AuthChain) > roomserver.MaxAuthChainEvents {
		return nil, fmt.Errorf("federation: auth chain from %s is too large", f.dest)
	}
	return f.s.verifyPDUs(ctx, f.ver, resp.AuthChain, roomID), nil
}
