package roomserver

import (
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
)

// commitReceived stores a received event with its outcome, after the
// soft-fail check (step 6) against the current state; an accepted event
// updates the forward extremities and the current state (resolving the
// states of the extremities when the DAG has forked). before is nil when
// the event was rejected without knowing the state before it.
func (s *Server) commitReceived(r *room, ev *pdu.Event, before *stateView, outcome Outcome, reason string, o receiveOpts) (Received, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if outcome == Accepted && !o.rejoin {
		if err := auth.Allowed(ev, r.state); err != nil {
			outcome, reason = SoftFailed, err.Error()
		}
	}
	flags := byte(0)
	switch outcome {
	case Rejected:
		flags = flagRejected
	case SoftFailed:
		flags = flagSoftFailed
	}
	nid := s.seq.take()

	// The new forward extremities and current state.
	cur := &stateView{events: r.state, nids: r.stateNIDs, snap: r.stateSnap}
	next, extremities, depth := cur, r.extremities, r.depth
	var after *stateView
	if before != nil {
		after = before
		if ev.IsState() && outcome != Rejected {
			after = &stateView{events: copyState(before.events), nids: copySnapshot(before.nids)}
			after.events[ev.Key()] = ev
			after.nids[ev.Key()] = nid
		}
	}
	if outcome == Accepted {
		prevs := map[string]bool{}
		for _, p := range ev.PrevEvents() {
			prevs[p] = true
		}
		extremities = nil
		for _, x := range r.extremities {
			if !prevs[x] && !o.rejoin {
				extremities = append(extremities, x)
			}
		}
		extremities = append(extremities, ev.ID())
		depth = max(depth, ev.Depth())
		if len(extremities) == 1 {
			next = after
		} else {
			var err error
			if next, err = s.stateOfExtremities(r, cur, extremities, ev.ID(), after); err != nil {
				s.pub.finish(s.seq, nid, r.id, nil)
				return Received{}, err
			}
		}
	}

	// A state reset: resolution moved current state that the event itself
	// did not set. Sync shows such rooms afresh (StateResetAt).
	resetPos := r.resetPos
	if outcome == Accepted {
		if ev.IsState() && next.nids[ev.Key()] != nid {
			resetPos = nid // the timeline shows a state event that lost
		}
		for _, c := range diffSnapshots(cur.nids, next.nids) {
			if c.key != ev.Key() || c.nid != nid {
				resetPos = nid
				break
			}
		}
	}
	var redactedState *pdu.Event
	err := s.db.Update(func(txn *badger.Txn) error {
		redactedState = nil
		if err := s.writeReceivedTxn(txn, r, ev, nid, flags); err != nil {
			return err
		}
		if before != nil {
			beforeSnap := before.snap
			if beforeSnap == 0 {
				var err error
				if beforeSnap, err = s.writeDeltaTxn(txn, r.stateSnap, diffSnapshots(r.stateNIDs, before.nids)); err != nil {
					return err
				}
			}
			afterSnap := beforeSnap
			if after != before {
				var err error
				if afterSnap, err = s.writeDeltaTxn(txn, beforeSnap, []snapEntry{{ev.Key(), nid}}); err != nil {
					return err
				}
				after.snap = afterSnap
			}
			before.snap = beforeSnap
			if err := txn.Set(keyStateAt(nid), stateAt{beforeSnap, afterSnap}.encode()); err != nil {
				return err
			}
		}
		if outcome != Accepted {
			return nil
		}
		if next.snap == 0 {
			var err error
			if next.snap, err = s.writeDeltaTxn(txn, r.stateSnap, diffSnapshots(r.stateNIDs, next.nids)); err != nil {
				return err
			}
		}
		if err := s.writeCurrentStateTxn(txn, r, cur, next); err != nil {
			return err
		}
		if ev.Type() == "m.room.redaction" {
			red, err := s.applyRedaction(txn, r, ev, nid, next.events)
			if err != nil {
				return err
			}
			if red != nil && red.IsState() {
				redactedState = red
			}
		}
		if r.unpublished {
			if err := txn.Set(keyRoomByID(r.id), u64(r.nid)); err != nil {
				return err
			}
		}
		return txn.Set(keyRoomHead(r.nid), headBytes(r.id, r.ver, extremities, depth, next.snap, resetPos))
	})
	if err != nil {
		s.pub.finish(s.seq, nid, r.id, nil)
		return Received{}, fmt.Errorf("roomserver: commit received event: %w", err)
	}
	if outcome != Accepted {
		s.pub.finish(s.seq, nid, r.id, nil)
		return Received{Outcome: outcome, Reason: reason}, nil
	}
	events := next.events
	if redactedState != nil {
		if c := events[redactedState.Key()]; c != nil && c.ID() == redactedState.ID() {
			events = copyState(events)
			events[redactedState.Key()] = redactedState
		}
	}
	r.state, r.stateNIDs, r.stateSnap = events, next.nids, next.snap
	r.extremities, r.depth, r.unpublished, r.stub, r.resetPos = extremities, depth, false, false, resetPos
	var servers []string
	if pdu.Domain(ev.Sender()) == s.opts.ServerName {
		servers = r.joinedServers()
	}
	s.pub.finishWith(s.seq, nid, r.id, ev, servers)
	return Received{Outcome: Accepted, Position: nid}, nil
}

