package transport

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"hearth/services/transport/transporttest"
)

// An SRV-like route: the dialled name (target.test) is not the name the
// certificate is checked for (hs1.test), and the Host header is the latter.
func TestHTTPSRouteWithOtherTLSName(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := tlsServer(t, ca, http.HandlerFunc(echo), "hs1.test")
	res := &transporttest.FakeResolver{}
	res.AddHost("target.test", "127.0.0.1")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(res, "127.0.0.1"), Roots: ca.Pool()})

	route := Route{Addr: "target.test:" + port(t, srv.Listener.Addr()), TLSName: "hs1.test", Host: "hs1.test"}
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, "https://ignored.invalid/_matrix/key/v2/server?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.RoundTrip(route, req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := "host=hs1.test sni=hs1.test proto=HTTP/2.0 path=/_matrix/key/v2/server?x=1"
	if string(body) != want {
		t.Errorf("body = %q, want %q", body, want)
	}
	if req.URL.Host != "ignored.invalid" || req.Host != "ignored.invalid" {
		t.Errorf("RoundTrip modified the request: URL.Host %q, Host %q", req.URL.Host, req.Host)
	}
}

// With no TLSName the route's IP literal is the name: no SNI is sent and
// the certificate must carry the IP.
func TestHTTPSIPLiteralRoute(t *testing.T) {
	ca := transporttest.NewCA(t)
	withIP := tlsServer(t, ca, http.HandlerFunc(echo), "127.0.0.1")
	withoutIP := tlsServer(t, ca, http.HandlerFunc(echo), "hs1.test")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(nil, "127.0.0.1"), Roots: ca.Pool()})

	addr := withIP.Listener.Addr().String()
	_, body, err := get(t, h, Route{Addr: addr, Host: addr}, "/")
	if err != nil {
		t.Fatalf("IP route: %v", err)
	}
	if want := "host=" + addr + " sni= proto=HTTP/2.0 path=/"; body != want {
		t.Errorf("body = %q, want %q", body, want)
	}

	addr = withoutIP.Listener.Addr().String()
	_, _, err = get(t, h, Route{Addr: addr, Host: addr}, "/")
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("certificate without the IP: err = %v, want an x509.HostnameError", err)
	}
}

func TestHTTPSRefusesBadCertificates(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := tlsServer(t, ca, http.HandlerFunc(echo), "hs1.test")
	p := port(t, srv.Listener.Addr())
	res := &transporttest.FakeResolver{}
	res.AddHost("hs1.test", "127.0.0.1")
	res.AddHost("hs2.test", "127.0.0.1")

	trusting := NewHTTPS(HTTPSOptions{Dialer: testDialer(res, "127.0.0.1"), Roots: ca.Pool()})
	_, _, err := get(t, trusting, Route{Addr: "hs2.test:" + p, TLSName: "hs2.test", Host: "hs2.test"}, "/")
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("wrong name: err = %v, want an x509.HostnameError", err)
	}

	other := NewHTTPS(HTTPSOptions{Dialer: testDialer(res, "127.0.0.1"), Roots: transporttest.NewCA(t).Pool()})
	_, _, err = get(t, other, Route{Addr: "hs1.test:" + p, TLSName: "hs1.test", Host: "hs1.test"}, "/")
	var authErr x509.UnknownAuthorityError
	if !errors.As(err, &authErr) {
		t.Errorf("unknown CA: err = %v, want an x509.UnknownAuthorityError", err)
	}
}

func TestHTTPSGuarded(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := tlsServer(t, ca, http.HandlerFunc(echo), "hs1.test")
	res := &transporttest.FakeResolver{}
	res.AddHost("hs1.test", "127.0.0.1")
	h := NewHTTPS(HTTPSOptions{Dialer: NewDialer(DialerOptions{Resolver: res, Logger: quietLogger()}), Roots: ca.Pool()})
	_, _, err := get(t, h, Route{Addr: "hs1.test:" + port(t, srv.Listener.Addr()), TLSName: "hs1.test", Host: "hs1.test"}, "/")
	wantRefused(t, err)
}

