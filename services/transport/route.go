package transport

import "net/http"

// Route says how to reach one federation endpoint, as worked out by server
// discovery (spec, "Resolving server names").
type Route struct {
	// Addr is the "host:port" to dial. The host may be a name; the guarded
	// dialer resolves it.
	Addr string
	// TLSName is the name sent as SNI and that the certificate must be
	// valid for. Empty means Addr's host is an IP literal: no SNI is sent
	// and the certificate must be valid for that IP address.
	TLSName string
	// Host is the HTTP Host header.
	Host string
}

// RoundTripper sends one request along a Route. The request's URL path and
// query, method, headers and body are used; its scheme, host and Host header
// are replaced by the Route's. The response body is closed by the caller.
//
// HTTPS (TLS over TCP) implements it; an HTTP/3 transport over WireGuard is
// meant to implement it too, so federation code depends only on this.
type RoundTripper interface {
	RoundTrip(route Route, req *http.Request) (*http.Response, error)
}
