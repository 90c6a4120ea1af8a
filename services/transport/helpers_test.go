package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"hearth/services/transport/transporttest"
)

// quietLogger drops everything.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testDialer is a guarded dialer whose policy also allows the given
// loopback addresses, so tests can play "public" servers on 127.0.0.1 while
// everything else stays refused.
func testDialer(res *transporttest.FakeResolver, public ...string) *Dialer {
	d := NewDialer(DialerOptions{Resolver: res, Logger: quietLogger(), Timeout: 5 * time.Second})
	ok := make(map[netip.Addr]bool)
	for _, s := range public {
		ok[netip.MustParseAddr(s)] = true
	}
	d.allowed = func(a netip.Addr) bool { return ok[a] || IsPublic(a) }
	return d
}

// listen opens a TCP listener on ip that accepts and holds connections
// until the test ends.
func listen(t *testing.T, ip string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l
}

func port(t *testing.T, addr net.Addr) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRefused fails unless err is (or wraps) a *RefusedError.
func wantRefused(t *testing.T, err error) *RefusedError {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RefusedError", err)
	}
	return re
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tlsServer starts an HTTPS server (HTTP/2 offered) on 127.0.0.1 with a
// certificate from ca for names.
func tlsServer(t *testing.T, ca *transporttest.CA, h http.Handler, names ...string) *httptest.Server {
	t.Helper()
	return tlsServerWith(t, ca, h, nil, names...)
}

// tlsServerWith is tlsServer with a ConnState hook.
func tlsServerWith(t *testing.T, ca *transporttest.CA, h http.Handler, state func(net.Conn, http.ConnState), names ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = state
	srv.TLS = ServerTLSConfig(ca.Issue(t, names...))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// recv returns the next value from ch, failing the test if none comes
// within a generous bound (a hang guard, not a timing assertion).
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("nothing received")
		var zero T
		return zero
	}
}

// echo answers with the Host header, the SNI name and the protocol.
func echo(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "host=%s sni=%s proto=%s path=%s", r.Host, r.TLS.ServerName, r.Proto, r.URL.RequestURI())
}

// get sends a GET for path along route and returns the status and body.
func get(t *testing.T, h *HTTPS, route Route, path string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, "https://ignored.invalid"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.RoundTrip(route, req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}
