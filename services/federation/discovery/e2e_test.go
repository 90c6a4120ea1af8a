package discovery

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"hearth/services/transport"
	"hearth/services/transport/transporttest"
)

// A route found by SRV carries through the guarded transport: the dialler
// resolves the SRV target (with its trailing dot), and the certificate is
// checked for the server name, not the target.
func TestResolvedRouteWorksOverHTTPS(t *testing.T) {
	n := newTestNet(t)
	ca := transporttest.NewCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host+" "+r.TLS.ServerName)
	}))
	srv.TLS = transport.ServerTLSConfig(ca.Issue(t, "hs.test"))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, portText, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		t.Fatal(err)
	}

	n.dns.AddSRV("matrix-fed", "tcp", "hs.test", "box7.target.test.", uint16(port), 0, 0)
	n.dns.AddHost("box7.target.test", "127.0.0.1")
	routes := n.resolve("hs.test")

	h := transport.NewHTTPS(transport.HTTPSOptions{
		Dialer: transport.NewDialer(transport.DialerOptions{AllowPrivate: true, Resolver: n.dns}),
		Roots:  ca.Pool(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://x/_matrix/key/v2/server", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.RoundTrip(routes[0], req)
	if err != nil {
		t.Fatalf("RoundTrip(%s): %v", routesString(routes), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "hs.test hs.test" {
		t.Errorf("server saw Host and SNI %q, want hs.test for both", body)
	}
}
