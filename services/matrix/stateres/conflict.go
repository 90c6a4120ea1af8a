package stateres

import (
	"slices"
)

// split divides the states into the unconflicted state map (keys present in
// every state with the same event) and the conflicted state set (every event
// of every other key, a key missing from some state included). The conflicted
// events are returned sorted and without duplicates.
func split(states []StateIDs) (StateIDs, []string) {
	switch len(states) {
	case 0:
		return StateIDs{}, nil
	case 1:
		out := make(StateIDs, len(states[0]))
		for k, id := range states[0] {
			out[k] = id
		}
		return out, nil
	}
	first := states[0]
	unconflicted := make(StateIDs, len(first))
	var conflicted []string
	for k, id := range first {
		same := true
		for _, s := range states[1:] {
			if other, ok := s[k]; !ok || other != id {
				same = false
				break
			}
		}
		if same {
			unconflicted[k] = id
			continue
		}
		for _, s := range states {
			if other, ok := s[k]; ok {
				conflicted = append(conflicted, other)
			}
		}
	}
	// Keys missing from the first state are conflicted in every state that
	// has them.
	for _, s := range states[1:] {
		for k, id := range s {
			if _, ok := first[k]; !ok {
				conflicted = append(conflicted, id)
			}
		}
	}
	slices.Sort(conflicted)
	return unconflicted, slices.Compact(conflicted)
}
