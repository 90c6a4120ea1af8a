package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// History and state reads. A server may read a room only while one of its
// users is joined (or being let in), and only when the ACL lets it in.

const maxBackfill = 100

func (s *Server) mayRead(ctx context.Context, roomID, origin string) error {
	if _, err := s.roomVersion(ctx, roomID); err != nil {
		return err
	}
	if err := s.checkACL(ctx, roomID, origin); err != nil {
		return err
	}
	in, err := s.o.Rooms.ServerInRoom(ctx, roomID, origin)
	if err != nil {
		return mapRoomErr(err)
	}
	if !in {
		return errForbidden("server %s is not in the room", origin)
	}
	return nil
}

func (s *Server) stateAndChain(ctx context.Context, roomID, eventID string) ([]*pdu.Event, []*pdu.Event, error) {
	state, err := s.o.Rooms.StateBefore(ctx, roomID, eventID)
	if err != nil {
		return nil, nil, mapRoomErr(err)
	}
	list := make([]*pdu.Event, 0, len(state))
	for _, e := range state {
		list = append(list, e)
	}
	chain, err := s.o.Rooms.AuthChain(ctx, roomID, list)
	if err != nil {
		return nil, nil, mapRoomErr(err)
	}
	return list, chain, nil
}

func (s *Server) handleState(ids bool) func(w http.ResponseWriter, r *request) error {
	return func(w http.ResponseWriter, r *request) error {
		ctx := r.Context()
		roomID, eventID := r.PathValue("roomId"), r.URL.Query().Get("event_id")
		if eventID == "" {
			return errf(http.StatusBadRequest, "M_MISSING_PARAM", "event_id is required")
		}
		if err := s.mayRead(ctx, roomID, r.origin); err != nil {
			return err
		}
		state, chain, err := s.stateAndChain(ctx, roomID, eventID)
		if err != nil {
			return err
		}
		if ids {
			writeJSON(w, http.StatusOK, map[string]any{"pdu_ids": idsOf(state), "auth_chain_ids": idsOf(chain)})
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]any{"pdus": rawPDUs(state), "auth_chain": rawPDUs(chain)})
		return nil
	}
}

func idsOf(evs []*pdu.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID()
	}
	return out
}

func (s *Server) handleEvent(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	ev, _, err := s.o.Rooms.EventByID(ctx, r.PathValue("eventId"))
	if err != nil {
		return mapRoomErr(err)
	}
	if err := s.mayRead(ctx, ev.RoomID(), r.origin); err != nil {
		return err
	}
	got, err := s.o.Rooms.EventsByID(ctx, ev.RoomID(), []string{ev.ID()})
	if err != nil || len(got) == 0 {
		return errNotFound("unknown event")
	}
	if got, err = s.o.Rooms.ForServer(ctx, ev.RoomID(), r.origin, got); err != nil {
		return mapRoomErr(err)
	}
	s.writeTxnLike(w, got)
	return nil
}

func (s *Server) writeTxnLike(w http.ResponseWriter, evs []*pdu.Event) {
	writeJSON(w, http.StatusOK, map[string]any{"origin": s.o.ServerName, "origin_server_ts": s.o.Now().UnixMilli(), "pdus": rawPDUs(evs)})
}

func (s *Server) handleEventAuth(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	roomID := r.PathValue("roomId")
	if err := s.mayRead(ctx, roomID, r.origin); err != nil {
		return err
	}
	evs, err := s.o.Rooms.EventsByID(ctx, roomID, []string{r.PathValue("eventId")})
	if err != nil {
		return mapRoomErr(err)
	}
	if len(evs) == 0 {
		return errNotFound("unknown event")
	}
	chain, err := s.o.Rooms.AuthChain(ctx, roomID, evs)
	if err != nil {
		return mapRoomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"auth_chain": rawPDUs(chain)})
	return nil
}

func (s *Server) handleBackfill(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	roomID := r.PathValue("roomId")
	if err := s.mayRead(ctx, roomID, r.origin); err != nil {
		return err
	}
	q := r.URL.Query()
	from := q["v"]
	limit, err := strconv.Atoi(q.Get("limit"))
	if len(from) == 0 || len(from) > 20 || err != nil || limit < 1 {
		return errInvalidParam("v (1–20 event IDs) and a positive limit are required")
	}
	evs, err := s.o.Rooms.Backfill(ctx, roomID, from, min(limit, maxBackfill))
	if err == nil {
		evs, err = s.o.Rooms.ForServer(ctx, roomID, r.origin, evs)
	}
	if err != nil {
		return mapRoomErr(err)
	}
	s.writeTxnLike(w, evs)
	return nil
}

func (s *Server) handleMissingEvents(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	roomID := r.PathValue("roomId")
	if err := s.mayRead(ctx, roomID, r.origin); err != nil {
		return err
	}
	var body struct {
		Earliest []string `json:"earliest_events"`
		Latest   []string `json:"latest_events"`
		Limit    int      `json:"limit"`
		MinDepth int64    `json:"min_depth"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		return errBadJSON("bad body: %v", err)
	}
	if body.Limit <= 0 {
		body.Limit = 10
	}
	if len(body.Earliest) > 100 || len(body.Latest) > 20 {
		return errInvalidParam("too many events named")
	}
	evs, err := s.o.Rooms.MissingEvents(ctx, roomID, body.Earliest, body.Latest, min(body.Limit, maxBackfill), body.MinDepth)
	if err == nil {
		evs, err = s.o.Rooms.ForServer(ctx, roomID, r.origin, evs)
	}
	if err != nil {
		return mapRoomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": rawPDUs(evs)})
	return nil
}

// handleTimestampToEvent answers GET /timestamp_to_event: the event
// closest to a time in the given direction.
func (s *Server) handleTimestampToEvent(w http.ResponseWriter, r *request) error {
	ctx := r.Context()
	roomID := r.PathValue("roomId")
	if err := s.mayRead(ctx, roomID, r.origin); err != nil {
		return err
	}
	q := r.URL.Query()
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	if err != nil || ts < 0 {
		return errInvalidParam("ts must be a timestamp in milliseconds")
	}
	dir := roomserver.Forward
	switch q.Get("dir") {
	case "f":
	case "b":
		dir = roomserver.Backward
	default:
		return errInvalidParam("dir must be f or b")
	}
	ev, err := s.o.Rooms.EventNearTimestamp(ctx, roomID, ts, dir)
	if err != nil {
		return mapRoomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"event_id": ev.ID(), "origin_server_ts": ev.OriginServerTS()})
	return nil
}
