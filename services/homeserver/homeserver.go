package homeserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"hearth/config"
	"hearth/services/clientapi"
	"hearth/services/ephemeral"
	"hearth/services/federation"
	"hearth/services/federation/queue"
	"hearth/services/presence"
	"hearth/services/roomserver"
	"hearth/services/storage"
	hsync "hearth/services/sync"
	"hearth/services/transport"
	"hearth/services/users"
)

// Server is a running Hearth homeserver.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	db     *storage.DB
	Users  *users.Service
	Rooms  *roomserver.Server
	notify *hsync.Notifier
	sync   *hsync.Server
	eph    *ephemeral.Service
	api    *clientapi.API
	// presence is nil when presence is disabled in the config.
	presence     *presence.Store
	stopPresence func()

	// Federation; nil when federation.listen is empty.
	fed      *federation.Server
	fedQueue *queue.Queue
	fedHTTPS *transport.HTTPS
}

// Options are what tests and the main may inject; the zero value is fine.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Argon2 overrides the password hashing cost (tests use cheap params).
	Argon2 *users.Argon2Params
	// Federation injects DNS, resolvers and roots (tests).
	Federation FederationOptions
	// Version is the software version reported to other servers.
	Version string
}

// Open builds every service from cfg (which must be valid) in dependency
// order. Close undoes it.
func Open(ctx context.Context, cfg config.Config, o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	db, err := storage.Open(ctx, storage.Options{
		Dir:            filepath.Join(cfg.Server.DataDir, "db"),
		MemTableSize:   int64(cfg.Storage.MemTableMiB) << 20,
		BlockCacheSize: int64(cfg.Storage.BlockCacheMiB) << 20,
		IndexCacheSize: int64(cfg.Storage.IndexCacheMiB) << 20,
		Logger:         log,
	}, nil)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, db: db}
	fail := func(err error) (*Server, error) {
		db.Close()
		return nil, err
	}
	key, err := loadSigningKey(db)
	if err != nil {
		return fail(fmt.Errorf("homeserver: signing key: %w", err))
	}
	uo := users.Options{
		ServerName: cfg.Server.Name, Now: o.Now, Logger: log,
		AccessTokenLifetime:  cfg.Auth.AccessTokenLifetime.Std(),
		RefreshTokenLifetime: cfg.Auth.RefreshTokenLifetime.Std(),
		PasswordMinLength:    cfg.Auth.PasswordMinLength,
		HashesDone:           newMemoryReturner(time.Second).soon,
	}
	if o.Argon2 != nil {
		uo.Argon2 = *o.Argon2
	}
	uo.OnAccountData = func(user string, _ uint64) {
		if s.sync != nil {
			s.sync.WakeUser(user)
		}
	}
	if s.Users, err = users.New(db, uo); err != nil {
		return fail(err)
	}
	s.notify = hsync.NewNotifier()
	s.Rooms, err = roomserver.New(ctx, db, roomserver.Options{
		ServerName: cfg.Server.Name, Key: key, Now: o.Now, Logger: log,
		Notify: func(n roomserver.Notification) {
			s.sync.Notify(n)
			if s.fed != nil {
				s.fed.OnEvent(n)
			}
		},
	})
	if err != nil {
		return fail(err)
	}
	s.eph, err = ephemeral.New(db, ephemeral.Options{Now: o.Now, Logger: log,
		Wake: func(room, user string) {
			if user != "" && s.sync != nil {
				s.sync.WakeUser(user)
			} else {
				s.notify.Wake(room)
			}
		}})
	if err != nil {
		return fail(err)
	}
	so := hsync.Options{
		Now: o.Now, Logger: log, MaxTimeout: time.Duration(cfg.Limits.MaxTimeoutMS) * time.Millisecond,
		AccountData: hsync.AccountDataFunc(s.Users.AccountDataEvents),
		Ephemeral:   s.eph,
		Unread: hsync.UnreadSource{
			ReadReceipts: s.readReceipts,
			PushRules: func(_ context.Context, user string) ([]byte, error) {
				raw, err := s.Users.AccountData(user, "", "m.push_rules")
				if errors.Is(err, users.ErrNotFound) {
					return nil, nil
				}
				return raw, err
			},
		},
	}
	if !cfg.Presence.Disabled {
		s.presence = presence.New(presence.Options{Now: o.Now, OnChange: func(user string) {
			if s.sync != nil {
				s.sync.PresenceChanged(user)
			}
		}})
		so.Presence = s.presence
	}
	s.sync = hsync.New(s.Rooms, s.notify, so)
	if s.presence != nil {
		s.stopPresence = s.presence.StartSweeper(30 * time.Second)
	}
	if cfg.Federation.Listen != "" {
		if err := s.openFederation(key, o); err != nil {
			s.eph.Close()
			return fail(fmt.Errorf("homeserver: federation: %w", err))
		}
	}
	lim := cfg.Limits
	userRate, ipRate := lim.PerUser.PerSecond, lim.PerIP.PerSecond
	if lim.PerUser.Disabled {
		userRate = 0
	}
	if lim.PerIP.Disabled {
		ipRate = 0
	}
	s.api = clientapi.New(clientapi.Options{
		ServerName: cfg.Server.Name, PublicBaseURL: cfg.Server.PublicBaseURL,
		Rooms: s.Rooms, Users: s.Users, Sync: s.sync, Ephemeral: s.eph, Accounts: clientapi.UsersAuth{Users: s.Users},
		Registration: clientapi.Registration{
			Mode: string(cfg.Registration.Mode), SharedSecret: cfg.Registration.SharedSecret,
			AllowLegacySingleRequest: cfg.Registration.AllowLegacySingleRequest,
		},
		MaxBodyBytes: cfg.Client.MaxBodyBytes,
		MaxLongPolls: cfg.Limits.MaxLongPolls,
		UserRate:     userRate, UserBurst: lim.PerUser.Burst,
		IPRate: ipRate, IPBurst: lim.PerIP.Burst,
		Now: o.Now, Logger: log,
		Presence:   s.presence,
		Federation: s.clientFederation(),
	})
	return s, nil
}

// readReceipts returns the event IDs of a user's receipts that mark a
// room's main timeline read, for unread counts.
func (s *Server) readReceipts(_ context.Context, room, user string) ([]string, error) {
	var out []string
	for _, typ := range []string{ephemeral.Read, ephemeral.ReadPrivate} {
		for _, thread := range []string{"", "main"} {
			rc, ok, err := s.eph.Receipts.Get(room, typ, user, thread)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, rc.EventID)
			}
		}
	}
	return out, nil
}

// Handler is the HTTP handler of the client API.
func (s *Server) Handler() http.Handler { return s.api.Handler() }

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler()}
	return s.serveHTTP(ctx, ln, hs, s.cfg.Client.TLSCert, s.cfg.Client.TLSKey)
}

// serveHTTP runs hs on ln (TLS when certFile is set) with the server's
// limits and error log until ctx ends, then shuts it down gracefully.
func (s *Server) serveHTTP(ctx context.Context, ln net.Listener, hs *http.Server, certFile, keyFile string) error {
	hs.ReadHeaderTimeout = 10 * time.Second
	hs.IdleTimeout = 120 * time.Second
	hs.MaxHeaderBytes = 64 << 10
	hs.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- hs.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	return err
}

// Close stops the services and closes the store.
func (s *Server) Close() error {
	if s.stopPresence != nil {
		s.stopPresence()
	}
	s.eph.Close()
	return s.db.Close()
}
