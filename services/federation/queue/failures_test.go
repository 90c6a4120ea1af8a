package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPermanentRefusalDropsAndContinues(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	first := true
	s.setRespond(func(context.Context, call) (*Result, error) {
		if first {
			first = false
			return nil, &HTTPError{StatusCode: 400, Message: "M_BAD_JSON"}
		}
		return nil, nil
	})
	q := newQueue(t, db, s, newFakeClock(), nil)
	for i := range 60 {
		if err := q.EnqueuePDU([]string{"r.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	q.Start(context.Background())
	refused := parseTxn(t, s.next(t).body).eventIDs()
	next := parseTxn(t, s.next(t).body).eventIDs()
	if len(refused) != 50 || len(next) != 10 || next[0] != "$ev50" {
		t.Fatalf("refused %d PDUs, then sent %v", len(refused), next)
	}
	waitFor(t, "queue to empty", func() bool { n, _ := q.Pending("r.example"); return n == 0 })
	st := q.Stats()
	if st.Refused != 1 || st.Dropped != 50 || st.Sent != 1 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	if _, f, _ := q.testState("r.example"); f != 0 {
		t.Errorf("failures %d after a refusal", f)
	}
}

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		err       error
		permanent bool
		after     time.Duration
	}{
		{errors.New("dial tcp: connection refused"), false, 0},
		{context.DeadlineExceeded, false, 0},
		{&HTTPError{StatusCode: 500}, false, 0},
		{&HTTPError{StatusCode: 502}, false, 0},
		{&HTTPError{StatusCode: 400}, true, 0},
		{&HTTPError{StatusCode: 403}, true, 0},
		{&HTTPError{StatusCode: 404}, true, 0},
		{&HTTPError{StatusCode: 413}, true, 0},
		{&HTTPError{StatusCode: 401}, false, 0},
		{&HTTPError{StatusCode: 408}, false, 0},
		{&HTTPError{StatusCode: 429}, false, 0},
		{&HTTPError{StatusCode: 429, RetryAfter: 1500 * time.Millisecond}, false, 1500 * time.Millisecond},
		{fmt.Errorf("send: %w", &HTTPError{StatusCode: 403}), true, 0},
	} {
		p, a := classify(tc.err)
		if p != tc.permanent || a != tc.after {
			t.Errorf("%v: permanent %v after %v, want %v %v", tc.err, p, a, tc.permanent, tc.after)
		}
	}
}

func TestUnauthorizedIsRetried(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	s.setRespond(failing(401))
	q := newQueue(t, db, s, newFakeClock(), nil)
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(0)); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	failOnce(t, q, s, "r.example", 1)
	if n, _ := q.Pending("r.example"); n != 1 {
		t.Errorf("pending %d after a 401, want 1", n)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	s.setRespond(func(context.Context, call) (*Result, error) {
		return nil, &HTTPError{StatusCode: 429, RetryAfter: 1500 * time.Millisecond, Message: "M_LIMIT_EXCEEDED"}
	})
	clk := newFakeClock()
	q := newQueue(t, db, s, clk, nil)
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(0)); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	c1 := s.next(t)
	waitFor(t, "backoff", func() bool { st, _, _ := q.testState("r.example"); return st == stateWaiting })
	_, f, at := q.testState("r.example")
	if got := at.Sub(clk.Now()); got != 1500*time.Millisecond || f != 0 {
		t.Fatalf("after 429: retry in %v with %d failures, want 1.5s and 0", got, f)
	}
	s.setRespond(nil)
	clk.Advance(1499 * time.Millisecond)
	if st, _, _ := q.testState("r.example"); st != stateWaiting {
		t.Fatal("retried before retry_after_ms")
	}
	clk.Advance(time.Millisecond)
	if c2 := s.next(t); c2.txnID != c1.txnID || string(c2.body) != string(c1.body) {
		t.Errorf("retry sent %s, want %s unchanged", c2.txnID, c1.txnID)
	}
}

