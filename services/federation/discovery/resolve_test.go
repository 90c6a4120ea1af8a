package discovery

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"hearth/services/transport"
)

func TestResolveSteps(t *testing.T) {
	type setup func(n *testNet)
	json := func(host, body string) setup {
		return func(n *testNet) { n.serveJSON(host, body, "") }
	}
	srv := func(service, name, target string, port, prio, weight uint16) setup {
		return func(n *testNet) { n.dns.AddSRV(service, "tcp", name, target, port, prio, weight) }
	}
	status := func(host string, code int) setup {
		return func(n *testNet) {
			n.handle(host, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", code) })
		}
	}
	redirect := func(host, to string) setup {
		return func(n *testNet) {
			n.handle(host, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusMovedPermanently) })
		}
	}
	fallback := func(host string) []transport.Route { return []transport.Route{route(host+":8448", host, host)} }

	for _, tc := range []struct {
		name       string
		serverName string
		setup      []setup
		want       []transport.Route
	}{
		// Step 1: IP literals.
		{"ipv4", "1.2.3.4", nil, []transport.Route{route("1.2.3.4:8448", "", "1.2.3.4")}},
		{"ipv4 port", "1.2.3.4:1234", nil, []transport.Route{route("1.2.3.4:1234", "", "1.2.3.4:1234")}},
		{"ipv6", "[2001:db8::1]", nil, []transport.Route{route("[2001:db8::1]:8448", "", "[2001:db8::1]")}},
		{"ipv6 port", "[2001:db8::1]:99", nil, []transport.Route{route("[2001:db8::1]:99", "", "[2001:db8::1]:99")}},
		// Step 2: hostname with a port; no well-known, no SRV.
		{"host port", "hs.test:8449", []setup{json("hs.test", `{"m.server":"other.test:1"}`), srv("matrix-fed", "hs.test", "t.test.", 1, 0, 0)},
			[]transport.Route{route("hs.test:8449", "hs.test", "hs.test:8449")}},
		// Step 3.1: delegation to an IP literal.
		{"wk ipv4", "hs.test", []setup{json("hs.test", `{"m.server":"1.2.3.4"}`)},
			[]transport.Route{route("1.2.3.4:8448", "", "1.2.3.4")}},
		{"wk ipv6 port", "hs.test", []setup{json("hs.test", `{"m.server":"[2001:db8::2]:8443"}`)},
			[]transport.Route{route("[2001:db8::2]:8443", "", "[2001:db8::2]:8443")}},
		// Step 3.2: delegated hostname with a port; SRV is not consulted.
		{"wk host port", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test:9000"}`), srv("matrix-fed", "deleg.test", "t.test.", 1, 0, 0)},
			[]transport.Route{route("deleg.test:9000", "deleg.test", "deleg.test:9000")}},
		// Step 3.3: SRV on the delegated hostname; the certificate and Host
		// are the delegated hostname, not the target. Sorted by priority,
		// then heavier weight; "." and port 0 skipped; the legacy records
		// are not used when _matrix-fed has some.
		{"wk srv", "hs.test", []setup{
			json("hs.test", `{"m.server":"deleg.test"}`),
			srv("matrix-fed", "deleg.test", "t1.test.", 1001, 10, 5),
			srv("matrix-fed", "deleg.test", "t2.test.", 1002, 5, 0),
			srv("matrix-fed", "deleg.test", ".", 1003, 0, 0),
			srv("matrix-fed", "deleg.test", "t4.test.", 0, 0, 0),
			srv("matrix-fed", "deleg.test", "t5.test.", 1005, 10, 50),
			srv("matrix-fed", "deleg.test", "1.2.3.4", 1006, 0, 0),
			srv("matrix", "deleg.test", "legacy.test.", 1007, 0, 0),
		}, []transport.Route{
			route("t2.test.:1002", "deleg.test", "deleg.test"),
			route("t5.test.:1005", "deleg.test", "deleg.test"),
			route("t1.test.:1001", "deleg.test", "deleg.test"),
		}},
		// Step 3.4: the deprecated _matrix._tcp.
		{"wk legacy srv", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test"}`), srv("matrix", "deleg.test", "legacy.test", 1007, 0, 0)},
			[]transport.Route{route("legacy.test:1007", "deleg.test", "deleg.test")}},
		// Step 3.5: no SRV: the delegated hostname on 8448. SRV on the
		// original hostname does not matter once delegated.
		{"wk no srv", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test", "other": 1}`), srv("matrix-fed", "hs.test", "t.test", 1, 0, 0)},
			fallback("deleg.test")},
		{"wk srv dot only", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test"}`), srv("matrix-fed", "deleg.test", ".", 0, 0, 0)},
			fallback("deleg.test")},
		// Redirects are followed.
		{"wk redirect", "hs.test", []setup{redirect("hs.test", "https://other.test/.well-known/matrix/server"), json("other.test", `{"m.server":"deleg.test:7"}`)},
			[]transport.Route{route("deleg.test:7", "deleg.test", "deleg.test:7")}},
		// Step 4: no valid well-known: SRV _matrix-fed on the hostname.
		{"404 srv", "hs.test", []setup{status("hs.test", 404), srv("matrix-fed", "hs.test", "t.test.", 443, 0, 0), srv("matrix", "hs.test", "legacy.test.", 1, 0, 0)},
			[]transport.Route{route("t.test.:443", "hs.test", "hs.test")}},
		// Step 5: the deprecated _matrix._tcp on the hostname.
		{"bad json legacy srv", "hs.test", []setup{json("hs.test", `{"m.server":`), srv("matrix", "hs.test", "legacy.test.", 1, 0, 0)},
			[]transport.Route{route("legacy.test.:1", "hs.test", "hs.test")}},
		// Step 6: the hostname on 8448, for every kind of well-known failure.
		{"unreachable", "hs.test", nil, fallback("hs.test")},
		{"500", "hs.test", []setup{status("hs.test", 500)}, fallback("hs.test")},
		{"no m.server", "hs.test", []setup{json("hs.test", `{"m.servers":"deleg.test"}`)}, fallback("hs.test")},
		{"m.server case", "hs.test", []setup{json("hs.test", `{"M.Server":"deleg.test"}`)}, fallback("hs.test")},
		{"m.server number", "hs.test", []setup{json("hs.test", `{"m.server":8448}`)}, fallback("hs.test")},
		{"m.server null", "hs.test", []setup{json("hs.test", `{"m.server":null}`)}, fallback("hs.test")},
		{"m.server bad", "hs.test", []setup{json("hs.test", `{"m.server":"deleg test"}`)}, fallback("hs.test")},
		{"m.server port 0", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test:0"}`)}, fallback("hs.test")},
		{"m.server url", "hs.test", []setup{json("hs.test", `{"m.server":"https://deleg.test"}`)}, fallback("hs.test")},
		{"array", "hs.test", []setup{json("hs.test", `["deleg.test"]`)}, fallback("hs.test")},
		{"too big", "hs.test", []setup{json("hs.test", `{"m.server":"deleg.test","pad":"`+strings.Repeat("x", 64<<10)+`"}`)}, fallback("hs.test")},
		{"redirect loop", "hs.test", []setup{redirect("hs.test", "https://hs.test/.well-known/matrix/server")}, fallback("hs.test")},
		{"redirect to unreachable", "hs.test", []setup{redirect("hs.test", "https://gone.test/.well-known/matrix/server")}, fallback("hs.test")},
		// A certificate not valid for the hostname is a failure too.
		{"wrong cert", "hs.example", []setup{json("hs.example", `{"m.server":"deleg.test"}`)}, fallback("hs.example")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNet(t)
			for _, s := range tc.setup {
				s(n)
			}
			got := n.resolve(tc.serverName)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Resolve(%q)\n got %s\nwant %s", tc.serverName, routesString(got), routesString(tc.want))
			}
		})
	}
}

// Steps 1 and 2 and invalid names make no DNS or HTTP request.
func TestResolveNoLookups(t *testing.T) {
	n := newTestNet(t)
	n.serveJSON("hs.test", `{"m.server":"deleg.test"}`, "")
	for _, name := range []string{"1.2.3.4", "[::1]:8", "hs.test:8448"} {
		n.resolve(name)
	}
	for _, name := range []string{"", "hs.test:", "hs.test:0", "hs.test:65536", "hs test", "hs.test:8:8",
		"[::1", "[1.2.3.4]", "01.2.3.4", "hs.test/path", "@user:hs.test", strings.Repeat("a", 300)} {
		if routes, err := n.res.Resolve(context.Background(), name); err == nil {
			t.Errorf("Resolve(%q) = %s, want an error", name, routesString(routes))
		}
	}
	if q := n.dns.Queries(); len(q) != 0 {
		t.Errorf("DNS queries: %v", q)
	}
	if h := n.hitsFor("hs.test"); h != 0 {
		t.Errorf("well-known requests: %d", h)
	}
}

func TestResolveCancelled(t *testing.T) {
	n := newTestNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.res.Resolve(ctx, "hs.test"); err == nil {
		t.Error("Resolve with a cancelled context: no error")
	}
}
