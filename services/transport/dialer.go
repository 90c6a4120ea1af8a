package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests inject transporttest.FakeResolver.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// DialerOptions configures a Dialer. The zero value is a production dialer:
// public addresses only, the system resolver, a 10 s connect timeout.
type DialerOptions struct {
	// AllowPrivate turns the guard off: every address may be dialled. For
	// tests on loopback and closed networks only.
	AllowPrivate bool
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds each connection attempt; 0 means 10 s.
	Timeout time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultDialTimeout = 10 * time.Second
	// maxAddrsPerHost bounds how many of a name's addresses are tried.
	maxAddrsPerHost = 8
)

// Dialer is the guarded dialer. See the package doc and DialContext.
type Dialer struct {
	resolver Resolver
	log      *slog.Logger
	// allowed is the address policy: IsPublic, or everything when
	// AllowPrivate is set. Tests in this package replace it.
	allowed func(netip.Addr) bool
	net     net.Dialer
}

// NewDialer returns a guarded dialer.
func NewDialer(o DialerOptions) *Dialer {
	d := &Dialer{resolver: o.Resolver, log: o.Logger, allowed: IsPublic}
	if d.resolver == nil {
		d.resolver = net.DefaultResolver
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if o.AllowPrivate {
		d.allowed = func(netip.Addr) bool { return true }
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	d.net = net.Dialer{Timeout: timeout, Control: d.control}
	return d
}

// RefusedError says that a host was not dialled because none of its
// addresses may be connected to. IP is the first refused address.
type RefusedError struct {
	Host string
	IP   netip.Addr
}

func (e *RefusedError) Error() string {
	if !e.IP.IsValid() {
		return fmt.Sprintf("transport: refusing to dial %q: not a plain host name or IP address", e.Host)
	}
	return fmt.Sprintf("transport: refusing to dial %q: %s is not a public address", e.Host, e.IP)
}

// DialContext connects to addr ("host:port") over TCP.
//
// It resolves the host itself (an IP literal stands for itself), drops every
// address the policy refuses, and dials the remaining ones in the
// resolver's order until one connects. A name with both public and private
// addresses is therefore reachable, but only ever at its public addresses;
// only when no address is left does it fail, with a *RefusedError. The
// connection goes to exactly the vetted address, never to a name that could
// resolve again, and the socket's Control hook checks it once more.
//
// Host names that look numeric but are not strict IP literals ("2130706433",
// "0177.0.0.1", "127.1", "0x7f.0.0.1") are refused outright: some resolvers
// read them as addresses.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("transport: dial %s %q: only tcp is supported", network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("transport: dial %q: %w", addr, err)
	}
	ips, err := d.vetted(ctx, network, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ip := range ips {
		conn, err := d.net.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("transport: dial %q: %w", addr, errors.Join(errs...))
}

// vetted returns the addresses of host that the policy allows and that fit
// the network, in the resolver's order.
func (d *Dialer) vetted(ctx context.Context, network, host string) ([]netip.Addr, error) {
	var candidates []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		candidates = []netip.Addr{ip}
	} else {
		if ambiguousNumeric(host) {
			return nil, &RefusedError{Host: host}
		}
		answers, err := d.resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("transport: resolve %q: %w", host, err)
		}
		for _, a := range answers {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			candidates = append(candidates, ip.WithZone(a.Zone))
		}
	}
	var (
		ok      []netip.Addr
		refused netip.Addr
	)
	for _, ip := range candidates {
		if !d.allowed(ip) {
			if !refused.IsValid() {
				refused = ip
			}
			d.log.Debug("transport: dropping non-public address", "host", host, "ip", ip)
			continue
		}
		ip = ip.Unmap()
		if network == "tcp4" && !ip.Is4() || network == "tcp6" && !ip.Is6() {
			continue
		}
		if len(ok) < maxAddrsPerHost {
			ok = append(ok, ip)
		}
	}
	if len(ok) > 0 {
		return ok, nil
	}
	if refused.IsValid() {
		return nil, &RefusedError{Host: host, IP: refused}
	}
	return nil, fmt.Errorf("transport: resolve %q: no usable %s address", host, network)
}

// control runs on the socket just before connect: the last word on where the
// connection goes, whatever path led there.
func (d *Dialer) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("transport: control %s %q: %w", network, address, err)
	}
	if !d.allowed(ap.Addr()) {
		return &RefusedError{Host: address, IP: ap.Addr()}
	}
	return nil
}

// ambiguousNumeric reports whether a host name that is not an IP literal has
// a last label made of digits or a hex number, i.e. it could be read as an
// IPv4 address in inet_aton's decimal, octal or hex forms. No top-level
// domain looks like that (RFC 3696 section 2).
func ambiguousNumeric(host string) bool {
	if host == "" {
		return true
	}
	if host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	last := host
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == '.' {
			last = host[i+1:]
			break
		}
	}
	if len(last) > 1 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return true
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}

// closeQuietly closes c, for error paths that already have an error to
// report.
func closeQuietly(c io.Closer) { _ = c.Close() }
