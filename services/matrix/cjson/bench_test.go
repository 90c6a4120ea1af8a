package cjson_test

import (
	"fmt"
	"strings"
	"testing"

	"hearth/services/matrix/cjson"
)

// bigEvent is an event of about 64 KiB: many content keys with text that
// needs some escaping, nested a few levels, as a large message would be.
func bigEvent() []byte {
	var sb strings.Builder
	sb.WriteString(`{"type":"m.room.message","room_id":"!r:example.com","sender":"@u:example.com","origin_server_ts":1700000000000,"depth":12,"prev_events":["$abc"],"auth_events":["$def"],"hashes":{"sha256":"x"},"signatures":{},"content":{`)
	for i := 0; sb.Len() < 64*1024-200; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"key_%05d":{"body":"line %d with \"quotes\", unicode 日本語 and a tab\t","n":%d}`, 999-i%1000, i, i)
	}
	sb.WriteString(`}}`)
	return []byte(sb.String())
}

func BenchmarkEncode64KiB(b *testing.B) {
	raw := bigEvent()
	v, err := cjson.Decode(raw)
	if err != nil {
		b.Fatal(err)
	}
	out := cjson.Encode(v)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	buf := make([]byte, 0, len(out))
	for b.Loop() {
		buf = cjson.AppendEncode(buf[:0], v)
	}
}

func BenchmarkDecode64KiB(b *testing.B) {
	raw := bigEvent()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cjson.Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalize64KiB(b *testing.B) {
	raw := bigEvent()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cjson.Canonicalize(raw); err != nil {
			b.Fatal(err)
		}
	}
}
