package keys_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// notaryEnv: us.test cannot reach them.test directly; notary.test can and
// acts as a notary with a Ring of its own.
func notaryEnv(t *testing.T) (e *env, us, them, notary *fakeServer, f *fakeFetcher) {
	e = newEnv(t)
	us, them, notary = e.server("us.test", 1), e.server("them.test", 2), e.server("notary.test", 3)
	notary.notary = e.ring(notary, e.fetcher())
	f = e.fetcher()
	f.block("them.test", true)
	return e, us, them, notary, f
}

func TestNotaryFallback(t *testing.T) {
	e, us, them, _, f := notaryEnv(t)
	r := e.ring(us, f, "notary.test")
	if k := mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS()); !k.Equal(them.signer.Public()) {
		t.Fatal("key through the notary differs")
	}
	// One direct try, one notary query, one fetch of the notary's own key.
	f.expect(t, "keys them.test", 1)
	f.expect(t, "notary notary.test", 1)
	f.expect(t, "keys notary.test", 1)
	// Stored: no more traffic.
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "notary notary.test", 1)
}

func TestNoNotariesNoFallback(t *testing.T) {
	e, us, _, _, f := notaryEnv(t)
	r := e.ring(us, f)
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "notary notary.test", 0)
}

func TestNotaryAnswersChecked(t *testing.T) {
	e, us, them, notary, _ := notaryEnv(t)
	notaryKey := notary.signer
	impostor := keys.FromSigningKey(testKey(t, notaryKey.KeyID(), 77)) // same key ID, other key
	themResp := func(s keys.Signer) cjson.Value {
		b, err := keys.OwnKeys("them.test", s, nil, day, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		v, err := cjson.DecodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cosign := func(v cjson.Value, s keys.Signer) cjson.Value {
		v, err := keys.SignJSON(v, "notary.test", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	answer := func(entries ...cjson.Value) func([]byte) []byte {
		return func([]byte) []byte {
			return cjson.Encode(cjson.ObjectOf(cjson.M("server_keys", cjson.ArrayOf(entries...))))
		}
	}
	renamed := themResp(them.signer).With("server_name", cjson.StrOf("other.test"))
	cases := map[string]func([]byte) []byte{
		"no co-signature":        answer(themResp(them.signer)),
		"co-signed by impostor":  answer(cosign(themResp(them.signer), impostor)),
		"broken self-signature":  answer(cosign(themResp(them.signer).With("valid_until_ts", cjson.IntOf(1<<50)), notaryKey)),
		"tampered after signing": answer(cosign(themResp(them.signer), notaryKey).With("valid_until_ts", cjson.IntOf(1<<50))),
		"other server's entry":   answer(cosign(renamed, notaryKey)),
		"not JSON":               func([]byte) []byte { return []byte("nope") },
		"not an array":           func([]byte) []byte { return []byte(`{"server_keys":{}}`) },
		"too large":              func([]byte) []byte { return []byte(`{"x":"` + strings.Repeat("a", 4*keys.MaxResponseSize) + `"}`) },
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			notary.notaryBody = body
			f := e.fetcher()
			f.block("them.test", true)
			r := e.ring(us, f, "notary.test")
			noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
			f.expect(t, "notary notary.test", 1)
		})
	}
	// Control: the same construction, honestly signed, is accepted.
	notary.notaryBody = answer(cosign(themResp(them.signer), notaryKey))
	f := e.fetcher()
	f.block("them.test", true)
	mustKey(t, e.ring(us, f, "notary.test"), "them.test", "ed25519:k2", e.clock.MS())
}

func TestNotaryTriedInOrder(t *testing.T) {
	e, us, them, _, f := notaryEnv(t)
	e.server("dead.test", 4)
	f.block("dead.test", true)
	r := e.ring(us, f, "dead.test", "notary.test")
	if k := mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS()); !k.Equal(them.signer.Public()) {
		t.Fatal("wrong key")
	}
	f.expect(t, "notary dead.test", 1)
	f.expect(t, "notary notary.test", 1)
}

// servedEntries decodes a notary answer and checks each entry carries a
// valid signature of the server itself and of the notary.
func servedEntries(t *testing.T, body []byte, notary string, notaryKey ed25519.PublicKey, serverKeys map[string]ed25519.PublicKey) []cjson.Value {
	t.Helper()
	obj, err := cjson.DecodeObject(body)
	if err != nil {
		t.Fatal(err)
	}
	var out []cjson.Value
	for _, e := range obj.Get("server_keys").Items() {
		name, _ := e.Get("server_name").Str()
		own := func(_, id string) (ed25519.PublicKey, bool) {
			k, ok := serverKeys[name+" "+id]
			return k, ok
		}
		if err := signing.VerifyJSON(e, name, own); err != nil {
			t.Fatalf("entry for %s: self-signature: %v", name, err)
		}
		if err := signing.VerifyJSON(e, notary, func(string, string) (ed25519.PublicKey, bool) { return notaryKey, true }); err != nil {
			t.Fatalf("entry for %s: notary signature: %v", name, err)
		}
		out = append(out, e)
	}
	if obj.Get("server_keys").Kind() != cjson.Array {
		t.Fatalf("server_keys is not an array: %s", body)
	}
	return out
}

func TestNotaryGet(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	var original []byte
	them.body = func(now time.Time) []byte {
		b, err := keys.OwnKeys("them.test", them.signer, nil, day, now)
		if err != nil {
			t.Fatal(err)
		}
		// A field we do not know and non-canonical spacing: a notary must
		// keep what the server signed, not re-derive it from parsed keys.
		v, err := cjson.DecodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		v, err = keys.SignJSON(v.Without("signatures").With("x-extra", cjson.StrOf("kept")), "them.test", them.signer)
		if err != nil {
			t.Fatal(err)
		}
		original = append([]byte("{\n  "), cjson.Encode(v)[1:]...)
		return original
	}
	f := e.fetcher()
	r := e.ring(us, f)
	pubs := map[string]ed25519.PublicKey{"them.test ed25519:k2": them.signer.Public(), "us.test ed25519:k1": us.signer.Public()}

	body, err := r.NotaryGet(ctx, "them.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	entries := servedEntries(t, body, "us.test", us.signer.Public(), pubs)
	if len(entries) != 1 {
		t.Fatalf("%d entries: %s", len(entries), body)
	}
	orig, err := cjson.DecodeObject(original)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries[0].With("signatures", entries[0].Get("signatures").Without("us.test")); !got.Equal(orig) {
		t.Fatalf("served entry is not the server's response:\n%s\n%s", got, orig)
	}

	// Stored responses satisfy the next query.
	if _, err := r.NotaryGet(ctx, "them.test", e.clock.MS()+time.Hour.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "keys them.test", 1)
	// A minimum beyond what is stored makes it fetch again...
	e.clock.Advance(2 * time.Minute)
	if _, err := r.NotaryGet(ctx, "them.test", e.clock.MS()+2*day.Milliseconds()); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "keys them.test", 2)
	// ...and when the server is gone, the stored responses are still served.
	f.block("them.test", true)
	e.clock.Advance(2 * day)
	body, err = r.NotaryGet(ctx, "them.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(servedEntries(t, body, "us.test", us.signer.Public(), pubs)); n == 0 {
		t.Fatal("nothing served for a server that went away")
	}
	f.expect(t, "keys them.test", 3)
}

func TestNotaryGetOwnAndUnknown(t *testing.T) {
	e := newEnv(t)
	us := e.server("us.test", 1)
	f := e.fetcher()
	r := e.ring(us, f)
	body, err := r.NotaryGet(ctx, "us.test", 0)
	if err != nil {
		t.Fatal(err)
	}
	entries := servedEntries(t, body, "us.test", us.signer.Public(), map[string]ed25519.PublicKey{"us.test ed25519:k1": us.signer.Public()})
	if len(entries) != 1 {
		t.Fatalf("own keys: %s", body)
	}
	for _, name := range []string{"nowhere.test", "not a name"} {
		body, err := r.NotaryGet(ctx, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != `{"server_keys":[]}` {
			t.Fatalf("%s: %s", name, body)
		}
	}
	f.expect(t, "keys not a name", 0)
}

func TestNotaryResponse(t *testing.T) {
	e := newEnv(t)
	us, a, b := e.server("us.test", 1), e.server("a.test", 2), e.server("b.test", 3)
	f := e.fetcher()
	r := e.ring(us, f)
	pubs := map[string]ed25519.PublicKey{
		"us.test ed25519:k1": us.signer.Public(),
		"a.test ed25519:k2":  a.signer.Public(),
		"b.test ed25519:k3":  b.signer.Public(),
	}
	q := fmt.Sprintf(`{"server_keys":{"a.test":{},"b.test":{"ed25519:k3":{"minimum_valid_until_ts":%d}},"us.test":{},"gone.test":{}}}`, e.clock.MS())
	body, err := r.NotaryResponse(ctx, []byte(q))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, entry := range servedEntries(t, body, "us.test", us.signer.Public(), pubs) {
		got[entry.Get("server_name").StrOr("")] = true
	}
	if len(got) != 3 || !got["a.test"] || !got["b.test"] || !got["us.test"] {
		t.Fatalf("servers in answer: %v", got)
	}
	// The answer lets a third server verify b.test's key through us.
	c := e.server("c.test", 4)
	c.notary = nil
	us.notary = r
	fc := e.fetcher()
	fc.block("b.test", true)
	rc := e.ring(c, fc, "us.test")
	mustKey(t, rc, "b.test", "ed25519:k3", e.clock.MS())

	if body, err := r.NotaryResponse(ctx, []byte(`{"server_keys":{}}`)); err != nil || string(body) != `{"server_keys":[]}` {
		t.Fatalf("empty query: %s, %v", body, err)
	}
}

func TestNotaryResponseBadQueries(t *testing.T) {
	e := newEnv(t)
	us := e.server("us.test", 1)
	r := e.ring(us, e.fetcher())
	var many strings.Builder
	many.WriteString(`{"server_keys":{`)
	for i := 0; i <= keys.MaxQueryServers; i++ {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"s%d.test":{}`, i)
	}
	many.WriteString(`}}`)
	for name, q := range map[string]string{
		"not json":         `{`,
		"no server_keys":   `{}`,
		"server_keys list": `{"server_keys":[]}`,
		"criteria string":  `{"server_keys":{"a.test":"x"}}`,
		"key criteria":     `{"server_keys":{"a.test":{"ed25519:1":5}}}`,
		"ts not integer":   `{"server_keys":{"a.test":{"ed25519:1":{"minimum_valid_until_ts":"5"}}}}`,
		"too many servers": many.String(),
		"too large":        `{"server_keys":{},"x":"` + strings.Repeat("a", keys.MaxQueryBody) + `"}`,
	} {
		if _, err := r.NotaryResponse(ctx, []byte(q)); !errors.Is(err, keys.ErrBadQuery) {
			t.Errorf("%s: err = %v, want ErrBadQuery", name, err)
		}
	}
}
