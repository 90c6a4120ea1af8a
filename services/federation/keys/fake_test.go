package keys_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/storage"
)

// clock is a settable clock shared by the rings and the fake servers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) MS() int64 { return c.Now().UnixMilli() }

// fakeServer is a remote homeserver as far as keys go: it publishes its keys
// with keys.OwnKeys unless body overrides it, and answers notary queries
// with its own Ring unless notaryBody overrides it.
type fakeServer struct {
	name       string
	signer     keys.Signer
	old        []keys.OldKey
	validity   time.Duration
	body       func(now time.Time) []byte
	notary     *keys.Ring
	notaryBody func(req []byte) []byte
}

// fakeNet holds the fake servers.
type fakeNet struct {
	clock   *clock
	mu      sync.Mutex
	servers map[string]*fakeServer
}

func (n *fakeNet) get(name string) *fakeServer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.servers[name]
}

// fakeFetcher is one ring's view of the network: it counts what the ring
// asked for and cannot reach the servers in blocked.
type fakeFetcher struct {
	net     *fakeNet
	mu      sync.Mutex
	blocked map[string]bool
	calls   map[string]int
	gate    chan struct{} // when set, fetches wait for it to close
}

func (f *fakeFetcher) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[what]
}

// expect fails the test unless what ("keys S" or "notary N") was asked
// for exactly n times.
func (f *fakeFetcher) expect(t *testing.T, what string, n int) {
	t.Helper()
	if got := f.count(what); got != n {
		t.Fatalf("%s asked %d times, want %d (all calls: %v)", what, got, n, f.calls)
	}
}

func (f *fakeFetcher) block(server string, blocked bool) {
	f.mu.Lock()
	f.blocked[server] = blocked
	f.mu.Unlock()
}

func (f *fakeFetcher) enter(what, server string) (*fakeServer, error) {
	f.mu.Lock()
	f.calls[what+" "+server]++
	blocked, gate := f.blocked[server], f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s := f.net.get(server)
	if blocked || s == nil {
		return nil, fmt.Errorf("fake: %s unreachable", server)
	}
	return s, nil
}

func (f *fakeFetcher) ServerKeys(_ context.Context, server string) ([]byte, error) {
	s, err := f.enter("keys", server)
	if err != nil {
		return nil, err
	}
	now := f.net.clock.Now()
	if s.body != nil {
		return s.body(now), nil
	}
	return keys.OwnKeys(s.name, s.signer, s.old, s.validity, now)
}

func (f *fakeFetcher) NotaryQuery(ctx context.Context, notary string, body []byte) ([]byte, error) {
	s, err := f.enter("notary", notary)
	if err != nil {
		return nil, err
	}
	if s.notaryBody != nil {
		return s.notaryBody(body), nil
	}
	if s.notary == nil {
		return nil, fmt.Errorf("fake: %s is not a notary", notary)
	}
	return s.notary.NotaryResponse(ctx, body)
}

// env is a small federation: fake servers, and rings that look at them.
type env struct {
	t     *testing.T
	clock *clock
	net   *fakeNet
}

func newEnv(t *testing.T) *env {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &env{t: t, clock: c, net: &fakeNet{clock: c, servers: map[string]*fakeServer{}}}
}

// server adds a fake server whose key "ed25519:k<seed>" is valid for a day.
func (e *env) server(name string, seed byte) *fakeServer {
	s := &fakeServer{
		name:     name,
		signer:   keys.FromSigningKey(testKey(e.t, fmt.Sprintf("ed25519:k%d", seed), seed)),
		validity: 24 * time.Hour,
	}
	e.net.mu.Lock()
	e.net.servers[name] = s
	e.net.mu.Unlock()
	return s
}

func (e *env) fetcher() *fakeFetcher {
	return &fakeFetcher{net: e.net, blocked: map[string]bool{}, calls: map[string]int{}}
}

func openDB(t *testing.T, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: dir, Logger: quiet()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ring makes a Ring for the fake server s (its name and signing key) over
// a fresh database; notaries are trusted notaries.
func (e *env) ring(s *fakeServer, f *fakeFetcher, notaries ...string) *keys.Ring {
	db := openDB(e.t, e.t.TempDir())
	e.t.Cleanup(func() { db.Close() })
	return e.ringOn(db, s, f, notaries...)
}

func (e *env) ringOn(db *storage.DB, s *fakeServer, f *fakeFetcher, notaries ...string) *keys.Ring {
	r, err := keys.NewRing(keys.RingOptions{
		DB: db, ServerName: s.name, Self: s.signer, OldKeys: s.old, Fetcher: f,
		Notaries: notaries, Now: e.clock.Now, Logger: quiet(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}
