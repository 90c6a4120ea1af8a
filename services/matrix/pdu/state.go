package pdu

// TypeKey identifies a piece of room state: an event type and a state key.
type TypeKey struct {
	Type     string
	StateKey string
}

// Key returns the state tuple of a state event (zero TypeKey if not state).
func (e *Event) Key() TypeKey {
	if !e.isState {
		return TypeKey{}
	}
	return TypeKey{e.typ, e.stateKey}
}

// State looks up the current state event for a type and state key; nil means
// none. The auth rules and power-level helpers read state through it.
type State interface {
	Get(typ, stateKey string) *Event
}

// StateMap is a State held in a map.
type StateMap map[TypeKey]*Event

// Get returns the event for (typ, stateKey) or nil.
func (m StateMap) Get(typ, stateKey string) *Event { return m[TypeKey{typ, stateKey}] }

// StateMapOf builds a StateMap from state events (later events win).
func StateMapOf(events ...*Event) StateMap {
	m := make(StateMap, len(events))
	for _, e := range events {
		if e != nil && e.isState {
			m[e.Key()] = e
		}
	}
	return m
}
