// Package discovery turns a Matrix server name into the routes to reach it:
// the address to dial, the name its certificate must be valid for, and the
// Host header (spec, server-server API, "Resolving server names";
// notes/matrix.md §3.3).
//
// Resolve follows the spec's steps in order:
//
//  1. An IP literal is dialled directly, on its port or 8448; the
//     certificate must be valid for the IP.
//  2. A hostname with a port is dialled on that port; the certificate must
//     be valid for the hostname.
//  3. Otherwise https://<hostname>/.well-known/matrix/server is fetched. If
//     it names a valid m.server, that delegated name is resolved with rules
//     3.1 to 3.5: an IP literal or a name with a port directly; else SRV
//     _matrix-fed._tcp, then the deprecated _matrix._tcp, then port 8448 —
//     the certificate checked for the delegated hostname, never for an SRV
//     target.
//  4. to 6. Without a valid well-known answer: SRV _matrix-fed._tcp and
//     _matrix._tcp on the hostname, then the hostname on port 8448, the
//     certificate checked for the hostname.
//
// Names are resolved to addresses later, by the guarded dialer in
// services/transport, so a route's Addr may hold a name.
//
// Choices the spec leaves open:
//
//   - Well-known answers are cached per hostname. A valid answer is kept
//     for its Cache-Control max-age, 24 hours when there is none, never more
//     than 48 hours and never less than 5 minutes (no-store and no-cache
//     mean 5 minutes: a server that forbids caching still costs at most one
//     request per five minutes). Anything else (network error, non-200,
//     body over 64 KiB, bad JSON, bad m.server) is a failure, kept for 2
//     minutes after the first failure in a row, doubling with each further
//     one, at most an hour; Cache-Control is ignored for failures.
//   - The cache holds at most MaxCacheEntries hostnames; when full, expired
//     entries go first, then the one closest to expiry.
//   - Concurrent resolutions of one hostname share one well-known request,
//     which runs to its own 5 second deadline even if the caller who
//     started it gives up.
//   - SRV records are ordered by priority, then by weight, heaviest first.
//     A record whose target is "." ("no such service", RFC 2782), or is not
//     a valid hostname, or has port 0, is skipped; a lookup that yields
//     nothing usable counts as "no SRV record" and resolution goes on to
//     the next step. SRV answers are not cached here.
package discovery
