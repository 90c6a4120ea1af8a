package auth

import (
	"strings"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
)

// identityKey signs third-party invites; its standard base64 public key holds
// a '+' or '/' so that its URL-safe form differs.
var identityKey = func() signing.Key {
	seed := make([]byte, 32)
	for i := 0; ; i++ {
		seed[0] = byte(i)
		k, err := signing.KeyFromSeed("ed25519:0", seed)
		if err != nil {
			panic(err)
		}
		if strings.ContainsAny(k.PublicBase64(), "+/") {
			return k
		}
	}
}()

var otherKey = mustKey("ed25519:9", "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA2")

// signedInvite is the identity server's signed object for mxid and token.
func signedInvite(t testing.TB, key signing.Key, fields obj) cjson.Value {
	s, err := signing.SignJSON(cjson.MustFromGo(fields), "id.example", key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withInvite adds alice's m.room.third_party_invite with token "tok" and the
// given key content.
func withInvite(r *room, keys obj) {
	c := obj{"display_name": "c...@example.org", "key_validity_url": "https://id.example/isvalid"}
	for k, x := range keys {
		c[k] = x
	}
	r.send("m.room.third_party_invite", sk("tok"), alice, c)
}

// tpInvite builds sender's invite of carol carrying signed.
func tpInvite(r *room, sender string, signed any) *pdu.Event {
	return r.member(sender, carol, "invite", obj{"third_party_invite": obj{"display_name": "c...", "signed": signed}})
}

func TestThirdPartyInvite(t *testing.T) {
	pub := obj{"public_key": identityKey.PublicBase64()}
	good := obj{"mxid": carol, "token": "tok"}
	invite := func(keys obj, sender string, fields obj, key signing.Key) func(r *room) *pdu.Event {
		return func(r *room) *pdu.Event {
			withInvite(r, keys)
			return tpInvite(r, sender, signedInvite(t, key, fields))
		}
	}
	runCases(t, []tc{
		{name: "5.4.1.7 accept: public_key", checkAll: true, setup: invite(pub, alice, good, identityKey)},
		{name: "5.4.1.7 accept: public_keys entry", setup: invite(obj{
			"public_key":  otherKey.PublicBase64(),
			"public_keys": []any{obj{"public_key": "not base64!"}, obj{"public_key": identityKey.PublicBase64()}},
		}, alice, good, identityKey)},
		{name: "5.4.1.7 accept: URL-safe public key", setup: invite(obj{
			"public_key": signing.EncodeBase64URL(identityKey.Public()),
		}, alice, good, identityKey)},
		{name: "5.4.1.7 accept: padded public key", setup: invite(obj{
			"public_key": identityKey.PublicBase64() + "=",
		}, alice, good, identityKey)},
		{name: "5.4.1.7 accept: skips 5.4.2 (inviter not joined)", setup: func(r *room) *pdu.Event {
			withInvite(r, pub)
			r.setMember(alice, alice, "leave")
			return tpInvite(r, alice, signedInvite(t, identityKey, good))
		}},
		{name: "5.4.1.8 reject: signed by another key", want: "5.4.1.8", setup: invite(pub, alice, good, otherKey)},
		{name: "5.4.1.8 reject: signed object altered", want: "5.4.1.8", setup: func(r *room) *pdu.Event {
			withInvite(r, pub)
			return tpInvite(r, alice, signedInvite(t, identityKey, good).With("extra", cjson.IntOf(1)))
		}},
		{name: "5.4.1.8 reject: no usable public key", want: "5.4.1.8", setup: invite(obj{"public_key": "AAAA"}, alice, good, identityKey)},
		{name: "5.4.1.1 reject: target banned", want: "5.4.1.1", setup: func(r *room) *pdu.Event {
			withInvite(r, pub)
			r.setMember(alice, carol, "ban")
			return tpInvite(r, alice, signedInvite(t, identityKey, good))
		}},
		{name: "5.4.1.2 reject: no signed", want: "5.4.1.2", setup: func(r *room) *pdu.Event {
			withInvite(r, pub)
			return r.member(alice, carol, "invite", obj{"third_party_invite": obj{"display_name": "c"}})
		}},
		{name: "5.4.1.2 reject: third_party_invite not an object", want: "5.4.1.2", setup: func(r *room) *pdu.Event {
			withInvite(r, pub)
			return r.member(alice, carol, "invite", obj{"third_party_invite": "tok"})
		}},
		{name: "5.4.1.3 reject: no token", want: "5.4.1.3", setup: invite(pub, alice, obj{"mxid": carol}, identityKey)},
		{name: "5.4.1.3 reject: mxid not a string", want: "5.4.1.3", setup: invite(pub, alice, obj{"mxid": 1, "token": "tok"}, identityKey)},
		{name: "5.4.1.4 reject: mxid is not the state key", want: "5.4.1.4",
			setup: invite(pub, alice, obj{"mxid": dave, "token": "tok"}, identityKey)},
		{name: "5.4.1.5 reject: no invite with the token", want: "5.4.1.5",
			setup: invite(pub, alice, obj{"mxid": carol, "token": "other"}, identityKey)},
		{name: "5.4.1.6 reject: sender did not send the third-party invite", want: "5.4.1.6",
			setup: invite(pub, bob, good, identityKey)},
	})
}
