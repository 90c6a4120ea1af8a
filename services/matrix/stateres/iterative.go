package stateres

import (
	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
)

// partialState is the state the iterative auth checks build: base (the
// unconflicted state map in v2, nothing in v2.1), overridden by the events
// applied since.
type partialState struct {
	r     *resolver
	base  StateIDs
	delta map[pdu.TypeKey]string
}

func newPartialState(r *resolver, base StateIDs) *partialState {
	return &partialState{r: r, base: base, delta: make(map[pdu.TypeKey]string)}
}

// get returns the event at key, or nil. Every event of the partial state has
// been loaded: base's by checkStates, the applied ones before being applied.
func (p *partialState) get(k pdu.TypeKey) *pdu.Event {
	id, ok := p.delta[k]
	if !ok {
		if id, ok = p.base[k]; !ok {
			return nil
		}
	}
	return p.r.events[id]
}

// result is the partial state overridden by the unconflicted state map. The
// base is either empty or the unconflicted state map itself, so only the
// applied events and the unconflicted state map matter.
func (p *partialState) result(unconflicted StateIDs) StateIDs {
	out := make(StateIDs, len(p.delta)+len(unconflicted))
	for k, id := range p.delta {
		out[k] = id
	}
	for k, id := range unconflicted {
		out[k] = id
	}
	return out
}

// checkState is what one event is authorised against: the partial state, and
// for a key the partial state lacks, the event's own (non-rejected) auth
// event of that key. A rejected event in the partial state is not used
// either; the event's own auth event stands in for it.
type checkState struct {
	partial  *partialState
	auth     []*pdu.Event
	rejected func(string) bool
}

func (s *checkState) Get(typ, stateKey string) *pdu.Event {
	k := pdu.TypeKey{Type: typ, StateKey: stateKey}
	if ev := s.partial.get(k); ev != nil && (s.rejected == nil || !s.rejected(ev.ID())) {
		return ev
	}
	for _, a := range s.auth {
		if a.StateKeyIs(typ, stateKey) {
			return a
		}
	}
	return nil
}

// iterativeAuthChecks applies each event of list in turn to partial if the
// authorisation rules (auth.Allowed) allow it against partial, filled in from
// the event's non-rejected auth events; events not allowed are skipped.
func (r *resolver) iterativeAuthChecks(partial *partialState, list []*pdu.Event) error {
	st := &checkState{partial: partial, rejected: r.in.Rejected}
	for _, ev := range list {
		if !ev.IsState() {
			continue // only state events can be applied to a state
		}
		st.auth = st.auth[:0]
		for i, n := 0, r.numAuth(ev); i < n; i++ {
			id := r.authAt(ev, i)
			if r.in.Rejected != nil && r.in.Rejected(id) {
				continue
			}
			a, err := r.load(id)
			if err != nil {
				return err
			}
			st.auth = append(st.auth, a)
		}
		if auth.Allowed(ev, st) == nil {
			partial.delta[ev.Key()] = ev.ID()
		}
	}
	return nil
}
