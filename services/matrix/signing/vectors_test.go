package signing_test

import (
	"crypto/ed25519"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
	"hearth/services/matrix/signing/signingtest"
)

// The spec's signing key (appendices, "Cryptographic Test Vectors").
func specKey(t testing.TB) signing.Key { return signingtest.SpecKey(t) }

func TestUnpaddedBase64Vectors(t *testing.T) {
	for in, want := range map[string]string{"": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"} {
		if got := signing.EncodeBase64([]byte(in)); got != want {
			t.Errorf("EncodeBase64(%q) = %q, want %q", in, got, want)
		}
		for _, enc := range []string{want, want + "=", want + "=="} {
			if len(enc)%4 != 0 && enc != want {
				continue
			}
			dec, err := signing.DecodeBase64(enc)
			if err != nil || string(dec) != in {
				t.Errorf("DecodeBase64(%q) = %q, %v; want %q", enc, dec, err, in)
			}
		}
	}
	if got := signing.EncodeBase64URL([]byte{0xfb, 0xff}); got != "-_8" {
		t.Errorf("EncodeBase64URL = %q, want -_8", got)
	}
}

func TestSpecJSONSigningVectors(t *testing.T) {
	k := specKey(t)
	if got := k.PublicBase64(); got != "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI" {
		t.Errorf("public key = %s", got)
	}
	cases := []struct{ in, sig string }{
		{`{}`, "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"},
		{`{"one": 1, "two": "Two"}`, "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"},
	}
	for _, c := range cases {
		obj, err := cjson.Decode([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		signed, err := signing.SignJSON(obj, "domain", k)
		if err != nil {
			t.Fatal(err)
		}
		if got := signed.Path("signatures", "domain", "ed25519:1").StrOr(""); got != c.sig {
			t.Errorf("sign %s = %s, want %s", c.in, got, c.sig)
		}
		lookup := func(entity, id string) (ed25519.PublicKey, bool) {
			return k.Public(), entity == "domain" && id == "ed25519:1"
		}
		if err := signing.VerifyJSON(signed, "domain", lookup); err != nil {
			t.Errorf("verify %s: %v", c.in, err)
		}
	}
	empty, _ := cjson.Decode([]byte(`{}`))
	signed, _ := signing.SignJSON(empty, "domain", k)
	want := `{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}`
	if got := signed.String(); got != want {
		t.Errorf("signed {} = %s\nwant %s", got, want)
	}
}
