package roomserver

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
)

// Fetcher is how the room server asks other servers for events it lacks.
// Every event it returns has been checked for format, signatures and
// content hash (redacted when the hash fails) by the caller's federation
// layer; the room server applies the auth rules.
type Fetcher interface {
	// MissingEvents asks for the events between the earliest (the
	// events we have) and latest (the event we received) events:
	// /get_missing_events.
	MissingEvents(ctx context.Context, roomID string, earliest, latest []string, limit int, minDepth int64) ([]*pdu.Event, error)
	// StateBefore asks for the room state before an event and the auth
	// chain of that state: /state.
	StateBefore(ctx context.Context, roomID, eventID string) (state, authChain []*pdu.Event, err error)
	// AuthChain asks for the full auth chain of an event: /event_auth.
	AuthChain(ctx context.Context, roomID, eventID string) ([]*pdu.Event, error)
}

// Outcome is what became of an event received from another server.
type Outcome int

// Outcomes of Receive.
const (
	// Accepted: the event passed every check and is in the timeline.
	Accepted Outcome = iota
	// SoftFailed: the event is authorised by the state before it but not
	// by the room's current state. It is stored and counts for state
	// resolution, but clients never see it and nothing builds on it.
	SoftFailed
	// Rejected: the event fails the auth rules. It is stored, marked.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case SoftFailed:
		return "soft-failed"
	default:
		return "rejected"
	}
}

// Received is the result for one received event.
type Received struct {
	Outcome  Outcome
	Reason   string // why it was rejected or soft-failed
	Position uint64 // for accepted events
}

// maxMissingEvents bounds one /get_missing_events request.
const maxMissingEvents = 100

// Receive runs an event from another server through the checks of the
// spec's "Checks performed on receipt of a PDU" from step 4 on: auth
// against its auth events, against the state before it, and soft-fail
// against the current state; it fetches missing auth events and missing
// prev_events (bounded) through f, which may be nil. The room must be known.
// Receiving an event twice returns the first outcome.
func (s *Server) Receive(ctx context.Context, ev *pdu.Event, f Fetcher) (Received, error) {
	r, err := s.room(ev.RoomID())
	if err != nil {
		return Received{}, err
	}
	if ev.Version().ID != r.ver.ID {
		return Received{}, fmt.Errorf("%w: event is for room version %s, the room is %s", ErrBadEvent, ev.Version().ID, r.ver.ID)
	}
	r.ingestMu.Lock()
	defer r.ingestMu.Unlock()
	r.mu.Lock()
	importing := r.unpublished || r.stub
	r.mu.Unlock()
	if importing {
		return Received{}, fmt.Errorf("%w: room %s is not joined yet", ErrNotFound, r.id)
	}
	return s.receiveLocked(ctx, r, ev, f, receiveOpts{fillGaps: true})
}

// receiveOpts adjust the pipeline.
type receiveOpts struct {
	// fillGaps: missing prev_events are asked for with
	// /get_missing_events first (events got that way are received
	// without it).
	fillGaps bool
	// given, when set, is the state before the event, known from
	// elsewhere (a join's state).
	given *stateView
	// rejoin: the event is our own join to a room whose current state we
	// hold is stale; it replaces the forward extremities and is not
	// checked against the stale state.
	rejoin bool
}

// receiveLocked is Receive with r.ingestMu held.
func (s *Server) receiveLocked(ctx context.Context, r *room, ev *pdu.Event, f Fetcher, o receiveOpts) (Received, error) {
	if got, err := s.lookup(r, []string{ev.ID()}); err != nil {
		return Received{}, err
	} else if k, ok := got[ev.ID()]; ok && !k.outlier() {
		return s.outcomeOf(k), nil
	}

	// Step 4: the event's own auth events.
	have, err := s.ensureAuthEvents(ctx, r, ev, f)
	if err != nil {
		return Received{}, err
	}
	if reason := checkOwnAuth(ev, have, s.createEventOf(r, nil, have)); reason != "" {
		// The state before it is still recorded when it can be worked
		// out: events built on a rejected event need it.
		before := o.given
		if before == nil {
			before, _ = s.stateBeforeReceived(ctx, r, ev, f, o.fillGaps)
		}
		return s.commitReceived(r, ev, before, Rejected, reason, o)
	}

	// Step 5: the state before the event.
	before := o.given
	if before == nil {
		before, err = s.stateBeforeReceived(ctx, r, ev, f, o.fillGaps)
		if err != nil {
			return Received{}, err
		}
	}
	if err := auth.Allowed(ev, before.events); err != nil {
		return s.commitReceived(r, ev, before, Rejected, err.Error(), o)
	}
	return s.commitReceived(r, ev, before, Accepted, "", o)
}

