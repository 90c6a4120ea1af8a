package keys

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"hearth/services/matrix/signing"
)

// FuzzParseServerKeys: parsing any response never panics, and whatever is
// accepted is within the limits, names the server asked about, and is
// signed by every verify key it yields.
func FuzzParseServerKeys(f *testing.F) {
	s := seedSigner(f, "ed25519:k", 1)
	good, err := OwnKeys("s.test", s, []OldKey{{ID: "ed25519:o", Public: s.Public(), ExpiredTS: 5}}, time.Hour, time.UnixMilli(1e12))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"server_name":"s.test","verify_keys":{},"valid_until_ts":1,"signatures":{}}`))
	f.Add([]byte(`{"server_name":"s.test","verify_keys":{"ed25519:a":{"key":"AAAA"}},"old_verify_keys":[],"valid_until_ts":-1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sk, err := parseServerKeys(body, "s.test")
		if err != nil {
			if !errors.Is(err, errBadResponse) {
				t.Fatalf("error %v does not wrap errBadResponse", err)
			}
			return
		}
		if len(sk.verify) == 0 || len(sk.verify)+len(sk.old) > MaxKeys || sk.validUntil < 0 {
			t.Fatalf("accepted out of limits: %d verify, %d old, valid_until %d", len(sk.verify), len(sk.old), sk.validUntil)
		}
		if name, _ := sk.obj.Get("server_name").Str(); name != "s.test" {
			t.Fatalf("accepted server_name %q", name)
		}
		msg := signing.SigningBytes(sk.obj)
		for id, pub := range sk.verify {
			raw, err := signing.DecodeBase64(sk.obj.Path("signatures", "s.test", id).StrOr(""))
			if err != nil || !ed25519.Verify(pub, msg, raw) {
				t.Fatalf("accepted verify key %s without its signature", id)
			}
		}
	})
}

// FuzzParseQuery: a notary query body never panics the parser, and what it
// accepts is within the limits.
func FuzzParseQuery(f *testing.F) {
	f.Add([]byte(`{"server_keys":{"a.test":{"ed25519:abc123":{"minimum_valid_until_ts":1234567890}}}}`))
	f.Add([]byte(`{"server_keys":{"a.test":{}}}`))
	f.Add([]byte(`{"server_keys":{}}`))
	f.Add([]byte(`{"server_keys":{"a.test":{"k":{"minimum_valid_until_ts":"x"}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		qs, err := parseQuery(body)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("error %v does not wrap ErrBadQuery", err)
			}
			return
		}
		if len(qs) > MaxQueryServers {
			t.Fatalf("accepted %d servers", len(qs))
		}
		for _, q := range qs {
			if len(q.keyIDs) > MaxKeys {
				t.Fatalf("accepted %d key IDs", len(q.keyIDs))
			}
		}
	})
}
