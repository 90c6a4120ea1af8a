package discovery

import (
	"cmp"
	"context"
	"net"
	"slices"
	"strconv"

	"hearth/services/matrix/ids"
	"hearth/services/transport"
)

// maxSRVRoutes bounds the routes taken from one SRV answer.
const maxSRVRoutes = 16

// viaSRV resolves a hostname without a port: the targets of its
// _matrix-fed._tcp SRV records, else of its _matrix._tcp records, else the
// hostname itself on port 8448. The certificate is checked for the hostname
// and the Host header is the hostname, whatever the SRV targets are.
func (r *Resolver) viaSRV(ctx context.Context, hostname string) ([]transport.Route, error) {
	for _, service := range [...]string{"matrix-fed", "matrix"} {
		routes := r.lookupSRV(ctx, service, hostname)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(routes) > 0 {
			return routes, nil
		}
	}
	return []transport.Route{{
		Addr:    net.JoinHostPort(hostname, strconv.Itoa(defaultPort)),
		TLSName: hostname,
		Host:    hostname,
	}}, nil
}

// lookupSRV returns the routes of the usable _service._tcp.hostname
// records, ordered by priority, then heaviest weight first; none when the
// lookup fails.
func (r *Resolver) lookupSRV(ctx context.Context, service, hostname string) []transport.Route {
	_, recs, err := r.dns.LookupSRV(ctx, service, "tcp", hostname)
	if err != nil {
		r.log.Debug("discovery: SRV lookup", "service", service, "host", hostname, "err", err)
		// A resolver may return the well-formed records with an error
		// about malformed ones; those records are still good.
	}
	usable := make([]*net.SRV, 0, len(recs))
	for _, rec := range recs {
		if rec != nil && usableTarget(rec.Target) && rec.Port != 0 {
			usable = append(usable, rec)
		}
	}
	slices.SortStableFunc(usable, func(a, b *net.SRV) int {
		if c := cmp.Compare(a.Priority, b.Priority); c != 0 {
			return c
		}
		return cmp.Compare(b.Weight, a.Weight)
	})
	routes := make([]transport.Route, 0, min(len(usable), maxSRVRoutes))
	for _, rec := range usable[:min(len(usable), maxSRVRoutes)] {
		routes = append(routes, transport.Route{
			Addr:    net.JoinHostPort(rec.Target, strconv.Itoa(int(rec.Port))),
			TLSName: hostname,
			Host:    hostname,
		})
	}
	return routes
}

// usableTarget reports whether an SRV target is a host name (with or
// without the trailing root dot) and not the "no service" target ".".
func usableTarget(target string) bool {
	if target == "" || target == "." {
		return false
	}
	if target[len(target)-1] == '.' {
		target = target[:len(target)-1]
	}
	n, err := ids.ParseServerName(target)
	return err == nil && n.Kind == ids.HostDNS && n.Port == 0
}
