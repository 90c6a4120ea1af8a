package keys

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
	"hearth/services/matrix/signing"
)

const (
	// MaxResponseSize bounds a /_matrix/key/v2/server response. A real one
	// is under 1 KiB.
	MaxResponseSize = 64 << 10
	// MaxKeys bounds the entries of verify_keys and old_verify_keys together.
	MaxKeys = 32
)

// errBadResponse marks a key response that is malformed, not for the server
// asked about, or not signed by the keys it lists.
var errBadResponse = errors.New("keys: bad server key response")

// serverKeys is a checked /_matrix/key/v2/server response.
type serverKeys struct {
	obj        cjson.Value // the whole response
	validUntil int64       // valid_until_ts as published
	verify     map[string]ed25519.PublicKey
	old        map[string]oldKey
}

type oldKey struct {
	pub       ed25519.PublicKey
	expiredTS int64
}

// parseServerKeys decodes and checks a key response from server: size and
// key-count limits, server_name equal to server, well-formed ed25519 keys,
// and a valid signature by every ed25519 verify key. Entries with key IDs
// that are not ed25519 or not well formed are skipped (they still count
// towards MaxKeys).
func parseServerKeys(body []byte, server string) (serverKeys, error) {
	if len(body) > MaxResponseSize {
		return serverKeys{}, fmt.Errorf("%w: larger than %d bytes", errBadResponse, MaxResponseSize)
	}
	obj, err := cjson.DecodeObject(body)
	if err != nil {
		return serverKeys{}, fmt.Errorf("%w: %w", errBadResponse, err)
	}
	return checkServerKeys(obj, server)
}

func checkServerKeys(obj cjson.Value, server string) (serverKeys, error) {
	bad := func(format string, a ...any) (serverKeys, error) {
		return serverKeys{}, fmt.Errorf("%w from %s: %s", errBadResponse, server, fmt.Sprintf(format, a...))
	}
	if name, _ := obj.Get("server_name").Str(); name != server {
		return bad("server_name is not %q", server)
	}
	vu, ok := obj.Get("valid_until_ts").IntValue()
	if !ok || vu < 0 {
		return bad("valid_until_ts is missing or negative")
	}
	verifyObj, oldObj := obj.Get("verify_keys"), obj.Get("old_verify_keys")
	if verifyObj.Kind() != cjson.Object {
		return bad("verify_keys is not an object")
	}
	if oldObj.Exists() && oldObj.Kind() != cjson.Object {
		return bad("old_verify_keys is not an object")
	}
	if verifyObj.Len()+oldObj.Len() > MaxKeys {
		return bad("more than %d keys", MaxKeys)
	}
	sk := serverKeys{obj: obj, validUntil: vu, verify: map[string]ed25519.PublicKey{}, old: map[string]oldKey{}}
	for _, m := range verifyObj.Members() {
		if !isEd25519ID(m.Key) {
			continue
		}
		pub, err := publicKey(m.Value)
		if err != nil {
			return bad("verify key %s: %v", m.Key, err)
		}
		sk.verify[m.Key] = pub
	}
	if len(sk.verify) == 0 {
		return bad("no ed25519 verify keys")
	}
	for _, m := range oldObj.Members() {
		if !isEd25519ID(m.Key) {
			continue
		}
		if _, dup := sk.verify[m.Key]; dup {
			continue // current wins over old in the same response
		}
		pub, err := publicKey(m.Value)
		if err != nil {
			return bad("old verify key %s: %v", m.Key, err)
		}
		exp, ok := m.Value.Get("expired_ts").IntValue()
		if !ok {
			return bad("old verify key %s has no expired_ts", m.Key)
		}
		sk.old[m.Key] = oldKey{pub: pub, expiredTS: exp}
	}
	// Every verify key must have signed the response.
	msg := signing.SigningBytes(obj)
	sigs := obj.Path("signatures", server)
	for id, pub := range sk.verify {
		s, ok := sigs.Get(id).Str()
		if !ok {
			return bad("not signed by its verify key %s", id)
		}
		raw, err := signing.DecodeBase64(s)
		if err != nil || len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, raw) {
			return bad("signature by %s does not verify", id)
		}
	}
	return sk, nil
}

func isEd25519ID(id string) bool {
	kid, err := ids.ParseKeyID(id)
	return err == nil && kid.Algorithm == signing.AlgEd25519
}

func publicKey(v cjson.Value) (ed25519.PublicKey, error) {
	s, ok := v.Get("key").Str()
	if !ok {
		return nil, errors.New("no key")
	}
	raw, err := signing.DecodeBase64(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not a base64 ed25519 public key")
	}
	return ed25519.PublicKey(raw), nil
}
