package discovery

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/services/transport"
	"hearth/services/transport/transporttest"
)

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testNet is a test network: one HTTPS server on loopback with a
// certificate for *.test, answering /.well-known/matrix/server for each host
// given a handler (by Host header), a
// fake DNS, and a resolver wired to both.
type testNet struct {
	t    *testing.T
	dns  *transporttest.FakeResolver
	clk  *clock
	srv  *httptest.Server
	res  *Resolver
	mu   sync.Mutex
	wk   map[string]http.HandlerFunc // host → well-known handler
	hits map[string]int              // host → well-known requests
}

func newTestNet(t *testing.T) *testNet {
	t.Helper()
	ca := transporttest.NewCA(t)
	n := &testNet{
		t:    t,
		dns:  &transporttest.FakeResolver{},
		clk:  &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		wk:   make(map[string]http.HandlerFunc),
		hits: make(map[string]int),
	}
	n.srv = httptest.NewUnstartedServer(http.HandlerFunc(n.serve))
	n.srv.TLS = transport.ServerTLSConfig(ca.Issue(t, "*.test"))
	n.srv.StartTLS()
	t.Cleanup(n.srv.Close)

	// The client dials the test server for any https URL of a host that
	// has a handler. Port 443 cannot be bound in a test, so this client
	// stands in for transport.HTTPS.Client (whose redirect and address
	// rules are tested in services/transport); certificates are checked
	// as usual.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			n.mu.Lock()
			_, ok := n.wk[host]
			n.mu.Unlock()
			if !ok {
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, n.srv.Listener.Addr().String())
		},
	}}
	t.Cleanup(client.CloseIdleConnections)
	n.res = New(Options{
		HTTP:   client,
		DNS:    n.dns,
		Now:    n.clk.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return n
}

func (n *testNet) serve(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	n.mu.Lock()
	h := n.wk[host]
	n.hits[host]++
	n.mu.Unlock()
	if r.URL.Path != "/.well-known/matrix/server" || h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

// handle sets host's well-known handler.
func (n *testNet) handle(host string, h http.HandlerFunc) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wk[host] = h
}

// serveJSON makes host answer with body and the given Cache-Control
// header ("" for none).
func (n *testNet) serveJSON(host, body, cacheControl string) {
	n.handle(host, func(w http.ResponseWriter, r *http.Request) {
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	})
}

func (n *testNet) hitsFor(host string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hits[host]
}

func (n *testNet) resolve(name string) []transport.Route {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	routes, err := n.res.Resolve(ctx, name)
	if err != nil {
		n.t.Fatalf("Resolve(%q): %v", name, err)
	}
	return routes
}

// route builds a Route; tls "" means none.
func route(addr, tls, host string) transport.Route {
	return transport.Route{Addr: addr, TLSName: tls, Host: host}
}

func routesString(rs []transport.Route) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("{" + r.Addr + " tls=" + r.TLSName + " host=" + r.Host + "} ")
	}
	return b.String()
}
