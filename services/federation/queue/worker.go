package queue

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	badger "github.com/dgraph-io/badger/v4"
)

// prepared is a transaction ready to send, and what it covers.
type prepared struct {
	id   string
	body []byte
	seqs []uint64 // durable entries found and covered
	pdus int
	edus int    // durable EDUs among seqs
	vols int    // in-memory EDUs carried
	next uint64 // the destination's head once delivered; 0 if unknown
}

// drain sends d's transactions one after the other until d has nothing
// left, has to back off, or the queue closes.
func (q *Queue) drain(d *destination) {
	for {
		if q.ctx.Err() != nil {
			return
		}
		q.mu.Lock()
		d.dirty = false
		limit, head := d.visibleLimit(), d.head
		rec := d.rec
		var vol []volatileEDU
		if rec.Pending == nil && rec.Failures == 0 {
			// In-memory EDUs are only worth sending to a server that
			// answers; after a failure they expire instead.
			vol = q.liveVolatileLocked(d)
		}
		q.mu.Unlock()

		fresh := rec.Pending == nil
		p, rec, err := q.prepare(d.name, rec, head, limit, vol)
		if err != nil {
			q.log.Error("federation queue: cannot build transaction", "destination", d.name, "err", err)
			q.retryLater(d, 0)
			return
		}
		if p == nil {
			q.mu.Lock()
			d.rec = rec
			if d.dirty {
				q.mu.Unlock()
				continue
			}
			d.state = stateIdle
			q.mu.Unlock()
			return
		}
		q.mu.Lock()
		d.rec = rec
		if fresh && p.vols > 0 {
			// The in-memory EDUs it carries now live in the pending record.
			last := vol[p.vols-1].id
			d.volatile = slices.DeleteFunc(d.volatile, func(v volatileEDU) bool { return v.id <= last })
		}
		q.mu.Unlock()
		if !q.send(d, p) {
			return
		}
	}
}

// liveVolatileLocked drops d's expired in-memory EDUs and returns a copy of
// the others.
func (q *Queue) liveVolatileLocked(d *destination) []volatileEDU {
	cutoff := q.o.Now().Add(-q.o.VolatileTTL)
	n := len(d.volatile)
	d.volatile = slices.DeleteFunc(d.volatile, func(v volatileEDU) bool { return v.at.Before(cutoff) })
	q.counts.Dropped += uint64(n - len(d.volatile))
	return slices.Clone(d.volatile)
}

// prepare returns dest's pending transaction, rebuilt, or else builds a new
// one from the oldest entries below limit and the in-memory EDUs vol, and
// records it as pending before returning it. It returns nil when there is
// nothing to send, with rec updated if a stale pending record was cleared.
func (q *Queue) prepare(dest string, rec record, head, limit uint64, vol []volatileEDU) (*prepared, record, error) {
	var p *prepared
	out := rec
	err := q.db.Update(func(txn *badger.Txn) error {
		p, out = nil, rec
		if rec.Pending != nil {
			var err error
			p, err = q.rebuild(txn, dest, rec.Pending)
			if err != nil || p != nil {
				return err
			}
			// Nothing of it is left (a corrupt store?): forget it.
			q.log.Warn("federation queue: pending transaction has no entries left; dropping it", "destination", dest, "txn", rec.Pending.ID)
			out.Pending = nil
			return putRecord(txn, dest, out)
		}
		pdus, edus, seqs, next, err := q.pick(txn, dest, head, limit)
		if err != nil {
			return err
		}
		size := 0
		for _, b := range slices.Concat(pdus, edus) {
			size += len(b)
		}
		var volBodies [][]byte
		for _, v := range vol {
			if len(edus)+len(volBodies) >= q.o.MaxEDUsPerTxn || size+len(v.body) > maxTxnBytes {
				break
			}
			size += len(v.body)
			volBodies = append(volBodies, v.body)
		}
		if len(seqs) == 0 && len(volBodies) == 0 {
			return nil
		}
		out.NextTxn++
		pt := &pendingTxn{
			ID:       strconv.FormatUint(out.NextTxn, 10) + "." + nonce(),
			TS:       q.o.Now().UnixMilli(),
			Seqs:     seqs,
			Volatile: volBodies,
		}
		out.Pending = pt
		p = &prepared{
			id:   pt.ID,
			body: buildBody(q.o.Origin, pt.TS, pdus, slices.Concat(edus, volBodies)),
			seqs: seqs,
			pdus: len(pdus),
			edus: len(edus),
			vols: len(volBodies),
			next: next,
		}
		return putRecord(txn, dest, out)
	})
	if err != nil {
		return nil, rec, fmt.Errorf("queue: prepare %s: %w", dest, err)
	}
	return p, out, nil
}