func TestHTTPSRouteErrors(t *testing.T) {
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(nil)})
	for _, route := range []Route{
		{Addr: "hs1.test:8448", TLSName: "hs1.test"},      // no Host
		{Addr: "hs1.test:8448", Host: "hs1.test"},         // no TLS name, not an IP
		{Addr: "hs1.test", TLSName: "", Host: "hs1.test"}, // no port
	} {
		if _, _, err := get(t, h, route, "/"); err == nil {
			t.Errorf("route %+v: no error", route)
		}
	}
}

func TestHTTPSBodyLimit(t *testing.T) {
	const limit = 1000
	ca := transporttest.NewCA(t)
	srv := tlsServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Path) - 1 // "/xxxx" answers four bytes
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.Write([]byte(strings.Repeat("a", n)))
	}), "127.0.0.1")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(nil, "127.0.0.1"), Roots: ca.Pool(), MaxResponseBytes: limit})
	addr := srv.Listener.Addr().String()
	route := Route{Addr: addr, Host: addr}

	for _, query := range []string{"", "?chunked=1"} {
		_, body, err := get(t, h, route, "/"+strings.Repeat("x", limit)+query)
		if err != nil || len(body) != limit {
			t.Errorf("%q: body at the limit: %d bytes, %v", query, len(body), err)
		}
		_, _, err = get(t, h, route, "/"+strings.Repeat("x", limit+1)+query)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("%q: body over the limit: err = %v, want ErrBodyTooLarge", query, err)
		}
	}
}

// The least recently used route is evicted when MaxRoutes is reached, and
// its idle connection is closed.
func TestHTTPSPoolEviction(t *testing.T) {
	ca := transporttest.NewCA(t)
	hostOf := make(chan [2]string, 16) // remote address, Host
	closed := make(chan string, 16)    // remote address
	srv := tlsServerWith(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hostOf <- [2]string{r.RemoteAddr, r.Host}
	}), func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- c.RemoteAddr().String()
		}
	}, "127.0.0.1")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(nil, "127.0.0.1"), Roots: ca.Pool(), MaxRoutes: 2})
	addr := srv.Listener.Addr().String()
	remoteOf := make(map[string]string)
	for _, host := range []string{"a", "b", "a", "c"} {
		if _, _, err := get(t, h, Route{Addr: addr, Host: host}, "/"); err != nil {
			t.Fatalf("route %s: %v", host, err)
		}
		got := recv(t, hostOf)
		remoteOf[got[1]] = got[0]
	}
	if n := h.routes.len(); n != 2 {
		t.Errorf("routes held = %d, want 2", n)
	}
	// "b" was the least recently used when "c" came.
	if got := recv(t, closed); got != remoteOf["b"] {
		t.Errorf("closed connection %s, want b's %s (a: %s, c: %s)", got, remoteOf["b"], remoteOf["a"], remoteOf["c"])
	}
	// Routes still in the pool reuse their connection.
	if _, _, err := get(t, h, Route{Addr: addr, Host: "a"}, "/"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, hostOf); got[0] != remoteOf["a"] {
		t.Errorf("route a reconnected from %s, want its pooled connection %s", got[0], remoteOf["a"])
	}
}

// The roots loader runs once, on the first connection, and a loader error
// fails connections with it.
func TestHTTPSRootsLoadedOnFirstUse(t *testing.T) {
	ca := transporttest.NewCA(t)
	srv := tlsServer(t, ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }), "hs.test")
	calls := 0
	h := NewHTTPS(HTTPSOptions{
		Dialer:      NewDialer(DialerOptions{AllowPrivate: true}),
		RootsLoader: func() (*x509.CertPool, error) { calls++; return ca.Pool(), nil },
	})
	if calls != 0 {
		t.Fatal("roots loaded before any connection")
	}
	route := Route{Addr: srv.Listener.Addr().String(), TLSName: "hs.test", Host: "hs.test"}
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", "https://x/", nil)
		resp, err := h.RoundTrip(route, req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h.CloseIdleConnections()
	}
	if calls != 1 {
		t.Fatalf("loader ran %d times", calls)
	}
	bad := NewHTTPS(HTTPSOptions{
		Dialer:      NewDialer(DialerOptions{AllowPrivate: true}),
		RootsLoader: func() (*x509.CertPool, error) { return nil, errors.New("no roots here") },
	})
	req, _ := http.NewRequest("GET", "https://x/", nil)
	if _, err := bad.RoundTrip(route, req); err == nil || !strings.Contains(err.Error(), "no roots here") {
		t.Fatalf("loader error: %v", err)
	}
}
