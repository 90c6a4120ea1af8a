package roomserver

import (
	"context"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
)

// ReceiveChain is the fast path of Receive for the common case of a
// server catching us up: events that extend the room's single forward
// extremity one after another, whose auth events are all known. Each is
// checked as Receive would check it (auth events, the state before it,
// which is the current state, and so the soft-fail check too), and the
// run commits in one transaction, sharing one sync. It takes the leading
// events that fit and returns their results; the caller gives the rest to
// Receive. Events already known are taken with their first outcome.
func (s *Server) ReceiveChain(ctx context.Context, evs []*pdu.Event) ([]Received, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	r, err := s.room(evs[0].RoomID())
	if err != nil {
		return nil, err
	}
	r.ingestMu.Lock()
	defer r.ingestMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unpublished || r.stub || len(r.extremities) != 1 {
		return nil, nil
	}

	type taken struct {
		ev    *pdu.Event
		nid   uint64
		known *Received // already stored: its first outcome
	}
	var run []taken
	chain := map[string]known{} // events of the run, for later ones' auth
	state, nids := r.state, r.stateNIDs
	tip := r.extremities[0]
	create := state.Get("m.room.create", "")
	for _, ev := range evs {
		if ev.RoomID() != r.id || ev.Version().ID != r.ver.ID {
			break
		}
		got, err := s.lookup(r, []string{ev.ID()})
		if err != nil {
			return nil, err
		}
		if k, ok := got[ev.ID()]; ok {
			if k.outlier() {
				break // known only as an outlier: the full path places it
			}
			res := s.outcomeOf(k)
			run = append(run, taken{ev: ev, known: &res})
			continue
		}
		if len(ev.PrevEvents()) != 1 || ev.PrevEvents()[0] != tip {
			break
		}
		have, err := s.lookup(r, ev.AuthEvents())
		if err != nil {
			return nil, err
		}
		for _, id := range ev.AuthEvents() {
			if k, ok := chain[id]; ok {
				have[id] = k
			}
		}
		if checkOwnAuth(ev, have, create) != "" || auth.Allowed(ev, state) != nil {
			break // rejections and soft-fails take the full path
		}
		nid := s.seq.take()
		run = append(run, taken{ev: ev, nid: nid})
		chain[ev.ID()] = known{nid: nid, ev: ev}
		if ev.IsState() {
			state, nids = copyState(state), copySnapshot(nids)
			state[ev.Key()], nids[ev.Key()] = ev, nid
		}
		tip = ev.ID()
	}
	if len(run) == 0 {
		return nil, nil
	}

	extremities, depth := []string{tip}, r.depth
	var snap uint64
	var redacted []*pdu.Event
	err = s.db.Update(func(txn *badger.Txn) error {
		snap, redacted = r.stateSnap, redacted[:0]
		cur := &stateView{events: r.state, nids: r.stateNIDs}
		for _, t := range run {
			if t.known != nil {
				continue
			}
			ev := t.ev
			if err := s.writeReceivedTxn(txn, r, ev, t.nid, 0); err != nil {
				return err
			}
			before := snap
			if ev.IsState() {
				var err error
				if snap, err = s.writeDeltaTxn(txn, snap, []snapEntry{{ev.Key(), t.nid}}); err != nil {
					return err
				}
				next := &stateView{events: copyState(cur.events), nids: copySnapshot(cur.nids)}
				next.events[ev.Key()], next.nids[ev.Key()] = ev, t.nid
				if err := s.writeStateChangesTxn(txn, r, []snapEntry{{ev.Key(), t.nid}}, next); err != nil {
					return err
				}
				cur = next
			}
			if err := txn.Set(keyStateAt(t.nid), stateAt{before, snap}.encode()); err != nil {
				return err
			}
			if ev.Type() == "m.room.redaction" {
				red, err := s.applyRedaction(txn, r, ev, t.nid, cur.events)
				if err != nil {
					return err
				}
				if red != nil && red.IsState() {
					redacted = append(redacted, red)
				}
			}
			depth = max(depth, ev.Depth())
		}
		return txn.Set(keyRoomHead(r.nid), headBytes(r.id, r.ver, extremities, depth, snap, r.resetPos))
	})
	if err != nil {
		for _, t := range run {
			if t.known == nil {
				s.pub.finish(s.seq, t.nid, r.id, nil)
			}
		}
		return nil, fmt.Errorf("roomserver: commit received events: %w", err)
	}
	for _, red := range redacted {
		if c := state[red.Key()]; c != nil && c.ID() == red.ID() {
			state = copyState(state)
			state[red.Key()] = red
		}
	}
	r.state, r.stateNIDs, r.stateSnap = state, nids, snap
	r.extremities, r.depth = extremities, depth
	out := make([]Received, len(run))
	for i, t := range run {
		if t.known != nil {
			out[i] = *t.known
			continue
		}
		out[i] = Received{Outcome: Accepted, Position: t.nid}
		s.pub.finish(s.seq, t.nid, r.id, t.ev)
	}
	return out, nil
}
