package keys

import (
	"context"
	"fmt"
	"time"
)

const (
	// minRefetch is the least time between two successful fetches of one
	// server's keys: lookups of key IDs the server does not have (a forged
	// origin, a typo) cannot turn into a stream of fetches.
	minRefetch = time.Minute
	// minBackoff and maxBackoff bound the pause after a failed fetch; it
	// doubles on every failure in a row.
	minBackoff = time.Minute
	maxBackoff = 10 * time.Minute
	// fetchTimeout bounds one fetch, notary fallbacks included.
	fetchTimeout = 30 * time.Second
	// maxServerStates bounds the remembered fetch outcomes.
	maxServerStates = 4096
)

// want is what a fetch is for: key keyID valid at atTS, or, with keyID "",
// any response of the server valid until at least atTS.
type want struct {
	keyID string
	atTS  int64
}

type flightKey struct {
	server   string
	notaries bool
}

// flight is one fetch in progress; callers for the same server wait on it.
type flight struct {
	done chan struct{}
	err  error // set before done is closed
}

// serverState is what the ring remembers of fetching one server's keys.
type serverState struct {
	lastOK    time.Time     // last fetch that stored a usable response
	failUntil time.Time     // no fetch before this time
	delay     time.Duration // the current back-off
}

// errThrottled says a fetch was not tried.
type errThrottled struct {
	server string
	until  time.Time
	why    string
}

func (e errThrottled) Error() string {
	return fmt.Sprintf("keys: not fetching %s before %s: %s", e.server, e.until.Format(time.RFC3339), e.why)
}

// refresh fetches server's keys unless throttled, sharing the fetch with
// concurrent callers. The fetch runs on its own bounded context, so a caller
// that gives up does not cancel it for the others.
func (r *Ring) refresh(ctx context.Context, server string, w want, notaries bool) error {
	r.mu.Lock()
	if err := r.throttledLocked(server); err != nil {
		r.mu.Unlock()
		return err
	}
	k := flightKey{server, notaries}
	f, ok := r.flights[k]
	if !ok {
		f = &flight{done: make(chan struct{})}
		r.flights[k] = f
		go r.fly(context.WithoutCancel(ctx), k, f, w)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Ring) fly(ctx context.Context, k flightKey, f *flight, w want) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	got, err := r.fetch(ctx, k.server, w, k.notaries)
	if err != nil {
		r.log.Info("keys: fetch incomplete", "server", k.server, "key", w.keyID, "stored", got, "err", err)
	}
	r.mu.Lock()
	r.recordLocked(k.server, got)
	delete(r.flights, k)
	r.mu.Unlock()
	f.err = err
	close(f.done)
}

func (r *Ring) throttledLocked(server string) error {
	st := r.servers[server]
	if st == nil {
		return nil
	}
	now := r.now()
	if now.Before(st.failUntil) {
		return errThrottled{server, st.failUntil, "backing off after failures"}
	}
	if next := st.lastOK.Add(minRefetch); now.Before(next) {
		return errThrottled{server, next, "fetched moments ago"}
	}
	return nil
}

func (r *Ring) recordLocked(server string, ok bool) {
	now := r.now()
	st := r.servers[server]
	if st == nil {
		r.makeRoomLocked(now)
		st = &serverState{}
		r.servers[server] = st
	}
	if ok {
		*st = serverState{lastOK: now}
		return
	}
	st.delay = min(max(2*st.delay, minBackoff), maxBackoff)
	st.failUntil = now.Add(st.delay)
}

// makeRoomLocked keeps the state map bounded: first states that no longer
// throttle anything go, then arbitrary ones.
func (r *Ring) makeRoomLocked(now time.Time) {
	if len(r.servers) < maxServerStates {
		return
	}
	for s, st := range r.servers {
		if !now.Before(st.failUntil) && !now.Before(st.lastOK.Add(minRefetch)) {
			delete(r.servers, s)
		}
	}
	for s := range r.servers {
		if len(r.servers) < maxServerStates {
			break
		}
		delete(r.servers, s)
	}
}

// Wake forgets the fetch back-off of server, so the next lookup that needs
// its keys fetches at once. Call it when server has shown it is alive (a
// request from it that verified, a successful outbound request), never on
// an unauthenticated claim.
func (r *Ring) Wake(server string) {
	r.mu.Lock()
	delete(r.servers, server)
	r.mu.Unlock()
}
