package transport

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"hearth/services/transport/transporttest"
)

func TestDialRefusesNonPublic(t *testing.T) {
	res := &transporttest.FakeResolver{}
	res.AddHost("loop.test", "127.0.0.1")
	res.AddHost("meta.test", "169.254.169.254")
	res.AddHost("lan.test", "192.168.1.10", "10.0.0.7")
	res.AddHost("mapped.test", "::ffff:127.0.0.1")
	res.AddHost("nat64.test", "64:ff9b::7f00:1")
	res.AddHost("sixtofour.test", "2002:c0a8:101::1")
	res.AddHost("teredo.test", "2001:0:4136:e378::1")
	res.AddHost("ula.test", "fd00::1")
	d := NewDialer(DialerOptions{Resolver: res, Logger: quietLogger()})
	l := listen(t, "127.0.0.1")
	p := port(t, l.Addr())

	for _, host := range []string{
		"loop.test", "LOOP.test.", "meta.test", "lan.test", "mapped.test", "nat64.test",
		"sixtofour.test", "teredo.test", "ula.test",
		"127.0.0.1", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::127.0.0.1", "0.0.0.0",
		"64:ff9b::127.0.0.1", "2002:7f00:1::1", "169.254.169.254", "fe80::1%lo",
		// Numeric forms some resolvers read as 127.0.0.1.
		"2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "0x7f000001", "017700000001",
		"127.0.0.1.", "",
	} {
		conn, err := d.DialContext(ctxT(t), "tcp", net.JoinHostPort(host, p))
		if err == nil {
			conn.Close()
			t.Errorf("dial %q: connected, want refused", host)
			continue
		}
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Errorf("dial %q: err = %v, want a *RefusedError", host, err)
		}
	}
}

func TestDialRefusedErrorNamesFirstAddress(t *testing.T) {
	res := &transporttest.FakeResolver{}
	res.AddHost("lan.test", "192.168.1.10", "10.0.0.7")
	d := NewDialer(DialerOptions{Resolver: res, Logger: quietLogger()})
	_, err := d.DialContext(ctxT(t), "tcp", "lan.test:8448")
	re := wantRefused(t, err)
	if re.Host != "lan.test" || re.IP != netip.MustParseAddr("192.168.1.10") {
		t.Errorf("RefusedError = %+v, want lan.test / 192.168.1.10", re)
	}
}

// A name with refused and allowed addresses is dialled at the allowed ones
// only. Both addresses have a live listener here, and the refused one comes
// first, so a dial to it would succeed and show up as the remote address.
func TestDialOnlyVettedAddresses(t *testing.T) {
	good := listen(t, "127.0.0.1")
	bad, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", port(t, good.Addr())))
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2 with the same port: %v", err)
	}
	defer bad.Close()
	res := &transporttest.FakeResolver{}
	res.AddHost("mixed.test", "127.0.0.2", "127.0.0.1")
	d := testDialer(res, "127.0.0.1")

	ips, err := d.vetted(ctxT(t), "tcp", "mixed.test")
	if err != nil || len(ips) != 1 || ips[0] != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("vetted = %v, %v; want [127.0.0.1]", ips, err)
	}
	conn, err := d.DialContext(ctxT(t), "tcp", net.JoinHostPort("mixed.test", port(t, good.Addr())))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if got := conn.RemoteAddr().String(); got != good.Addr().String() {
		t.Errorf("connected to %s, want %s", got, good.Addr())
	}
}

// The Control hook refuses even a connection that did not go through the
// vetting (here: the inner net.Dialer used directly).
func TestControlHookRefuses(t *testing.T) {
	l := listen(t, "127.0.0.1")
	d := NewDialer(DialerOptions{Logger: quietLogger()})
	conn, err := d.net.DialContext(ctxT(t), "tcp", l.Addr().String())
	if err == nil {
		conn.Close()
		t.Fatal("inner dial to loopback connected, want the Control hook to refuse")
	}
	re := wantRefused(t, err)
	if re.IP != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("RefusedError.IP = %s", re.IP)
	}
}

func TestDialAllowPrivate(t *testing.T) {
	l := listen(t, "127.0.0.1")
	res := &transporttest.FakeResolver{}
	res.AddHost("hs1.test", "127.0.0.1")
	d := NewDialer(DialerOptions{AllowPrivate: true, Resolver: res, Logger: quietLogger()})
	for _, host := range []string{"hs1.test", "127.0.0.1", "::ffff:127.0.0.1"} {
		conn, err := d.DialContext(ctxT(t), "tcp", net.JoinHostPort(host, port(t, l.Addr())))
		if err != nil {
			t.Errorf("dial %s: %v", host, err)
			continue
		}
		conn.Close()
	}
}

func TestDialErrors(t *testing.T) {
	res := &transporttest.FakeResolver{}
	res.AddHost("v6only.test", "::1")
	d := NewDialer(DialerOptions{AllowPrivate: true, Resolver: res, Logger: quietLogger()})
	for _, tc := range []struct{ network, addr string }{
		{"udp", "hs1.test:8448"},
		{"tcp", "no-port.test"},
		{"tcp", "unknown.test:8448"},
		{"tcp4", "v6only.test:8448"},
	} {
		conn, err := d.DialContext(ctxT(t), tc.network, tc.addr)
		if err == nil {
			conn.Close()
			t.Errorf("dial %s %s: no error", tc.network, tc.addr)
			continue
		}
		var re *RefusedError
		if errors.As(err, &re) {
			t.Errorf("dial %s %s: %v is a RefusedError, want another error", tc.network, tc.addr, err)
		}
	}
}

func TestAmbiguousNumeric(t *testing.T) {
	for host, want := range map[string]bool{
		"2130706433": true, "127.1": true, "0x7f.1": true, "a.0X1": true, "1.2.3.4.": true,
		"": true, ".": true, "hs1.test": false, "1.test": false, "example.com.": false,
		"0xdead.beef": false, "123.example": false,
	} {
		if got := ambiguousNumeric(host); got != want {
			t.Errorf("ambiguousNumeric(%q) = %v, want %v", host, got, want)
		}
	}
}
