package roomserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/storage"
)

// TxnKey makes a client request idempotent: the same user, device, scope
// (the request's endpoint, e.g. room and event type) and transaction ID
// always yield the same event.
type TxnKey struct {
	User, Device, Scope, TxnID string
}

// Event is what a local user asks to send.
type Event struct {
	Type     string
	StateKey *string // nil: message event
	Sender   string
	Content  cjson.Value
	Redacts  string // for m.room.redaction
}

// Sent is an accepted, committed event and its position.
type Sent struct {
	Event    *pdu.Event
	Position uint64
}

// Send builds, authorises and commits one event from a local user. With a
// TxnKey, a repeated request returns the event of the first one.
func (s *Server) Send(ctx context.Context, roomID string, e Event, txn *TxnKey) (Sent, error) {
	r, err := s.room(roomID)
	if err != nil {
		return Sent{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if txn != nil {
		if prev, ok, err := s.lookupTxn(*txn); err != nil {
			return Sent{}, err
		} else if ok {
			return prev, nil
		}
	}
	out, err := s.appendLocked(ctx, r, []Event{e}, txn)
	if err != nil {
		return Sent{}, err
	}
	return out[0], nil
}

func (s *Server) lookupTxn(t TxnKey) (Sent, bool, error) {
	v, err := s.db.Get(keyTxn(t))
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return Sent{}, false, nil
		}
		return Sent{}, false, err
	}
	ev, pos, err := s.EventByID(context.Background(), string(v))
	if err != nil {
		return Sent{}, false, err
	}
	return Sent{Event: ev, Position: pos}, true, nil
}

// built is an event ready to commit.
type built struct {
	ev  *pdu.Event
	nid uint64
}

// appendLocked builds each event on top of the previous one, checks it
// against the room's current state, and commits them all in one synced
// transaction. The caller holds r.mu. Either every event commits or none.
func (s *Server) appendLocked(ctx context.Context, r *room, events []Event, txnKey *TxnKey) ([]Sent, error) {
	// The room's state map is shared with readers (views): it is copied
	// only when the batch changes state, so a message in a room of
	// thousands of members costs no copy.
	state, copied := r.state, false
	writable := func() {
		if !copied {
			state, copied = copyState(r.state), true
		}
	}
	extremities, depth := r.extremities, r.depth
	var out []built
	for _, e := range events {
		ev, err := s.build(r, e, state, extremities, depth)
		if err != nil {
			return nil, err
		}
		if err := auth.Allowed(ev, state); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
		}
		if err := s.mayRedact(ev, r, state); err != nil {
			return nil, err
		}
		if ev.IsState() {
			writable()
			state[ev.Key()] = ev
		}
		// An event names at most MaxPrevEvents extremities; the others
		// stay extremities for the next one.
		var rest []string
		if len(extremities) > pdu.MaxPrevEvents {
			rest = extremities[pdu.MaxPrevEvents:]
		}
		extremities, depth = append([]string{ev.ID()}, rest...), max(depth, ev.Depth())
		out = append(out, built{ev: ev})
	}
	for i := range out {
		out[i].nid = s.seq.take()
	}
	var redactedState []*pdu.Event
	var snap uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		redactedState = redactedState[:0]
		snap = r.stateSnap
		for _, b := range out {
			if err := s.writeEvent(txn, r, b.ev, b.nid); err != nil {
				return err
			}
			before := snap
			if b.ev.IsState() {
				var err error
				if snap, err = s.writeDeltaTxn(txn, snap, []snapEntry{{b.ev.Key(), b.nid}}); err != nil {
					return err
				}
			}
			if err := txn.Set(keyStateAt(b.nid), stateAt{before, snap}.encode()); err != nil {
				return err
			}
			if b.ev.Type() == "m.room.redaction" {
				red, err := s.applyRedaction(txn, r, b.ev, b.nid, state)
				if err != nil {
					return err
				}
				if red != nil && red.IsState() {
					redactedState = append(redactedState, red)
				}
			}
		}
		if err := txn.Set(keyRoomHead(r.nid), headBytes(r.id, r.ver, extremities, depth, snap, r.resetPos)); err != nil {
			return err
		}
		if txnKey != nil {
			return txn.Set(keyTxn(*txnKey), []byte(out[len(out)-1].ev.ID()))
		}
		return nil
	})
	if err != nil {
		for _, b := range out {
			s.pub.finish(s.seq, b.nid, r.id, nil)
		}
		return nil, fmt.Errorf("roomserver: commit: %w", err)
	}
	for _, red := range redactedState {
		if cur := state[red.Key()]; cur != nil && cur.ID() == red.ID() {
			writable()
			state[red.Key()] = red // a redacted state event still counts as state
		}
	}
	nids, copied := r.stateNIDs, false
	for _, b := range out {
		if b.ev.IsState() {
			if !copied {
				nids, copied = copySnapshot(r.stateNIDs), true // views share the old map
			}
			nids[b.ev.Key()] = b.nid
		}
	}
	r.stateNIDs = nids
	r.state, r.extremities, r.depth, r.stateSnap = state, extremities, depth, snap
	sent := make([]Sent, len(out))
	servers := r.joinedServers()
	for i, b := range out {
		sent[i] = Sent{Event: b.ev, Position: b.nid}
		s.pub.finishWith(s.seq, b.nid, r.id, b.ev, servers)
	}
	return sent, nil
}

