package homeserver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"hearth/services/clientapi"
	"hearth/services/federation"
	"hearth/services/federation/discovery"
	"hearth/services/federation/keys"
	"hearth/services/federation/queue"
	"hearth/services/matrix/signing"
	"hearth/services/transport"
	"hearth/services/users"
)

// FederationOptions are what tests inject into federation; the zero value
// uses the system's DNS and roots.
type FederationOptions struct {
	// DNS answers SRV lookups (discovery); nil means the system resolver.
	DNS discovery.DNS
	// Resolver answers address lookups for the guarded dialer; nil means
	// the system resolver.
	Resolver transport.Resolver
	// Roots replaces the trusted roots (system roots plus
	// federation.extra_ca_files) when set.
	Roots *x509.CertPool
}

// openFederation builds the federation side from the config: transport,
// discovery, key ring, outbound queue and the federation service. It is
// only called when federation.listen is set.
func (s *Server) openFederation(key signing.Key, o Options) error {
	cfg, log := s.cfg, s.log
	// The roots (system roots plus extra CAs) load on the first outbound
	// connection, not at start: they cost megabytes of memory on a box
	// that may never dial out. The CA files are checked now, so a bad one
	// still stops the server at start.
	var loader func() (*x509.CertPool, error)
	if o.Federation.Roots == nil && len(cfg.Federation.ExtraCAFiles) > 0 {
		if err := transport.CheckCAFiles(cfg.Federation.ExtraCAFiles); err != nil {
			return err
		}
		files := cfg.Federation.ExtraCAFiles
		loader = func() (*x509.CertPool, error) { return transport.CertPool(files) }
	}
	dialer := transport.NewDialer(transport.DialerOptions{
		AllowPrivate: cfg.Federation.AllowPrivateNetworks, Resolver: o.Federation.Resolver, Logger: log,
	})
	https := transport.NewHTTPS(transport.HTTPSOptions{Dialer: dialer, Roots: o.Federation.Roots, RootsLoader: loader})
	disc := discovery.New(discovery.Options{HTTP: https.Client(10 * time.Second), DNS: o.Federation.DNS, Now: o.Now, Logger: log})
	signer := keys.FromSigningKey(key)
	client := federation.NewClient(federation.ClientOptions{
		Origin: cfg.Server.Name, Signer: signer, Router: disc, Transport: https, Logger: log,
	})
	ring, err := keys.NewRing(keys.RingOptions{
		DB: s.db, ServerName: cfg.Server.Name, Self: signer, Fetcher: federation.KeyFetcher{C: client},
		Validity: cfg.Federation.KeyValidity.Std(), Now: o.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	q, err := queue.New(queue.Options{DB: s.db, Origin: cfg.Server.Name, Sender: federation.TxnSender{C: client}, Now: o.Now, Logger: log})
	if err != nil {
		return err
	}
	fed, err := federation.New(federation.Options{
		ServerName: cfg.Server.Name, Signer: signer, Keys: ring, Rooms: s.Rooms, Queue: q, Client: client, DB: s.db,
		Profiles: profiles{s.Users}, EDUs: s.eph, Presence: s.presence,
		PublicRooms: s.Rooms.PublishedRooms, Version: o.Version,
		KeyValidity: cfg.Federation.KeyValidity.Std(), Now: o.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	s.fed, s.fedQueue, s.fedHTTPS = fed, q, https
	return nil
}

// profiles adapts the users service to federation.Profiles.
type profiles struct{ u *users.Service }

func (p profiles) ProfileOf(userID string) (string, string, error) {
	pr, err := p.u.Profile(userID)
	return pr.DisplayName, pr.AvatarURL, err
}

// startFederation runs the outbound side until ctx ends.
func (s *Server) startFederation(ctx context.Context) error {
	if s.fed == nil {
		return nil
	}
	s.fedQueue.Start(ctx)
	if err := s.fed.Start(ctx); err != nil {
		return fmt.Errorf("homeserver: federation: %w", err)
	}
	return nil
}

// clientFederation is federation as the client API sees it: nil (a nil
// interface, not a nil pointer) when off.
func (s *Server) clientFederation() clientapi.Federation {
	if s.fed == nil {
		return nil
	}
	return s.fed
}

// Federating reports whether federation is on.
func (s *Server) Federating() bool { return s.fed != nil }

// ServeFederation answers the federation API on ln (TLS with the
// configured certificate unless ln is already a TLS listener) until ctx
// ends. The outbound side runs while it does.
func (s *Server) ServeFederation(ctx context.Context, ln net.Listener) error {
	if s.fed == nil {
		return errors.New("homeserver: federation is off")
	}
	if err := s.startFederation(ctx); err != nil {
		return err
	}
	defer func() {
		s.fedQueue.Close()
		s.fed.Wait()
		s.fedHTTPS.CloseIdleConnections()
	}()
	// Federation requests carry whole transactions: a read timeout too.
	hs := &http.Server{Handler: s.fed.Handler(), ReadTimeout: 60 * time.Second}
	return s.serveHTTP(ctx, ln, hs, s.cfg.Federation.TLSCert, s.cfg.Federation.TLSKey)
}
