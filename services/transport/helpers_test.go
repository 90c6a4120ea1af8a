package transport

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
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
