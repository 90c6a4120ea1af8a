package stateres

import (
	"fmt"
	"slices"
)

// conflictedSubgraph (v2.1) returns the events that lie on an auth_events
// path from one conflicted event to another, other than the conflicted
// events themselves (which are in the full conflicted set anyway). An event
// reached from a conflicted event lies on such a path exactly when a
// conflicted event can be reached from it, so a depth-first search over the
// ancestors of the conflicted events, deciding for each whether it reaches a
// conflicted event, finds them all in time linear in those ancestors.
func (r *resolver) conflictedSubgraph(conflicted []string, isConflicted map[string]bool) ([]string, error) {
	const (
		open = 1 // on the DFS stack
		done = 2
	)
	color := make(map[string]uint8)
	// reaches: the event has a conflicted event among its strict ancestors.
	reaches := make(map[string]bool)
	type frame struct {
		id   string
		next int // next auth edge to explore
	}
	var stack []frame
	var out []string
	for _, c := range conflicted {
		if color[c] != 0 {
			continue
		}
		color[c] = open
		stack = append(stack[:0], frame{id: c})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			ev, err := r.load(top.id)
			if err != nil {
				return nil, err
			}
			if top.next < r.numAuth(ev) {
				a := r.authAt(ev, top.next)
				top.next++
				switch color[a] {
				case open:
					return nil, fmt.Errorf("%w: through %s", ErrCycle, a)
				case 0:
					color[a] = open
					stack = append(stack, frame{id: a})
				}
				continue
			}
			// Every auth edge of top is explored.
			id := top.id
			stack = stack[:len(stack)-1]
			color[id] = done
			for i, n := 0, r.numAuth(ev); i < n; i++ {
				a := r.authAt(ev, i)
				if isConflicted[a] || reaches[a] {
					reaches[id] = true
					break
				}
			}
			if reaches[id] && !isConflicted[id] {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
