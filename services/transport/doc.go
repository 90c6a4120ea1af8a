// Package transport holds Hearth's listeners and the one guarded dialer that
// every outbound request goes through (federation, .well-known lookups, and
// later remote media).
//
// The guard exists because a homeserver is told where to connect by strangers:
// a server name in an event, an m.server delegation, an SRV target, a redirect.
// Any of them may point at the box's own loopback, the LAN behind it, or a
// cloud metadata address (SSRF; see CVE-2024-52594 and CVE-2021-21392 in
// notes/reliability.md). So the Dialer resolves names itself, keeps only
// public unicast addresses (IsPublic), connects to exactly the address it
// vetted (no second lookup an attacker's DNS could answer differently), and
// re-checks the address in the socket's Control hook just before connect.
//
// On top of the dialer sit two HTTP clients:
//
//   - HTTPS, a RoundTripper for federation: the caller says which address to
//     dial, which name the certificate must be valid for, and which Host
//     header to send (a Route, as produced by server discovery). One pooled
//     http.Transport is kept per Route. RoundTripper is the seam where an
//     HTTP/3-over-WireGuard implementation will slot in.
//   - HTTPS.Client, a plain *http.Client for URLs (.well-known), whose
//     redirects are limited to ten and to https.
//
// Listeners: ListenTLS and ServerTLSConfig (TLS 1.2 and later, h2 and
// http/1.1).
package transport
