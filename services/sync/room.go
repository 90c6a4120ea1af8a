package sync

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
)

// How the state section of a room is computed
//
// The spec wants, for an initial sync (and for full_state, and for a room
// the user just joined), the complete state at the start of the returned
// timeline, and for an incremental sync the changes between since and the
// start of the timeline. The room server keeps the current state and the
// timeline, not the state at every position, so:
//
//   - Full state is approximated as the current state without every key that
//     an event of the returned timeline sets. For such a key the value before
//     the timeline is unknown; the client learns it from the timeline event.
//     (A key the timeline changes keeps its old value on the client until
//     that event, which is what the spec wants, except that the client does
//     not get the old value itself.) For a left room, keys changed after the
//     leave are also left out, so nothing after the leave leaks.
//   - The delta of an incremental sync is exact for a linear timeline: the
//     gap (since, first timeline event) is read, and the last state event of
//     each key in it is sent. When the gap is larger than maxGapScan events,
//     the full state (as above) is sent instead.
//   - A state change with no timeline event (a state reset by state
//     resolution after federation) is not seen by incremental syncs; it shows
//     in the next full state.

// strippedTypes are the state events given as stripped state to invitees
// and knockers (spec "Stripped state").
var strippedTypes = []string{
	"m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar",
	"m.room.topic", "m.room.canonical_alias", "m.room.encryption",
}

// room adds one room of the user to the response, in the section its
// membership calls for, when it has something to say.
func (b *build) room(roomID string, data []cjson.Value) error {
	me, pos, err := b.membershipAt(roomID)
	if err != nil || me == nil {
		return err
	}
	changed := b.initial || pos > b.since.Events
	switch me.Membership() {
	case "join":
		if b.initial {
			return b.joined(roomID, pos, 0, true, data)
		}
		if changed {
			prev, err := b.prevMember(me)
			if err != nil {
				return err
			}
			if prev == nil || prev.Membership() != "join" {
				// Newly joined: everything, as in an initial sync.
				return b.joined(roomID, pos, 0, true, data)
			}
		}
		if reset := b.s.rs.StateResetAt(b.ctx, roomID); reset > b.since.Events && reset <= b.upTo {
			// State resolution changed the room's state in a way its
			// timeline does not show: start the timeline after that
			// point, marked limited, with the state afresh.
			return b.joinedAfresh(roomID, pos, reset, data)
		}
		return b.joined(roomID, pos, b.since.Events, b.req.FullState, data)
	case "invite":
		if changed || b.req.FullState {
			b.invited(roomID, me)
		}
	case "knock":
		if changed || b.req.FullState {
			b.knocked(roomID, me)
		}
	case "leave", "ban":
		switch {
		case !b.initial && changed:
			return b.left(roomID, me, pos, b.since.Events, b.req.FullState, data)
		case (b.initial || b.req.FullState) && b.f.Room.IncludeLeave:
			return b.left(roomID, me, pos, b.since.Events, true, data)
		}
	}
	return nil
}

