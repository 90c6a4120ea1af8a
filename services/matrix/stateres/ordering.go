package stateres

import (
	"container/heap"
	"fmt"

	"hearth/services/matrix/pdu"
)

// powerKey is what the reverse topological power ordering compares.
type powerKey struct {
	power int64
	ts    int64
	id    string
	ev    *pdu.Event
}

// before is the comparison relation: x < y if x's sender has the greater
// power level, then if x's origin_server_ts is smaller, then if x's event ID
// is smaller.
func (x *powerKey) before(y *powerKey) bool {
	if x.power != y.power {
		return x.power > y.power
	}
	if x.ts != y.ts {
		return x.ts < y.ts
	}
	return x.id < y.id
}

// readyHeap holds the candidate vertices of Kahn's algorithm.
type readyHeap []*powerKey

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].before(h[j]) }
func (h readyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)        { *h = append(*h, x.(*powerKey)) }
func (h *readyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// reverseTopologicalPowerOrder sorts set into the lexicographically smallest
// topological order of the auth DAG restricted to set (an event comes after
// those of its auth events that are in set), choosing among the candidates by
// powerKey.before: Kahn's algorithm with a priority queue.
func (r *resolver) reverseTopologicalPowerOrder(set map[string]bool) ([]*pdu.Event, error) {
	keys := make(map[string]*powerKey, len(set))
	for id := range set {
		ev := r.events[id]
		p, err := r.senderPower(ev)
		if err != nil {
			return nil, err
		}
		keys[id] = &powerKey{power: p, ts: ev.OriginServerTS(), id: id, ev: ev}
	}
	indegree := make(map[string]int, len(set))
	children := make(map[string][]string, len(set))
	for id := range set {
		ev := r.events[id]
		for i, n := 0, r.numAuth(ev); i < n; i++ {
			a := r.authAt(ev, i)
			if !set[a] || duplicateEdge(r, ev, i, a) {
				continue
			}
			indegree[id]++
			children[a] = append(children[a], id)
		}
	}
	ready := make(readyHeap, 0, len(set))
	for id := range set {
		if indegree[id] == 0 {
			ready = append(ready, keys[id])
		}
	}
	heap.Init(&ready)
	out := make([]*pdu.Event, 0, len(set))
	for ready.Len() > 0 {
		k := heap.Pop(&ready).(*powerKey)
		out = append(out, k.ev)
		for _, c := range children[k.id] {
			if indegree[c]--; indegree[c] == 0 {
				heap.Push(&ready, keys[c])
			}
		}
	}
	if len(out) != len(set) {
		return nil, fmt.Errorf("%w: among %d power events", ErrCycle, len(set)-len(out))
	}
	return out, nil
}

// duplicateEdge reports whether auth edge i of ev repeats an earlier one.
func duplicateEdge(r *resolver, ev *pdu.Event, i int, a string) bool {
	for j := 0; j < i; j++ {
		if r.authAt(ev, j) == a {
			return true
		}
	}
	return false
}
