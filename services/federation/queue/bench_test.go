package queue

import (
	"context"
	"sync"
	"testing"
	"time"
)

type noopSender struct{}

func (noopSender) SendTransaction(context.Context, string, string, []byte) (*Result, error) {
	return &Result{}, nil
}

// BenchmarkDeliver10kPDUs enqueues 10,000 PDUs for 3 destinations from 8
// goroutines while the workers drain them into a no-op sender, on a synced
// store, and reports PDUs (enqueued and delivered to all 3) per second.
func BenchmarkDeliver10kPDUs(b *testing.B) {
	const pdus, writers = 10_000, 8
	dests := []string{"a.example", "b.example", "c.example"}
	events := make([][]byte, pdus)
	for i := range events {
		events[i] = pdu(i)
	}
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		db := openDB(b, b.TempDir())
		q, err := New(Options{DB: db, Origin: origin, Sender: noopSender{}, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		q.Start(context.Background())
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := w; i < pdus; i += writers {
					if err := q.EnqueuePDU(dests, events[i]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for q.Stats().Queued > 0 {
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		q.Close()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(pdus*b.N)/total.Seconds(), "PDUs/s")
}
