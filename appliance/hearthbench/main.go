// Command hearthbench measures a Matrix homeserver: Hearth, built and
// started by itself (the default), a server it starts from a command
// line, or one it reaches by URL. See services/bench.
//
//	hearthbench [flags]                      run the suite
//	hearthbench compare A.json B.json        two runs side by side
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hearth/services/bench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "compare" {
		os.Exit(compare(os.Args[2:]))
	}
	os.Exit(run())
}

func compare(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hearthbench compare A.json B.json")
		return 2
	}
	a, err := bench.ReadRunFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := bench.ReadRunFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := bench.WriteCompare(os.Stdout, a, b); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func run() int {
	var o bench.Options
	quick := flag.Bool("quick", false, "the reduced suite (about two minutes)")
	scale := flag.Float64("scale", 1, "scale the data sets (users, rooms, members, federation room) by this factor")
	scenarios := flag.String("scenarios", "", "comma-separated scenarios to run (default all: "+strings.Join(bench.ScenarioNames(), ",")+")")
	command := flag.String("server-cmd", "", "start the server under test with this command line (split on spaces); needs -url")
	out := flag.String("out", "bench-results", "directory for the run's JSON file")
	verbose := flag.Bool("v", false, "log what the runner does")
	flag.StringVar(&o.URL, "url", "", "client API URL of the server under test (default: build and start Hearth)")
	flag.IntVar(&o.PID, "pid", 0, "process ID of the server at -url, to read its memory and CPU")
	flag.StringVar(&o.SharedSecret, "shared-secret", "", "registration shared secret of the server under test")
	flag.StringVar(&o.RegToken, "reg-token", "", "registration token of the server under test")
	flag.StringVar(&o.PeerURL, "peer-url", "", "client API URL of server B for the federation join scenario")
	flag.IntVar(&o.PeerPID, "peer-pid", 0, "process ID of server B, to read its peak RSS")
	flag.StringVar(&o.PeerSharedSecret, "peer-shared-secret", "", "registration shared secret of server B")
	flag.StringVar(&o.PeerRegToken, "peer-reg-token", "", "registration token of server B")
	flag.StringVar(&o.HearthBin, "hearth-bin", "", "a built hearth binary (default: go build it)")
	flag.StringVar(&o.Dir, "dir", "", "where the started Hearth keeps its data and where data sets are remembered between runs (default bench-results/data, or data-quick with -quick)")
	flag.Parse()

	o.Params = bench.DefaultParams()
	if *quick {
		o.Params = bench.QuickParams()
	}
	if o.Dir == "" {
		// The quick suite keeps a store of its own: the full data set
		// would otherwise weigh on its figures.
		o.Dir = filepath.Join(*out, "data")
		if *quick {
			o.Dir += "-quick"
		}
	}
	if *scale != 1 {
		o.Params = o.Params.Scale(*scale)
	}
	if *scenarios != "" {
		o.Scenarios = strings.Split(*scenarios, ",")
	}
	if *command != "" {
		o.Command = strings.Fields(*command)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	o.Progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := bench.Execute(ctx, o)
	if err != nil && r == nil {
		fmt.Fprintln(os.Stderr, "hearthbench:", err)
		return 1
	}
	bench.WriteTable(os.Stdout, r)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "hearthbench:", err)
		return 1
	}
	path := filepath.Join(*out, "run-"+r.Started.Format("20060102-150405")+".json")
	if err := r.WriteFile(path); err != nil {
		fmt.Fprintln(os.Stderr, "hearthbench:", err)
		return 1
	}
	fmt.Printf("results: %s (%v)\n", path, time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hearthbench:", err)
		return 1
	}
	return 0
}
