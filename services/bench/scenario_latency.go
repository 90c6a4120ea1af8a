package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// arrivals collects, per message, how many recipients have it and when
// the last one got it.
type arrivals struct {
	mu   sync.Mutex
	want int
	seen map[int]int
	last map[int]time.Time
	done map[int]chan struct{}
}

func (a *arrivals) expect(i int) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := make(chan struct{})
	a.done[i] = ch
	return ch
}

func (a *arrivals) got(i int, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen[i]++
	if at.After(a.last[i]) {
		a.last[i] = at
	}
	if a.seen[i] == a.want {
		if ch, ok := a.done[i]; ok {
			close(ch)
		}
	}
}

const latencyTag = "hb-latency-"

// latency: every user long-polls /sync in one room; the first sends
// LatencyMessages messages one after the other; a message's latency is
// from its send until the last recipient's sync returned it.
func (e *env) latency(ctx context.Context) error {
	d, err := e.oneRoom(ctx, e.ds, "latency", max(e.p.LatencyUsers, 2))
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}
	filter := `{"room":{"rooms":["` + d.Room + `"],"timeline":{"limit":50}},"presence":{"types":[]},"account_data":{"types":[]}}`
	recipients := d.Users[1:]
	a := &arrivals{want: len(recipients), seen: map[int]int{}, last: map[int]time.Time{}, done: map[int]chan struct{}{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Every recipient first catches up, so that its long poll starts
	// from now.
	since := make([]string, len(recipients))
	if err := parallel(ctx, len(recipients), e.p.Concurrency, nil, func(ctx context.Context, i int) error {
		r, _, err := e.c.Sync(ctx, recipients[i], filter, "", 0)
		if err == nil {
			since[i] = r.NextBatch
		}
		return err
	}); err != nil {
		return fmt.Errorf("initial syncs: %w", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(recipients))
	for i, u := range recipients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := since[i]
			for ctx.Err() == nil {
				r, _, err := e.c.Sync(ctx, u, filter, tok, 30000)
				now := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				tok = r.NextBatch
				for _, ev := range r.Rooms.Join[d.Room].Timeline.Events {
					if n, ok := strings.CutPrefix(ev.Content.Body, latencyTag); ok {
						if k, err := strconv.Atoi(n); err == nil {
							a.got(k, now)
						}
					}
				}
			}
		}()
	}
	p := NewProgress(e.opts.Progress, "latency: messages", e.p.LatencyMessages)
	var lat []float64
	sender := d.Users[0]
	for i := 0; i < e.p.LatencyMessages; i++ {
		ch := a.expect(i)
		t0 := time.Now()
		if _, err := e.c.Send(ctx, sender, d.Room, latencyTag+strconv.Itoa(i)); err != nil {
			p.Done()
			cancel()
			wg.Wait()
			return fmt.Errorf("send %d: %w", i, err)
		}
		select {
		case <-ch:
		case err := <-errs:
			p.Done()
			cancel()
			wg.Wait()
			return fmt.Errorf("sync: %w", err)
		case <-time.After(30 * time.Second):
			p.Done()
			cancel()
			wg.Wait()
			a.mu.Lock()
			defer a.mu.Unlock()
			return fmt.Errorf("message %d: only %d of %d recipients had it after 30 s", i, a.seen[i], a.want)
		}
		a.mu.Lock()
		lat = append(lat, a.last[i].Sub(t0).Seconds()*1000)
		a.mu.Unlock()
		p.Add(1)
	}
	p.Done()
	cancel()
	wg.Wait()
	e.run.Add("latency", "p50", percentile(lat, 50), "ms", "lower")
	e.run.Add("latency", "p95", percentile(lat, 95), "ms", "lower")
	e.run.Add("latency", "p99", percentile(lat, 99), "ms", "lower")
	return nil
}
