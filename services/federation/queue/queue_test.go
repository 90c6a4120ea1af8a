package queue

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
)

func tempDB(t *testing.T) *storage.DB {
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	return db
}

func TestBatchesOf50InOrder(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	q := newQueue(t, db, s, newFakeClock(), nil)
	for i := range 120 {
		if err := q.EnqueuePDU([]string{"remote.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := q.Pending("remote.example"); n != 120 {
		t.Fatalf("pending before start = %d", n)
	}
	q.Start(context.Background())
	var got []string
	var sizes []int
	ids := map[string]bool{}
	for range 3 {
		c := s.next(t)
		x := parseTxn(t, c.body)
		if x.origin != origin || c.dest != "remote.example" {
			t.Errorf("origin %q dest %q", x.origin, c.dest)
		}
		if ids[c.txnID] {
			t.Errorf("txn ID %s reused", c.txnID)
		}
		ids[c.txnID] = true
		sizes = append(sizes, len(x.pdus))
		got = append(got, x.eventIDs()...)
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("transaction sizes %v, want [50 50 20]", sizes)
	}
	for i, id := range got {
		if id != fmt.Sprintf("$ev%d", i) {
			t.Fatalf("PDU %d is %s: out of order", i, id)
		}
	}
	waitFor(t, "queue to empty", func() bool { return q.Stats().Queued == 0 })
	if n, _ := q.Pending("remote.example"); n != 0 {
		t.Errorf("pending after delivery = %d", n)
	}
	if st := q.Stats(); st.Sent != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestOrderWhileRunning(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	q := newQueue(t, db, s, newFakeClock(), nil)
	q.Start(context.Background())
	const n = 300
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if err := q.EnqueuePDU([]string{"a.example", "b.example"}, pdu(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	got := map[string][]string{}
	for len(got["a.example"])+len(got["b.example"]) < 2*n {
		c := s.next(t)
		x := parseTxn(t, c.body)
		if len(x.pdus) > 50 {
			t.Fatalf("%d PDUs in one transaction", len(x.pdus))
		}
		got[c.dest] = append(got[c.dest], x.eventIDs()...)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for dest, ids := range got {
		for i, id := range ids {
			if id != fmt.Sprintf("$ev%d", i) {
				t.Fatalf("%s: PDU %d is %s", dest, i, id)
			}
		}
	}
}

func TestEDULimitAndMix(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	q := newQueue(t, db, s, newFakeClock(), nil)
	for i := range 60 {
		if err := q.EnqueuePDU([]string{"r.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 250 {
		content := fmt.Appendf(nil, `{"n":%d}`, i)
		if err := q.EnqueueEDU([]string{"r.example"}, "m.receipt", content, true); err != nil {
			t.Fatal(err)
		}
	}
	q.Start(context.Background())
	var pdus, edus []int
	next := 0
	for range 3 {
		x := parseTxn(t, s.next(t).body)
		pdus = append(pdus, len(x.pdus))
		edus = append(edus, len(x.edus))
		for _, e := range x.edus {
			if e.Get("edu_type").StrOr("") != "m.receipt" {
				t.Fatalf("EDU %v", e)
			}
			if n, _ := e.Path("content", "n").IntValue(); n != int64(next) {
				t.Fatalf("EDU %d out of order (want %d)", n, next)
			}
			next++
		}
	}
	if !slices.Equal(pdus, []int{50, 10, 0}) || !slices.Equal(edus, []int{100, 100, 50}) {
		t.Errorf("PDUs per txn %v (want [50 10 0]), EDUs %v (want [100 100 50])", pdus, edus)
	}
}

func TestSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	s1 := newFakeSender()
	s1.setRespond(func(context.Context, call) (*Result, error) {
		return nil, &HTTPError{StatusCode: 503}
	})
	clk := newFakeClock()
	q1 := unmanagedQueue(t, db, s1, clk)
	for i := range 70 {
		if err := q1.EnqueuePDU([]string{"r.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	q1.Start(context.Background())
	first := s1.next(t)
	waitFor(t, "backoff", func() bool { st, _, _ := q1.testState("r.example"); return st == stateWaiting })
	db = restart(t, dir, q1, db)
	s2 := newFakeSender()
	q2 := newQueue(t, db, s2, clk, nil)
	if n, _ := q2.Pending("r.example"); n != 70 {
		t.Fatalf("pending after reopen = %d", n)
	}
	if _, f, _ := q2.testState("r.example"); f != 1 {
		t.Errorf("failures after reopen = %d, want 1 (persisted)", f)
	}
	q2.Start(context.Background()) // tries at once despite the stored backoff
	again := s2.next(t)
	if again.txnID != first.txnID || string(again.body) != string(first.body) {
		t.Fatalf("resent %s (%d bytes), want %s (%d bytes) unchanged", again.txnID, len(again.body), first.txnID, len(first.body))
	}
	rest := s2.next(t)
	if rest.txnID == first.txnID {
		t.Fatal("second transaction reused the txn ID")
	}
	if ids := parseTxn(t, rest.body).eventIDs(); len(ids) != 20 || ids[0] != "$ev50" {
		t.Errorf("second transaction %v", ids)
	}
	waitFor(t, "queue to empty", func() bool { n, _ := q2.Pending("r.example"); return n == 0 })
}

// The receiver got the transaction but we died before recording it: after
// the restart it receives the same txn ID again and deduplicates it.
func TestCrashBetweenSendAndDelete(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	seen := map[string]int{}
	s1 := newFakeSender()
	s1.setRespond(func(ctx context.Context, c call) (*Result, error) {
		<-ctx.Done() // processed remotely, answer never arrives
		return nil, ctx.Err()
	})
	clk := newFakeClock()
	q1 := unmanagedQueue(t, db, s1, clk)
	if err := q1.EnqueuePDU([]string{"r.example"}, pdu(1)); err != nil {
		t.Fatal(err)
	}
	q1.Start(context.Background())
	c1 := s1.next(t)
	seen[c1.txnID]++
	db = restart(t, dir, q1, db)
	s2 := newFakeSender()
	q2 := newQueue(t, db, s2, clk, nil)
	q2.Start(context.Background())
	c2 := s2.next(t)
	seen[c2.txnID]++
	if seen[c1.txnID] != 2 || string(c1.body) != string(c2.body) {
		t.Fatalf("after the crash the receiver saw %v; bodies equal: %v", seen, string(c1.body) == string(c2.body))
	}
	waitFor(t, "queue to empty", func() bool { n, _ := q2.Pending("r.example"); return n == 0 })
}

func failing(status int) func(context.Context, call) (*Result, error) {
	return func(context.Context, call) (*Result, error) { return nil, &HTTPError{StatusCode: status} }
}

// failOnce waits for one attempt and for the queue to have recorded its
// failure.
func failOnce(t *testing.T, q *Queue, s *fakeSender, dest string, failures int) call {
	t.Helper()
	c := s.next(t)
	waitFor(t, "failure recorded", func() bool {
		st, f, _ := q.testState(dest)
		return st == stateWaiting && f == failures
	})
	return c
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	s.setRespond(failing(502))
	clk := newFakeClock()
	q := newQueue(t, db, s, clk, func(o *Options) {
		o.MinBackoff = time.Second
		o.MaxBackoff = 8 * time.Second
	})
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(0)); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	var txnID string
	for i, want := range []time.Duration{1, 2, 4, 8, 8, 8} {
		c := failOnce(t, q, s, "r.example", i+1)
		if txnID != "" && c.txnID != txnID {
			t.Fatalf("retry %d changed the txn ID", i)
		}
		txnID = c.txnID
		_, _, retryAt := q.testState("r.example")
		if got := retryAt.Sub(clk.Now()); got != want*time.Second {
			t.Errorf("after failure %d: delay %v, want %v", i+1, got, want*time.Second)
		}
		if i == 5 {
			break
		}
		clk.Advance(want*time.Second - time.Millisecond)
		if st, _, _ := q.testState("r.example"); st != stateWaiting {
			t.Fatalf("retried before the backoff was over")
		}
		clk.Advance(time.Millisecond)
	}
	// The backoff is on disk too.
	var rec record
	err := db.View(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, "r.example")
		return err
	})
	if err != nil || rec.Failures != 6 || rec.RetryAt != clk.Now().Add(8*time.Second).UnixMilli() || rec.Pending == nil || rec.Pending.ID != txnID {
		t.Errorf("stored record %+v, %v", rec, err)
	}
}

func TestBackoffJitter(t *testing.T) {
	db := tempDB(t)
	q := newQueue(t, db, newFakeSender(), newFakeClock(), func(o *Options) {
		o.Rand = func() float64 { return 0.999999 }
	})
	q.mu.Lock()
	defer q.mu.Unlock()
	for f, base := range map[int]time.Duration{1: 2 * time.Second, 3: 8 * time.Second, 30: 10 * time.Minute} {
		d := q.backoffLocked(f)
		if d > base || d < base*3/4 {
			t.Errorf("failures %d: delay %v outside [%v, %v]", f, d, base*3/4, base)
		}
	}
}

func TestWakeRetriesNow(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	s.setRespond(failing(503))
	clk := newFakeClock()
	q := newQueue(t, db, s, clk, nil) // MinBackoff 2 s
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(0)); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	for i := range 4 { // backoff now 16 s
		failOnce(t, q, s, "r.example", i+1)
		if i < 3 {
			_, _, at := q.testState("r.example")
			clk.Advance(at.Sub(clk.Now()))
		}
	}
	// Right after an attempt, Wake waits MinBackoff after it.
	q.Wake("r.example")
	st, f, at := q.testState("r.example")
	if st != stateWaiting || f != 0 || at.Sub(clk.Now()) != 2*time.Second {
		t.Fatalf("after an early Wake: state %d failures %d due in %v", st, f, at.Sub(clk.Now()))
	}
	s.setRespond(nil)
	clk.Advance(2 * time.Second)
	s.next(t)
	waitFor(t, "delivery", func() bool { n, _ := q.Pending("r.example"); return n == 0 })

	// Later failures start again from MinBackoff. A Wake a few seconds
	// after the last attempt sends at once, without the clock moving.
	s.setRespond(failing(503))
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(1)); err != nil {
		t.Fatal(err)
	}
	for i, d := range []time.Duration{2, 4, 8} {
		failOnce(t, q, s, "r.example", i+1)
		_, _, at := q.testState("r.example")
		if got := at.Sub(clk.Now()); got != d*time.Second {
			t.Fatalf("failure %d: delay %v, want %v", i+1, got, d*time.Second)
		}
		if i < 2 {
			clk.Advance(at.Sub(clk.Now()))
		}
	}
	clk.Advance(3 * time.Second)
	s.setRespond(nil)
	q.Wake("r.example")
	if ids := parseTxn(t, s.next(t).body).eventIDs(); !slices.Equal(ids, []string{"$ev1"}) {
		t.Errorf("sent %v", ids)
	}
	waitFor(t, "delivery", func() bool { n, _ := q.Pending("r.example"); return n == 0 })
	q.Wake("unknown.example") // no state, no effect
}

// Concurrent enqueues commit out of order; workers must neither skip nor
// reorder any writer's entries.
func TestConcurrentEnqueueDeliversAll(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	q := newQueue(t, db, s, newFakeClock(), nil)
	q.Start(context.Background())
	const writers, each = 8, 100
	dests := []string{"a.example", "b.example"}
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if err := q.EnqueuePDU(dests, pdu(w*1000+i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]string{}
	for n := 0; n < len(dests)*writers*each; {
		c := s.next(t)
		ids := parseTxn(t, c.body).eventIDs()
		got[c.dest] = append(got[c.dest], ids...)
		n += len(ids)
	}
	for _, dest := range dests {
		last := map[int]int{}
		for _, id := range got[dest] {
			var n int
			fmt.Sscanf(id, "$ev%d", &n)
			w, i := n/1000, n%1000
			if prev, ok := last[w]; (ok && i != prev+1) || (!ok && i != 0) {
				t.Fatalf("%s: writer %d's PDU %d after %d", dest, w, i, prev)
			}
			last[w] = i
		}
	}
	waitFor(t, "queue to empty", func() bool { return q.Stats().Queued == 0 })
}
