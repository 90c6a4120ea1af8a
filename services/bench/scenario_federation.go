package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// serverOf is the server name part of a user ID.
func serverOf(userID string) string {
	_, s, _ := strings.Cut(userID, ":")
	return s
}

// federationJoin: a user on server B joins the big room on A (the server
// under test). Figures: the time of the join request, the time until B's
// /sync shows the room, and B's peak RSS. With Hearth the runner starts a
// fresh B; otherwise B is PeerURL.
func (e *env) federationJoin(ctx context.Context) error {
	var b *Client
	var reg Registrar
	bpid := 0
	switch {
	case e.hearth:
		srv, inst, err := startHearth(ctx, e.bin, filepath.Join(e.tmp, "hearth-b"), e.ca)
		if err != nil {
			return fmt.Errorf("starting server B: %w", err)
		}
		defer srv.Proc.Stop(30 * time.Second)
		b, reg, bpid = NewClient(srv.URL), SharedSecret{inst.SharedSecret}, srv.Proc.Pid()
	case e.opts.PeerURL != "":
		b, bpid = NewClient(e.opts.PeerURL), e.opts.PeerPID
		switch {
		case e.opts.PeerSharedSecret != "":
			reg = SharedSecret{e.opts.PeerSharedSecret}
		case e.opts.PeerRegToken != "":
			reg = RegistrationToken{e.opts.PeerRegToken}
		default:
			return fmt.Errorf("server B needs a shared secret or registration token")
		}
	default:
		e.run.Skip("federation_join", "no server B (give -peer-url)")
		return nil
	}
	d, err := e.oneRoom(ctx, "federation", max(e.p.FederationMembers, 1))
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}
	u, err := reg.Register(ctx, b, prefix("j")+"-0", benchPassword)
	if err != nil {
		return fmt.Errorf("registering on B: %w", err)
	}
	r, _, err := b.Sync(ctx, u, "", "", 0)
	if err != nil {
		return fmt.Errorf("sync on B: %w", err)
	}
	since := r.NextBatch
	p := NewProgress(e.opts.Progress, "federation: join from B", 2)
	defer p.Done()
	t0 := time.Now()
	jctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := b.Join(jctx, u, d.Room, serverOf(d.Users[0].ID)); err != nil {
		return fmt.Errorf("join from B: %w", err)
	}
	joined := time.Since(t0)
	p.Add(1)
	for {
		r, _, err := b.Sync(jctx, u, "", since, 10000)
		if err != nil {
			return fmt.Errorf("sync on B after join: %w", err)
		}
		since = r.NextBatch
		if _, ok := r.Rooms.Join[d.Room]; ok {
			break
		}
	}
	visible := time.Since(t0)
	p.Add(1)
	e.run.Add("federation_join", "join_request", joined.Seconds(), "s", "lower")
	e.run.Add("federation_join", "room_visible", visible.Seconds(), "s", "lower")
	if bpid == 0 {
		e.run.Skip("federation_join", "no B process to read (give -peer-pid)")
		return nil
	}
	s, err := ReadProc(bpid)
	if err != nil {
		return fmt.Errorf("reading B: %w", err)
	}
	e.run.Add("federation_join", "b_peak_rss", float64(s.PeakBytes)/mib, "MiB", "lower")
	e.run.Add("federation_join", "b_cpu_total", s.CPUSecs, "s", "lower")
	return nil
}
