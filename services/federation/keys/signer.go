package keys

import (
	"crypto/ed25519"
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// Signer is this server's signing key as the rest of the server sees it: an
// ID, the public half and a way to sign. The private half may live in a TPM
// and never be exposed, so nothing outside this package's adapter asks for it.
// Implementations must be safe for concurrent use.
type Signer interface {
	// KeyID is the key's ID, "ed25519:<version>".
	KeyID() string
	// Public is the ed25519 verification key.
	Public() ed25519.PublicKey
	// Sign returns the ed25519 signature of msg.
	Sign(msg []byte) []byte
}

// FromSigningKey adapts an in-memory signing key (tests, file-sealed keys).
func FromSigningKey(k signing.Key) Signer { return keySigner{k} }

type keySigner struct{ k signing.Key }

func (s keySigner) KeyID() string             { return s.k.ID }
func (s keySigner) Public() ed25519.PublicKey { return s.k.Public() }
func (s keySigner) Sign(msg []byte) []byte    { return s.k.Sign(msg) }

// SignJSON is signing.SignJSON for a Signer: it returns obj with
// signatures[entity][s.KeyID()] added, covering obj without "signatures" and
// "unsigned" (spec appendices, "Signing JSON").
func SignJSON(obj cjson.Value, entity string, s Signer) (cjson.Value, error) {
	if obj.Kind() != cjson.Object {
		return cjson.Value{}, fmt.Errorf("keys: can only sign an object")
	}
	sig := s.Sign(signing.SigningBytes(obj))
	return signing.AddSignature(obj, entity, s.KeyID(), signing.EncodeBase64(sig)), nil
}
