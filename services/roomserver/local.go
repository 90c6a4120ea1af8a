package roomserver

import (
	"context"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/auth"
	"hearth/services/matrix/pdu"
	"hearth/services/storage"
)

// BuildLocal builds and authorises a local user's event on the room's
// current state without committing it: an invite of a user on another
// server is co-signed by that server first, then committed with Receive.
func (s *Server) BuildLocal(ctx context.Context, roomID string, e Event) (*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, err := s.build(r, e, r.state, r.extremities, r.depth)
	if err != nil {
		return nil, err
	}
	if err := auth.Allowed(ev, r.state); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	return ev, nil
}

// LocalEventsSince returns accepted events sent by this server's users at
// positions after from, up to the watermark, at most limit, in position
// order, and the position reached (for resuming the outbound queue).
func (s *Server) LocalEventsSince(ctx context.Context, from uint64, limit int) ([]Sent, uint64, error) {
	mark := s.seq.watermark()
	var out []Sent
	reached := from
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte{byte(storage.PrefixEvent)}})
		defer it.Close()
		for it.Seek(keyEvent(from + 1)); it.Valid() && len(out) < limit; it.Next() {
			nid, ok := nidOf(it.Item().Key()[1:])
			if !ok || nid > mark {
				break
			}
			reached = nid
			raw, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			rec, ok := decodeRecord(raw)
			if !ok || rec.flags&(flagRejected|flagSoftFailed|flagOutlier) != 0 {
				continue
			}
			ev, _, err := s.loadRecordTxn(txn, nid, nil)
			if err != nil {
				return err
			}
			if pdu.Domain(ev.Sender()) == s.opts.ServerName {
				out = append(out, Sent{Event: ev, Position: nid})
			}
		}
		return nil
	})
	return out, reached, err
}

// SendMany builds, authorises and commits several local events in one
// transaction, each on top of the one before (imports, benchmarks and
// tests that build large rooms). Either all commit or none.
func (s *Server) SendMany(ctx context.Context, roomID string, events []Event) ([]Sent, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.appendLocked(ctx, r, events, nil)
}
