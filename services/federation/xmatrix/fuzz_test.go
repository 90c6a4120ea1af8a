package xmatrix_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/http/httptest"
	"testing"

	"hearth/services/federation/xmatrix"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing/signingtest"
)

// FuzzParse: Parse never panics, and whatever it accepts and Format can
// write comes back unchanged through Parse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF..."`,
		`x-matrix  origin=a:1 , key = "ed25519:1",sig="a\"b",foo=bar`,
		"X-Matrix\torigin=\"a\",,key=k,signature=s\t",
		`X-Matrix origin="a\`,
		`X-Matrix origin="[::1]:8448",key="ed25519:1",sig="x+/="`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, err := xmatrix.Parse(h)
		if err != nil {
			if !errors.Is(err, xmatrix.ErrBadHeader) && !errors.Is(err, xmatrix.ErrMissing) {
				t.Fatalf("error %v wraps neither ErrBadHeader nor ErrMissing", err)
			}
			return
		}
		if p.Origin == "" || p.KeyID == "" || p.Sig == "" {
			t.Fatalf("accepted params with an empty required value: %+v", p)
		}
		out, err := xmatrix.Format(p)
		if err != nil {
			return // holds '"', '\' or a control character
		}
		back, err := xmatrix.Parse(out)
		if err != nil {
			t.Fatalf("Parse(Format(%+v)) = %v", p, err)
		}
		if back != p {
			t.Fatalf("round trip %+v -> %s -> %+v", p, out, back)
		}
	})
}

// FuzzVerify: Verify never panics on any header, target, method and body,
// and accepts only the request that was actually signed (the header may be
// written differently; method, target and the parsed body may not).
func FuzzVerify(f *testing.F) {
	k := signingtest.SpecKey(f)
	const uri = "/_matrix/federation/v1/send/1"
	body := []byte(`{"pdus":[]}`)
	h, err := xmatrix.Sign(k, "PUT", uri, "o.test", "d.test", body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(h, "PUT", uri, body)
	f.Add(h, "PUT", uri+"?a=b", body)
	f.Add(h, "GET", uri, []byte(nil))
	f.Add(`X-Matrix origin=o.test,key=ed25519:1,sig=AAAA`, "GET", "/x", []byte(`{}`))
	lookup := func(_ context.Context, server, keyID string) (ed25519.PublicKey, error) {
		if server == "o.test" && keyID == "ed25519:1" {
			return k.Public(), nil
		}
		return nil, errors.New("unknown")
	}
	want, err := xmatrix.SigningJSON("PUT", uri, "o.test", "d.test", body)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, method, target string, b []byte) {
		if target == "" || target[0] != '/' || len(method) == 0 || len(method) > 16 {
			return
		}
		for _, c := range []byte(method + target) {
			if c <= ' ' || c >= 0x7f {
				return
			}
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.RequestURI = target
		r.Header.Set("Authorization", header)
		origin, err := xmatrix.Verify(r, b, "d.test", lookup)
		if err != nil {
			return
		}
		got, err := xmatrix.SigningJSON(method, target, origin, "d.test", b)
		if err != nil {
			t.Fatalf("accepted a body SigningJSON refuses: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("accepted a request that was not signed: %s", got)
		}
		if _, err := cjson.Decode(b); len(b) > 0 && err != nil {
			t.Fatal("accepted a body that is not JSON")
		}
	})
}
