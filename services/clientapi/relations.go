package clientapi

import (
	"net/http"
	"strconv"

	"hearth/services/matrix/cjson"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

// Event context, relations, threads and timestamp lookup.
//
// Not done yet:
//   - /context ignores its filter parameter (lazy-loading members too) and
//     returns the room's current state, not the state at the last event.
//   - No bundled aggregations (unsigned.m.relations) on any event.
//   - /relations with recurse=true returns direct children only and says so
//     with recursion_depth 1.
//
// Pagination tokens are the /messages tokens (sync.PaginationToken): t<pos>
// names the point just after the event at pos.
func (a *API) routesRelations() {
	a.client("GET", "/rooms/{roomId}/context/{eventId}", a.authed(a.eventContext))
	a.clientV1("GET", "/rooms/{roomId}/relations/{eventId}", a.authed(a.relations))
	a.clientV1("GET", "/rooms/{roomId}/relations/{eventId}/{relType}", a.authed(a.relations))
	a.clientV1("GET", "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}", a.authed(a.relations))
	a.clientV1("GET", "/rooms/{roomId}/threads", a.authed(a.threads))
	a.clientV1("GET", "/rooms/{roomId}/timestamp_to_event", a.authed(a.timestampToEvent))
}

// Bounds on these endpoints.
const (
	defaultContextLimit   = 10
	maxContextLimit       = 100
	defaultRelationsLimit = 20
	maxRelationsLimit     = 100
	defaultThreadsLimit   = 20
	maxThreadsLimit       = 100
)

// queryLimit reads the limit parameter: def when absent, at most max, and
// at least minimum.
func queryLimit(r *http.Request, def, max, minimum int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < minimum {
		return 0, errInvalidParam("Invalid limit")
	}
	return min(n, max), nil
}

func queryToken(r *http.Request, name string) (uint64, bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, false, nil
	}
	p, err := hsync.ParsePaginationToken(s)
	if err != nil {
		return 0, false, errInvalidParam("Invalid %s token", name)
	}
	return p, true, nil
}

func (a *API) eventContext(w http.ResponseWriter, r *http.Request) error {
	roomID, eventID := r.PathValue("roomId"), r.PathValue("eventId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	limit, err := queryLimit(r, defaultContextLimit, maxContextLimit, 0)
	if err != nil {
		return err
	}
	ev, pos, err := a.opts.Rooms.EventByID(r.Context(), eventID)
	if err != nil || ev.RoomID() != roomID {
		return errNotFound("Event not found")
	}
	nBefore := limit / 2
	before, err := a.opts.Rooms.Timeline(r.Context(), roomID, pos, roomserver.Backward, nBefore)
	if err != nil {
		return roomErr(err)
	}
	after, err := a.opts.Rooms.Timeline(r.Context(), roomID, pos, roomserver.Forward, limit-nBefore)
	if err != nil {
		return roomErr(err)
	}
	start, end := pos-1, pos
	evsBefore := make([]cjson.Value, 0, len(before))
	for _, e := range before {
		evsBefore = append(evsBefore, a.clientEvent(e.Event, true))
		start = e.Position - 1
	}
	evsAfter := make([]cjson.Value, 0, len(after))
	for _, e := range after {
		evsAfter = append(evsAfter, a.clientEvent(e.Event, true))
		end = e.Position
	}
	st, err := a.opts.Rooms.CurrentState(r.Context(), roomID)
	if err != nil {
		return roomErr(err)
	}
	state := make([]cjson.Value, 0, len(st))
	for _, s := range st {
		state = append(state, a.clientEvent(s, true))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"event":         a.clientEvent(ev, true),
		"events_before": evsBefore,
		"events_after":  evsAfter,
		"state":         state,
		"start":         hsync.PaginationToken(start),
		"end":           hsync.PaginationToken(end),
	})
	return nil
}

