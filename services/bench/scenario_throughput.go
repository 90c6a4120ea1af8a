package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// throughputData: senders, rooms, and sync clients; room r holds sender
// r%senders and syncer r%syncers.
type throughputData struct {
	Senders []User   `json:"senders"`
	Syncers []User   `json:"syncers"`
	Rooms   []string `json:"rooms"`
}

func (e *env) throughputDataset(ctx context.Context) (*throughputData, error) {
	key := e.p.datasetKey(e.srv.URL)
	var d throughputData
	if e.ds.load(ctx, "throughput", key, &d) {
		return &d, nil
	}
	ns, ny := max(e.p.ThroughputSenders, 1), max(e.p.ThroughputSyncers, 1)
	users, err := e.ds.register(ctx, "throughput: users", prefix("t"), ns+ny)
	if err != nil {
		return nil, err
	}
	senders, syncers := users[:ns], users[ns:]
	rooms, err := e.ds.createRooms(ctx, "throughput: rooms", senders, max(e.p.ThroughputRooms, 1))
	if err != nil {
		return nil, err
	}
	var ms []membership
	for r, room := range rooms {
		// Sender r%ns created room r (createRooms); the syncer joins.
		ms = append(ms, membership{User: syncers[r%ny], Room: room})
	}
	if err := e.ds.join(ctx, "throughput: joins", ms); err != nil {
		return nil, err
	}
	d = throughputData{Senders: senders, Syncers: syncers, Rooms: rooms}
	return &d, e.ds.save("throughput", key, senders[0], d)
}

// throughput: senders send as fast as the server accepts for
// ThroughputDuration, each into its own rooms in turn, while the sync
// clients long-poll. Figures: accepted messages per second, messages the
// sync clients received per second (each room has one), and the server's
// CPU seconds per 1,000 messages.
func (e *env) throughput(ctx context.Context) error {
	d, err := e.throughputDataset(ctx)
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var received atomic.Int64
	for _, u := range d.Syncers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := e.c.Sync(ctx, u, `{"room":{"timeline":{"limit":1}}}`, "", 0)
			if err != nil {
				return
			}
			tok := r.NextBatch
			for ctx.Err() == nil {
				r, _, err := e.c.Sync(ctx, u, "", tok, 30000)
				if err != nil {
					return
				}
				tok = r.NextBatch
				for _, jr := range r.Rooms.Join {
					received.Add(int64(len(jr.Timeline.Events)))
				}
			}
		}()
	}
	dur := time.Duration(e.p.ThroughputDuration)
	var before ProcSample
	var procErr error
	if e.pid != 0 {
		before, procErr = ReadProc(e.pid)
	}
	var accepted, failed atomic.Int64
	var firstErr atomic.Value
	p := NewProgress(e.opts.Progress, "throughput", int(dur/time.Second))
	deadline := time.Now().Add(dur)
	var sw sync.WaitGroup
	for si, u := range d.Senders {
		var mine []string
		for r := si; r < len(d.Rooms); r += len(d.Senders) {
			mine = append(mine, d.Rooms[r])
		}
		if len(mine) == 0 {
			continue
		}
		sw.Add(1)
		go func() {
			defer sw.Done()
			for k := 0; time.Now().Before(deadline) && ctx.Err() == nil; k++ {
				if _, err := e.c.Send(ctx, u, mine[k%len(mine)], "throughput "+strconv.Itoa(k)); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				accepted.Add(1)
			}
		}()
	}
	t0 := time.Now()
	sleepTicking(ctx, dur, p)
	sw.Wait()
	el := time.Since(t0)
	p.Done()
	var after ProcSample
	if e.pid != 0 && procErr == nil {
		after, procErr = ReadProc(e.pid)
	}
	delivered := received.Load()
	cancel()
	wg.Wait()
	n := accepted.Load()
	if n == 0 {
		return fmt.Errorf("no message accepted: %v", firstErr.Load())
	}
	e.run.Add("throughput", "messages", float64(n)/el.Seconds(), "msg/s", "higher")
	e.run.Add("throughput", "delivered", float64(delivered)/el.Seconds(), "msg/s", "higher")
	e.run.Add("throughput", "failed", float64(failed.Load()), "requests", "lower")
	if e.pid == 0 || procErr != nil {
		e.run.Skip("throughput", fmt.Sprintf("no CPU figure: pid %d, %v", e.pid, procErr))
		return nil
	}
	e.run.Add("throughput", "cpu_per_1000", (after.CPUSecs-before.CPUSecs)/float64(n)*1000, "CPU s/1000 msg", "lower")
	return nil
}