// pick reads the oldest entries of dest from head up to limit: PDUs in
// order until MaxPDUsPerTxn, EDUs in order until MaxEDUsPerTxn, within
// maxTxnBytes and looking at no more than maxScanPerTxn entries. seqs lists
// them all in ascending order; next is the first entry it left behind, the
// head once they are delivered. Starting from head rather than from the
// prefix skips the tombstones of delivered entries, which Badger would
// otherwise walk through on every pick.
func (q *Queue) pick(txn *badger.Txn, dest string, head, limit uint64) (pdus, edus [][]byte, seqs []uint64, next uint64, err error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: entryPrefix(dest), PrefetchValues: false})
	defer it.Close()
	size, scanned := 0, 0
	pduDone, eduDone := false, false
	next, nextSet := head, false
	leave := func(seq uint64) {
		if !nextSet {
			next, nextSet = seq, true
		}
	}
	for it.Seek(entryKey(dest, head)); it.Valid(); it.Next() {
		item := it.Item()
		_, seq, ok := parseEntryKey(item.Key())
		if !ok {
			continue
		}
		if seq >= limit {
			leave(limit) // entries below limit may still commit
			break
		}
		if scanned == maxScanPerTxn || (pduDone && eduDone) {
			leave(seq)
			break
		}
		scanned++
		kind := item.UserMeta()
		switch {
		case kind == kindPDU && !pduDone:
			if len(pdus) == q.o.MaxPDUsPerTxn || (len(seqs) > 0 && size+int(item.ValueSize()) > maxTxnBytes) {
				pduDone = true // later PDUs must not overtake this one
				leave(seq)
				continue
			}
		case kind == kindEDU && !eduDone:
			if len(edus) == q.o.MaxEDUsPerTxn || (len(seqs) > 0 && size+int(item.ValueSize()) > maxTxnBytes) {
				eduDone = true
				leave(seq)
				continue
			}
		default:
			leave(seq)
			continue
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		size += len(v)
		seqs = append(seqs, seq)
		if kind == kindPDU {
			pdus = append(pdus, v)
		} else {
			edus = append(edus, v)
		}
		if !nextSet {
			next = seq + 1
		}
	}
	return pdus, edus, seqs, next, nil
}

// rebuild reads back the entries of a pending transaction and builds the
// same body again. It returns nil if none of them is left.
func (q *Queue) rebuild(txn *badger.Txn, dest string, pt *pendingTxn) (*prepared, error) {
	p := &prepared{id: pt.ID, vols: len(pt.Volatile)}
	var pdus, edus [][]byte
	for _, seq := range pt.Seqs {
		item, err := txn.Get(entryKey(dest, seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			q.log.Error("federation queue: entry of pending transaction missing", "destination", dest, "txn", pt.ID, "seq", seq)
			continue
		}
		if err != nil {
			return nil, err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, err
		}
		p.seqs = append(p.seqs, seq)
		if item.UserMeta() == kindEDU {
			edus = append(edus, v)
		} else {
			pdus = append(pdus, v)
		}
	}
	if len(p.seqs) == 0 && len(pt.Volatile) == 0 {
		return nil, nil
	}
	p.pdus, p.edus = len(pdus), len(edus)
	p.body = buildBody(q.o.Origin, pt.TS, pdus, slices.Concat(edus, pt.Volatile))
	return p, nil
}

// nonce is 48 random bits in hex; with the per-destination counter it
// makes txn IDs unique even if the counter is ever rewound.
func nonce() string {
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
