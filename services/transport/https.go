package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// HTTPSOptions configures an HTTPS round tripper. The zero value works: the
// guarded dialer with defaults, the system roots and the limits below.
type HTTPSOptions struct {
	// Dialer makes every TCP connection; nil means NewDialer(DialerOptions{}).
	Dialer *Dialer
	// Roots verifies server certificates; nil means the system roots.
	Roots *x509.CertPool
	// RootsLoader, when Roots is nil, builds the roots on the first
	// connection instead of at start (parsing the system roots costs
	// megabytes a box that never dials out should not spend). A loader
	// error fails every connection with that error.
	RootsLoader func() (*x509.CertPool, error)
	// InsecureSkipVerify turns certificate checks off. Never in
	// production; tests should use a test CA (transporttest) instead.
	InsecureSkipVerify bool
	// IdleConnTimeout closes pooled connections idle this long; 0 means
	// 90 s.
	IdleConnTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request is written; 0 means 2 minutes (a send_join into a big room
	// is slow).
	ResponseHeaderTimeout time.Duration
	// MaxResponseBytes bounds every response body; 0 means 16 MiB.
	MaxResponseBytes int64
	// MaxRoutes bounds the number of routes with their own connection
	// pool; 0 means 256.
	MaxRoutes int
}

const (
	defaultIdleConnTimeout       = 90 * time.Second
	defaultResponseHeaderTimeout = 2 * time.Minute
	defaultMaxResponseBytes      = 16 << 20
	defaultMaxRoutes             = 256
	tlsHandshakeTimeout          = 10 * time.Second
	maxResponseHeaderBytes       = 64 << 10
	maxIdleConnsPerRoute         = 4
)

// HTTPS sends requests over TLS on TCP through the guarded dialer. It is safe
// for concurrent use.
type HTTPS struct {
	dialer   *Dialer
	roots    func() (*x509.CertPool, error)
	insecure bool
	idle     time.Duration
	header   time.Duration
	maxBody  int64
	routes   *transportPool
	// urls serves the clients made by Client.
	urls *http.Transport
}

var _ RoundTripper = (*HTTPS)(nil)

// NewHTTPS returns an HTTPS round tripper.
func NewHTTPS(o HTTPSOptions) *HTTPS {
	h := &HTTPS{
		dialer:   o.Dialer,
		roots:    func() (*x509.CertPool, error) { return o.Roots, nil },
		insecure: o.InsecureSkipVerify,
		idle:     o.IdleConnTimeout,
		header:   o.ResponseHeaderTimeout,
		maxBody:  o.MaxResponseBytes,
	}
	if o.Roots == nil && o.RootsLoader != nil {
		h.roots = sync.OnceValues(o.RootsLoader)
	}
	if h.dialer == nil {
		h.dialer = NewDialer(DialerOptions{})
	}
	if h.idle <= 0 {
		h.idle = defaultIdleConnTimeout
	}
	if h.header <= 0 {
		h.header = defaultResponseHeaderTimeout
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxResponseBytes
	}
	maxRoutes := o.MaxRoutes
	if maxRoutes <= 0 {
		maxRoutes = defaultMaxRoutes
	}
	h.routes = newTransportPool(maxRoutes, h.routeTransport)
	h.urls = h.baseTransport()
	h.urls.DialContext = h.dialer.DialContext
	h.urls.DialTLSContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return h.handshake(ctx, addr, host)
	}
	return h
}

// RoundTrip sends req along route: it dials route.Addr, verifies the
// certificate for route.TLSName (or Addr's IP), and sends the Host header
// route.Host. req is not modified. The response body is limited to
// MaxResponseBytes.
func (h *HTTPS) RoundTrip(route Route, req *http.Request) (*http.Response, error) {
	if route.Host == "" {
		return nil, errors.New("transport: route has no Host")
	}
	if _, err := route.tlsName(); err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = "https"
	out.URL.Host = route.Addr
	out.Host = route.Host
	resp, err := h.routes.get(route).RoundTrip(out)
	if err != nil {
		return nil, err
	}
	return limitBody(resp, h.maxBody)
}

// CloseIdleConnections closes every pooled connection not in use.
func (h *HTTPS) CloseIdleConnections() {
	h.routes.closeIdle()
	h.urls.CloseIdleConnections()
}

// baseTransport returns an http.Transport with the settings shared by route
// transports and URL clients. Proxy stays nil: an environment proxy would
// dial on Hearth's behalf, past the guard.
func (h *HTTPS) baseTransport() *http.Transport {
	return &http.Transport{
		ForceAttemptHTTP2: true,
		// Pings find a dead pooled connection (a cut link) within about
		// 30 s, so the next attempt dials afresh instead of waiting on it.
		HTTP2:                  &http.HTTP2Config{SendPingTimeout: 15 * time.Second, PingTimeout: 15 * time.Second},
		IdleConnTimeout:        h.idle,
		ResponseHeaderTimeout:  h.header,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		MaxIdleConnsPerHost:    maxIdleConnsPerRoute,
		ExpectContinueTimeout:  time.Second,
	}
}

// routeTransport makes the http.Transport for one route: every connection
// goes to route.Addr through the guarded dialer, with the route's TLS name.
func (h *HTTPS) routeTransport(route Route) *http.Transport {
	t := h.baseTransport()
	t.DialTLSContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		return h.dialTLS(ctx, route)
	}
	return t
}

func (h *HTTPS) dialTLS(ctx context.Context, route Route) (net.Conn, error) {
	name, err := route.tlsName()
	if err != nil {
		return nil, err
	}
	return h.handshake(ctx, route.Addr, name)
}

// handshake dials addr through the guarded dialer and runs TLS verifying
// the certificate for name (an IP literal: no SNI, the IP is checked).
func (h *HTTPS) handshake(ctx context.Context, addr, name string) (net.Conn, error) {
	cfg, err := h.tlsConfig(name)
	if err != nil {
		return nil, err
	}
	conn, err := h.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		closeQuietly(conn)
		return nil, fmt.Errorf("transport: TLS to %s for %q: %w", addr, name, err)
	}
	return tc, nil
}

// tlsConfig returns the client TLS config for a server name. crypto/tls
// sends no SNI for an IP address and then verifies the certificate's IP
// SANs.
func (h *HTTPS) tlsConfig(serverName string) (*tls.Config, error) {
	roots, err := h.roots()
	if err != nil {
		return nil, fmt.Errorf("transport: loading the trusted roots: %w", err)
	}
	return &tls.Config{
		ServerName:         serverName,
		RootCAs:            roots,
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"h2", "http/1.1"},
		InsecureSkipVerify: h.insecure,
	}, nil
}

// tlsName returns the name the certificate must be valid for.
func (r Route) tlsName() (string, error) {
	if r.TLSName != "" {
		return r.TLSName, nil
	}
	host, _, err := net.SplitHostPort(r.Addr)
	if err != nil {
		return "", fmt.Errorf("transport: route address %q: %w", r.Addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("transport: route %q has no TLS name and its host is not an IP literal", r.Addr)
	}
	return ip.String(), nil
}
