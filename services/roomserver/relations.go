package roomserver

import (
	"context"
	"errors"
	"fmt"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
	"hearth/services/storage"
)

// The relations index lives under PrefixRelation, split by a kind byte:
//
//	'r' + room NID + parent NID + rel type + 0 + child NID → child event type
//	'l' + room NID + thread root NID                     → latest m.thread child NID
//	't' + room NID + latest child NID + root NID         → (key only): threads by activity
//	'p' + room NID + root NID + user                     → (key only): thread participants
//
// Entries are written with the child event, in its transaction. A child
// whose parent is not (yet) stored, or is in another room, is not indexed.
// Redacted children lose their m.relates_to and are skipped when read.
const (
	relKindChild       = 'r'
	relKindThreadLast  = 'l'
	relKindThreadOrder = 't'
	relKindParticipant = 'p'
)

func keyRelation(room, parent uint64, relType string, child uint64) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindChild}, u64(room), u64(parent), []byte(relType), []byte{0}, u64(child))
}
func keyRelationsPrefix(room, parent uint64) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindChild}, u64(room), u64(parent))
}
func keyThreadLast(room, root uint64) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindThreadLast}, u64(room), u64(root))
}
func keyThreadOrder(room, latest, root uint64) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindThreadOrder}, u64(room), u64(latest), u64(root))
}
func keyThreadOrderPrefix(room uint64) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindThreadOrder}, u64(room))
}
func keyThreadParticipant(room, root uint64, user string) []byte {
	return storage.Key(storage.PrefixRelation, []byte{relKindParticipant}, u64(room), u64(root), []byte(user))
}

// MaxRelTypeBytes bounds an indexed rel_type.
const MaxRelTypeBytes = 255

// relatesTo reads content.m.relates_to's rel_type and event_id.
func relatesTo(ev *pdu.Event) (relType, parent string, ok bool) {
	rel := ev.Content().Get("m.relates_to")
	relType, ok1 := rel.Get("rel_type").Str()
	parent, ok2 := rel.Get("event_id").Str()
	if !ok1 || !ok2 || relType == "" || parent == "" || len(relType) > MaxRelTypeBytes {
		return "", "", false
	}
	for i := 0; i < len(relType); i++ {
		if relType[i] == 0 {
			return "", "", false
		}
	}
	return relType, parent, true
}

// indexRelation records ev (at nid) as a child of the event it relates to.
// It runs in writeEvent's transaction.
func (s *Server) indexRelation(txn *badger.Txn, r *room, ev *pdu.Event, nid uint64) error {
	relType, parentID, ok := relatesTo(ev)
	if !ok {
		return nil
	}
	it, err := txn.Get(keyEventByID(parentID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var parent uint64
	if err := it.Value(func(b []byte) error { parent, ok = nidOf(b); return nil }); err != nil || !ok {
		return err
	}
	pit, err := txn.Get(keyEvent(parent))
	if err != nil {
		return err
	}
	sameRoom := false
	if err := pit.Value(func(b []byte) error {
		rec, ok := decodeRecord(b)
		sameRoom = ok && rec.room == r.nid
		return nil
	}); err != nil || !sameRoom {
		return err
	}
	if err := txn.Set(keyRelation(r.nid, parent, relType, nid), []byte(ev.Type())); err != nil {
		return err
	}
	if relType != "m.thread" {
		return nil
	}
	if prev, err := txn.Get(keyThreadLast(r.nid, parent)); err == nil {
		var last uint64
		if err := prev.Value(func(b []byte) error { last, _ = nidOf(b); return nil }); err != nil {
			return err
		}
		if err := txn.Delete(keyThreadOrder(r.nid, last, parent)); err != nil {
			return err
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	if err := txn.Set(keyThreadLast(r.nid, parent), u64(nid)); err != nil {
		return err
	}
	if err := txn.Set(keyThreadOrder(r.nid, nid, parent), nil); err != nil {
		return err
	}
	return txn.Set(keyThreadParticipant(r.nid, parent, ev.Sender()), nil)
}

// RelationQuery selects and pages the children of an event.
type RelationQuery struct {
	RelType   string // "" means any
	EventType string // "" means any; only with RelType
	// From and To bound the page by position, both exclusive: going
	// backward, children below From (0: from the newest) and above To;
	// going forward, children above From and below To (0: no bound).
	From, To uint64
	Dir      Direction
	Limit    int
}

// Relations returns a page of the children of parentID in roomID, newest
// first going backward, oldest first going forward. An unknown parent, or
// one in another room, is ErrNotFound. The bool is true when more children
// lie past the page.
func (s *Server) Relations(ctx context.Context, roomID, parentID string, q RelationQuery) ([]Sent, bool, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, false, err
	}
	parent, parentNID, err := s.EventByID(ctx, parentID)
	if err != nil {
		return nil, false, err
	}
	if parent.RoomID() != roomID {
		return nil, false, fmt.Errorf("%w: event %s", ErrNotFound, parentID)
	}
	mark := s.seq.watermark()
	var out []Sent
	more := false
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := keyRelationsPrefix(r.nid, parentNID)
		if q.RelType != "" {
			prefix = append(append(prefix, q.RelType...), 0)
		}
		var nids []uint64
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: q.EventType != ""})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			nid, ok := nidOf(k[len(k)-8:])
			if !ok || nid > mark {
				continue
			}
			if q.Dir == Backward && ((q.From != 0 && nid >= q.From) || nid <= q.To) {
				continue
			}
			if q.Dir == Forward && (nid <= q.From || (q.To != 0 && nid >= q.To)) {
				continue
			}
			if q.EventType != "" {
				typ, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if string(typ) != q.EventType {
					continue
				}
			}
			nids = append(nids, nid)
		}
		sort.Slice(nids, func(i, j int) bool {
			if q.Dir == Backward {
				return nids[i] > nids[j]
			}
			return nids[i] < nids[j]
		})
		for _, nid := range nids {
			if len(out) >= q.Limit {
				more = true
				break
			}
			ev, _, err := s.loadEventTxn(txn, nid, r.ver)
			if err != nil {
				return err
			}
			if _, _, ok := relatesTo(ev); !ok {
				continue // redacted: the relation is gone
			}
			out = append(out, Sent{Event: ev, Position: nid})
		}
		return nil
	})
	return out, more, err
}

