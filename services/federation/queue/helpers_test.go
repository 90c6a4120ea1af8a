package queue

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/storage"
)

const origin = "box.example"

// openDB opens a real Badger store in dir; the test closes it.
func openDB(t testing.TB, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: dir, Logger: quietLogger()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakeClock is a manual clock: time moves only on Advance, which fires the
// After channels that come due.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// call is one SendTransaction seen by the fake sender.
type call struct {
	dest  string
	txnID string
	body  []byte
}

// fakeSender records calls and answers with respond (nil: success). Calls
// are also delivered on ch, in order.
type fakeSender struct {
	mu      sync.Mutex
	calls   []call
	respond func(ctx context.Context, c call) (*Result, error)
	ch      chan call
}

func newFakeSender() *fakeSender { return &fakeSender{ch: make(chan call, 10000)} }

func (s *fakeSender) SendTransaction(ctx context.Context, dest, txnID string, body []byte) (*Result, error) {
	c := call{dest, txnID, bytes.Clone(body)}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	respond := s.respond
	s.mu.Unlock()
	s.ch <- c
	if respond == nil {
		return &Result{}, nil
	}
	return respond(ctx, c)
}

func (s *fakeSender) setRespond(f func(ctx context.Context, c call) (*Result, error)) {
	s.mu.Lock()
	s.respond = f
	s.mu.Unlock()
}

func (s *fakeSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// next waits for the next call.
func (s *fakeSender) next(t testing.TB) call {
	t.Helper()
	select {
	case c := <-s.ch:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("no transaction sent")
		return call{}
	}
}

// newQueue builds a queue on db with a fake clock and sender, no jitter,
// and closes it (checking that no goroutine outlives it) at the end.
func newQueue(t testing.TB, db *storage.DB, s Sender, clk *fakeClock, tweak func(*Options)) *Queue {
	t.Helper()
	o := Options{
		DB:     db,
		Origin: origin,
		Sender: s,
		Logger: quietLogger(),
		Now:    clk.Now,
		After:  clk.After,
		Rand:   func() float64 { return 0 },
	}
	if tweak != nil {
		tweak(&o)
	}
	q, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		q.Close()
		checkNoWorkers(t)
	})
	return q
}

// unmanagedQueue is a queue the test closes itself, to simulate a stop.
func unmanagedQueue(t testing.TB, db *storage.DB, s Sender, clk *fakeClock) *Queue {
	t.Helper()
	q, err := New(Options{DB: db, Origin: origin, Sender: s, Logger: quietLogger(), Now: clk.Now, After: clk.After})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// restart stops q and its store and opens the store in dir again.
func restart(t testing.TB, dir string, q *Queue, db *storage.DB) *storage.DB {
	t.Helper()
	q.Close()
	checkNoWorkers(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	t.Cleanup(func() { db.Close() })
	return db
}

// checkNoWorkers fails if a goroutine of this package is still alive. A
// goroutine that has signalled the WaitGroup may need a moment to return,
// hence the short grace.
func checkNoWorkers(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "federation/queue.(*Queue)") && !strings.Contains(g, "checkNoWorkers") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d queue goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond until it holds; it fails the test after a generous
// deadline. It waits for background work, it does not measure time.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// pdu is a small distinct event.
func pdu(i int) []byte {
	return fmt.Appendf(nil, `{"content":{"body":"message %d"},"event_id":"$ev%d","room_id":"!r:box.example","type":"m.room.message"}`, i, i)
}

// txn is a decoded transaction body.
type txn struct {
	origin string
	ts     int64
	pdus   []cjson.Value
	edus   []cjson.Value
}

func parseTxn(t testing.TB, body []byte) txn {
	t.Helper()
	v, err := cjson.DecodeObject(body)
	if err != nil {
		t.Fatalf("transaction is not canonical JSON: %v\n%s", err, body)
	}
	for _, m := range v.Members() {
		switch m.Key {
		case "origin", "origin_server_ts", "pdus", "edus":
		default:
			t.Fatalf("unexpected key %q in transaction", m.Key)
		}
	}
	var out txn
	var ok bool
	if out.origin, ok = v.Get("origin").Str(); !ok {
		t.Fatal("origin missing")
	}
	if out.ts, ok = v.Get("origin_server_ts").IntValue(); !ok {
		t.Fatal("origin_server_ts missing")
	}
	if v.Get("pdus").Kind() != cjson.Array {
		t.Fatal("pdus missing")
	}
	out.pdus = v.Get("pdus").Items()
	if e := v.Get("edus"); e.Exists() {
		if e.Kind() != cjson.Array || e.Len() == 0 {
			t.Fatalf("edus is %s of %d", e.Kind(), e.Len())
		}
		out.edus = e.Items()
	}
	return out
}

// eventIDs lists the event IDs of a transaction's PDUs.
func (x txn) eventIDs() []string {
	var out []string
	for _, p := range x.pdus {
		out = append(out, p.Get("event_id").StrOr("?"))
	}
	return out
}

// state reads a destination's in-memory state.
func (q *Queue) testState(dest string) (st destState, failures int, retryAt time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.dests[dest]
	if d == nil {
		return stateIdle, 0, time.Time{}
	}
	return d.state, d.rec.Failures, d.retryAt
}
