package users_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"hearth/services/storage"
	"hearth/services/users"
)

const server = "example.org"

var ctx = context.Background()

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a service on a real Badger in a temporary folder.
type env struct {
	t     testing.TB
	dir   string
	db    *storage.DB
	clock *fakeClock
	opts  users.Options
	svc   *users.Service
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv opens a fresh database and service; mod may adjust the options.
func newEnv(t testing.TB, mod ...func(*users.Options)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: newClock()}
	e.opts = users.Options{
		ServerName: server,
		Now:        e.clock.Now,
		Logger:     quietLogger(),
		Argon2:     users.TestingArgon2(),
	}
	for _, m := range mod {
		m(&e.opts)
	}
	e.open()
	t.Cleanup(func() {
		if e.db != nil {
			e.db.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	db, err := storage.Open(ctx, storage.Options{Dir: e.dir, Logger: quietLogger()}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := users.New(db, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.svc = db, svc
}

// restart closes the database and builds a new service on the reopened one.
func (e *env) restart() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.db = nil
	e.open()
}

// register creates a user with password "correct horse" and returns its ID.
func (e *env) register(local string) string {
	e.t.Helper()
	a, err := e.svc.Register(ctx, local, "correct horse", users.RegisterOpts{})
	if err != nil {
		e.t.Fatalf("Register(%q): %v", local, err)
	}
	return a.UserID
}

func (e *env) login(userID, device string, refresh bool) users.Session {
	e.t.Helper()
	s, err := e.svc.Login(ctx, userID, device, "", refresh)
	if err != nil {
		e.t.Fatalf("Login(%s, %q): %v", userID, device, err)
	}
	return s
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
