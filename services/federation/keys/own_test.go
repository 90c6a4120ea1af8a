package keys_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
	"hearth/services/matrix/signing/signingtest"
)

func TestOwnKeys(t *testing.T) {
	spec := signingtest.SpecKey(t)
	s := keys.FromSigningKey(spec)
	old := testKey(t, "ed25519:0ld", 5)
	now := time.UnixMilli(1_700_000_000_000)
	b, err := keys.OwnKeys("domain", s, []keys.OldKey{{ID: "ed25519:0ld", Public: old.Public(), ExpiredTS: 1_600_000_000_000}}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := cjson.DecodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(cjson.Encode(obj)) != string(b) {
		t.Fatal("response is not canonical JSON")
	}
	// The spec's test key, whose public half the notes derive.
	if k := obj.Path("verify_keys", "ed25519:1", "key").StrOr(""); k != "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI" {
		t.Fatalf("verify key = %q", k)
	}
	if k := obj.Path("old_verify_keys", "ed25519:0ld", "key").StrOr(""); k != signing.EncodeBase64(old.Public()) {
		t.Fatalf("old key = %q", k)
	}
	if ts, _ := obj.Path("old_verify_keys", "ed25519:0ld", "expired_ts").IntValue(); ts != 1_600_000_000_000 {
		t.Fatalf("expired_ts = %d", ts)
	}
	if ts, _ := obj.Get("valid_until_ts").IntValue(); ts != 1_700_003_600_000 {
		t.Fatalf("valid_until_ts = %d", ts)
	}
	if name := obj.Get("server_name").StrOr(""); name != "domain" {
		t.Fatalf("server_name = %q", name)
	}
	lookup := func(entity, id string) (ed25519.PublicKey, bool) {
		return spec.Public(), entity == "domain" && id == "ed25519:1"
	}
	if err := signing.VerifyJSON(obj, "domain", lookup); err != nil {
		t.Fatal(err)
	}
}

func TestOwnKeysDefaultValidity(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	b, err := keys.OwnKeys("domain", keys.FromSigningKey(signingtest.SpecKey(t)), nil, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := cjson.DecodeObject(b)
	if ts, _ := obj.Get("valid_until_ts").IntValue(); ts != now.Add(keys.DefaultValidity).UnixMilli() {
		t.Fatalf("valid_until_ts = %d", ts)
	}
	if obj.Get("old_verify_keys").Kind() != cjson.Object {
		t.Fatal("old_verify_keys missing")
	}
}

func TestOwnKeysRefuses(t *testing.T) {
	s := keys.FromSigningKey(signingtest.SpecKey(t))
	now := time.Now()
	pub := testKey(t, "ed25519:x", 5).Public()
	cases := map[string]func() ([]byte, error){
		"bad server name": func() ([]byte, error) { return keys.OwnKeys("a b", s, nil, 0, now) },
		"old key twice": func() ([]byte, error) {
			return keys.OwnKeys("d", s, []keys.OldKey{{ID: "ed25519:o", Public: pub}, {ID: "ed25519:o", Public: pub}}, 0, now)
		},
		"old key is current": func() ([]byte, error) {
			return keys.OwnKeys("d", s, []keys.OldKey{{ID: "ed25519:1", Public: pub}}, 0, now)
		},
		"old key not ed25519": func() ([]byte, error) {
			return keys.OwnKeys("d", s, []keys.OldKey{{ID: "rsa:o", Public: pub}}, 0, now)
		},
		"old key short": func() ([]byte, error) {
			return keys.OwnKeys("d", s, []keys.OldKey{{ID: "ed25519:o", Public: pub[:5]}}, 0, now)
		},
	}
	for name, f := range cases {
		if b, err := f(); err == nil {
			t.Errorf("%s: accepted: %s", name, b)
		}
	}
}

func testKey(t testing.TB, id string, seed byte) signing.Key {
	t.Helper()
	k, err := signing.KeyFromSeed(id, bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
