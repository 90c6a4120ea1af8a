package stateres

import "hearth/services/matrix/pdu"

// walk visits every event reachable from the starting events through auth
// edges, starting events included, except events for which stop returns true
// (they are neither visited nor walked through). seen receives the visited
// events; events already in it are not walked again.
func (r *resolver) walk(start []string, seen map[string]bool, stop func(string) bool) error {
	stack := make([]string, 0, len(start))
	for _, id := range start {
		if !seen[id] && (stop == nil || !stop(id)) {
			seen[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ev, err := r.load(id)
		if err != nil {
			return err
		}
		for i, n := 0, r.numAuth(ev); i < n; i++ {
			a := r.authAt(ev, i)
			if seen[a] || (stop != nil && stop(a)) {
				continue
			}
			seen[a] = true
			stack = append(stack, a)
		}
	}
	return nil
}

// fullConflictedSet is the conflicted state set, plus the auth difference,
// plus (v2.1) the conflicted state subgraph.
//
// The full auth chain C_i of state S_i is taken to contain S_i's own events
// as well as their auth chains (see the package documentation). An event in
// the auth chain of an unconflicted event is in every C_i, so only the walks
// from each state's conflicted events decide the difference: an event is in
// it when some but not all of those walks reach it and no unconflicted event
// does.
func (r *resolver) fullConflictedSet(unconflicted StateIDs, conflicted []string) (map[string]bool, error) {
	full := make(map[string]bool, 2*len(conflicted))
	isConflicted := make(map[string]bool, len(conflicted))
	for _, id := range conflicted {
		full[id] = true
		isConflicted[id] = true
	}

	common := make(map[string]bool, len(r.events))
	start := make([]string, 0, len(unconflicted))
	for _, id := range unconflicted {
		start = append(start, id)
	}
	if err := r.walk(start, common, nil); err != nil {
		return nil, err
	}
	inCommon := func(id string) bool { return common[id] }

	reach := make(map[string]int)
	for _, s := range r.in.States {
		start = start[:0]
		for _, id := range s {
			if isConflicted[id] {
				start = append(start, id)
			}
		}
		seen := make(map[string]bool)
		if err := r.walk(start, seen, inCommon); err != nil {
			return nil, err
		}
		for id := range seen {
			reach[id]++
		}
	}
	for id, n := range reach {
		if n < len(r.in.States) {
			full[id] = true
		}
	}

	if r.v.StateRes == pdu.StateResV21 {
		sub, err := r.conflictedSubgraph(conflicted, isConflicted)
		if err != nil {
			return nil, err
		}
		for _, id := range sub {
			full[id] = true
		}
	}
	return full, nil
}
