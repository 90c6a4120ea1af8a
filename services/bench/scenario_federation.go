package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// fedPrep is the big room of the federation scenario being made on a
// Hearth of its own (server A) while the initial-sync data set is made
// on the server under test: the two overlap one server's commit waits
// with the other's password hashing.
type fedPrep struct {
	done chan struct{}
	data *roomData
	err  error
}

// fedDir is where server A of the federation scenario keeps its data.
func (e *env) fedDir() string { return filepath.Join(e.dir, "hearth-fed-a") }

// prepareFederation starts making the big room on a Hearth of its own;
// that Hearth stops when the room is ready and starts again for the join.
func (e *env) prepareFederation(ctx context.Context) {
	e.fed = &fedPrep{done: make(chan struct{})}
	go func() {
		defer close(e.fed.done)
		srv, inst, err := startHearth(ctx, e.bin, e.fedDir(), e.ca)
		if err != nil {
			e.fed.err = fmt.Errorf("starting server A: %w", err)
			return
		}
		defer srv.Proc.Stop(30 * time.Second)
		ds := *e.ds
		ds.server, ds.c, ds.reg = srv.URL, NewClient(srv.URL), SharedSecret{inst.SharedSecret}
		e.fed.data, e.fed.err = e.oneRoom(ctx, &ds, "federation", max(e.p.FederationMembers, 1))
	}()
}

// waitFederation waits until the big room is ready (if it is being made).
func (e *env) waitFederation() {
	if e.fed != nil {
		<-e.fed.done
	}
}

// serverOf is the server name part of a user ID.
func serverOf(userID string) string {
	_, s, _ := strings.Cut(userID, ":")
	return s
}

// federationJoin: a user on server B joins a room of FederationMembers
// members on server A. Figures: the time of the join request, the time
// until B's /sync shows the room, and B's peak RSS. With Hearth the
// runner starts both (A with the room made by prepareFederation, B
// fresh); otherwise A is the server under test and B is PeerURL.
func (e *env) federationJoin(ctx context.Context) error {
	var b *Client
	var reg Registrar
	var d *roomData
	bpid := 0
	switch {
	case e.hearth:
		if e.fed == nil {
			e.prepareFederation(ctx)
		}
		e.waitFederation()
		if e.fed.err != nil {
			return fmt.Errorf("data set: %w", e.fed.err)
		}
		d = e.fed.data
		a, _, err := startHearth(ctx, e.bin, e.fedDir(), e.ca)
		if err != nil {
			return fmt.Errorf("starting server A: %w", err)
		}
		defer a.Proc.Stop(30 * time.Second)
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
			return errors.New("server B needs a shared secret or registration token")
		}
		var err error
		if d, err = e.oneRoom(ctx, e.ds, "federation", max(e.p.FederationMembers, 1)); err != nil {
			return fmt.Errorf("data set: %w", err)
		}
	default:
		e.run.Skip("federation_join", "no server B (give -peer-url)")
		return nil
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
