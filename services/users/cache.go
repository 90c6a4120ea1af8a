package users

import "sync"

// tokenCache maps access token hashes to what Authenticate needs, so that the
// common request costs one SHA-256 and a map lookup instead of a database
// read. It holds at most max entries; when full, an arbitrary entry goes
// (Go's map iteration order is randomised, which is good enough here).
//
// Staleness: every path that deletes or changes an access token record calls
// drop after its commit. A lookup that missed reads the database and then
// offers the result with the generation it saw before reading; if any drop
// happened in between, the offer is refused, so a logout racing with a
// lookup cannot leave the logged-out token cached.
type tokenCache struct {
	mu  sync.Mutex
	gen uint64
	max int
	m   map[tokenHash]cachedToken
}

type cachedToken struct {
	userID    string
	device    string
	kind      Kind
	expiresMS int64 // 0: never
	revokeOld bool
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[tokenHash]cachedToken)}
}

func (c *tokenCache) get(h tokenHash) (cachedToken, bool) {
	c.mu.Lock()
	e, ok := c.m[h]
	c.mu.Unlock()
	return e, ok
}

// generation returns the current generation, to pass to put.
func (c *tokenCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches e unless a drop happened since gen was read.
func (c *tokenCache) put(gen uint64, h tokenHash, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[h] = e
}

// drop forgets the given hashes and invalidates lookups in flight.
func (c *tokenCache) drop(hs []tokenHash) {
	if len(hs) == 0 {
		return
	}
	c.mu.Lock()
	c.gen++
	for _, h := range hs {
		delete(c.m, h)
	}
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
