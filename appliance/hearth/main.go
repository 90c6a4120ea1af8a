// Command hearth is the Hearth homeserver and its admin tool. The main only
// parses the command line and hands over to library packages.
//
//	hearth run [-config FILE]                 serve (default command)
//	hearth create-user [-config FILE] -user NAME -password PW [-admin]
//	hearth reg-token create [-config FILE] [-token T] [-uses N] [-valid-for DURATION]
//	hearth reg-token list [-config FILE]
//	hearth status [-config FILE]
//	hearth version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"hearth/config"
	"hearth/services/homeserver"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hearth:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "run"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return serve(args)
	case "create-user":
		return createUser(args)
	case "reg-token":
		return regToken(args)
	case "status":
		return status(args)
	case "version":
		fmt.Println("hearth", version())
		return nil
	}
	return fmt.Errorf("unknown command %q (run, create-user, reg-token, status, version)", cmd)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(development)"
}

// loadConfig reads -config FILE or the built-in defaults.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func newLogger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func serve(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (TOML); default: built-in defaults")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	debug.SetMemoryLimit(int64(cfg.Storage.MemoryLimitMiB) << 20)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs, err := homeserver.Open(ctx, cfg, homeserver.Options{Logger: log, Version: version()})
	if err != nil {
		return homeserver.LockedError(err)
	}
	defer hs.Close()
	ln, err := net.Listen("tcp", cfg.Client.Listen)
	if err != nil {
		return err
	}
	fedDone := make(chan error, 1)
	if hs.Federating() {
		fln, err := net.Listen("tcp", cfg.Federation.Listen)
		if err != nil {
			return err
		}
		go func() { fedDone <- hs.ServeFederation(ctx, fln) }()
		log.Info("federation serving", "listen", fln.Addr().String())
	} else {
		fedDone <- nil
	}
	log.Info("hearth serving", "server_name", cfg.Server.Name, "listen", ln.Addr().String(),
		"base_url", cfg.Server.PublicBaseURL, "registration", cfg.Registration.Mode, "startup", time.Since(start))
	err = hs.Serve(ctx, ln)
	stop()
	if ferr := <-fedDone; err == nil {
		err = ferr
	}
	log.Info("hearth stopped")
	return err
}

// openAdmin opens the store of a stopped server for an admin command.
func openAdmin(path string) (*homeserver.Server, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	hs, err := homeserver.Open(context.Background(), cfg, homeserver.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	return hs, homeserver.LockedError(err)
}

func createUser(args []string) error {
	fs := flag.NewFlagSet("create-user", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	user := fs.String("user", "", "localpart of the new user")
	password := fs.String("password", "", "password")
	admin := fs.Bool("admin", false, "make the user a server admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *password == "" {
		return errors.New("create-user needs -user and -password")
	}
	hs, err := openAdmin(*cfgPath)
	if err != nil {
		return err
	}
	defer hs.Close()
	id, err := hs.CreateUser(context.Background(), *user, *password, *admin)
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

func regToken(args []string) error {
	if len(args) == 0 {
		return errors.New("reg-token needs create or list")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("reg-token "+sub, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	token := fs.String("token", "", "token text (default: random)")
	uses := fs.Int("uses", 0, "how many registrations it allows (0: unlimited)")
	validFor := fs.Duration("valid-for", 0, "how long it is valid (0: forever)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hs, err := openAdmin(*cfgPath)
	if err != nil {
		return err
	}
	defer hs.Close()
	switch sub {
	case "create":
		t, err := hs.CreateRegToken(*token, *uses, *validFor)
		if err != nil {
			return err
		}
		fmt.Println(t.Token)
		return nil
	case "list":
		toks, err := hs.Users.RegTokens()
		if err != nil {
			return err
		}
		for _, t := range toks {
			fmt.Printf("%s\tcompleted=%d\tpending=%d\n", t.Token, t.Completed, t.Pending)
		}
		return nil
	}
	return fmt.Errorf("unknown reg-token command %q", sub)
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	hs, err := openAdmin(*cfgPath)
	if err != nil {
		return err
	}
	defer hs.Close()
	return hs.WriteStatus(os.Stdout)
}
