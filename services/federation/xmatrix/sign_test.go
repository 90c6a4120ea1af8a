package xmatrix_test

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
	"hearth/services/matrix/signing/signingtest"
)

func TestSigningJSON(t *testing.T) {
	got, err := xmatrix.SigningJSON("PUT", "/_matrix/federation/v1/send/1?x=y", "o.example", "d.example",
		[]byte(`{"pdus": [], "origin": "o.example", "n": 1e3}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"content":{"n":1000,"origin":"o.example","pdus":[]},"destination":"d.example","method":"PUT","origin":"o.example","uri":"/_matrix/federation/v1/send/1?x=y"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got, err = xmatrix.SigningJSON("GET", "/_matrix/federation/v1/version", "o.example", "d.example", nil)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"destination":"d.example","method":"GET","origin":"o.example","uri":"/_matrix/federation/v1/version"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSigningJSONBadContent(t *testing.T) {
	for _, body := range []string{`{"a":1,"a":2}`, `{"a":1.5,"a":2}`, `not json`, `{"a":`, `{"a":1} x`} {
		_, err := xmatrix.SigningJSON("PUT", "/x", "o", "d", []byte(body))
		if !errors.Is(err, xmatrix.ErrBadContent) {
			t.Errorf("%s: err = %v, want ErrBadContent", body, err)
		}
	}
	_, err := xmatrix.SigningJSON("PUT", "/x", "o", "d", []byte(`{"a":1,"a":2}`))
	if !errors.Is(err, cjson.ErrBadJSON) {
		t.Errorf("duplicate keys: err = %v, want it to wrap cjson.ErrBadJSON", err)
	}
}

// Client data in request bodies (to-device messages) may hold floats,
// which canonical JSON refuses; other servers sign them with the number
// text they send, so the signed object keeps the literal, in canonical
// key order.
func TestSigningJSONKeepsNumberLiterals(t *testing.T) {
	got, err := xmatrix.SigningJSON("PUT", "/x", "o", "d", []byte(`{"z": [1.5, 1e+20, 100.0], "a": {"y": -0.25, "b": "\u00e9<"}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"content":{"a":{"b":"é<","y":-0.25},"z":[1.5,1e+20,100.0]},"destination":"d","method":"PUT","origin":"o","uri":"/x"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestSignSpecKey checks Sign against an independent computation: the
// signature must be ed25519 over exactly the canonical object, with the
// spec's test key.
func TestSignSpecKey(t *testing.T) {
	k := signingtest.SpecKey(t)
	h, err := xmatrix.Sign(k, "POST", "/target", "origin.hs.example.com", "destination.hs.example.com", []byte(`{"b":2,"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := xmatrix.Parse(h)
	if err != nil {
		t.Fatal(err)
	}
	if p.Origin != "origin.hs.example.com" || p.Destination != "destination.hs.example.com" || p.KeyID != "ed25519:1" {
		t.Fatalf("params = %+v", p)
	}
	msg := `{"content":{"a":1,"b":2},"destination":"destination.hs.example.com","method":"POST","origin":"origin.hs.example.com","uri":"/target"}`
	sig, err := signing.DecodeBase64(p.Sig)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(k.Public(), []byte(msg), sig) {
		t.Fatal("signature is not over the canonical request object")
	}
	// The same object through signing.SignJSON gives the same signature.
	obj, err := cjson.DecodeObject([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signing.SignJSON(obj, "origin.hs.example.com", k)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := signed.Path("signatures", "origin.hs.example.com", "ed25519:1").Str(); s != p.Sig {
		t.Fatalf("sig %s differs from SignJSON's %s", p.Sig, s)
	}
}

func TestSignNeedsDestination(t *testing.T) {
	if _, err := xmatrix.Sign(signingtest.SpecKey(t), "GET", "/x", "o", "", nil); err == nil {
		t.Fatal("Sign without destination succeeded")
	}
}