func (s *Server) outcomeOf(k known) Received {
	switch {
	case k.rejected():
		return Received{Outcome: Rejected, Reason: "rejected earlier"}
	case k.flags&flagSoftFailed != 0:
		return Received{Outcome: SoftFailed, Reason: "soft-failed earlier"}
	}
	return Received{Outcome: Accepted, Position: k.nid}
}

// ensureAuthEvents makes sure every auth event of ev is stored, fetching
// ev's auth chain when some are missing, and returns what is known about
// them.
func (s *Server) ensureAuthEvents(ctx context.Context, r *room, ev *pdu.Event, f Fetcher) (map[string]known, error) {
	ids := ev.AuthEvents()
	have, err := s.lookup(r, ids)
	if err != nil {
		return nil, err
	}
	missing := false
	for _, id := range ids {
		if _, ok := have[id]; !ok {
			missing = true
		}
	}
	if !missing || f == nil {
		return have, nil
	}
	chain, err := f.AuthChain(ctx, r.id, ev.ID())
	if err != nil {
		s.log.Info("fetching auth chain failed", "event", ev.ID(), "room", r.id, "err", err)
		return have, nil // the check reports the missing events
	}
	stored, err := s.storeOutliers(ctx, r, chain)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if k, ok := stored[id]; ok {
			have[id] = k
		}
	}
	return have, nil
}

// stateBeforeReceived works out the state before ev from its prev_events,
// filling gaps through f: missing events first, then the state itself.
func (s *Server) stateBeforeReceived(ctx context.Context, r *room, ev *pdu.Event, f Fetcher, fillGaps bool) (*stateView, error) {
	missing, err := s.missingPrevs(r, ev)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 && f != nil && fillGaps {
		s.fillGap(ctx, r, ev, f)
		if missing, err = s.missingPrevs(r, ev); err != nil {
			return nil, err
		}
	}
	if len(missing) > 0 {
		if f == nil {
			return nil, fmt.Errorf("%w: prev events of %s are unknown", ErrNotFound, ev.ID())
		}
		state, chain, err := f.StateBefore(ctx, r.id, ev.ID())
		if err != nil {
			return nil, fmt.Errorf("roomserver: state before %s: %w", ev.ID(), err)
		}
		have, err := s.storeOutliers(ctx, r, append(chain, state...))
		if err != nil {
			return nil, err
		}
		return viewOf(state, have), nil
	}
	return s.stateAfterEvents(r, r.currentView(), ev.PrevEvents())
}

// missingPrevs lists the prev_events that are not in the DAG yet (unknown,
// or only held as outliers, whose state we do not know).
func (s *Server) missingPrevs(r *room, ev *pdu.Event) ([]string, error) {
	have, err := s.lookup(r, ev.PrevEvents())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ev.PrevEvents() {
		if k, ok := have[id]; !ok || k.outlier() {
			out = append(out, id)
		}
	}
	return out, nil
}

// fillGap asks for the events between our forward extremities and ev and
// receives them oldest first. Failures only mean the gap stays: the caller
// falls back to asking for the state.
func (s *Server) fillGap(ctx context.Context, r *room, ev *pdu.Event, f Fetcher) {
	r.mu.Lock()
	earliest := append([]string(nil), r.extremities...)
	minDepth := r.depth - maxMissingEvents
	r.mu.Unlock()
	if minDepth < 0 {
		minDepth = 0
	}
	got, err := f.MissingEvents(ctx, r.id, earliest, []string{ev.ID()}, maxMissingEvents, minDepth)
	if err != nil {
		s.log.Info("get_missing_events failed", "room", r.id, "event", ev.ID(), "err", err)
		return
	}
	var list []*pdu.Event
	for _, e := range got {
		if e != nil && e.RoomID() == r.id && e.ID() != ev.ID() && e.Version().ID == r.ver.ID {
			list = append(list, e)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Depth() != list[j].Depth() {
			return list[i].Depth() < list[j].Depth()
		}
		return list[i].ID() < list[j].ID()
	})
	for _, e := range list {
		if _, err := s.receiveLocked(ctx, r, e, f, receiveOpts{}); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			s.log.Info("missing event not accepted", "room", r.id, "event", e.ID(), "err", err)
		}
	}
}

// sortByDepthThenID orders event IDs by the events' depth, then ID, so
// imports are deterministic.
func sortByDepthThenID(ids []string, byID map[string]*pdu.Event) {
	sort.Slice(ids, func(i, j int) bool {
		a, b := byID[ids[i]], byID[ids[j]]
		if a.Depth() != b.Depth() {
			return a.Depth() < b.Depth()
		}
		return ids[i] < ids[j]
	})
}
