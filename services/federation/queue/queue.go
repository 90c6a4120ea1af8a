package queue

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
)

// Queue holds the outbound queues of every destination and the workers
// that drain them. Its methods are safe for concurrent use.
type Queue struct {
	o   Options
	db  *storage.DB
	log *slog.Logger

	kick chan struct{} // wakes the scheduler; buffered, never blocks
	wg   sync.WaitGroup

	mu        sync.Mutex
	dests     map[string]*destination
	readyList []*destination            // queued, waiting for a worker
	waiting   map[*destination]struct{} // backing off
	active    int                       // worker goroutines
	started   bool
	closed    bool
	ctx       context.Context // the workers'; set by Start
	cancel    context.CancelFunc
	counts    Stats // the counters; gauges are computed by Stats
}

// destState is where a destination is in its life cycle.
type destState uint8

const (
	stateIdle    destState = iota // nothing to do, or not started
	stateQueued                   // in readyList
	stateRunning                  // a worker owns it
	stateWaiting                  // backing off until retryAt
)

// destination is the in-memory side of one destination; every field is
// guarded by Queue.mu.
type destination struct {
	name  string
	state destState
	dirty bool // work arrived while running
	woken bool // Wake was called while running

	nextSeq     uint64   // the next entry's sequence number
	head        uint64   // no entry below it is left
	uncommitted []uint64 // sequence numbers handed out, not yet committed (ascending)
	reserved    int      // len(uncommitted), counted against the bound
	count       int      // durable entries in the store
	edus        int      // of which EDUs

	volatile []volatileEDU // in-memory EDUs, oldest first
	volSeq   uint64

	rec         record    // mirror of the stored record
	retryAt     time.Time // when a waiting destination is due
	lastAttempt time.Time
}

// volatileEDU is a non-durable EDU waiting in memory.
type volatileEDU struct {
	id   uint64
	at   time.Time
	body []byte
}

// hasWork reports whether d has anything to send.
func (d *destination) hasWork() bool {
	return d.count > 0 || len(d.volatile) > 0 || d.rec.Pending != nil
}

// visibleLimit is the first sequence number a worker must not read yet:
// entries below it are committed (or were never written), entries from it
// on may still be in flight and could commit out of order.
func (d *destination) visibleLimit() uint64 {
	if len(d.uncommitted) > 0 {
		return d.uncommitted[0]
	}
	return d.nextSeq
}

// New opens the queues kept in o.DB. Workers start with Start; entries can
// be queued before that.
func New(o Options) (*Queue, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	q := &Queue{
		o:       o,
		db:      o.DB,
		log:     o.Logger.With("component", "federation/queue"),
		kick:    make(chan struct{}, 1),
		dests:   make(map[string]*destination),
		waiting: make(map[*destination]struct{}),
	}
	if err := q.load(); err != nil {
		return nil, err
	}
	return q, nil
}

// load reads every destination record and counts the queued entries.
func (q *Queue) load() error {
	err := q.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{byte(storage.PrefixFedDestination)}, PrefetchValues: false})
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			d := q.destLocked(string(item.Key()[1:]))
			err := item.Value(func(v []byte) error {
				r, err := decodeRecord(v)
				if err != nil {
					return err
				}
				d.rec = r
				return nil
			})
			if err != nil {
				// The nonce in txn IDs keeps them unique without the counter.
				q.log.Error("federation queue: unreadable destination record; starting afresh", "destination", d.name, "err", err)
				continue
			}
			if d.rec.RetryAt != 0 {
				d.retryAt = time.UnixMilli(d.rec.RetryAt)
			}
		}
		it.Close()

		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte{byte(storage.PrefixFedQueue)}, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			dest, seq, ok := parseEntryKey(item.Key())
			if !ok {
				q.log.Error("federation queue: malformed entry key", "key", fmt.Sprintf("%x", item.Key()))
				continue
			}
			d := q.destLocked(dest)
			d.count++
			if item.UserMeta() == kindEDU {
				d.edus++
			}
			d.nextSeq = max(d.nextSeq, seq+1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: load: %w", err)
	}
	return nil
}

// destLocked returns the destination called name, creating it.
func (q *Queue) destLocked(name string) *destination {
	d := q.dests[name]
	if d == nil {
		d = &destination{name: name}
		q.dests[name] = d
	}
	return d
}

// Start starts the workers: every destination with queued work is tried
// once right away, whatever its stored backoff (see the package doc). The
// workers stop when ctx ends or Close is called. Calling Start again, or
// after Close, does nothing.
func (q *Queue) Start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	q.started = true
	q.ctx, q.cancel = context.WithCancel(ctx)
	for _, d := range q.dests {
		if d.hasWork() {
			d.retryAt = time.Time{}
			q.readyLocked(d)
		}
	}
	q.wg.Add(1)
	go q.schedule(q.ctx)
}

// Close stops the workers and waits for them. A transaction in flight is
// abandoned and resent, unchanged, after the next Start. Entries can still
// be queued (durably) after Close; nothing sends them until a new Queue
// starts on the same store.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	cancel := q.cancel
	q.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	q.wg.Wait()
}

// Wake tells the queue that destination just reached us, so its link
// works: its backoff is forgotten and it is retried at once, or
// MinBackoff after its last attempt if that is later. The inbound side
// calls it on every authenticated request; it is cheap.
func (q *Queue) Wake(destination string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if d := q.dests[destination]; d != nil {
		q.wakeLocked(d)
	}
}

// WakeAll is Wake for every destination: call it when this server's own
// link comes back (say, the backbone tunnel is up again).
func (q *Queue) WakeAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range q.dests {
		q.wakeLocked(d)
	}
}

func (q *Queue) wakeLocked(d *destination) {
	d.rec.Failures = 0
	switch d.state {
	case stateRunning:
		d.woken = true
	case stateWaiting:
		d.retryAt = d.lastAttempt.Add(q.o.MinBackoff)
		q.readyLocked(d)
		q.kickLocked()
	}
}

// Pending is the number of entries queued for destination: the durable
// ones in the store plus the in-memory EDUs (waiting, or carried by the
// pending transaction).
func (q *Queue) Pending(destination string) (int, error) {
	n := 0
	err := q.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: entryPrefix(destination), PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue: count %s: %w", destination, err)
	}
	q.mu.Lock()
	if d := q.dests[destination]; d != nil {
		n += len(d.volatile)
		if d.rec.Pending != nil {
			n += len(d.rec.Pending.Volatile)
		}
	}
	q.mu.Unlock()
	return n, nil
}

// Stats is a snapshot of the queue, for status pages and tests.
type Stats struct {
	Destinations int // destinations known
	Queued       int // durable entries not yet delivered
	Volatile     int // in-memory EDUs waiting
	Active       int // workers running
	BackingOff   int // destinations waiting to retry

	Sent    uint64 // transactions acknowledged with a 200
	Failed  uint64 // attempts that failed and will be retried
	Refused uint64 // transactions refused for good and dropped
	Dropped uint64 // entries dropped: refused, evicted from a full queue, expired in memory
}

// Stats returns the current counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.counts
	s.Destinations = len(q.dests)
	for _, d := range q.dests {
		s.Queued += d.count
		s.Volatile += len(d.volatile)
	}
	s.Active = q.active
	s.BackingOff = len(q.waiting)
	return s
}
