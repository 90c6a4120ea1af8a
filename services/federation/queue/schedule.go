package queue

import (
	"context"
	"time"
)

// readyLocked hands d to a worker if it has a reason to run now: a new
// goroutine while fewer than MaxInFlightDestinations run, else the ready
// list. A destination being sent to is marked dirty instead, and one
// backing off stays put until it is due.
func (q *Queue) readyLocked(d *destination) {
	if !q.started || q.closed {
		return
	}
	switch d.state {
	case stateRunning:
		d.dirty = true
		return
	case stateQueued:
		return
	case stateWaiting:
		if q.o.Now().Before(d.retryAt) {
			return
		}
		delete(q.waiting, d)
	}
	if q.active < q.o.MaxInFlightDestinations {
		q.active++
		d.state = stateRunning
		q.wg.Add(1)
		go q.work(d)
		return
	}
	d.state = stateQueued
	q.readyList = append(q.readyList, d)
}

// work drains d, then whatever else is ready, then exits.
func (q *Queue) work(d *destination) {
	defer q.wg.Done()
	for d != nil {
		q.drain(d)
		d = q.next()
	}
}

// next takes the next ready destination, or retires the calling worker.
func (q *Queue) next() *destination {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.readyList) == 0 || q.closed {
		q.active--
		return nil
	}
	d := q.readyList[0]
	q.readyList[0] = nil
	q.readyList = q.readyList[1:]
	d.state = stateRunning
	return d
}

// waitLocked parks d until retryAt (or a Wake).
func (q *Queue) waitLocked(d *destination, retryAt time.Time) {
	d.retryAt = retryAt
	d.state = stateWaiting
	q.waiting[d] = struct{}{}
	if d.woken {
		d.woken = false
		q.wakeLocked(d)
	}
	q.kickLocked()
}

func (q *Queue) kickLocked() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// schedule readies destinations whose backoff is over. It sleeps until the
// earliest one is due or it is kicked (a destination started waiting or
// was woken).
func (q *Queue) schedule(ctx context.Context) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		now := q.o.Now()
		var next time.Time
		for d := range q.waiting {
			if !now.Before(d.retryAt) {
				q.readyLocked(d)
				continue
			}
			if next.IsZero() || d.retryAt.Before(next) {
				next = d.retryAt
			}
		}
		q.mu.Unlock()
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = q.o.After(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
		case <-timer:
		}
	}
}

// backoffLocked is the delay after the given number of consecutive
// failures: MinBackoff doubled per failure up to MaxBackoff, less up to 25%
// jitter so that destinations that failed together spread out.
func (q *Queue) backoffLocked(failures int) time.Duration {
	d := q.o.MinBackoff
	for i := 1; i < failures && d < q.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, q.o.MaxBackoff)
	return d - time.Duration(float64(d)*backoffJitterFactor*q.o.Rand())
}
