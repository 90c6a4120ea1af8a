package signing_test

import (
	"crypto/ed25519"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

func BenchmarkVerifyJSON(b *testing.B) {
	k := specKey(b)
	obj := cjson.MustFromGo(map[string]any{
		"type": "m.room.message", "sender": "@u:example.com", "room_id": "!r:example.com",
		"content": map[string]any{"body": "hello", "msgtype": "m.text"}, "origin_server_ts": 1700000000000, "depth": 10,
	})
	signed, err := signing.SignJSON(obj, "example.com", k)
	if err != nil {
		b.Fatal(err)
	}
	lookup := func(string, string) (ed25519.PublicKey, bool) { return k.Public(), true }
	b.ReportAllocs()
	for b.Loop() {
		if err := signing.VerifyJSON(signed, "example.com", lookup); err != nil {
			b.Fatal(err)
		}
	}
}
