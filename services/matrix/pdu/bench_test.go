package pdu_test

import (
	"crypto/ed25519"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

func BenchmarkParseAndVerifyEvent(b *testing.B) {
	k := specKey(b)
	v := pdu.MustVersion("12")
	create := buildCreate(b, v, k)
	ev, err := v.Build(pdu.Proto{
		Type: "m.room.message", Sender: "@u:example.com", RoomID: create.RoomID(),
		Content:    cjson.MustFromGo(map[string]any{"body": "hello there", "msgtype": "m.text"}),
		PrevEvents: []string{"$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, AuthEvents: []string{"$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
		Depth: 10, OriginServerTS: 1700000000000,
	}, "example.com", k)
	if err != nil {
		b.Fatal(err)
	}
	raw := ev.JSON()
	lookup := func(string, string) (ed25519.PublicKey, bool) { return k.Public(), true }
	b.ReportAllocs()
	for b.Loop() {
		e, err := pdu.Parse(v, raw)
		if err != nil {
			b.Fatal(err)
		}
		if !e.ContentHashOK() {
			b.Fatal("hash")
		}
		if err := pdu.VerifySignatures(e, lookup); err != nil {
			b.Fatal(err)
		}
	}
}
