package signing_test

import (
	"crypto/ed25519"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// FuzzVerifyJSON: verifying any object never panics and never accepts an
// object the key did not sign; a signed object always verifies.
func FuzzVerifyJSON(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}`))
	f.Add([]byte(`{"one":1,"two":"Two","signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}}}`))
	f.Add([]byte(`{"signatures":{"domain":{"ed25519:1":5,"curve:1":"x"}},"unsigned":{}}`))
	k := specKey(f)
	lookup := func(entity, id string) (ed25519.PublicKey, bool) {
		return k.Public(), entity == "domain" && id == "ed25519:1"
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := cjson.Decode(raw)
		if err != nil || obj.Kind() != cjson.Object {
			return
		}
		if signing.VerifyJSON(obj, "domain", lookup) == nil {
			// Accepted: the signature must really be over this object.
			sig, _ := obj.Path("signatures", "domain", "ed25519:1").Str()
			raw, _ := signing.DecodeBase64(sig)
			if !ed25519.Verify(k.Public(), signing.SigningBytes(obj), raw) {
				t.Fatal("accepted an object whose signature does not verify")
			}
		}
		signed, err := signing.SignJSON(obj, "domain", k)
		if err != nil {
			t.Fatal(err)
		}
		if err := signing.VerifyJSON(signed, "domain", lookup); err != nil {
			t.Fatalf("freshly signed object does not verify: %v", err)
		}
	})
}
