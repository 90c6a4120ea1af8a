package stateres

import (
	"errors"
	"fmt"

	"hearth/services/matrix/pdu"
)

// StateIDs is a room state: the event ID for each (type, state_key).
type StateIDs map[pdu.TypeKey]string

// DefaultMaxAuthChain is the bound on the number of distinct events one
// resolution may load when Input.MaxAuthChain is 0. The input states and
// their whole auth chains are loaded, so it must exceed the state of the
// largest room served; a million leaves room for rooms with hundreds of
// thousands of members while still stopping a runaway (or hostile) graph.
const DefaultMaxAuthChain = 1_000_000

// Errors returned by Resolve, wrapped with details.
var (
	// ErrMissingEvent: an event in a state or in an auth chain could not be
	// fetched.
	ErrMissingEvent = errors.New("stateres: missing event")
	// ErrTooLarge: resolving would load more than MaxAuthChain events.
	ErrTooLarge = errors.New("stateres: auth chain too large")
	// ErrCycle: the auth_events graph has a cycle.
	ErrCycle = errors.New("stateres: auth events form a cycle")
	// ErrBadState: a state names an event that is not a state event of that
	// (type, state_key), or the input is otherwise unusable.
	ErrBadState = errors.New("stateres: invalid state")
)

// Input is what Resolve needs.
type Input struct {
	// Version is the room version; it selects v2 (rooms 2–11) or v2.1
	// (room 12).
	Version *pdu.RoomVersion
	// States are the states to resolve, e.g. S′(p) for each prev event p.
	States []StateIDs
	// Event fetches an event of the states or of their auth chains.
	Event func(id string) (*pdu.Event, error)
	// Rejected, if set, reports events that were rejected; they are not used
	// as auth events during the iterative auth checks.
	Rejected func(id string) bool
	// MaxAuthChain bounds the distinct events loaded (the states' events and
	// their auth chains); 0 means DefaultMaxAuthChain. Exceeding it is
	// ErrTooLarge.
	MaxAuthChain int
}

// Resolve computes the resolution of in.States under the state resolution
// algorithm of in.Version. The result does not depend on the order of
// in.States. Resolving no states gives an empty state.
func Resolve(in Input) (StateIDs, error) {
	if in.Version == nil {
		return nil, fmt.Errorf("%w: no room version", ErrBadState)
	}
	if in.Event == nil {
		return nil, fmt.Errorf("%w: no event fetcher", ErrBadState)
	}
	if in.Version.StateRes != pdu.StateResV2 && in.Version.StateRes != pdu.StateResV21 {
		return nil, fmt.Errorf("%w: room version %s has no supported state resolution", ErrBadState, in.Version.ID)
	}
	unconflicted, conflicted := split(in.States)
	if len(conflicted) == 0 {
		// Every state is the same (or there is at most one): the auth chains
		// agree too, so nothing is conflicted and the answer is that state.
		return unconflicted, nil
	}
	r := newResolver(in)
	return r.resolve(unconflicted, conflicted)
}

// resolve runs the algorithm once the states are known to differ.
func (r *resolver) resolve(unconflicted StateIDs, conflicted []string) (StateIDs, error) {
	if err := r.checkStates(); err != nil {
		return nil, err
	}
	full, err := r.fullConflictedSet(unconflicted, conflicted)
	if err != nil {
		return nil, err
	}

	// Step 1: the power events of the full conflicted set and the events of
	// their auth chains that are in it, in reverse topological power order.
	powerSet, err := r.powerSet(full)
	if err != nil {
		return nil, err
	}
	powerList, err := r.reverseTopologicalPowerOrder(powerSet)
	if err != nil {
		return nil, err
	}

	// Step 2: iterative auth checks from the unconflicted state map (v2) or
	// from an empty map (v2.1).
	var base StateIDs
	if r.v.StateRes == pdu.StateResV2 {
		base = unconflicted
	}
	partial := newPartialState(r, base)
	if err := r.iterativeAuthChecks(partial, powerList); err != nil {
		return nil, err
	}

	// Step 3: the other events of the full conflicted set, in mainline order
	// based on the power levels of the partial state.
	rest := make([]*pdu.Event, 0, len(full)-len(powerSet))
	for id := range full {
		if !powerSet[id] {
			rest = append(rest, r.events[id])
		}
	}
	if err := r.mainlineOrder(rest, partial.get(plKey)); err != nil {
		return nil, err
	}

	// Step 4: iterative auth checks on top of the partial state.
	if err := r.iterativeAuthChecks(partial, rest); err != nil {
		return nil, err
	}

	// Step 5: the unconflicted state map wins over whatever was replayed.
	return partial.result(unconflicted), nil
}
