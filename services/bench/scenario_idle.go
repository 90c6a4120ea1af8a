package bench

import (
	"context"
	"fmt"
	"time"
)

const mib = 1 << 20

// idleEmpty reads the server's RSS and CPU IdleWait after its start, with
// an empty store: the CPU figures are the seconds used since start and
// the share of a core used over the second half of the wait.
func (e *env) idleEmpty(ctx context.Context) {
	if e.pid == 0 {
		e.run.Skip("idle", "no server process to read (attach with -pid)")
		return
	}
	wait := time.Duration(e.p.IdleWait)
	started := time.Now()
	if e.srv.Proc != nil {
		started = e.srv.Proc.Started()
	}
	p := NewProgress(e.opts.Progress, "idle (empty store)", int(wait/time.Second))
	defer p.Done()
	if err := sleepTicking(ctx, time.Until(started.Add(wait/2)), p); err != nil {
		return
	}
	s1, err1 := ReadProc(e.pid)
	if err := sleepTicking(ctx, time.Until(started.Add(wait)), p); err != nil {
		return
	}
	s2, err2 := ReadProc(e.pid)
	if err1 != nil || err2 != nil {
		e.run.Skip("idle", fmt.Sprintf("reading /proc: %v %v", err1, err2))
		return
	}
	e.run.Add("idle", "empty_rss", float64(s2.RSSBytes)/mib, "MiB", "lower")
	e.run.Add("idle", "empty_cpu_since_start", s2.CPUSecs, "s", "lower")
	e.run.Add("idle", "empty_cpu", 100*(s2.CPUSecs-s1.CPUSecs)/(wait/2).Seconds(), "% of a core", "lower")
}

// idleLoaded reads RSS and CPU over IdleWait of quiet after the initial
// sync data set is in place.
func (e *env) idleLoaded(ctx context.Context) {
	if e.pid == 0 {
		e.run.Skip("idle", "no server process to read (attach with -pid)")
		return
	}
	wait := time.Duration(e.p.IdleWait)
	p := NewProgress(e.opts.Progress, "idle (data set loaded)", int(wait/time.Second))
	defer p.Done()
	s1, err1 := ReadProc(e.pid)
	if err := sleepTicking(ctx, wait, p); err != nil {
		return
	}
	s2, err2 := ReadProc(e.pid)
	if err1 != nil || err2 != nil {
		e.run.Skip("idle", fmt.Sprintf("reading /proc: %v %v", err1, err2))
		return
	}
	e.run.Add("idle", "loaded_rss", float64(s2.RSSBytes)/mib, "MiB", "lower")
	e.run.Add("idle", "loaded_cpu", 100*(s2.CPUSecs-s1.CPUSecs)/wait.Seconds(), "% of a core", "lower")
}

// sleepTicking sleeps d, adding a progress step per second.
func sleepTicking(ctx context.Context, d time.Duration, p *Progress) error {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		t := time.NewTimer(min(left, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			p.Add(1)
		}
	}
}
