package discovery

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// resolveAt advances the clock to start+at and resolves hs.test, returning
// the first route's Addr and the number of well-known requests so far.
func (n *testNet) resolveAt(start time.Time, at time.Duration) (string, int) {
	n.t.Helper()
	n.clk.Advance(start.Add(at).Sub(n.clk.Now()))
	return n.resolve("hs.test")[0].Addr, n.hitsFor("hs.test")
}

func TestWellKnownCacheLifetime(t *testing.T) {
	for _, tc := range []struct {
		cacheControl string
		ttl          time.Duration
	}{
		{"", 24 * time.Hour},
		{"max-age=3600", time.Hour},
		{"public, max-age=\"7200\"", 2 * time.Hour},
		{"MAX-AGE=600, must-revalidate", 10 * time.Minute},
		{"max-age=99999999999999999999", 48 * time.Hour},
		{"max-age=604800", 48 * time.Hour},
		{"max-age=0", 5 * time.Minute},
		{"no-store", 5 * time.Minute},
		{"max-age=3600, no-cache", 5 * time.Minute},
		{"max-age=abc", 24 * time.Hour},
		{"max-age=-5, max-age=60", 5 * time.Minute},
	} {
		t.Run(tc.cacheControl, func(t *testing.T) {
			n := newTestNet(t)
			n.serveJSON("hs.test", `{"m.server":"one.test:1"}`, tc.cacheControl)
			start := n.clk.Now()
			if addr, hits := n.resolveAt(start, 0); addr != "one.test:1" || hits != 1 {
				t.Fatalf("first resolve: %s after %d requests", addr, hits)
			}
			n.serveJSON("hs.test", `{"m.server":"two.test:2"}`, tc.cacheControl)
			if addr, hits := n.resolveAt(start, tc.ttl-time.Second); addr != "one.test:1" || hits != 1 {
				t.Errorf("just before %v: %s after %d requests, want the cached answer", tc.ttl, addr, hits)
			}
			if addr, hits := n.resolveAt(start, tc.ttl); addr != "two.test:2" || hits != 2 {
				t.Errorf("at %v: %s after %d requests, want a fresh answer", tc.ttl, addr, hits)
			}
		})
	}
}

// Failures are cached with a doubling back-off, capped at an hour, and a
// success resets it.
func TestWellKnownFailureBackoff(t *testing.T) {
	n := newTestNet(t)
	n.handle("hs.test", http.NotFound)
	start := n.clk.Now()
	at := time.Duration(0)
	for i, backoff := range []time.Duration{2, 4, 8, 16, 32, 60, 60} {
		backoff *= time.Minute
		if addr, hits := n.resolveAt(start, at); addr != "hs.test:8448" || hits != i+1 {
			t.Fatalf("failure %d: %s after %d requests", i+1, addr, hits)
		}
		if _, hits := n.resolveAt(start, at+backoff-time.Second); hits != i+1 {
			t.Fatalf("failure %d: refetched before its %v back-off", i+1, backoff)
		}
		at += backoff
	}
	n.serveJSON("hs.test", `{"m.server":"one.test:1"}`, "max-age=600")
	if addr, hits := n.resolveAt(start, at); addr != "one.test:1" || hits != 8 {
		t.Fatalf("after recovery: %s after %d requests", addr, hits)
	}
	at += 10 * time.Minute
	n.handle("hs.test", http.NotFound)
	if _, hits := n.resolveAt(start, at); hits != 9 {
		t.Fatalf("failure after recovery: %d requests", hits)
	}
	if _, hits := n.resolveAt(start, at+2*time.Minute-time.Second); hits != 9 {
		t.Errorf("back-off after a success did not start over at 2 minutes")
	}
	if _, hits := n.resolveAt(start, at+2*time.Minute); hits != 10 {
		t.Errorf("back-off after a success is longer than 2 minutes")
	}
}

func TestWellKnownCacheBounded(t *testing.T) {
	n := newTestNet(t)
	n.res.maxEntries = 3
	for _, h := range []string{"a.test", "b.test", "c.test", "d.test"} {
		n.serveJSON(h, `{"m.server":"x.test:1"}`, "")
		n.resolve(h)
		n.clk.Advance(time.Minute)
	}
	n.res.mu.Lock()
	_, hasA := n.res.cache["a.test"]
	size := len(n.res.cache)
	n.res.mu.Unlock()
	if size != 3 || hasA {
		t.Errorf("cache holds %d entries (a.test kept: %v), want 3 without a.test, the soonest to expire", size, hasA)
	}
	n.resolve("a.test")
	if hits := n.hitsFor("a.test"); hits != 2 {
		t.Errorf("evicted a.test: %d well-known requests, want 2", hits)
	}
}

// Concurrent resolutions share one request; a caller that gives up does
// not cancel it, and nothing is cached as a failure on its account.
func TestWellKnownShared(t *testing.T) {
	n := newTestNet(t)
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	n.handle("hs.test", func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		w.Write([]byte(`{"m.server":"one.test:1"}`))
	})

	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := n.res.Resolve(ctx, "hs.test")
		gaveUp <- err
	}()
	<-started
	cancel()
	if err := <-gaveUp; err == nil {
		t.Error("cancelled Resolve returned no error")
	}

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			got, err := n.res.Resolve(context.Background(), "hs.test")
			if err != nil || len(got) != 1 || got[0].Addr != "one.test:1" {
				t.Errorf("Resolve = %s, %v", routesString(got), err)
			}
		})
	}
	close(release)
	wg.Wait()
	if hits := n.hitsFor("hs.test"); hits != 1 {
		t.Errorf("%d well-known requests, want 1", hits)
	}
}
