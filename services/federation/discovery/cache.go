package discovery

import (
	"context"
	"time"

	"hearth/services/matrix/ids"
)

const (
	// firstFailureTTL is how long the first failed well-known lookup in a
	// row is remembered; each further failure doubles it up to
	// maxFailureTTL.
	firstFailureTTL = 2 * time.Minute
	maxFailureTTL   = time.Hour
)

// wellKnownEntry is a cached well-known outcome for one hostname.
type wellKnownEntry struct {
	// server is the delegated server name; valid only if ok.
	server ids.ServerName
	ok     bool
	// failures counts failed lookups in a row, for the back-off.
	failures int
	expires  time.Time
}

// call is a well-known request in flight, shared by everyone who asks for
// the same hostname meanwhile.
type call struct {
	done  chan struct{}
	entry wellKnownEntry
}

// wellKnown returns the cached or freshly fetched delegation of hostname.
// ok is false when there is no valid delegation (steps 4 to 6 apply).
func (r *Resolver) wellKnown(ctx context.Context, hostname string) (ids.ServerName, bool, error) {
	if err := ctx.Err(); err != nil {
		return ids.ServerName{}, false, err
	}
	r.mu.Lock()
	prev := r.cache[hostname]
	if r.now().Before(prev.expires) {
		r.mu.Unlock()
		return prev.server, prev.ok, nil
	}
	c, running := r.inflight[hostname]
	if !running {
		c = &call{done: make(chan struct{})}
		r.inflight[hostname] = c
		go r.refresh(context.WithoutCancel(ctx), hostname, prev.failures, c)
	}
	r.mu.Unlock()
	select {
	case <-c.done:
		return c.entry.server, c.entry.ok, nil
	case <-ctx.Done():
		return ids.ServerName{}, false, ctx.Err()
	}
}

// refresh fetches hostname's well-known answer, caches the outcome and
// hands it to the waiters of c. failures counts the failed lookups in a row
// before this one.
func (r *Resolver) refresh(ctx context.Context, hostname string, failures int, c *call) {
	server, cacheControl, err := r.fetchWellKnown(ctx, hostname)
	now := r.now()
	e := wellKnownEntry{server: server, ok: err == nil}
	if err == nil {
		e.expires = now.Add(successTTL(cacheControl))
	} else {
		e.failures = failures + 1
		e.expires = now.Add(failureTTL(e.failures))
		r.log.Debug("discovery: no valid well-known delegation", "host", hostname, "failures", e.failures, "err", err)
	}
	r.mu.Lock()
	r.store(hostname, e)
	delete(r.inflight, hostname)
	c.entry = e
	r.mu.Unlock()
	close(c.done)
}

// failureTTL is the back-off after n failures in a row (n >= 1).
func failureTTL(n int) time.Duration {
	ttl := firstFailureTTL
	for i := 1; i < n && ttl < maxFailureTTL; i++ {
		ttl *= 2
	}
	return min(ttl, maxFailureTTL)
}

// store caches e for hostname, making room if the cache is full: expired
// entries go first, then the one that would expire soonest. r.mu is held.
func (r *Resolver) store(hostname string, e wellKnownEntry) {
	if _, ok := r.cache[hostname]; !ok && len(r.cache) >= r.maxEntries {
		now := r.now()
		var (
			soonest   string
			soonestAt time.Time
		)
		for h, old := range r.cache {
			if !now.Before(old.expires) {
				delete(r.cache, h)
				continue
			}
			if soonest == "" || old.expires.Before(soonestAt) {
				soonest, soonestAt = h, old.expires
			}
		}
		if len(r.cache) >= r.maxEntries {
			delete(r.cache, soonest)
		}
	}
	r.cache[hostname] = e
}