// build turns a request into a signed event on top of the given state.
func (s *Server) build(r *room, e Event, state pdu.StateMap, prev []string, depth int64) (*pdu.Event, error) {
	content := e.Content
	if !content.Exists() {
		content = cjson.EmptyObject()
	}
	if content.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: content must be an object", ErrBadEvent)
	}
	sk := ""
	if e.StateKey != nil {
		sk = *e.StateKey
	}
	authIDs := r.ver.SelectAuthEvents(e.Type, sk, e.Sender, content, state)
	if len(prev) > pdu.MaxPrevEvents {
		prev = prev[:pdu.MaxPrevEvents]
	}
	ev, err := r.ver.Build(pdu.Proto{
		Type: e.Type, StateKey: e.StateKey, Sender: e.Sender, RoomID: r.id, Content: content,
		Redacts: e.Redacts, PrevEvents: prev, AuthEvents: authIDs, Depth: depth + 1, OriginServerTS: s.now(),
	}, s.opts.ServerName, s.opts.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	return ev, nil
}

// writeEvent stores an accepted event: record, ID index, timeline, the
// relations index, current state and the membership index (clearing a
// forgotten mark on join, invite or knock).
func (s *Server) writeEvent(txn *badger.Txn, r *room, ev *pdu.Event, nid uint64) error {
	rec := record{room: r.nid, id: ev.ID(), json: ev.JSON()}
	if err := txn.Set(keyEvent(nid), rec.encode()); err != nil {
		return err
	}
	if err := txn.Set(keyEventByID(ev.ID()), u64(nid)); err != nil {
		return err
	}
	if err := txn.Set(keyTimeline(r.nid, nid), nil); err != nil {
		return err
	}
	if err := s.indexRelation(txn, r, ev, nid); err != nil {
		return err
	}
	if !ev.IsState() {
		return nil
	}
	sk, _ := ev.StateKey()
	if err := txn.Set(keyCurrentState(r.nid, ev.Type(), sk), u64(nid)); err != nil {
		return err
	}
	if ev.Type() == "m.room.member" {
		switch ev.Membership() {
		case "join", "invite", "knock": // coming back un-forgets the room
			if err := txn.Delete(keyForgotten(sk, r.nid)); err != nil {
				return err
			}
		}
		return txn.Set(keyUserRoom(sk, r.nid), []byte(ev.Membership()))
	}
	return nil
}

func nidOf(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}