func (a *API) relations(w http.ResponseWriter, r *http.Request) error {
	roomID, parentID := r.PathValue("roomId"), r.PathValue("eventId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	q := roomserver.RelationQuery{RelType: r.PathValue("relType"), EventType: r.PathValue("eventType"), Dir: roomserver.Backward}
	if len(q.RelType) > roomserver.MaxRelTypeBytes || len(q.EventType) > maxTypeBytes {
		return errInvalidParam("Invalid relation or event type")
	}
	query := r.URL.Query()
	switch query.Get("dir") {
	case "", "b":
	case "f":
		q.Dir = roomserver.Forward
	default:
		return errInvalidParam("dir must be b or f")
	}
	recurse := query.Get("recurse")
	switch recurse {
	case "", "true", "false":
	default:
		return errInvalidParam("recurse must be true or false")
	}
	var err error
	if q.Limit, err = queryLimit(r, defaultRelationsLimit, maxRelationsLimit, 0); err != nil {
		return err
	}
	from, hasFrom, err := queryToken(r, "from")
	if err != nil {
		return err
	}
	to, hasTo, err := queryToken(r, "to")
	if err != nil {
		return err
	}
	// t<pos> is just after the event at pos: backward from it includes pos,
	// forward from it starts after pos. The query's bounds are exclusive.
	if q.Dir == roomserver.Backward {
		if hasFrom {
			q.From = from + 1
		}
		if hasTo {
			q.To = to
		}
	} else {
		q.From = from
		if hasTo {
			q.To = to + 1
		}
	}
	page, more, err := a.opts.Rooms.Relations(r.Context(), roomID, parentID, q)
	if err != nil {
		return roomErr(err)
	}
	chunk := make([]cjson.Value, 0, len(page))
	for _, e := range page {
		chunk = append(chunk, a.clientEvent(e.Event, true))
	}
	resp := map[string]any{"chunk": chunk}
	if more && len(page) > 0 {
		last := page[len(page)-1].Position
		if q.Dir == roomserver.Backward {
			last--
		}
		resp["next_batch"] = hsync.PaginationToken(last)
	}
	if hasFrom {
		resp["prev_batch"] = query.Get("from")
	}
	if recurse != "" {
		resp["recursion_depth"] = 1
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) threads(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	c := CallerOf(r)
	if err := a.mustBeMember(r.Context(), roomID, c.UserID); err != nil {
		return err
	}
	participant := ""
	switch r.URL.Query().Get("include") {
	case "", "all":
	case "participated":
		participant = c.UserID
	default:
		return errInvalidParam("include must be all or participated")
	}
	limit, err := queryLimit(r, defaultThreadsLimit, maxThreadsLimit, 1)
	if err != nil {
		return err
	}
	from, hasFrom, err := queryToken(r, "from")
	if err != nil {
		return err
	}
	var before uint64
	if hasFrom {
		before = from + 1
	}
	page, more, err := a.opts.Rooms.Threads(r.Context(), roomID, participant, before, limit)
	if err != nil {
		return roomErr(err)
	}
	chunk := make([]cjson.Value, 0, len(page))
	for _, t := range page {
		chunk = append(chunk, a.clientEvent(t.Root, true))
	}
	resp := map[string]any{"chunk": chunk}
	if more && len(page) > 0 {
		resp["next_batch"] = hsync.PaginationToken(page[len(page)-1].Latest - 1)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) timestampToEvent(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("ts") == "" {
		return errMissingParam("ts is required")
	}
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	if err != nil || ts < 0 {
		return errInvalidParam("Invalid ts")
	}
	var dir roomserver.Direction
	switch q.Get("dir") {
	case "f":
		dir = roomserver.Forward
	case "b":
		dir = roomserver.Backward
	case "":
		return errMissingParam("dir is required")
	default:
		return errInvalidParam("dir must be f or b")
	}
	ev, err := a.opts.Rooms.EventNearTimestamp(r.Context(), roomID, ts, dir)
	if err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"event_id": ev.ID(), "origin_server_ts": ev.OriginServerTS()})
	return nil
}
