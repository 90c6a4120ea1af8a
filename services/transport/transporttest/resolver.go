package transporttest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// FakeResolver answers address and SRV lookups from tables. It satisfies
// transport.Resolver and discovery.DNS. Names match without regard to case
// or a trailing dot, as in DNS. The zero value is an empty resolver; it is
// safe for concurrent use.
type FakeResolver struct {
	mu      sync.Mutex
	hosts   map[string][]net.IPAddr
	srv     map[string][]*net.SRV
	queries []string
}

// AddHost makes host resolve to ips (IP literals; a bad one panics, as
// this is test setup). Repeated calls append.
func (r *FakeResolver) AddHost(host string, ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = make(map[string][]net.IPAddr)
	}
	k := canonical(host)
	for _, s := range ips {
		ip := netip.MustParseAddr(s)
		r.hosts[k] = append(r.hosts[k], net.IPAddr{IP: ip.AsSlice(), Zone: ip.Zone()})
	}
}

// AddSRV adds an SRV record for _service._proto.name, as LookupSRV would ask
// for it. A target of "." is the "no such service" answer.
func (r *FakeResolver) AddSRV(service, proto, name, target string, port, priority, weight uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		r.srv = make(map[string][]*net.SRV)
	}
	k := srvName(service, proto, name)
	r.srv[k] = append(r.srv[k], &net.SRV{Target: target, Port: port, Priority: priority, Weight: weight})
}

// LookupIPAddr returns the addresses added for host, or a not-found
// *net.DNSError.
func (r *FakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, "A "+host)
	addrs, ok := r.hosts[canonical(host)]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return append([]net.IPAddr(nil), addrs...), nil
}

// LookupSRV returns copies of the records added for _service._proto.name in
// the order added, or a not-found *net.DNSError. The returned name is the
// queried one, with a trailing dot.
func (r *FakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := srvName(service, proto, name)
	r.queries = append(r.queries, "SRV "+k)
	recs, ok := r.srv[k]
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: k, IsNotFound: true}
	}
	out := make([]*net.SRV, len(recs))
	for i, rec := range recs {
		c := *rec
		out[i] = &c
	}
	return k + ".", out, nil
}

// Queries returns the lookups made so far, in order, as "A host" and
// "SRV _service._proto.name".
func (r *FakeResolver) Queries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.queries...)
}

func srvName(service, proto, name string) string {
	if service == "" && proto == "" {
		return canonical(name)
	}
	return "_" + service + "._" + proto + "." + canonical(name)
}

func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}
