package clientapi

import (
	"context"
	"net/http"
	"strconv"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
	hsync "hearth/services/sync"
)

// Bounds on event requests.
const (
	maxTypeBytes    = 255
	maxMessagesPage = 1000
	// maxMessagesScan bounds the events one /messages request looks at when
	// a filter skips most of them; the end token lets the client go on.
	maxMessagesScan = 5000
)

func (a *API) routesEvents() {
	a.client("PUT", "/rooms/{roomId}/send/{eventType}/{txnId}", a.authed(a.sendEvent))
	a.client("PUT", "/rooms/{roomId}/state/{eventType}", a.authed(a.putState))
	a.client("PUT", "/rooms/{roomId}/state/{eventType}/{stateKey...}", a.authed(a.putState))
	a.client("GET", "/rooms/{roomId}/state", a.authed(a.getAllState))
	a.client("GET", "/rooms/{roomId}/state/{eventType}", a.authed(a.getState))
	a.client("GET", "/rooms/{roomId}/state/{eventType}/{stateKey...}", a.authed(a.getState))
	a.client("PUT", "/rooms/{roomId}/redact/{eventId}/{txnId}", a.authed(a.redact))
	a.client("GET", "/rooms/{roomId}/event/{eventId}", a.authed(a.getEvent))
	a.client("GET", "/rooms/{roomId}/messages", a.authed(a.messages))
	a.client("GET", "/rooms/{roomId}/joined_members", a.authed(a.joinedMembers))
	a.client("GET", "/rooms/{roomId}/members", a.authed(a.members))
}

func (a *API) sendEvent(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID, typ, txnID := r.PathValue("roomId"), r.PathValue("eventType"), r.PathValue("txnId")
	if typ == "" || len(typ) > maxTypeBytes {
		return errInvalidParam("Invalid event type")
	}
	content, err := a.readObject(r)
	if err != nil {
		return err
	}
	ev := roomserver.Event{Type: typ, Sender: c.UserID, Content: content}
	if typ == "m.room.redaction" {
		ev.Redacts = content.Get("redacts").StrOr("")
		ev.Content = content.Without("redacts")
	}
	txn := &roomserver.TxnKey{User: c.UserID, Device: c.DeviceID, Scope: "send\x00" + roomID + "\x00" + typ, TxnID: txnID}
	sent, err := a.opts.Rooms.Send(r.Context(), roomID, ev, txn)
	if err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": sent.Event.ID()})
	return nil
}

func (a *API) putState(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID, typ, key := r.PathValue("roomId"), r.PathValue("eventType"), r.PathValue("stateKey")
	if typ == "" || len(typ) > maxTypeBytes || len(key) > maxTypeBytes {
		return errInvalidParam("Invalid event type or state key")
	}
	content, err := a.readObject(r)
	if err != nil {
		return err
	}
	if typ == "m.room.member" {
		if _, err := a.opts.Rooms.Version(r.Context(), roomID); err != nil {
			return roomErr(err)
		}
	}
	sent, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: typ, StateKey: &key, Sender: c.UserID, Content: content}, nil)
	if err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": sent.Event.ID()})
	return nil
}

