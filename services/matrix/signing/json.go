package signing

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"hearth/services/matrix/cjson"
)

// maxSignaturesPerEntity bounds the work a hostile object can ask for.
const maxSignaturesPerEntity = 16

// SigningBytes is the canonical JSON that a signature covers: obj without
// "signatures" and "unsigned".
func SigningBytes(obj cjson.Value) []byte {
	return cjson.Encode(obj.Without("signatures", "unsigned"))
}

// SignJSON returns obj with a signature by entity's key added to its
// "signatures" (other signatures are kept; "unsigned" is kept but not signed).
func SignJSON(obj cjson.Value, entity string, key Key) (cjson.Value, error) {
	if obj.Kind() != cjson.Object {
		return cjson.Value{}, fmt.Errorf("signing: can only sign an object")
	}
	sig := key.Sign(SigningBytes(obj))
	return AddSignature(obj, entity, key.ID, EncodeBase64(sig)), nil
}

// AddSignature returns obj with signatures[entity][keyID] = sig.
func AddSignature(obj cjson.Value, entity, keyID, sig string) cjson.Value {
	sigs := obj.Get("signatures")
	if sigs.Kind() != cjson.Object {
		sigs = cjson.EmptyObject()
	}
	ent := sigs.Get(entity)
	if ent.Kind() != cjson.Object {
		ent = cjson.EmptyObject()
	}
	return obj.With("signatures", sigs.With(entity, ent.With(keyID, cjson.StrOf(sig))))
}

// VerifyJSON checks that entity signed obj (spec appendices, "Checking for a
// Signature"). Signatures with algorithms other than ed25519 are ignored, as
// are key IDs the lookup does not know; at least one known key must be used,
// and every signature made with a known key must verify.
func VerifyJSON(obj cjson.Value, entity string, lookup KeyLookup) error {
	sigs := obj.Path("signatures", entity)
	if sigs.Kind() != cjson.Object || sigs.Len() == 0 {
		return fmt.Errorf("%w %q", ErrNoSignature, entity)
	}
	var msg []byte
	checked := 0
	for i, m := range sigs.Members() {
		if i >= maxSignaturesPerEntity {
			break
		}
		if !strings.HasPrefix(m.Key, AlgEd25519+":") {
			continue
		}
		pub, ok := lookup(entity, m.Key)
		if !ok || len(pub) != ed25519.PublicKeySize {
			continue
		}
		s, ok := m.Value.Str()
		if !ok {
			return fmt.Errorf("%w: %s %s is not a string", ErrBadSignature, entity, m.Key)
		}
		raw, err := DecodeBase64(s)
		if err != nil || len(raw) != ed25519.SignatureSize {
			return fmt.Errorf("%w: %s %s is not a valid base64 signature", ErrBadSignature, entity, m.Key)
		}
		if msg == nil {
			msg = SigningBytes(obj)
		}
		if !ed25519.Verify(pub, msg, raw) {
			return fmt.Errorf("%w: %s %s", ErrBadSignature, entity, m.Key)
		}
		checked++
	}
	if checked == 0 {
		return fmt.Errorf("%w: %s", ErrUnknownKey, entity)
	}
	return nil
}

// KeyIDs lists the ed25519 key IDs entity signed obj with, for callers that
// must fetch keys before verifying.
func KeyIDs(obj cjson.Value, entity string) []string {
	var ids []string
	for i, m := range obj.Path("signatures", entity).Members() {
		if i >= maxSignaturesPerEntity {
			break
		}
		if strings.HasPrefix(m.Key, AlgEd25519+":") {
			ids = append(ids, m.Key)
		}
	}
	return ids
}
