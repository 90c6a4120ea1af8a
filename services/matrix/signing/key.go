package signing

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
)

// AlgEd25519 is the only signing algorithm Matrix uses.
const AlgEd25519 = "ed25519"

// Key is a named ed25519 signing key, e.g. ID "ed25519:a_1".
type Key struct {
	ID      string
	Private ed25519.PrivateKey
}

// KeyFromSeed builds a key from a 32-byte ed25519 seed.
func KeyFromSeed(id string, seed []byte) (Key, error) {
	if len(seed) != ed25519.SeedSize {
		return Key{}, fmt.Errorf("signing: seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	if !strings.HasPrefix(id, AlgEd25519+":") || len(id) == len(AlgEd25519)+1 {
		return Key{}, fmt.Errorf("signing: key id %q is not ed25519:<version>", id)
	}
	return Key{ID: id, Private: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the verification key.
func (k Key) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// PublicBase64 is the verification key as published in /_matrix/key/v2/server.
func (k Key) PublicBase64() string { return EncodeBase64(k.Public()) }

// Sign signs msg.
func (k Key) Sign(msg []byte) []byte { return ed25519.Sign(k.Private, msg) }

// KeyLookup finds the verification key of entity with the given key ID. It
// returns false when the key is unknown (or not valid for the use at hand:
// the caller's lookup decides validity periods).
type KeyLookup func(entity, keyID string) (ed25519.PublicKey, bool)

// ErrNoSignature means the object carries no usable signature of the entity.
var ErrNoSignature = errors.New("signing: no signature from entity")

// ErrBadSignature means a signature did not verify.
var ErrBadSignature = errors.New("signing: signature does not verify")

// ErrUnknownKey means no verification key could be found for any signature.
var ErrUnknownKey = errors.New("signing: no known key for signature")
