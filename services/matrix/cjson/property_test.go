package cjson_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"hearth/services/matrix/cjson"
)

// randomValue builds a random JSON document with awkward strings and keys.
func randomValue(r *rand.Rand, depth int) any {
	pieces := []string{"a", "é", "日本", "\x00", "\x1f", "\"", "\\", "/", "<>&", "\u2028", "😀", "\x7f", " ", "Z"}
	str := func() string {
		var sb strings.Builder
		for i := r.IntN(5); i > 0; i-- {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		return sb.String()
	}
	k := r.IntN(7)
	if depth > 4 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64N(2*cjson.MaxSafeInt+1) - cjson.MaxSafeInt
	case 3:
		return str()
	case 4:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for i := r.IntN(5); i > 0; i-- {
			m[str()] = randomValue(r, depth+1)
		}
		return m
	}
}

// encode(decode(x)) == x for canonical x, and the canonical form of any
// encoding of a document is the same.
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		doc := randomValue(r, 0)
		loose, err := json.MarshalIndent(doc, "", "  ") // escapes <>&, U+2028: not canonical
		if err != nil {
			t.Fatal(err)
		}
		canon, err := cjson.Canonicalize(loose)
		if err != nil {
			t.Fatalf("Canonicalize(%s): %v", loose, err)
		}
		v, err := cjson.Decode(canon)
		if err != nil {
			t.Fatalf("Decode(canonical %s): %v", canon, err)
		}
		if again := cjson.Encode(v); !bytes.Equal(again, canon) {
			t.Fatalf("encode(decode(x)) != x:\n x = %s\n   = %s", canon, again)
		}
		// Same document through encoding/json's own parser must agree.
		var back any
		if err := json.Unmarshal(canon, &back); err != nil {
			t.Fatalf("canonical output is not JSON: %s", canon)
		}
		v2, err := cjson.FromGo(normalise(back))
		if err != nil {
			t.Fatal(err)
		}
		if !v2.Equal(v) {
			t.Fatalf("values differ after a trip through encoding/json: %s vs %s", v2, v)
		}
	}
}

// normalise turns encoding/json's float64 numbers back into int64.
func normalise(x any) any {
	switch t := x.(type) {
	case float64:
		return int64(t)
	case []any:
		for i := range t {
			t[i] = normalise(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normalise(t[k])
		}
	}
	return x
}
