package auth

import (
	"crypto/ed25519"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// Limits on the ed25519 work one third-party invite can cause: at most this
// many public keys of the m.room.third_party_invite event (public_key first,
// then public_keys in order) and this many signatures of the signed object
// (in canonical order of server name, then key ID) are tried. Real invites
// carry one or two of each; the limits keep a 64 KiB event from costing
// hundreds of thousands of verifications.
const (
	maxInviteKeys       = 16
	maxInviteSignatures = 16
)

// thirdPartyInvite applies rule 5.4.1 to an invite whose content has a
// third_party_invite property.
func (c *checker) thirdPartyInvite(target string, tpi cjson.Value) error {
	v := c.v
	if c.membership(target) == "ban" {
		return reject(v, "5.4.1.1", "target is banned")
	}
	signed := tpi.Get("signed")
	if !signed.Exists() {
		return reject(v, "5.4.1.2", "third_party_invite has no signed object")
	}
	mxid, okMXID := signed.Get("mxid").Str()
	token, okToken := signed.Get("token").Str()
	if !okMXID || !okToken {
		return reject(v, "5.4.1.3", "third_party_invite.signed needs string mxid and token")
	}
	if mxid != target {
		return reject(v, "5.4.1.4", "signed mxid %q is not the state key %q", mxid, target)
	}
	inv := c.state.Get("m.room.third_party_invite", token)
	if inv == nil {
		return reject(v, "5.4.1.5", "no m.room.third_party_invite with token %q", token)
	}
	if inv.Sender() != c.ev.Sender() {
		return reject(v, "5.4.1.6", "m.room.third_party_invite was sent by %s, not the sender", inv.Sender())
	}
	if signedByAny(signed, inviteKeys(inv.Content())) {
		return nil // 5.4.1.7
	}
	return reject(v, "5.4.1.8", "no signature in signed matches a public key of the m.room.third_party_invite")
}

// inviteKeys are the ed25519 public keys of m.room.third_party_invite
// content: public_key, then each public_keys[].public_key. The spec encodes
// them as unpadded base64 in the standard or URL-safe alphabet; padded input
// is accepted too. Entries that do not decode to a 32-byte key are skipped.
func inviteKeys(content cjson.Value) []ed25519.PublicKey {
	var keys []ed25519.PublicKey
	add := func(val cjson.Value) {
		s, ok := val.Str()
		if !ok || len(keys) >= maxInviteKeys {
			return
		}
		if k := decodeKey(s); k != nil {
			keys = append(keys, k)
		}
	}
	add(content.Get("public_key"))
	for _, it := range content.Get("public_keys").Items() {
		add(it.Get("public_key"))
	}
	return keys
}

func decodeKey(s string) ed25519.PublicKey {
	b, err := signing.DecodeBase64(s)
	if err != nil {
		b, err = signing.DecodeBase64URL(s)
	}
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil
	}
	return ed25519.PublicKey(b)
}

// signedByAny reports whether any signature in signed.signatures (whatever
// its server name and key ID) is a valid ed25519 signature of signed, per the
// spec's "Signing JSON", by any of keys.
func signedByAny(signed cjson.Value, keys []ed25519.PublicKey) bool {
	if signed.Kind() != cjson.Object || len(keys) == 0 {
		return false
	}
	msg := signing.SigningBytes(signed)
	tried := 0
	for _, server := range signed.Get("signatures").Members() {
		for _, sig := range server.Value.Members() {
			if tried >= maxInviteSignatures {
				return false
			}
			tried++
			s, ok := sig.Value.Str()
			if !ok {
				continue
			}
			raw, err := signing.DecodeBase64(s)
			if err != nil || len(raw) != ed25519.SignatureSize {
				continue
			}
			for _, k := range keys {
				if ed25519.Verify(k, msg, raw) {
					return true
				}
			}
		}
	}
	return false
}
