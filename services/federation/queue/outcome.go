package queue

import (
	"context"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// send sends p and records the outcome. It reports whether the worker
// should go on with d.
func (q *Queue) send(d *destination, p *prepared) bool {
	q.mu.Lock()
	d.lastAttempt = q.o.Now()
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(q.ctx, q.o.SendTimeout)
	res, err := q.o.Sender.SendTransaction(ctx, d.name, p.id, p.body)
	cancel()
	if err != nil && q.ctx.Err() != nil {
		return false // closing: the transaction stays pending
	}
	if err == nil {
		q.logResult(d.name, p.id, res)
		return q.finish(d, p, false)
	}
	permanent, after := classify(err)
	if permanent {
		q.log.Error("federation queue: transaction refused; dropping its entries",
			"destination", d.name, "txn", p.id, "pdus", p.pdus, "edus", p.edus+p.vols, "err", err)
		return q.finish(d, p, true)
	}
	q.log.Info("federation queue: send failed; will retry", "destination", d.name, "txn", p.id, "err", err)
	q.retryLater(d, after)
	return false
}

// finish deletes what p covered and the pending record, and resets the
// backoff: the destination answered.
func (q *Queue) finish(d *destination, p *prepared, refused bool) bool {
	q.mu.Lock()
	rec := d.rec
	q.mu.Unlock()
	rec.Pending, rec.Failures, rec.RetryAt = nil, 0, 0
	err := q.db.Update(func(txn *badger.Txn) error {
		for _, seq := range p.seqs {
			if err := txn.Delete(entryKey(d.name, seq)); err != nil {
				return err
			}
		}
		return putRecord(txn, d.name, rec)
	})
	if err != nil {
		// The transaction stays pending and is resent as it is; the
		// receiver deduplicates it.
		q.log.Error("federation queue: cannot record delivered transaction", "destination", d.name, "txn", p.id, "err", err)
		q.retryLater(d, 0)
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	d.rec = rec
	d.woken = false
	d.head = max(d.head, p.next)
	d.count -= len(p.seqs)
	d.edus -= p.edus
	if refused {
		q.counts.Refused++
		q.counts.Dropped += uint64(len(p.seqs) + p.vols)
	} else {
		q.counts.Sent++
	}
	return true
}

// retryLater records a failed attempt and parks d: after the given delay
// if the destination asked for one (429), else after the next backoff step.
func (q *Queue) retryLater(d *destination, after time.Duration) {
	q.mu.Lock()
	rec := d.rec
	var delay time.Duration
	if after > 0 {
		delay = min(after, q.o.MaxBackoff)
	} else {
		rec.Failures = min(rec.Failures+1, maxFailuresCounted)
		delay = q.backoffLocked(rec.Failures)
	}
	retryAt := q.o.Now().Add(delay)
	rec.RetryAt = retryAt.UnixMilli()
	q.counts.Failed++
	q.mu.Unlock()

	// Persist before anyone else may run d: only d's worker writes its record.
	if err := q.db.Update(func(txn *badger.Txn) error { return putRecord(txn, d.name, rec) }); err != nil {
		q.log.Error("federation queue: cannot record backoff", "destination", d.name, "err", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	d.rec = rec
	q.waitLocked(d, retryAt)
}

// logResult logs the PDUs the destination could not process. They are not
// resent: the destination has them, and would refuse them again.
func (q *Queue) logResult(dest, txnID string, res *Result) {
	if res == nil {
		return
	}
	n := 0
	for id, e := range res.PDUErrors {
		if n++; n > specMaxPDUsPerTxn {
			break
		}
		q.log.Warn("federation queue: destination rejected a PDU", "destination", dest, "txn", txnID, "event_id", id, "error", e)
	}
}