// stateOfExtremities resolves the states after each forward extremity;
// the newest one (id) has the state after, not yet stored.
func (s *Server) stateOfExtremities(r *room, cur *stateView, extremities []string, id string, after *stateView) (*stateView, error) {
	var others []string
	for _, x := range extremities {
		if x != id {
			others = append(others, x)
		}
	}
	old, err := s.stateAfterEvents(r, cur, others)
	if err != nil {
		return nil, err
	}
	if old.snap != 0 && old.snap == after.snap {
		return after, nil
	}
	return s.resolveViews(r, []*stateView{old, after})
}

// writeCurrentStateTxn moves the stored current state from cur to next:
// the per-key index and the membership index.
func (s *Server) writeCurrentStateTxn(txn *badger.Txn, r *room, cur, next *stateView) error {
	return s.writeStateChangesTxn(txn, r, diffSnapshots(cur.nids, next.nids), next)
}

// writeStateChangesTxn writes changes to the current state, whose events
// are in next.
func (s *Server) writeStateChangesTxn(txn *badger.Txn, r *room, changes []snapEntry, next *stateView) error {
	for _, c := range changes {
		k := keyCurrentState(r.nid, c.key.Type, c.key.StateKey)
		if c.nid == 0 {
			if err := txn.Delete(k); err != nil {
				return err
			}
			if c.key.Type == "m.room.member" {
				if err := txn.Delete(keyUserRoom(c.key.StateKey, r.nid)); err != nil {
					return err
				}
			}
			continue
		}
		if err := txn.Set(k, u64(c.nid)); err != nil {
			return err
		}
		if c.key.Type != "m.room.member" {
			continue
		}
		ev := next.events[c.key]
		switch ev.Membership() {
		case "join", "invite", "knock":
			if err := txn.Delete(keyForgotten(c.key.StateKey, r.nid)); err != nil {
				return err
			}
		}
		if err := txn.Set(keyUserRoom(c.key.StateKey, r.nid), []byte(ev.Membership())); err != nil {
			return err
		}
	}
	return nil
}

func copyState(m pdu.StateMap) pdu.StateMap {
	out := make(pdu.StateMap, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copySnapshot(m snapshot) snapshot {
	out := make(snapshot, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeReceivedTxn stores a received event with its flags; an accepted
// one (no flags) also goes into the timeline and the relations index.
func (s *Server) writeReceivedTxn(txn *badger.Txn, r *room, ev *pdu.Event, nid uint64, flags byte) error {
	rec := record{room: r.nid, flags: flags, id: ev.ID(), json: ev.JSON()}
	if err := txn.Set(keyEvent(nid), rec.encode()); err != nil {
		return err
	}
	if err := txn.Set(keyEventByID(ev.ID()), u64(nid)); err != nil {
		return err
	}
	if flags != 0 {
		return nil
	}
	if err := txn.Set(keyTimeline(r.nid, nid), nil); err != nil {
		return err
	}
	return s.indexRelation(txn, r, ev, nid)
}
