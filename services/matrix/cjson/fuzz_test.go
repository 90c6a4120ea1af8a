package cjson_test

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"

	"hearth/services/matrix/cjson"
)

// FuzzDecode: decoding never panics; whatever decodes re-encodes to valid
// UTF-8 canonical JSON that decodes to the same value and is a fixed point.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":"2","a":"1"}`, `{"a":-0,"b":1e10}`, `[1,"\u65E5",null,true]`,
		`"\ud83d\ude00"`, `{"a":{"b":[{"c":"\u0000"}]}}`, `1.5`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := cjson.Decode(data)
		if err != nil {
			if !errors.Is(err, cjson.ErrNotJSON) && !errors.Is(err, cjson.ErrBadJSON) {
				t.Fatalf("error of unknown class: %v", err)
			}
			return
		}
		out := cjson.Encode(v)
		if !utf8.Valid(out) {
			t.Fatalf("encoding is not UTF-8: %q", out)
		}
		w, err := cjson.Decode(out)
		if err != nil {
			t.Fatalf("canonical output does not decode: %q: %v", out, err)
		}
		if !w.Equal(v) {
			t.Fatalf("value changed through encoding: %q", out)
		}
		if again := cjson.Encode(w); !bytes.Equal(again, out) {
			t.Fatalf("canonical form is not a fixed point: %q vs %q", out, again)
		}
	})
}

// FuzzEncodeStrings: any Go string (even invalid UTF-8) encodes to JSON that
// decodes back to the same string, made valid.
func FuzzEncodeStrings(f *testing.F) {
	for _, s := range []string{"", "a", "\x00\x1f\"\\", "日本語", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		obj := cjson.ObjectOf(cjson.M(s, cjson.StrOf(s)))
		out := cjson.Encode(obj)
		back, err := cjson.Decode(out)
		if err != nil {
			t.Fatalf("encoding of %q does not decode: %q: %v", s, out, err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("encoding of %q is not UTF-8: %q", s, out)
		}
		if utf8.ValidString(s) {
			if got, _ := back.Get(s).Str(); got != s {
				t.Fatalf("string changed: %q -> %q", s, got)
			}
		}
	})
}
