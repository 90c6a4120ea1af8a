// Package signingtest holds signing keys for tests: the spec's own test key
// (appendices, "Cryptographic Test Vectors"), so every package's tests sign
// with the key the spec's vectors use.
package signingtest

import (
	"testing"

	"hearth/services/matrix/signing"
)

// SpecSeed is the spec's SIGNING_KEY_SEED (unpadded base64).
const SpecSeed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"

// SpecKey is the spec's test key with key ID "ed25519:1".
func SpecKey(tb testing.TB) signing.Key {
	tb.Helper()
	seed, err := signing.DecodeBase64(SpecSeed)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := signing.KeyFromSeed("ed25519:1", seed)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