func (a *API) redact(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	roomID, target, txnID := r.PathValue("roomId"), r.PathValue("eventId"), r.PathValue("txnId")
	body, err := a.readObject(r)
	if err != nil {
		return err
	}
	content := cjson.EmptyObject()
	if reason, ok := body.Get("reason").Str(); ok {
		content = content.With("reason", cjson.StrOf(reason))
	}
	txn := &roomserver.TxnKey{User: c.UserID, Device: c.DeviceID, Scope: "redact\x00" + roomID + "\x00" + target, TxnID: txnID}
	sent, err := a.opts.Rooms.Send(r.Context(), roomID, roomserver.Event{Type: "m.room.redaction", Sender: c.UserID, Content: content, Redacts: target}, txn)
	if err != nil {
		return roomErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": sent.Event.ID()})
	return nil
}

// mustBeMember refuses callers who are not joined to the room. (History
// visibility for former members is not modelled yet.)
func (a *API) mustBeMember(ctx context.Context, roomID, user string) error {
	m, err := a.opts.Rooms.Membership(ctx, roomID, user)
	if err != nil {
		return roomErr(err)
	}
	if m != "join" {
		return errForbidden("You are not in room %s", roomID)
	}
	return nil
}

// memberState returns the current state of the request's room for a
// caller who is joined to it.
func (a *API) memberState(r *http.Request) (pdu.StateMap, error) {
	roomID := r.PathValue("roomId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return nil, err
	}
	st, err := a.opts.Rooms.CurrentState(r.Context(), roomID)
	if err != nil {
		return nil, roomErr(err)
	}
	return st, nil
}

func (a *API) getAllState(w http.ResponseWriter, r *http.Request) error {
	st, err := a.memberState(r)
	if err != nil {
		return err
	}
	out := make([]cjson.Value, 0, len(st))
	for _, ev := range st {
		out = append(out, a.clientEvent(ev, true))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getState(w http.ResponseWriter, r *http.Request) error {
	roomID, typ, key := r.PathValue("roomId"), r.PathValue("eventType"), r.PathValue("stateKey")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	ev, err := a.opts.Rooms.StateEvent(r.Context(), roomID, typ, key)
	if err != nil {
		return roomErr(err)
	}
	if r.URL.Query().Get("format") == "event" {
		writeJSON(w, http.StatusOK, a.clientEvent(ev, true))
		return nil
	}
	writeJSON(w, http.StatusOK, ev.Content())
	return nil
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request) error {
	roomID, id := r.PathValue("roomId"), r.PathValue("eventId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	ev, _, err := a.opts.Rooms.EventByID(r.Context(), id)
	if err != nil || ev.RoomID() != roomID {
		return errNotFound("Event not found")
	}
	writeJSON(w, http.StatusOK, a.clientEvent(ev, true))
	return nil
}

func (a *API) messages(w http.ResponseWriter, r *http.Request) error {
	roomID := r.PathValue("roomId")
	if err := a.mustBeMember(r.Context(), roomID, CallerOf(r).UserID); err != nil {
		return err
	}
	q := r.URL.Query()
	dir := roomserver.Backward
	switch q.Get("dir") {
	case "b", "":
	case "f":
		dir = roomserver.Forward
	default:
		return errInvalidParam("dir must be b or f")
	}
	limit := 10
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errInvalidParam("Invalid limit")
		}
		limit = min(n, maxMessagesPage)
	}
	var from uint64
	if s := q.Get("from"); s != "" {
		p, err := hsync.ParsePaginationToken(s)
		if err != nil {
			return errInvalidParam("Invalid from token")
		}
		from = p
		if dir == roomserver.Backward {
			from++ // the token names the last event already seen; backward is exclusive of from
		}
	}
	var to uint64
	hasTo := false
	if s := q.Get("to"); s != "" {
		p, err := hsync.ParsePaginationToken(s)
		if err != nil {
			return errInvalidParam("Invalid to token")
		}
		to, hasTo = p, true
	}
	var filter *hsync.RoomEventFilter
	if f := q.Get("filter"); f != "" {
		parsed, err := hsync.ParseRoomEventFilter([]byte(f))
		if err != nil {
			return errInvalidParam("%v", err)
		}
		filter = &parsed
	}
	// Walk the timeline until limit events match the filter, the room (or
	// the to token) ends, or maxMessagesScan events were looked at.
	chunk := make([]cjson.Value, 0, limit)
	senders := map[string]bool{}
	cursor, end := from, uint64(0)
	exhausted, scanned, backfilled := false, 0, false
walk:
	for len(chunk) < limit && scanned < maxMessagesScan {
		want := min(limit-len(chunk)+16, 200)
		page, err := a.opts.Rooms.Timeline(r.Context(), roomID, cursor, dir, want)
		if err != nil {
			return roomErr(err)
		}
		for _, e := range page {
			if hasTo && ((dir == roomserver.Backward && e.Position <= to) || (dir == roomserver.Forward && e.Position > to)) {
				exhausted = true
				break walk
			}
			scanned++
			cursor, end = e.Position, e.Position
			if filter == nil || filter.MatchEvent(e.Event) {
				chunk = append(chunk, a.clientEvent(e.Event, true))
				senders[e.Event.Sender()] = true
				if len(chunk) == limit {
					break walk
				}
			}
		}
		if len(page) < want {
			if dir == roomserver.Backward && a.opts.Federation != nil && !hasTo {
				if backfilled {
					break // the next page asks for more history
				}
				// The start of what this server holds: ask the room's
				// other servers for older history, once per request.
				backfilled = true
				if n, err := a.opts.Federation.Backfill(r.Context(), roomID, limit-len(chunk)); err == nil && n > 0 {
					if len(page) == 0 && scanned == 0 {
						cursor = from
					}
					continue
				}
			}
			exhausted = true
			break
		}
	}
	start := q.Get("from")
	if start == "" {
		start = hsync.PaginationToken(a.opts.Rooms.Position())
	}
	resp := map[string]any{"start": start, "chunk": chunk}
	if !exhausted && scanned > 0 {
		if dir == roomserver.Backward {
			end-- // the next backward page starts below the oldest event seen
		}
		resp["end"] = hsync.PaginationToken(end)
	}
	if filter != nil && filter.LazyLoadMembers && len(senders) > 0 {
		st, err := a.opts.Rooms.CurrentState(r.Context(), roomID)
		if err != nil {
			return roomErr(err)
		}
		var members []cjson.Value
		for u := range senders {
			if ev := st.Get("m.room.member", u); ev != nil {
				members = append(members, a.clientEvent(ev, true))
			}
		}
		resp["state"] = members
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) joinedMembers(w http.ResponseWriter, r *http.Request) error {
	st, err := a.memberState(r)
	if err != nil {
		return err
	}
	joined := map[string]any{}
	for k, ev := range st {
		if k.Type == "m.room.member" && ev.Membership() == "join" {
			m := map[string]any{}
			if s, ok := ev.Content().Get("displayname").Str(); ok {
				m["display_name"] = s
			}
			if s, ok := ev.Content().Get("avatar_url").Str(); ok {
				m["avatar_url"] = s
			}
			joined[k.StateKey] = m
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"joined": joined})
	return nil
}

func (a *API) members(w http.ResponseWriter, r *http.Request) error {
	st, err := a.memberState(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	chunk := []cjson.Value{}
	for k, ev := range st {
		if k.Type != "m.room.member" {
			continue
		}
		m := ev.Membership()
		if want := q.Get("membership"); want != "" && m != want {
			continue
		}
		if not := q.Get("not_membership"); not != "" && m == not {
			continue
		}
		chunk = append(chunk, a.clientEvent(ev, true))
	}
	writeJSON(w, http.StatusOK, map[string]any{"chunk": chunk})
	return nil
}

// clientEvent is the client format of an event (the sync package's
// formatter, so /sync, /messages and the rest agree).
func (a *API) clientEvent(ev *pdu.Event, withRoom bool) cjson.Value {
	return hsync.Formatter{Now: a.opts.Now}.ClientEvent(ev, withRoom)
}
