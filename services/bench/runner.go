package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options say what to measure and how. The zero value builds and
// measures Hearth with DefaultParams.
type Options struct {
	// Params are the scenario sizes. Zero: DefaultParams.
	Params Params
	// Scenarios to run, by name (see ScenarioNames). Empty: all.
	Scenarios []string

	// URL attaches to a running server's client API instead of starting
	// one. PID, when known, lets the runner read its memory and CPU.
	URL string
	PID int
	// Command starts the server under test (then URL is its client API).
	Command []string
	// Registration: SharedSecret (shared-secret registration) or
	// RegToken (a registration token). Hearth started by the runner uses
	// its own shared secret.
	SharedSecret, RegToken string

	// PeerURL is server B for the federation scenario when not measuring
	// Hearth: a server that federates with the one under test. PeerPID
	// lets the runner read B's peak RSS. Its registration is
	// PeerSharedSecret or PeerRegToken.
	PeerURL                        string
	PeerPID                        int
	PeerSharedSecret, PeerRegToken string

	// HearthBin is a built hearth binary; empty builds one.
	HearthBin string
	// Dir keeps the started Hearth's data and the data sets between
	// runs. Empty: a temporary directory, removed afterwards.
	Dir string

	// Progress receives progress bars (usually stderr); nil: none.
	Progress io.Writer
	// Log receives what the runner does; nil: discarded.
	Log *slog.Logger
}

// ScenarioNames lists the scenarios in the order they run.
var scenarioOrder = []string{"idle", "accounts", "initial_sync", "latency", "throughput", "pagination", "federation_join"}

// ScenarioNames returns the scenario names in run order.
func ScenarioNames() []string { return slices.Clone(scenarioOrder) }

// env is what scenarios share during a run.
type env struct {
	opts   Options
	p      Params
	run    *Run
	srv    *Server
	pid    int
	c      *Client
	ds     *datasets
	log    *slog.Logger
	ca     *certAuthority // nil unless the runner started Hearth
	bin    string         // hearth binary, when measuring Hearth
	tmp    string
	dir    string // Options.Dir or a temporary one
	hearth bool
	fed    *fedPrep // the federation room being made, Hearth only
}

func (e *env) want(name string) bool {
	return len(e.opts.Scenarios) == 0 || slices.Contains(e.opts.Scenarios, name)
}

