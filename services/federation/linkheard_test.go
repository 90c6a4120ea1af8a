package federation

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/federation/queue"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// flakySender fails every transaction until told to succeed.
type flakySender struct {
	ok       atomic.Bool
	attempts atomic.Int32
}

func (f *flakySender) SendTransaction(context.Context, string, string, []byte) (*queue.Result, error) {
	f.attempts.Add(1)
	if f.ok.Load() {
		return &queue.Result{}, nil
	}
	return nil, errors.New("link down")
}

// After a quiet spell, the first request from any server retries every
// destination at once, however long their back-off has grown.
func TestHeardAfterQuietRetriesEveryDestination(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, storage.Options{InMemory: true, Logger: log}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := fuzzKey(t, 0)
	rooms, err := roomserver.New(ctx, db, roomserver.Options{ServerName: fuzzLocal, Key: key, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	self := keys.FromSigningKey(key)
	ring, err := keys.NewRing(keys.RingOptions{DB: db, ServerName: fuzzLocal, Self: self, Fetcher: keyServer{fuzzKey(t, 1), time.Now}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sender := &flakySender{}
	q, err := queue.New(queue.Options{DB: db, Origin: fuzzLocal, Sender: sender, Logger: log,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	q.Start(ctx)
	defer q.Close()
	var mu sync.Mutex
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := New(Options{ServerName: fuzzLocal, Signer: self, Keys: ring, Rooms: rooms, Queue: q,
		Client: NewClient(ClientOptions{Origin: fuzzLocal, Signer: self, Router: noRoute{}, Logger: log}), DB: db, Logger: log, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.EnqueueEDU([]string{"far.test"}, "m.receipt", []byte(`{}`), true); err != nil {
		t.Fatal(err)
	}
	// Let the back-off grow well past the test's patience.
	deadline := time.Now().Add(10 * time.Second)
	for sender.attempts.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if sender.attempts.Load() < 6 {
		t.Fatalf("only %d attempts", sender.attempts.Load())
	}
	sender.ok.Store(true)
	before := sender.attempts.Load()
	s.linkHeard() // first request: nothing to compare with
	time.Sleep(100 * time.Millisecond)
	if sender.attempts.Load() != before {
		t.Skip("the back-off did not grow as expected; cannot tell a wake from a retry")
	}
	mu.Lock()
	now = now.Add(quietGap + time.Second)
	mu.Unlock()
	s.linkHeard()
	// The next retry of its own is seconds away (50 ms doubled 6 times,
	// less at most 25 % jitter): within a second, only the wake explains it.
	deadline = time.Now().Add(time.Second)
	for {
		if n, _ := q.Pending("far.test"); n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the destination was not retried after the quiet spell (%d attempts)", sender.attempts.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