// membershipAt returns the user's membership event in a room as of the
// response's position, and its position; nil when the user had none then.
// The current one may be newer than the answer (it committed while the
// answer was being built); then the one before it counts.
func (b *build) membershipAt(roomID string) (*pdu.Event, uint64, error) {
	me, err := b.s.rs.StateEvent(b.ctx, roomID, "m.room.member", b.req.UserID)
	if errors.Is(err, roomserver.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	for step := 0; ; step++ {
		pos, err := b.s.positionOf(b.ctx, me.ID())
		if err != nil {
			return nil, 0, err
		}
		if pos <= b.upTo {
			return me, pos, nil
		}
		if step == 3 {
			return nil, 0, nil // changing fast; the next sync will see it
		}
		if me, err = b.prevMember(me); err != nil || me == nil {
			return nil, 0, err
		}
	}
}

// prevMember returns the membership event a member event replaced, found
// among its auth events (the auth rules make every member event cite the
// target's previous one); nil if there was none.
func (b *build) prevMember(ev *pdu.Event) (*pdu.Event, error) {
	sk, _ := ev.StateKey()
	for _, id := range ev.AuthEvents() {
		a, pos, err := b.s.rs.EventByID(b.ctx, id)
		if errors.Is(err, roomserver.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if a.StateKeyIs("m.room.member", sk) {
			b.s.positions.put(id, pos)
			return a, nil
		}
	}
	return nil, nil
}

// positionOf returns an event's position, from the cache when it can.
func (s *Server) positionOf(ctx context.Context, eventID string) (uint64, error) {
	if p, ok := s.positions.get(eventID); ok {
		return p, nil
	}
	_, p, err := s.rs.EventByID(ctx, eventID)
	if err != nil {
		return 0, err
	}
	s.positions.put(eventID, p)
	return p, nil
}

// window is what scan found in a room between two positions.
type window struct {
	timeline    []roomserver.Sent // the returned timeline, oldest first
	limited     bool
	gapState    []*pdu.Event // state events between lo and the timeline, newest first
	gapComplete bool         // every event of the gap was read
	any         bool         // the range holds at least one event
}

// scan reads the events of a room in (lo, hi] (lo = 0: from the start) for
// the timeline: the newest limit events the filter lets through, oldest
// first. With wantGap it also reads the events older than those (the gap)
// down to lo, for the state delta. Reading is bounded by maxTimelineScan
// and maxGapScan.
func (b *build) scan(roomID string, lo, hi uint64, f *RoomEventFilter, limit int, wantGap bool) (window, error) {
	w := window{gapComplete: true}
	if hi <= lo {
		return w, nil
	}
	rs := b.s.rs
	if lo > 0 {
		// Most incremental syncs see a few new events: read forward from
		// since first, and stop there if they fit.
		raw, err := rs.Timeline(b.ctx, roomID, lo, roomserver.Forward, limit+1)
		if err != nil {
			return w, err
		}
		n := len(raw)
		for len(raw) > 0 && raw[len(raw)-1].Position > hi {
			raw = raw[:len(raw)-1]
		}
		if n <= limit || len(raw) < n {
			w.any = len(raw) > 0
			first := len(raw)
			for i, e := range raw {
				if len(w.timeline) < limit && f.MatchEvent(e.Event) {
					w.timeline = append(w.timeline, e)
					first = min(first, i)
				}
			}
			for i := first - 1; i >= 0; i-- {
				if raw[i].Event.IsState() {
					w.gapState = append(w.gapState, raw[i].Event)
				}
			}
			return w, nil
		}
	}
	var rev []roomserver.Sent     // timeline, newest first
	var skipped, gap []*pdu.Event // state events older than the timeline
	scanned, gapN := 0, 0
	from, page := hi+1, max(limit+1, 8)
read:
	for {
		evs, err := rs.Timeline(b.ctx, roomID, from, roomserver.Backward, page)
		if err != nil {
			return w, err
		}
		for _, e := range evs {
			if e.Position <= lo {
				break read
			}
			w.any = true
			scanned++
			if len(rev) < limit {
				if f.MatchEvent(e.Event) {
					rev = append(rev, e)
					skipped = skipped[:0]
					continue
				}
				if e.Event.IsState() {
					skipped = append(skipped, e.Event)
				}
				if scanned >= maxTimelineScan {
					w.limited, w.gapComplete = true, false
					break read
				}
				continue
			}
			// Older than the timeline: the gap.
			if !wantGap {
				w.limited = true
				break read
			}
			gapN++
			if f.MatchEvent(e.Event) {
				w.limited = true
			}
			if e.Event.IsState() {
				gap = append(gap, e.Event)
			}
			if gapN >= maxGapScan {
				w.limited, w.gapComplete = true, false
				break read
			}
		}
		if len(evs) < page {
			break
		}
		from = evs[len(evs)-1].Position
		page = min(page*2, 256)
	}
	w.timeline = make([]roomserver.Sent, len(rev))
	for i, e := range rev {
		w.timeline[len(rev)-1-i] = e
	}
	w.gapState = append(skipped, gap...)
	return w, nil
}

// changedAfter returns the state keys set by events in (hi, upTo]; ok is
// false when there were more than maxGapScan events to read.
func (b *build) changedAfter(roomID string, hi uint64) (keys map[pdu.TypeKey]bool, ok bool, err error) {
	keys = map[pdu.TypeKey]bool{}
	const page = 128
	for from, n := hi, 0; ; {
		evs, err := b.s.rs.Timeline(b.ctx, roomID, from, roomserver.Forward, page)
		if err != nil {
			return nil, false, err
		}
		for _, e := range evs {
			if e.Position > b.upTo {
				return keys, true, nil
			}
			if e.Event.IsState() {
				keys[e.Event.Key()] = true
			}
			if n++; n >= maxGapScan {
				return keys, false, nil
			}
		}
		if len(evs) < page {
			return keys, true, nil
		}
		from = evs[len(evs)-1].Position
	}
}

// startState picks the candidate state events of a room: with full, the
// state at the start of the timeline (current state without the keys the
// timeline or, for a left room, later events set: skip); else the delta of
// the gap. delta reports which one it is (a full state is also sent when
// the gap was too large to read).
func startState(w window, full bool, cur pdu.StateMap, skip map[pdu.TypeKey]bool) (out []*pdu.Event, delta bool) {
	if !full && w.gapComplete {
		seen := map[pdu.TypeKey]bool{}
		for _, ev := range w.gapState {
			if !seen[ev.Key()] {
				seen[ev.Key()] = true
				out = append(out, ev)
			}
		}
		slices.Reverse(out) // oldest first
		return out, true
	}
	inTimeline := map[pdu.TypeKey]bool{}
	for _, e := range w.timeline {
		if e.Event.IsState() {
			inTimeline[e.Event.Key()] = true
		}
	}
	out = make([]*pdu.Event, 0, len(cur))
	for k, ev := range cur {
		if !inTimeline[k] && !skip[k] {
			out = append(out, ev)
		}
	}
	slices.SortFunc(out, func(a, b *pdu.Event) int {
		if c := cmp.Compare(a.Type(), b.Type()); c != 0 {
			return c
		}
		ak, _ := a.StateKey()
		bk, _ := b.StateKey()
		return cmp.Compare(ak, bk)
	})
	return out, false
}

// finishState applies the state filter and lazy-loading of members to the
// candidate state events. With lazy-loading, member events are sent only
// for the senders of timeline events, the heroes and (with full state) the
// user, and not again when the device already has them; member events of
// the gap are always sent (the spec requires it of limited syncs). full
// says the candidates are a full state (the redundancy cache is not
// consulted then: the client asked for everything).
func (b *build) finishState(roomID string, w window, cands []*pdu.Event, delta, full bool, cur pdu.StateMap, heroes []string) []*pdu.Event {
	sf := &b.f.Room.State
	if !sf.MatchRoom(roomID) {
		return nil
	}
	if !sf.LazyLoadMembers {
		out := cands[:0:0]
		for _, ev := range cands {
			if sf.MatchEvent(ev) {
				out = append(out, ev)
			}
		}
		return out
	}
	var out []*pdu.Event
	candMembers := map[string]*pdu.Event{}
	for _, ev := range cands {
		if ev.Type() == "m.room.member" {
			sk, _ := ev.StateKey()
			candMembers[sk] = ev
		} else if sf.MatchEvent(ev) {
			out = append(out, ev)
		}
	}
	inTimeline := map[string]bool{}
	timelineMembers := map[string]string{}
	for _, e := range w.timeline {
		inTimeline[e.Event.ID()] = true
		if e.Event.Type() == "m.room.member" {
			sk, _ := e.Event.StateKey()
			timelineMembers[sk] = e.Event.ID()
		}
	}
	sent := map[string]string{}
	add := func(u string, ev *pdu.Event) {
		if _, done := sent[u]; !done && sf.MatchEvent(ev) {
			out = append(out, ev)
			sent[u] = ev.ID()
		}
	}
	if delta {
		// Gap memberships: always sent.
		for _, ev := range cands {
			if ev.Type() == "m.room.member" {
				sk, _ := ev.StateKey()
				add(sk, ev)
			}
		}
	}
	want := make([]string, 0, len(w.timeline)+len(heroes)+1)
	for _, e := range w.timeline {
		want = append(want, e.Event.Sender())
	}
	want = append(want, heroes...)
	if full {
		want = append(want, b.req.UserID)
	}
	for _, u := range want {
		if _, done := sent[u]; done {
			continue
		}
		ev := candMembers[u]
		if ev == nil && delta {
			ev = cur.Get("m.room.member", u)
		}
		if ev == nil || inTimeline[ev.ID()] {
			continue // none, or the timeline carries it
		}
		if !full && !sf.IncludeRedundantMembers && b.req.DeviceID != "" &&
			b.s.lazy.sent(b.req.UserID, b.req.DeviceID, roomID, u, ev.ID(), b.since.Events) {
			continue
		}
		add(u, ev)
	}
	if b.req.DeviceID != "" {
		for u, id := range timelineMembers {
			sent[u] = id
		}
		b.s.lazy.record(b.req.UserID, b.req.DeviceID, roomID, sent, b.upTo)
	}
	return out
}

// summarize computes a joined room's summary from its current state. Heroes
// are given only when the room has neither a name nor a canonical alias.
func summarize(cur pdu.StateMap, user string) RoomSummary {
	joined, invited := 0, 0
	type cand struct {
		ts int64
		id string
	}
	var active, gone []cand
	for k, ev := range cur {
		if k.Type != "m.room.member" {
			continue
		}
		m := ev.Membership()
		switch m {
		case "join":
			joined++
		case "invite":
			invited++
		}
		if k.StateKey == user {
			continue
		}
		switch m {
		case "join", "invite":
			active = append(active, cand{ev.OriginServerTS(), k.StateKey})
		case "leave", "ban":
			gone = append(gone, cand{ev.OriginServerTS(), k.StateKey})
		}
	}
	s := RoomSummary{JoinedMemberCount: &joined, InvitedMemberCount: &invited}
	if nonEmpty(cur, "m.room.name", "name") || nonEmpty(cur, "m.room.canonical_alias", "alias") {
		return s
	}
	pick := active
	if len(pick) == 0 {
		pick = gone
	}
	slices.SortFunc(pick, func(a, b cand) int {
		if c := cmp.Compare(a.ts, b.ts); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	s.Heroes = []string{}
	for _, c := range pick[:min(len(pick), maxHeroes)] {
		s.Heroes = append(s.Heroes, c.id)
	}
	return s
}

func nonEmpty(cur pdu.StateMap, typ, field string) bool {
	ev := cur.Get(typ, "")
	return ev != nil && ev.Content().Get(field).StrOr("") != ""
}

// membershipMoved reports whether a member event is in the timeline or the
// gap (the summary must then be sent again).
func membershipMoved(w window) bool {
	for _, e := range w.timeline {
		if e.Event.Type() == "m.room.member" {
			return true
		}
	}
	for _, ev := range w.gapState {
		if ev.Type() == "m.room.member" {
			return true
		}
	}
	return false
}

// joined adds a joined room: the window (lo, upTo] as timeline, and the
// full state (full) or the gap's delta. joinPos is the position of the
// user's join event.
func (b *build) joined(roomID string, joinPos, lo uint64, full bool, data []cjson.Value) error {
	return b.joinedWindow(roomID, joinPos, lo, full, false, data)
}

// joinedAfresh is joined for a room whose state was reset by state
// resolution at position reset: the timeline starts after it and is
// limited, and the state is sent in full.
func (b *build) joinedAfresh(roomID string, joinPos, reset uint64, data []cjson.Value) error {
	return b.joinedWindow(roomID, joinPos, reset, true, true, data)
}

func (b *build) joinedWindow(roomID string, joinPos, lo uint64, full, forceLimited bool, data []cjson.Value) error {
	tf := &b.f.Room.Timeline
	limit := b.limit
	if !tf.MatchRoom(roomID) {
		limit = 0
	}
	w, err := b.scan(roomID, lo, b.upTo, tf, limit, !full)
	if err != nil {
		return err
	}
	if forceLimited {
		w.limited, w.any = true, true
	}
	roomData := b.roomData(roomID, data)
	eph := b.roomEphemeral(roomID, full)
	if !full && !w.any && len(roomData) == 0 && len(eph) == 0 {
		return nil
	}
	cur, err := b.s.rs.CurrentState(b.ctx, roomID)
	if err != nil {
		return err
	}
	cands, delta := startState(w, full, cur, nil)
	var summary RoomSummary
	if !delta || membershipMoved(w) {
		summary = summarize(cur, b.req.UserID)
	}
	state := b.finishState(roomID, w, cands, delta, !delta, cur, summary.Heroes)
	counts, err := b.unread(roomID, joinPos, cur)
	if err != nil {
		if b.ctx.Err() != nil {
			return b.ctx.Err()
		}
		b.s.log.Error("sync: unread counts", "room", roomID, "user", b.req.UserID, "err", err)
	}
	if b.resp.Rooms.Join == nil {
		b.resp.Rooms.Join = map[string]*JoinedRoom{}
	}
	b.resp.Rooms.Join[roomID] = &JoinedRoom{
		Summary:     summary,
		State:       b.events(state),
		Timeline:    b.timeline(w, b.upTo),
		Ephemeral:   EventBatch{Events: eph},
		AccountData: EventBatch{Events: roomData},

		UnreadNotifications: counts,
	}
	return nil
}

// roomEphemeral returns a joined room's ephemeral events the filter lets
// through. A room sent in full to an incremental sync (the user just
// joined) gets everything current, not only what changed since.
func (b *build) roomEphemeral(roomID string, full bool) []cjson.Value {
	f := &b.f.Room.Ephemeral
	src := b.s.opts.Ephemeral
	if src == nil || !f.MatchRoom(roomID) {
		return []cjson.Value{}
	}
	evs := b.ephemeral[roomID]
	if full && !b.initial && !b.req.FullState {
		all, _, _, err := src.Ephemeral(b.ctx, b.req.UserID, []string{roomID}, 0, 0)
		if err != nil {
			b.s.log.Error("sync: ephemeral of a joined room", "room", roomID, "err", err)
		} else {
			evs = all[roomID]
		}
	}
	out := []cjson.Value{}
	for _, ev := range evs {
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		if f.MatchType(ev.Get("type").StrOr("")) {
			out = append(out, ev)
		}
	}
	return out
}

// left adds a room the user left (or was kicked or banned from) at
// position pos. If the user was joined before, the timeline runs up to the
// leave; otherwise (a rejected invite, a ban of a non-member) it is the
// leave event alone and no state is given.
func (b *build) left(roomID string, me *pdu.Event, pos, lo uint64, full bool, data []cjson.Value) error {
	prev, err := b.prevMember(me)
	if err != nil {
		return err
	}
	lr := &LeftRoom{State: batch(), AccountData: EventBatch{Events: b.roomData(roomID, data)}}
	if prev == nil || prev.Membership() != "join" {
		lr.Timeline = Timeline{Events: []cjson.Value{}, PrevBatch: PaginationToken(pos - 1)}
		if pos > lo {
			lr.Timeline.Events = append(lr.Timeline.Events, b.fmt.format(me, false, b.nowMS))
		}
	} else {
		tf := &b.f.Room.Timeline
		limit := b.limit
		if !tf.MatchRoom(roomID) {
			limit = 0
		}
		w, err := b.scan(roomID, lo, pos, tf, limit, !full)
		if err != nil {
			return err
		}
		cur, err := b.s.rs.CurrentState(b.ctx, roomID)
		if err != nil {
			return err
		}
		var skip map[pdu.TypeKey]bool
		if full || !w.gapComplete {
			var ok bool
			if skip, ok, err = b.changedAfter(roomID, pos); err != nil {
				return err
			} else if !ok {
				cur = nil // too much happened since the leave to roll back: no state
			}
		}
		cands, delta := startState(w, full, cur, skip)
		lr.State = b.events(b.finishState(roomID, w, cands, delta, !delta, cur, nil))
		lr.Timeline = b.timeline(w, pos)
	}
	if b.resp.Rooms.Leave == nil {
		b.resp.Rooms.Leave = map[string]*LeftRoom{}
	}
	b.resp.Rooms.Leave[roomID] = lr
	return nil
}

// invited adds a room the user is invited to, with stripped state.
func (b *build) invited(roomID string, me *pdu.Event) {
	if b.resp.Rooms.Invite == nil {
		b.resp.Rooms.Invite = map[string]*InvitedRoom{}
	}
	b.resp.Rooms.Invite[roomID] = &InvitedRoom{InviteState: EventBatch{Events: b.stripped(roomID, me, "invite_room_state")}}
}

// knocked adds a room the user knocked on, with stripped state.
func (b *build) knocked(roomID string, me *pdu.Event) {
	if b.resp.Rooms.Knock == nil {
		b.resp.Rooms.Knock = map[string]*KnockedRoom{}
	}
	b.resp.Rooms.Knock[roomID] = &KnockedRoom{KnockState: EventBatch{Events: b.stripped(roomID, me, "knock_room_state")}}
}

// stripped returns the stripped state for an invite or knock: the room's
// create, join rules, name, avatar, topic, canonical alias and encryption,
// the inviter's membership, then the user's own membership event. When this
// server does not have the room's state (an invite over federation), the
// stripped state that came with the event is used, pruned to the stripped
// schema.
func (b *build) stripped(roomID string, me *pdu.Event, unsignedKey string) []cjson.Value {
	out := []cjson.Value{}
	cur, err := b.s.rs.CurrentState(b.ctx, roomID)
	if err == nil && cur.Get("m.room.create", "") != nil {
		for _, t := range strippedTypes {
			if ev := cur.Get(t, ""); ev != nil {
				out = append(out, StrippedEvent(ev))
			}
		}
		if inviter := cur.Get("m.room.member", me.Sender()); inviter != nil && me.Sender() != b.req.UserID {
			out = append(out, StrippedEvent(inviter))
		}
	} else {
		for _, v := range me.Unsigned().Get(unsignedKey).Items() {
			if s, ok := strip(v); ok && len(out) < 64 {
				out = append(out, s)
			}
		}
	}
	return append(out, StrippedEvent(me))
}

// roomData filters a room's account data.
func (b *build) roomData(roomID string, data []cjson.Value) []cjson.Value {
	f := &b.f.Room.AccountData
	out := []cjson.Value{}
	if !f.MatchRoom(roomID) {
		return out
	}
	for _, ev := range data {
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
		if f.MatchType(ev.Get("type").StrOr("")) {
			out = append(out, ev)
		}
	}
	return out
}

// events formats state events.
func (b *build) events(evs []*pdu.Event) EventBatch {
	out := make([]cjson.Value, 0, len(evs))
	for _, ev := range evs {
		out = append(out, b.fmt.format(ev, false, b.nowMS))
	}
	return EventBatch{Events: out}
}

// timeline formats a window's timeline. prev_batch points just before its
// first event (or at hi when it is empty), for /messages going backward.
func (b *build) timeline(w window, hi uint64) Timeline {
	out := make([]cjson.Value, 0, len(w.timeline))
	for _, e := range w.timeline {
		out = append(out, b.fmt.format(e.Event, false, b.nowMS))
	}
	prev := hi
	if len(w.timeline) > 0 {
		prev = w.timeline[0].Position - 1
	}
	return Timeline{Events: out, Limited: w.limited, PrevBatch: PaginationToken(prev)}
}