// Execute runs the selected scenarios and returns their figures. A
// scenario that fails is recorded as skipped with its error; Execute
// itself fails only when the server cannot be started or reached.
func Execute(ctx context.Context, opts Options) (*Run, error) {
	for _, s := range opts.Scenarios {
		if !slices.Contains(scenarioOrder, s) {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(scenarioOrder, ", "))
		}
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tmp, err := os.MkdirTemp("", "hearthbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Join(tmp, "work")
	}
	e := &env{opts: opts, p: opts.Params, log: log, tmp: tmp, dir: dir}
	e.run = &Run{Started: time.Now().UTC(), Machine: ReadMachine(), Params: opts.Params}
	start := time.Now()

	var reg Registrar
	switch {
	case opts.URL != "" || len(opts.Command) > 0:
		if opts.URL == "" {
			return nil, errors.New("a server command needs the URL of its client API")
		}
		if opts.SharedSecret != "" {
			reg = SharedSecret{opts.SharedSecret}
		} else if opts.RegToken != "" {
			reg = RegistrationToken{opts.RegToken}
		} else {
			return nil, errors.New("need a shared secret or a registration token to create users")
		}
		e.srv = &Server{URL: strings.TrimRight(opts.URL, "/"), Label: opts.URL, Command: opts.Command}
		if len(opts.Command) > 0 {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
			p, err := StartProcess(opts.Command, nil, filepath.Join(dir, "server.log"))
			if err != nil {
				return nil, err
			}
			defer p.Stop(30 * time.Second)
			e.srv.Proc = p
			e.srv.Label = filepath.Base(opts.Command[0])
			if err := WaitReady(ctx, p, e.srv.URL, 120*time.Second); err != nil {
				return nil, err
			}
		} else if err := WaitReady(ctx, nil, e.srv.URL, 10*time.Second); err != nil {
			return nil, err
		}
		e.pid = opts.PID
		if e.srv.Proc != nil {
			e.pid = e.srv.Proc.Pid()
		}
		if e.want("idle") {
			e.idleEmpty(ctx)
		}
	default:
		e.hearth = true
		e.bin = opts.HearthBin
		if e.bin == "" {
			log.Info("building hearth")
			if e.bin, err = BuildHearth(tmp); err != nil {
				return nil, err
			}
		}
		if e.ca, err = newCA(); err != nil {
			return nil, err
		}
		if e.want("idle") {
			// The idle figure wants an empty store: a throwaway Hearth.
			srv, _, err := startHearth(ctx, e.bin, filepath.Join(tmp, "idle"), e.ca)
			if err != nil {
				return nil, err
			}
			e.srv, e.pid = srv, srv.Proc.Pid()
			e.idleEmpty(ctx)
			srv.Proc.Stop(30 * time.Second)
		}
		srv, inst, err := startHearth(ctx, e.bin, filepath.Join(dir, "hearth-a"), e.ca)
		if err != nil {
			return nil, err
		}
		defer srv.Proc.Stop(30 * time.Second)
		e.srv, e.pid = srv, srv.Proc.Pid()
		e.run.Server.Name = inst.ServerName
		reg = SharedSecret{inst.SharedSecret}
		e.run.Server.Version = hearthVersion(e.bin, opts.HearthBin == "")
	}
	e.c = NewClient(e.srv.URL)
	e.run.Server.Label, e.run.Server.URL, e.run.Server.Command = e.srv.Label, e.srv.URL, e.srv.Command
	if e.run.Server.Version == "" {
		e.run.Server.Name, e.run.Server.Version = serverVersion(ctx, e.c)
	}
	e.ds = &datasets{dir: dir, server: e.srv.URL, c: e.c, reg: reg, conc: e.p.Concurrency, progress: opts.Progress, log: log}

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"accounts", e.accounts},
		{"initial_sync", e.initialSync},
		{"latency", e.latency},
		{"throughput", e.throughput},
		{"pagination", e.pagination},
		{"federation_join", e.federationJoin},
	}
	for _, s := range steps {
		if !e.want(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			e.waitFederation()
			e.run.Seconds = time.Since(start).Seconds()
			return e.run, err
		}
		if s.name == "initial_sync" && e.hearth && e.want("federation_join") {
			e.prepareFederation(ctx)
		}
		log.Info("scenario", "name", s.name)
		if err := s.fn(ctx); err != nil {
			log.Warn("scenario failed", "name", s.name, "err", err)
			e.run.Skip(s.name, "failed: "+err.Error())
		}
	}
	e.waitFederation()
	e.run.Seconds = time.Since(start).Seconds()
	return e.run, nil
}

// serverVersion asks the federation version endpoint (served on the
// client port by many servers) and falls back to "unknown".
func serverVersion(ctx context.Context, c *Client) (name, version string) {
	var v struct {
		Server struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"server"`
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Do(ctx, "GET", "/_matrix/federation/v1/version", "", nil, &v); err == nil && v.Server.Name != "" {
		return "", v.Server.Name + " " + v.Server.Version
	}
	var vs struct {
		Versions []string `json:"versions"`
	}
	if _, err := c.Do(ctx, "GET", "/_matrix/client/versions", "", nil, &vs); err == nil && len(vs.Versions) > 0 {
		b, _ := json.Marshal(vs.Versions[len(vs.Versions)-1])
		return "", "unknown (client API up to " + strings.Trim(string(b), `"`) + ")"
	}
	return "", "unknown"
}