func TestManyDestinationsBounded(t *testing.T) {
	db := tempDB(t)
	s := newFakeSender()
	gate := make(chan struct{})
	var mu sync.Mutex
	inFlight, maxInFlight := 0, 0
	s.setRespond(func(ctx context.Context, c call) (*Result, error) {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		select {
		case <-gate:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	q := newQueue(t, db, s, newFakeClock(), func(o *Options) { o.MaxInFlightDestinations = 4 })
	var dests []string
	for i := range 40 {
		dests = append(dests, fmt.Sprintf("s%02d.example", i))
	}
	for i := range 3 {
		if err := q.EnqueuePDU(dests, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	q.Start(context.Background())
	seen := map[string][]string{}
	for range 4 {
		c := s.next(t)
		seen[c.dest] = parseTxn(t, c.body).eventIDs()
	}
	q.mu.Lock()
	active, ready := q.active, len(q.readyList)
	q.mu.Unlock()
	if active != 4 || ready != 36 {
		t.Fatalf("%d workers and %d destinations waiting for one, want 4 and 36", active, ready)
	}
	close(gate)
	for range 36 {
		c := s.next(t)
		seen[c.dest] = parseTxn(t, c.body).eventIDs()
	}
	waitFor(t, "all delivered", func() bool { return q.Stats().Queued == 0 })
	for _, d := range dests {
		if ids := seen[d]; !slices.Equal(ids, []string{"$ev0", "$ev1", "$ev2"}) {
			t.Errorf("%s got %v", d, ids)
		}
	}
	if maxInFlight > 4 {
		t.Errorf("%d sends at once, limit 4", maxInFlight)
	}
	if q.Stats().Sent != 40 {
		t.Errorf("stats %+v", q.Stats())
	}
	waitFor(t, "workers to retire", func() bool { return q.Stats().Active == 0 })
}

func TestTypingIsVolatileAndExpires(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	s := newFakeSender()
	clk := newFakeClock()
	q := unmanagedQueue(t, db, s, clk)
	typing := []byte(`{"room_id":"!r:box.example","typing":true,"user_id":"@a:box.example"}`)

	// Sent while the destination answers.
	q.Start(context.Background())
	if err := q.EnqueueEDU([]string{"r.example"}, "m.typing", typing, false); err != nil {
		t.Fatal(err)
	}
	x := parseTxn(t, s.next(t).body)
	if len(x.edus) != 1 || x.edus[0].Get("edu_type").StrOr("") != "m.typing" || x.edus[0].Path("content", "user_id").StrOr("") != "@a:box.example" {
		t.Fatalf("typing transaction %v", x.edus)
	}
	waitFor(t, "delivery", func() bool { n, _ := q.Pending("r.example"); return n == 0 })

	// Not sent to a destination that is failing; expires meanwhile.
	s.setRespond(failing(503))
	if err := q.EnqueuePDU([]string{"r.example"}, pdu(0)); err != nil {
		t.Fatal(err)
	}
	failOnce(t, q, s, "r.example", 1)
	if err := q.EnqueueEDU([]string{"r.example"}, "m.typing", typing, false); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.Pending("r.example"); n != 2 {
		t.Fatalf("pending %d, want the PDU and the typing EDU", n)
	}
	s.setRespond(nil)
	clk.Advance(31 * time.Second)
	x = parseTxn(t, s.next(t).body)
	if len(x.edus) != 0 || len(x.pdus) != 1 {
		t.Errorf("after 31 s sent %d EDUs and %d PDUs, want only the PDU", len(x.edus), len(x.pdus))
	}
	waitFor(t, "delivery", func() bool { n, _ := q.Pending("r.example"); return n == 0 })
	if q.Stats().Dropped != 1 {
		t.Errorf("stats %+v: the expired typing EDU is not counted", q.Stats())
	}

	// Never on disk.
	if err := q.EnqueueEDU([]string{"other.example"}, "m.typing", typing, false); err != nil {
		t.Fatal(err)
	}
	db = restart(t, dir, q, db)
	q = newQueue(t, db, newFakeSender(), clk, nil)
	if n, _ := q.Pending("other.example"); n != 0 {
		t.Errorf("typing EDU survived a restart (%d pending)", n)
	}
}

func TestFullQueueDropsEDUsNeverPDUs(t *testing.T) {
	db := tempDB(t)
	q := newQueue(t, db, newFakeSender(), newFakeClock(), func(o *Options) { o.MaxQueuedPerDestination = 5 })
	both := []string{"full.example", "roomy.example"}
	for i := range 3 {
		if err := q.EnqueuePDU([]string{"full.example"}, pdu(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if err := q.EnqueueEDU([]string{"full.example"}, "m.receipt", fmt.Appendf(nil, `{"n":%d}`, i), true); err != nil {
			t.Fatal(err)
		}
	}
	// Two more PDUs push the two EDUs out, oldest first.
	for i := 3; i < 5; i++ {
		if err := q.EnqueuePDU(both, pdu(i)); err != nil {
			t.Fatal(err)
		}
		if n, _ := q.Pending("full.example"); n != 5 {
			t.Fatalf("pending %d, want 5", n)
		}
	}
	// Now it holds only PDUs: the next one is refused for it, loudly.
	err := q.EnqueuePDU(both, pdu(5))
	var nq *NotQueuedError
	if !errors.As(err, &nq) || len(nq.Reasons) != 1 || !errors.Is(nq.Reasons["full.example"], ErrFull) {
		t.Fatalf("enqueue to a full queue: %v", err)
	}
	if n, _ := q.Pending("roomy.example"); n != 3 {
		t.Errorf("the other destination has %d, want 3", n)
	}
	if st := q.Stats(); st.Dropped != 2 || st.Queued != 8 {
		t.Errorf("stats %+v", st)
	}
	// Whatever is left is in order and complete.
	s := newFakeSender()
	q.o.Sender = s
	q.Start(context.Background())
	got := map[string][]string{}
	for range 2 {
		c := s.next(t)
		x := parseTxn(t, c.body)
		got[c.dest] = x.eventIDs()
		if len(x.edus) != 0 {
			t.Errorf("%s: evicted EDUs sent: %v", c.dest, x.edus)
		}
	}
	if !slices.Equal(got["full.example"], []string{"$ev0", "$ev1", "$ev2", "$ev3", "$ev4"}) {
		t.Errorf("full.example got %v", got["full.example"])
	}
}

func TestRefusesBadInput(t *testing.T) {
	db := tempDB(t)
	q := newQueue(t, db, newFakeSender(), newFakeClock(), nil)
	dests := []string{"r.example"}
	big := fmt.Appendf(nil, `{"content":{"body":"%s"}}`, make([]byte, 70000))
	for name, ev := range map[string][]byte{
		"not JSON":  []byte(`{"a":`),
		"array":     []byte(`[1]`),
		"float":     []byte(`{"depth":1.5}`),
		"too large": big,
	} {
		if err := q.EnqueuePDU(dests, ev); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, content := range map[string]string{"not object": `"x"`, "float": `{"a":0.1}`, "bad": `{`} {
		if err := q.EnqueueEDU(dests, "m.receipt", []byte(content), true); err == nil {
			t.Errorf("EDU %s: accepted", name)
		}
	}
	if err := q.EnqueueEDU(dests, "", []byte(`{}`), true); err == nil {
		t.Error("EDU without a type accepted")
	}
	if n, _ := q.Pending("r.example"); n != 0 {
		t.Errorf("%d entries queued from bad input", n)
	}

	// Our own name is skipped, duplicates collapse, bad names are reported.
	err := q.EnqueuePDU([]string{origin, "r.example", "r.example", "bad name", ""}, pdu(1))
	var nq *NotQueuedError
	if !errors.As(err, &nq) || len(nq.Reasons) != 2 || nq.Reasons["bad name"] == nil || nq.Reasons[""] == nil {
		t.Fatalf("mixed destinations: %v", err)
	}
	if n, _ := q.Pending("r.example"); n != 1 {
		t.Errorf("r.example has %d, want 1", n)
	}
	if n, _ := q.Pending(origin); n != 0 {
		t.Errorf("queued %d for ourselves", n)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New accepted empty options")
	}
}