// Thread is a thread root with the position of its latest reply.
type Thread struct {
	Root   *pdu.Event
	Latest uint64
}

// Threads lists thread roots of a room by latest activity, newest first,
// starting below position before (0: from the newest). With participant
// set, only threads whose root that user sent or replied in. The bool is
// true when more threads lie past the page.
func (s *Server) Threads(ctx context.Context, roomID, participant string, before uint64, limit int) ([]Thread, bool, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, false, err
	}
	mark := s.seq.watermark()
	var out []Thread
	more := false
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := keyThreadOrderPrefix(r.nid)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		seek := mark
		if before != 0 && before-1 < seek {
			seek = before - 1
		}
		it.Seek(storage.Key(storage.PrefixRelation, prefix[1:], u64(seek), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
		for ; it.Valid(); it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) != 16 {
				continue
			}
			latest, _ := nidOf(k[:8])
			root, _ := nidOf(k[8:])
			if latest > seek {
				continue
			}
			if len(out) >= limit {
				more = true
				break
			}
			ev, _, err := s.loadEventTxn(txn, root, r.ver)
			if err != nil {
				return err
			}
			if participant != "" && ev.Sender() != participant {
				if _, err := txn.Get(keyThreadParticipant(r.nid, root, participant)); errors.Is(err, badger.ErrKeyNotFound) {
					continue
				} else if err != nil {
					return err
				}
			}
			out = append(out, Thread{Root: ev, Latest: latest})
		}
		return nil
	})
	return out, more, err
}

// EventNearTimestamp finds the event of a room closest to ts in direction
// dir: going forward the first event (in timeline order) sent at or after
// ts, going backward the last one sent at or before ts. It walks the
// timeline, so it costs up to the room's length. ErrNotFound when none.
func (s *Server) EventNearTimestamp(ctx context.Context, roomID string, ts int64, dir Direction) (*pdu.Event, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	mark := s.seq.watermark()
	var found *pdu.Event
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := keyTimelinePrefix(r.nid)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: dir == Backward})
		defer it.Close()
		if dir == Backward {
			it.Seek(keyTimeline(r.nid, mark))
		} else {
			it.Rewind()
		}
		for ; it.Valid(); it.Next() {
			nid, ok := nidOf(it.Item().Key()[len(prefix):])
			if !ok || nid > mark {
				if dir == Forward {
					break
				}
				continue
			}
			ev, _, err := s.loadEventTxn(txn, nid, r.ver)
			if err != nil {
				return err
			}
			if (dir == Forward && ev.OriginServerTS() >= ts) || (dir == Backward && ev.OriginServerTS() <= ts) {
				found = ev
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no event %s of %d", ErrNotFound, map[Direction]string{Forward: "after", Backward: "before"}[dir], ts)
	}
	return found, nil
}
