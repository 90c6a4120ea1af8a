package xmatrix_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/signing"
	"hearth/services/matrix/signing/signingtest"
)

const (
	us    = "dest.test"
	peer  = "origin.test"
	other = "other.test"
)

// world is the receiving server: a loopback HTTP server whose handler runs
// Verify and reports the result, and the keys it knows.
type world struct {
	srv     *httptest.Server
	results chan result
	keys    map[string]ed25519.PublicKey // "server|keyID"
	peerKey signing.Key
	peerK2  signing.Key
	otherK  signing.Key
}

type result struct {
	origin string
	err    error
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		results: make(chan result, 1),
		peerKey: signingtest.SpecKey(t),
		peerK2:  keyFromByte(t, "ed25519:two", 2),
		otherK:  keyFromByte(t, "ed25519:1", 3),
	}
	w.keys = map[string]ed25519.PublicKey{
		peer + "|ed25519:1":   w.peerKey.Public(),
		peer + "|ed25519:two": w.peerK2.Public(),
		other + "|ed25519:1":  w.otherK.Public(),
	}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.results <- result{err: err}
			return
		}
		origin, err := xmatrix.Verify(r, body, us, w.lookup)
		w.results <- result{origin, err}
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func keyFromByte(t *testing.T, id string, b byte) signing.Key {
	t.Helper()
	k, err := signing.KeyFromSeed(id, bytes.Repeat([]byte{b}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (w *world) lookup(_ context.Context, server, keyID string) (ed25519.PublicKey, error) {
	if k, ok := w.keys[server+"|"+keyID]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %s %s", server, keyID)
}

// send makes a real request with the given Authorization headers.
func (w *world) send(t *testing.T, method, uri string, body []byte, auth ...string) result {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, w.srv.URL+uri, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-w.results
}

func sign(t *testing.T, k signing.Key, method, uri, origin, dest string, body []byte) string {
	t.Helper()
	h, err := xmatrix.Sign(k, method, uri, origin, dest, body)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifyGood(t *testing.T) {
	w := newWorld(t)
	body := []byte(`{"origin":"origin.test","pdus":[],"edus":[]}`)
	cases := []struct{ method, uri string }{
		{"PUT", "/_matrix/federation/v1/send/txn1"},
		{"GET", "/_matrix/federation/v1/state_ids/%21room%3Aorigin.test?event_id=%24ev"},
		{"GET", "/_matrix/federation/v1/query/profile?user_id=@a:origin.test&field=displayname"},
		{"GET", "/_matrix/federation/v1/make_join/!r:x/@u:y?ver=10&ver=11"},
	}
	for _, c := range cases {
		var b []byte
		if c.method == "PUT" {
			b = body
		}
		got := w.send(t, c.method, c.uri, b, sign(t, w.peerKey, c.method, c.uri, peer, us, b))
		if got.err != nil || got.origin != peer {
			t.Errorf("%s %s: origin %q, err %v", c.method, c.uri, got.origin, got.err)
		}
	}
}

func TestVerifyBodyReformatted(t *testing.T) {
	// The signature covers the parsed body, so whitespace and key order in
	// the bytes on the wire do not matter.
	w := newWorld(t)
	uri := "/_matrix/federation/v1/send/t"
	h := sign(t, w.peerKey, "PUT", uri, peer, us, []byte(`{"a":1,"b":[true]}`))
	got := w.send(t, "PUT", uri, []byte("{ \"b\" : [ true ],\n \"a\" : 1 }"), h)
	if got.err != nil {
		t.Fatal(got.err)
	}
}

func TestVerifyMissingDestination(t *testing.T) {
	w := newWorld(t)
	uri := "/_matrix/federation/v1/version"
	p, err := xmatrix.Parse(sign(t, w.peerKey, "GET", uri, peer, us, nil))
	if err != nil {
		t.Fatal(err)
	}
	p.Destination = ""
	h, err := xmatrix.Format(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.send(t, "GET", uri, nil, h); got.err != nil || got.origin != peer {
		t.Fatalf("origin %q, err %v", got.origin, got.err)
	}
}

func TestVerifyTolerantHeaderForm(t *testing.T) {
	w := newWorld(t)
	uri := "/_matrix/federation/v1/event/%24abc"
	p, err := xmatrix.Parse(sign(t, w.peerKey, "GET", uri, peer, us, nil))
	if err != nil {
		t.Fatal(err)
	}
	h := fmt.Sprintf("x-matrix  SIG=%s , Key = %s,\tDestination=%q,origin=%s,extra=\"1\"", p.Sig, p.KeyID, p.Destination, p.Origin)
	if got := w.send(t, "GET", uri, nil, h); got.err != nil {
		t.Fatalf("header %s: %v", h, got.err)
	}
}

func TestVerifyRejects(t *testing.T) {
	w := newWorld(t)
	uri := "/_matrix/federation/v1/send/txn1"
	body := []byte(`{"pdus":[]}`)
	good := sign(t, w.peerKey, "PUT", uri, peer, us, body)
	gp, err := xmatrix.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	withParams := func(f func(*xmatrix.Params)) string {
		p := gp
		f(&p)
		h, err := xmatrix.Format(p)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cases := []struct {
		name   string
		method string
		uri    string
		body   []byte
		auth   []string
		want   error
	}{
		{"no header", "PUT", uri, body, nil, xmatrix.ErrMissing},
		{"other scheme", "PUT", uri, body, []string{"Bearer syt_abc"}, xmatrix.ErrMissing},
		{"malformed", "PUT", uri, body, []string{`X-Matrix origin="origin.test`}, xmatrix.ErrBadHeader},
		{"wrong destination", "PUT", uri, body,
			[]string{sign(t, w.peerKey, "PUT", uri, peer, "elsewhere.test", body)}, xmatrix.ErrWrongDestination},
		{"tampered method", "POST", uri, body, []string{good}, xmatrix.ErrBadSignature},
		{"tampered uri", "PUT", uri + "2", body, []string{good}, xmatrix.ErrBadSignature},
		{"tampered query", "PUT", uri + "?x=1", body, []string{good}, xmatrix.ErrBadSignature},
		{"tampered body", "PUT", uri, []byte(`{"pdus":[1]}`), []string{good}, xmatrix.ErrBadSignature},
		{"body dropped", "PUT", uri, nil, []string{good}, xmatrix.ErrBadSignature},
		{"tampered origin", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.Origin = other })}, xmatrix.ErrBadSignature},
		{"key of another server", "PUT", uri, body,
			[]string{sign(t, w.otherK, "PUT", uri, peer, us, body)}, xmatrix.ErrBadSignature},
		{"other key id of origin", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.KeyID = "ed25519:two" })}, xmatrix.ErrBadSignature},
		{"unknown key", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.KeyID = "ed25519:nope" })}, xmatrix.ErrUnknownKey},
		{"invalid origin", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.Origin = "bad name!" })}, xmatrix.ErrBadHeader},
		{"invalid key id", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.KeyID = "ed25519:a-b" })}, xmatrix.ErrBadHeader},
		{"other algorithm", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.KeyID = "curve25519:1" })}, xmatrix.ErrBadHeader},
		{"sig not base64", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.Sig = "!!!" })}, xmatrix.ErrBadSignature},
		{"sig too short", "PUT", uri, body,
			[]string{withParams(func(p *xmatrix.Params) { p.Sig = p.Sig[:40] })}, xmatrix.ErrBadSignature},
		{"body not json", "PUT", uri, []byte(`{"pdus":[`), []string{good}, xmatrix.ErrBadContent},
		{"body with duplicate keys", "PUT", uri, []byte(`{"pdus":[],"pdus":[]}`), []string{good}, xmatrix.ErrBadContent},
		{"one good one bad", "PUT", uri, body,
			[]string{good, sign(t, w.peerK2, "PUT", uri+"x", peer, us, body)}, xmatrix.ErrBadSignature},
		{"two origins", "PUT", uri, body,
			[]string{good, sign(t, w.otherK, "PUT", uri, other, us, body)}, xmatrix.ErrBadHeader},
		{"too many headers", "PUT", uri, body, []string{good, good, good, good, good}, xmatrix.ErrBadHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := w.send(t, c.method, c.uri, c.body, c.auth...)
			if !errors.Is(got.err, c.want) {
				t.Fatalf("origin %q, err %v; want %v", got.origin, got.err, c.want)
			}
		})
	}
}

