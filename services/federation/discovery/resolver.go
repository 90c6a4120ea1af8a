package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"hearth/services/matrix/ids"
	"hearth/services/transport"
)

// DNS looks up SRV records. *net.Resolver satisfies it, and so does
// transporttest.FakeResolver.
type DNS interface {
	LookupSRV(ctx context.Context, service, proto, name string) (cname string, addrs []*net.SRV, err error)
}

// Options configures a Resolver. The zero value works.
type Options struct {
	// HTTP fetches /.well-known/matrix/server. It must follow redirects
	// (and stop loops) and refuse private addresses: the client from
	// transport.HTTPS.Client. nil means such a client with the system
	// roots and a default guarded dialer.
	HTTP *http.Client
	// DNS answers SRV queries; nil means net.DefaultResolver.
	DNS DNS
	// Now is the clock for cache expiry; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// MaxCacheEntries bounds the well-known cache; 0 means 4096 hostnames.
	MaxCacheEntries int
}

const (
	defaultPort            = 8448
	defaultMaxCacheEntries = 4096
)

// Resolver resolves server names. It is safe for concurrent use.
type Resolver struct {
	http       *http.Client
	dns        DNS
	now        func() time.Time
	log        *slog.Logger
	maxEntries int

	mu       sync.Mutex
	cache    map[string]wellKnownEntry
	inflight map[string]*call
}

// New returns a Resolver.
func New(o Options) *Resolver {
	r := &Resolver{
		http:       o.HTTP,
		dns:        o.DNS,
		now:        o.Now,
		log:        o.Logger,
		maxEntries: o.MaxCacheEntries,
		cache:      make(map[string]wellKnownEntry),
		inflight:   make(map[string]*call),
	}
	if r.http == nil {
		r.http = transport.NewHTTPS(transport.HTTPSOptions{}).Client(wellKnownTimeout)
	}
	if r.dns == nil {
		r.dns = net.DefaultResolver
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.maxEntries <= 0 {
		r.maxEntries = defaultMaxCacheEntries
	}
	return r
}

// Resolve returns the routes to try for serverName, best first (see the
// package doc for the steps). It fails only for an invalid server name or a
// cancelled context: when nothing better is found the last route is the
// hostname on port 8448.
func (r *Resolver) Resolve(ctx context.Context, serverName string) ([]transport.Route, error) {
	name, err := ids.ParseServerName(serverName)
	if err != nil {
		return nil, fmt.Errorf("discovery: resolve %q: %w", serverName, err)
	}
	if name.Kind != ids.HostDNS || name.Port != 0 {
		// Steps 1 and 2.
		return []transport.Route{direct(name)}, nil
	}
	delegated, ok, err := r.wellKnown(ctx, name.Host)
	if err != nil {
		return nil, fmt.Errorf("discovery: resolve %q: %w", serverName, err)
	}
	if ok && (delegated.Kind != ids.HostDNS || delegated.Port != 0) {
		// Steps 3.1 and 3.2.
		return []transport.Route{direct(delegated)}, nil
	}
	host := name.Host
	if ok {
		host = delegated.Host
	}
	// Steps 3.3 to 3.5, or 4 to 6.
	routes, err := r.viaSRV(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("discovery: resolve %q: %w", serverName, err)
	}
	return routes, nil
}

// direct is the route for a name that is an IP literal or has a port: dial
// it as written (with port 8448 if it has none), check the certificate for
// its host, and send it as the Host header. An IP literal's route has no
// TLS name, so the certificate is checked for the IP.
func direct(n ids.ServerName) transport.Route {
	port := n.Port
	if port == 0 {
		port = defaultPort
	}
	route := transport.Route{Addr: net.JoinHostPort(n.Host, strconv.Itoa(port)), Host: n.String()}
	if n.Kind == ids.HostDNS {
		route.TLSName = n.Host
	}
	return route
}
