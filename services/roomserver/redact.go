package roomserver

import (
	"context"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// applyRedaction marks the target of an accepted redaction as redacted, in
// the redaction's own transaction, when the spec allows applying it: the
// target is in the same room and the redaction's sender has the redact
// level or the same server as the target's sender ("Handling redactions").
// The stored JSON stays as received; readers get the redacted form. It
// returns the redacted target when it is applied, for the in-memory state.
func (s *Server) applyRedaction(txn *badger.Txn, r *room, red *pdu.Event, redNID uint64, state pdu.StateMap) (*pdu.Event, error) {
	target := red.Redacts()
	if target == "" {
		return nil, nil
	}
	it, err := txn.Get(keyEventByID(target))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil // unknown target: nothing to apply
	}
	if err != nil {
		return nil, err
	}
	raw, err := it.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	nid, ok := nidOf(raw)
	if !ok {
		return nil, fmt.Errorf("roomserver: corrupt event index for %s", target)
	}
	ev, rec, err := s.loadRecordTxn(txn, nid, r.ver)
	if err != nil {
		return nil, err
	}
	if rec.room != r.nid || rec.flags&flagRedacted != 0 {
		return nil, nil
	}
	if ev.SenderDomain() != red.SenderDomain() {
		levels, err := power.FromState(r.ver, state)
		if err != nil || levels.User(red.Sender()) < levels.Redact {
			return nil, nil
		}
	}
	rec.flags |= flagRedacted
	rec.redactedBy = redNID
	if err := txn.Set(keyEvent(nid), rec.encode()); err != nil {
		return nil, err
	}
	return redactedForm(ev, red), nil
}

// redactedForm is an event as served after redaction: the room version's
// redacted form with unsigned.redacted_because. The ID does not change.
func redactedForm(ev, because *pdu.Event) *pdu.Event {
	obj := ev.Version().Redact(ev.Object())
	if because != nil {
		b := because.Object().Without("unsigned", "signatures", "hashes").With("event_id", cjson.StrOf(because.ID()))
		obj = obj.With("unsigned", cjson.ObjectOf(cjson.M("redacted_because", b)))
	}
	out, err := pdu.FromObject(ev.Version(), obj)
	if err != nil {
		return ev.Redacted()
	}
	return out
}

// mayRedact enforces, for a local user's redaction, that redacting another
// user's event needs the redact power level (client-server API,
// "Redactions"); the auth rules only check the m.room.redaction level.
func (s *Server) mayRedact(ev *pdu.Event, r *room, state pdu.StateMap) error {
	if ev.Type() != "m.room.redaction" || ev.Redacts() == "" {
		return nil
	}
	target, _, err := s.EventByID(context.Background(), ev.Redacts())
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: unknown event %s", ErrNotFound, ev.Redacts())
	}
	if err != nil {
		return err
	}
	if target.RoomID() != r.id {
		return fmt.Errorf("%w: event %s is not in this room", ErrNotFound, ev.Redacts())
	}
	if target.Sender() == ev.Sender() {
		return nil
	}
	levels, err := power.FromState(r.ver, state)
	if err != nil || levels.User(ev.Sender()) < levels.Redact {
		return fmt.Errorf("%w: redacting another user's event needs power level %d", ErrForbidden, levels.Redact)
	}
	return nil
}