func TestVerifyTwoKeys(t *testing.T) {
	w := newWorld(t)
	uri := "/_matrix/federation/v1/send/t"
	body := []byte(`{}`)
	got := w.send(t, "PUT", uri, body,
		sign(t, w.peerKey, "PUT", uri, peer, us, body),
		"Bearer ignored",
		sign(t, w.peerK2, "PUT", uri, peer, us, body))
	if got.err != nil || got.origin != peer {
		t.Fatalf("origin %q, err %v", got.origin, got.err)
	}
}

// TestVerifyReplayOtherURI: a header captured from one request does not
// authenticate another.
func TestVerifyReplayOtherURI(t *testing.T) {
	w := newWorld(t)
	h := sign(t, w.peerKey, "GET", "/_matrix/federation/v1/event/%24a", peer, us, nil)
	if got := w.send(t, "GET", "/_matrix/federation/v1/event/%24a", nil, h); got.err != nil {
		t.Fatal(got.err)
	}
	for _, uri := range []string{
		"/_matrix/federation/v1/event/%24b",
		"/_matrix/federation/v1/state/%24a",
		"/_matrix/federation/v1/event/$a", // same path once decoded, but not what was signed
	} {
		if got := w.send(t, "GET", uri, nil, h); !errors.Is(got.err, xmatrix.ErrBadSignature) {
			t.Errorf("replay to %s: err %v, want ErrBadSignature", uri, got.err)
		}
	}
}

// TestVerifyRawRequestTarget sends a request target that net/url would
// render differently ('{' is re-escaped by URL.RequestURI): the signature
// is over the target as the sender wrote it.
func TestVerifyRawRequestTarget(t *testing.T) {
	w := newWorld(t)
	target := "/_matrix/federation/v1/query/x{y}?a=%7Bb"
	h := sign(t, w.peerKey, "GET", target, peer, us, nil)
	conn, err := net.Dial("tcp", w.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nConnection: close\r\n\r\n", target, us, h)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := <-w.results
	if got.err != nil {
		t.Fatalf("raw target: %v", got.err)
	}
}

func TestVerifyWithoutServerRequestURI(t *testing.T) {
	// A request built in process (no RequestURI) falls back to the URL.
	w := newWorld(t)
	uri := "/_matrix/federation/v1/version?x=%20"
	r := httptest.NewRequest("GET", "http://dest.test"+uri, nil)
	r.RequestURI = ""
	r.Header.Set("Authorization", sign(t, w.peerKey, "GET", uri, peer, us, nil))
	origin, err := xmatrix.Verify(r, nil, us, w.lookup)
	if err != nil || origin != peer {
		t.Fatalf("origin %q, err %v", origin, err)
	}
}
