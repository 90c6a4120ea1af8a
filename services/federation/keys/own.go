package keys

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
	"hearth/services/matrix/signing"
)

// DefaultValidity is how long our published keys stay valid when the caller
// does not say. Seven days is the most other servers will honour anyway (the
// spec caps validity at now + 7 days), and the longest value spares small
// boxes on slow or intermittent links the most refetches.
const DefaultValidity = 7 * 24 * time.Hour

// OldKey is a key this server used to sign with, published in
// old_verify_keys so that events it signed stay verifiable.
type OldKey struct {
	ID        string            // "ed25519:<version>"
	Public    ed25519.PublicKey // verification key
	ExpiredTS int64             // ms since the epoch when we stopped using it
}

// OwnKeys builds the signed /_matrix/key/v2/server response for serverName:
// s as the only verify key, old as old_verify_keys, valid_until_ts at now +
// validity (DefaultValidity when zero or negative), self-signed with s.
func OwnKeys(serverName string, s Signer, old []OldKey, validity time.Duration, now time.Time) ([]byte, error) {
	obj, err := ownKeysObject(serverName, s, old, validity, now)
	if err != nil {
		return nil, err
	}
	return cjson.Encode(obj), nil
}

func ownKeysObject(serverName string, s Signer, old []OldKey, validity time.Duration, now time.Time) (cjson.Value, error) {
	if !ids.ValidServerName(serverName) {
		return cjson.Value{}, fmt.Errorf("keys: %q is not a valid server name", serverName)
	}
	if err := checkOwnKey(s.KeyID(), s.Public()); err != nil {
		return cjson.Value{}, err
	}
	if validity <= 0 {
		validity = DefaultValidity
	}
	verify := cjson.ObjectOf(cjson.M(s.KeyID(), cjson.ObjectOf(
		cjson.M("key", cjson.StrOf(signing.EncodeBase64(s.Public()))))))
	oldObj := cjson.EmptyObject()
	for _, k := range old {
		if err := checkOwnKey(k.ID, k.Public); err != nil {
			return cjson.Value{}, err
		}
		if k.ID == s.KeyID() || oldObj.Has(k.ID) {
			return cjson.Value{}, fmt.Errorf("keys: key ID %s listed twice", k.ID)
		}
		oldObj = oldObj.With(k.ID, cjson.ObjectOf(
			cjson.M("key", cjson.StrOf(signing.EncodeBase64(k.Public))),
			cjson.M("expired_ts", cjson.IntOf(k.ExpiredTS))))
	}
	obj := cjson.ObjectOf(
		cjson.M("server_name", cjson.StrOf(serverName)),
		cjson.M("verify_keys", verify),
		cjson.M("old_verify_keys", oldObj),
		cjson.M("valid_until_ts", cjson.IntOf(now.Add(validity).UnixMilli())),
	)
	return SignJSON(obj, serverName, s)
}

func checkOwnKey(id string, pub ed25519.PublicKey) error {
	kid, err := ids.ParseKeyID(id)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if kid.Algorithm != signing.AlgEd25519 {
		return fmt.Errorf("keys: key %s is not ed25519", id)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("keys: key %s has a %d-byte public key", id, len(pub))
	}
	return nil
}
