package queue

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// ErrFull is the reason given for a destination whose queue is full of
// PDUs (and EDUs of its pending transaction): nothing could make room.
var ErrFull = errors.New("queue: destination queue full")

// NotQueuedError lists the destinations an entry was not queued for, with
// the reason. The entry was queued, durably, for every other destination:
// do not retry the whole call.
type NotQueuedError struct {
	Reasons map[string]error
}

func (e *NotQueuedError) Error() string {
	var b strings.Builder
	b.WriteString("queue: not queued for")
	for _, dest := range slices.Sorted(maps.Keys(e.Reasons)) {
		fmt.Fprintf(&b, " %s (%v);", dest, e.Reasons[dest])
	}
	return strings.TrimSuffix(b.String(), ";")
}

// maxDestsPerCommit bounds one Badger transaction of an enqueue; a room
// with more servers takes several synced commits.
const maxDestsPerCommit = 256

// EnqueuePDU queues an event (its JSON, sent exactly as given) for each
// destination and returns once it is on disk. This server's own name is
// skipped, duplicates are ignored. A malformed or oversized event is
// refused for all; otherwise a *NotQueuedError names the destinations
// (invalid names, full queues, storage errors) it was not queued for.
func (q *Queue) EnqueuePDU(destinations []string, eventJSON []byte) error {
	if err := checkPDU(eventJSON); err != nil {
		return err
	}
	return q.enqueueDurable(destinations, kindPDU, eventJSON)
}

// EnqueueEDU queues an EDU of the given type; content must be a JSON
// object without floats. A durable EDU (to-device messages, device list
// updates, receipts) is written to disk before EnqueueEDU returns, like a
// PDU. A non-durable one (typing, presence) is kept in memory only, sent
// only while the destination answers, and dropped after VolatileTTL.
// Errors are those of EnqueuePDU.
func (q *Queue) EnqueueEDU(destinations []string, eduType string, content []byte, durable bool) error {
	body, err := encodeEDU(eduType, content)
	if err != nil {
		return err
	}
	if durable {
		return q.enqueueDurable(destinations, kindEDU, body)
	}
	names, bad := q.targets(destinations)
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.o.Now()
	for _, name := range names {
		d := q.destLocked(name)
		if len(d.volatile) >= maxVolatilePerDest {
			d.volatile[0] = volatileEDU{}
			d.volatile = d.volatile[1:]
			q.counts.Dropped++
		}
		d.volSeq++
		d.volatile = append(d.volatile, volatileEDU{id: d.volSeq, at: now, body: body})
		q.readyLocked(d)
	}
	return bad.orNil()
}

// slot is one destination's share of a durable enqueue.
type slot struct {
	d       *destination
	seq     uint64
	evict   bool // the queue is full: drop its oldest EDU first
	refuse  bool // the queue is full of PDUs: do not write
	written bool
	evicted int
}

func (q *Queue) enqueueDurable(destinations []string, kind byte, value []byte) error {
	names, bad := q.targets(destinations)
	for len(names) > 0 {
		n := min(len(names), maxDestsPerCommit)
		q.commit(names[:n], kind, value, bad)
		names = names[n:]
	}
	return bad.orNil()
}

// commit writes value for names in one synced transaction, adding the
// destinations it could not queue for to bad.
func (q *Queue) commit(names []string, kind byte, value []byte, bad notQueued) {
	slots := make([]slot, len(names))
	q.mu.Lock()
	for i, name := range names {
		d := q.destLocked(name)
		slots[i] = slot{d: d, seq: d.nextSeq}
		d.nextSeq++
		d.uncommitted = append(d.uncommitted, slots[i].seq)
		d.reserved++
		if d.count+d.reserved > q.o.MaxQueuedPerDestination {
			// Full: make room by dropping an EDU, if there is one.
			slots[i].evict = true
			slots[i].refuse = d.edus == 0
		}
	}
	q.mu.Unlock()

	err := q.db.Update(func(txn *badger.Txn) error {
		for i := range slots {
			s := &slots[i]
			s.written, s.evicted = false, 0
			if s.refuse {
				continue
			}
			if s.evict {
				ok, err := evictOldestEDU(txn, s.d.name)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				s.evicted = 1
			}
			if err := txn.SetEntry(badger.NewEntry(entryKey(s.d.name, s.seq), value).WithMeta(kind)); err != nil {
				return err
			}
			s.written = true
		}
		return nil
	})

	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range slots {
		d := s.d
		d.uncommitted = slices.DeleteFunc(d.uncommitted, func(seq uint64) bool { return seq == s.seq })
		d.reserved--
		switch {
		case err != nil:
			bad[d.name] = fmt.Errorf("queue: store: %w", err)
		case !s.written:
			bad[d.name] = ErrFull
		default:
			d.count += 1 - s.evicted
			d.edus -= s.evicted
			if kind == kindEDU {
				d.edus++
			}
			q.counts.Dropped += uint64(s.evicted)
		}
		q.readyLocked(d)
	}
	if err != nil {
		q.log.Error("federation queue: cannot queue", "destinations", len(slots), "err", err)
	}
	for _, s := range slots {
		if errors.Is(bad[s.d.name], ErrFull) {
			q.log.Error("federation queue: destination queue full; entry refused", "destination", s.d.name, "kind", string(kind))
		}
	}
}

// evictOldestEDU deletes dest's oldest durable EDU that is not part of the
// pending transaction. It reports false if there is none. It reads the
// record and the entries it passes, so a worker preparing a transaction at
// the same time conflicts with it and one of them is retried.
func evictOldestEDU(txn *badger.Txn, dest string) (bool, error) {
	rec, err := getRecord(txn, dest)
	if err != nil {
		return false, err
	}
	var inPending []uint64
	if rec.Pending != nil {
		inPending = rec.Pending.Seqs
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: entryPrefix(dest), PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		if item.UserMeta() != kindEDU {
			continue
		}
		_, seq, ok := parseEntryKey(item.Key())
		if !ok || slices.Contains(inPending, seq) {
			continue
		}
		return true, txn.Delete(item.KeyCopy(nil))
	}
	return false, nil
}

// notQueued collects the destinations an entry was not queued for.
type notQueued map[string]error

func (n notQueued) orNil() error {
	if len(n) == 0 {
		return nil
	}
	return &NotQueuedError{Reasons: n}
}

// targets cleans a destination list: this server and duplicates are
// dropped, invalid server names go to bad.
func (q *Queue) targets(destinations []string) ([]string, notQueued) {
	bad := notQueued{}
	seen := make(map[string]bool, len(destinations))
	out := make([]string, 0, len(destinations))
	for _, dest := range destinations {
		if dest == q.o.Origin || seen[dest] {
			continue
		}
		seen[dest] = true
		if !ids.ValidServerName(dest) {
			bad[dest] = errors.New("invalid server name")
			continue
		}
		out = append(out, dest)
	}
	return out, bad
}
