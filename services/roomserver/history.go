package roomserver

import (
	"context"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// History from before this server joined a room arrives by backfill. It is
// checked like any outlier (against its own auth events) and slotted into
// the timeline below the earliest entry: timeline keys order the timeline,
// and a backfilled entry's value names its event. Positions of backfilled
// events therefore run downwards from the join; there is room for as many
// as there were events on the server before the join.

// TimelineStart returns the earliest event of the room's timeline and
// whether it is the room's beginning (its create event, so nothing is
// left to backfill).
func (s *Server) TimelineStart(ctx context.Context, roomID string) (string, bool, error) {
	evs, err := s.earliest(roomID)
	if err != nil || len(evs) == 0 {
		return "", true, err
	}
	ev := evs[0]
	return ev.ID(), ev.StateKeyIs("m.room.create", ""), nil
}

func (s *Server) earliest(roomID string) ([]*pdu.Event, error) {
	got, err := s.Timeline(context.Background(), roomID, 0, Forward, 1)
	if err != nil {
		return nil, err
	}
	out := make([]*pdu.Event, len(got))
	for i, g := range got {
		out[i] = g.Event
	}
	return out, nil
}

// InsertHistory stores backfilled events (signatures already verified)
// and adds those that pass their auth checks to the start of the timeline,
// newest first. It returns how many were added.
func (s *Server) InsertHistory(ctx context.Context, roomID string, events []*pdu.Event) (int, error) {
	r, err := s.room(roomID)
	if err != nil {
		return 0, err
	}
	r.ingestMu.Lock()
	defer r.ingestMu.Unlock()
	before, err := s.lookup(r, idsOfEvents(events))
	if err != nil {
		return 0, err
	}
	have, err := s.storeOutliers(ctx, r, events)
	if err != nil {
		return 0, err
	}
	var fresh []known
	for _, ev := range events {
		k, ok := have[ev.ID()]
		if b, was := before[ev.ID()]; !ok || k.rejected() || (was && (!b.outlier() || b.flags&flagHistory != 0)) {
			continue // rejected, or already in the timeline
		}
		fresh = append(fresh, k)
		have[ev.ID()] = known{nid: k.nid, flags: k.flags | flagHistory, ev: k.ev} // no duplicates in this batch
		before[ev.ID()] = have[ev.ID()]
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	sort.Slice(fresh, func(i, j int) bool {
		if fresh[i].ev.Depth() != fresh[j].ev.Depth() {
			return fresh[i].ev.Depth() > fresh[j].ev.Depth()
		}
		return fresh[i].ev.ID() > fresh[j].ev.ID()
	})
	added := 0
	err = s.db.Update(func(txn *badger.Txn) error {
		added = 0
		order, err := firstTimelineOrder(txn, r.nid)
		if err != nil {
			return err
		}
		for _, k := range fresh {
			if order <= 1 {
				break
			}
			order--
			if err := txn.Set(keyTimeline(r.nid, order), u64(k.nid)); err != nil {
				return err
			}
			it, err := txn.Get(keyEvent(k.nid))
			if err != nil {
				return err
			}
			raw, err := it.ValueCopy(nil)
			if err != nil {
				return err
			}
			rec, ok := decodeRecord(raw)
			if !ok {
				return errCorruptSnapshot
			}
			rec.flags |= flagHistory
			if err := txn.Set(keyEvent(k.nid), rec.encode()); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	return added, err
}

// firstTimelineOrder is the smallest timeline key of a room (its earliest
// entry); a room with no timeline starts above every position.
func firstTimelineOrder(txn *badger.Txn, room uint64) (uint64, error) {
	prefix := keyTimelinePrefix(room)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	it.Rewind()
	if !it.Valid() {
		return 1, nil
	}
	n, ok := nidOf(it.Item().Key()[len(prefix):])
	if !ok {
		return 1, nil
	}
	return n, nil
}

func idsOfEvents(evs []*pdu.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID()
	}
	return out
}
