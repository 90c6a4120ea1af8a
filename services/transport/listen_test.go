package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/services/transport/transporttest"
)

func TestListenTLSServesHTTP2AndHTTP1(t *testing.T) {
	ca := transporttest.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := transporttest.WriteCert(t, dir, "hs1", ca.Issue(t, "hs1.test"))
	l, err := ListenTLS("127.0.0.1:0", certFile, keyFile)
	if err != nil {
		t.Fatalf("ListenTLS: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(echo)}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	res := &transporttest.FakeResolver{}
	res.AddHost("hs1.test", "127.0.0.1")
	h := NewHTTPS(HTTPSOptions{Dialer: testDialer(res, "127.0.0.1"), Roots: ca.Pool()})
	route := Route{Addr: "hs1.test:" + port(t, l.Addr()), TLSName: "hs1.test", Host: "hs1.test"}
	_, body, err := get(t, h, route, "/")
	if err != nil || !strings.Contains(body, "proto=HTTP/2.0") {
		t.Errorf("h2: %q, %v", body, err)
	}

	// A client that only speaks HTTP/1.1, and one that offers TLS 1.1 only.
	for _, tc := range []struct {
		cfg     *tls.Config
		wantErr bool
	}{
		{&tls.Config{RootCAs: ca.Pool(), ServerName: "hs1.test", NextProtos: []string{"http/1.1"}}, false},
		{&tls.Config{RootCAs: ca.Pool(), ServerName: "hs1.test", MaxVersion: tls.VersionTLS11}, true},
	} {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc.cfg}}
		resp, err := c.Get("https://" + l.Addr().String() + "/")
		if tc.wantErr {
			if err == nil {
				resp.Body.Close()
				t.Error("TLS 1.1 client: connected")
			}
			continue
		}
		if err != nil {
			t.Fatalf("HTTP/1.1 client: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "proto=HTTP/1.1") {
			t.Errorf("HTTP/1.1 client got %q", b)
		}
	}
}

func TestListenTLSBadFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := ListenTLS("127.0.0.1:0", bad, bad); err == nil {
		l.Close()
		t.Fatal("ListenTLS with a bad key pair: no error")
	} else if !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name the file", err)
	}
	if _, err := ListenTLS("127.0.0.1:0", filepath.Join(dir, "missing"), bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestCertPool(t *testing.T) {
	ca := transporttest.NewCA(t)
	dir := t.TempDir()
	caFile := ca.WriteFiles(t, dir)
	pool, err := CertPool([]string{caFile})
	if err != nil {
		t.Fatalf("CertPool: %v", err)
	}
	leaf := ca.Issue(t, "hs1.test").Leaf
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "hs1.test"}); err != nil {
		t.Errorf("certificate from the extra CA does not verify: %v", err)
	}

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{
		write("empty.pem", ""),
		write("key-only.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
		write("corrupt.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		filepath.Join(dir, "missing.pem"),
	} {
		_, err := CertPool([]string{caFile, name})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("CertPool with %s: err = %v, want an error naming the file", filepath.Base(name), err)
		}
	}
}
