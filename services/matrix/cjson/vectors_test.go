package cjson_test

import (
	"errors"
	"strings"
	"testing"

	"hearth/services/matrix/cjson"
)

// The spec's canonical JSON examples (appendices, "Canonical JSON").
func TestSpecCanonicalExamples(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{}`, `{}`},
		{`{"one": 1, "two": "Two"}`, `{"one":1,"two":"Two"}`},
		{`{"b": "2", "a": "1"}`, `{"a":"1","b":"2"}`},
		{`{"b":"2","a":"1"}`, `{"a":"1","b":"2"}`},
		{`{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {"medium": "email", "address": "john.doe@example.org"},
                {"medium": "msisdn", "address": "123456789"}
            ]
        }
    }
}`, `{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}`},
		{`{"a": "日本語"}`, `{"a":"日本語"}`},
		{`{"本": 2, "日": 1}`, `{"日":1,"本":2}`},
		{`{"a": "\u65E5"}`, `{"a":"日"}`},
		{`{"a": null}`, `{"a":null}`},
		{`{"a": -0, "b": 1e10}`, `{"a":0,"b":10000000000}`},
	}
	for _, c := range cases {
		got, err := cjson.Canonicalize([]byte(c.in))
		if err != nil {
			t.Errorf("Canonicalize(%s): %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("Canonicalize(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestEscapes(t *testing.T) {
	cases := []struct{ in, want string }{
		{`"a\/b"`, `"a/b"`},                          // never \/
		{`"\u0001\u001f"`, `"\u0001\u001f"`},         // lower-case hex
		{`"\u001F"`, `"\u001f"`},                     // normalised to lower case
		{`"\b\f\n\r\t"`, `"\b\f\n\r\t"`},             // short forms
		{`"\u0008"`, `"\b"`},                         // short form preferred
		{`"<>&\u2028\u2029"`, "\"<>&\u2028\u2029\""}, // no HTML escaping
		{`"\u007f"`, "\"\x7f\""},                     // DEL is not a control below U+0020
		{`"\ud83d\ude00"`, `"😀"`},                    // surrogate pair
		{`"quote\" backslash\\"`, `"quote\" backslash\\"`},
	}
	for _, c := range cases {
		got, err := cjson.Canonicalize([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("Canonicalize(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	ok := map[string]string{
		"0": "0", "-0": "0", "9007199254740991": "9007199254740991", "-9007199254740991": "-9007199254740991",
		"1.0": "1", "1.5e1": "15", "100e-2": "1", "0.0e99999999999": "0", "12E2": "1200",
	}
	for in, want := range ok {
		got, err := cjson.Canonicalize([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonicalize(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	bad := []string{"9007199254740992", "-9007199254740992", "1.5", "1e-1", "1e16", "99999999999999999999",
		"1e999999999", "0.1", "123456789012345678"}
	for _, in := range bad {
		_, err := cjson.Decode([]byte(in))
		if !errors.Is(err, cjson.ErrBadJSON) {
			t.Errorf("Decode(%s) = %v, want ErrBadJSON", in, err)
		}
	}
	notJSON := []string{"01", "+1", "1.", ".5", "1e", "-", "NaN", "Infinity", "0x10", "--1"}
	for _, in := range notJSON {
		_, err := cjson.Decode([]byte(in))
		if !errors.Is(err, cjson.ErrNotJSON) {
			t.Errorf("Decode(%s) = %v, want ErrNotJSON", in, err)
		}
	}
}

func TestRejects(t *testing.T) {
	notJSON := []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{a:1}`, `'a'`, `"abc`,
		"\"a\x01b\"", "\"\xff\"", "\"\xc3\"", `"\x"`, `"\u12"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`,
		`{} {}`, `tru`, `nul`, "\xef\xbb\xbf{}", `{"a":1}x`, "{\"a\":1}\x00",
	}
	for _, in := range notJSON {
		_, err := cjson.Decode([]byte(in))
		if !errors.Is(err, cjson.ErrNotJSON) {
			t.Errorf("Decode(%q) = %v, want ErrNotJSON", in, err)
		}
	}
	bad := []string{
		`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `{"a":{"x":1,"x":1}}`,
		strings.Repeat("[", cjson.MaxDepth+1) + strings.Repeat("]", cjson.MaxDepth+1),
		strings.Repeat(`{"a":`, cjson.MaxDepth+1) + "1" + strings.Repeat("}", cjson.MaxDepth+1),
	}
	for _, in := range bad {
		_, err := cjson.Decode([]byte(in))
		if !errors.Is(err, cjson.ErrBadJSON) {
			t.Errorf("Decode(%.40q) = %v, want ErrBadJSON", in, err)
		}
	}
	deep := strings.Repeat("[", cjson.MaxDepth) + strings.Repeat("]", cjson.MaxDepth)
	if _, err := cjson.Decode([]byte(deep)); err != nil {
		t.Errorf("nesting of exactly MaxDepth refused: %v", err)
	}
	if _, err := cjson.DecodeObject([]byte(`[1]`)); !errors.Is(err, cjson.ErrBadJSON) {
		t.Errorf("DecodeObject([1]) = %v, want ErrBadJSON", err)
	}
}

func TestValueEditing(t *testing.T) {
	v, err := cjson.Decode([]byte(`{"b":1,"a":{"x":[1,"two",true,null]},"c":"s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Path("a", "x").Len(); got != 4 {
		t.Errorf("len a.x = %d", got)
	}
	if n, ok := v.Get("b").IntValue(); !ok || n != 1 {
		t.Errorf("b = %v", v.Get("b"))
	}
	if v.Get("missing").Exists() || v.Path("a", "nope", "deeper").Exists() {
		t.Error("missing keys reported as present")
	}
	w := v.With("aa", cjson.StrOf("new")).Without("b")
	if got, want := w.String(), `{"a":{"x":[1,"two",true,null]},"aa":"new","c":"s"}`; got != want {
		t.Errorf("edited = %s, want %s", got, want)
	}
	if got, want := v.String(), `{"a":{"x":[1,"two",true,null]},"b":1,"c":"s"}`; got != want {
		t.Errorf("original changed: %s", got)
	}
	if got := v.Only("c", "b").String(); got != `{"b":1,"c":"s"}` {
		t.Errorf("Only = %s", got)
	}
	g, err := cjson.FromGo(map[string]any{"z": []any{1, "x"}, "a": map[string]string{"k": "v"}, "n": nil, "t": true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.String(), `{"a":{"k":"v"},"n":null,"t":true,"z":[1,"x"]}`; got != want {
		t.Errorf("FromGo = %s, want %s", got, want)
	}
	if _, err := cjson.FromGo(map[string]any{"f": 1.5}); err == nil {
		t.Error("FromGo accepted a float")
	}
}

func TestJSONInterop(t *testing.T) {
	var holder struct {
		V cjson.Value `json:"v"`
	}
	if err := jsonUnmarshal([]byte(`{"v":{"b":1,"a":"\u00e9"}}`), &holder); err != nil {
		t.Fatal(err)
	}
	out, err := jsonMarshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"v":{"a":"é","b":1}}` {
		t.Errorf("round trip through encoding/json = %s", out)
	}
	if err := jsonUnmarshal([]byte(`{"v":1.5}`), &holder); err == nil {
		t.Error("encoding/json path accepted a float")
	}
}

func TestRawJSONPassesThrough(t *testing.T) {
	v, err := cjson.RawJSON([]byte(`{"tags": {"u.work": {"order": 0.25}}}`))
	if err != nil {
		t.Fatal(err)
	}
	obj := cjson.ObjectOf(cjson.M("type", cjson.StrOf("m.tag")), cjson.M("content", v))
	if got, want := obj.String(), `{"content":{"tags":{"u.work":{"order":0.25}}},"type":"m.tag"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := cjson.RawJSON([]byte(`{"a":`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}
