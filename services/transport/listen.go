package transport

import (
	"crypto/tls"
	"fmt"
	"net"
)

// ListenTLS listens on addr ("host:port") and serves TLS 1.2 or later with
// the certificate chain and key from the PEM files, offering h2 and
// http/1.1. Pass the listener to http.Server.Serve, which then speaks
// HTTP/2 to clients that choose it.
func ListenTLS(addr, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("transport: TLS key pair %q, %q: %w", certFile, keyFile, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	return tls.NewListener(l, ServerTLSConfig(cert)), nil
}

// ServerTLSConfig returns the server TLS config Hearth uses: the one
// certificate, TLS 1.2 or later, ALPN h2 then http/1.1.
func ServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}
