package pdu_test

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
)

func strp(s string) *string { return &s }

func buildCreate(t testing.TB, v *pdu.RoomVersion, k signing.Key) *pdu.Event {
	t.Helper()
	content := cjson.MustFromGo(map[string]any{"room_version": v.ID})
	if !v.CreatorIsSender {
		content = content.With("creator", cjson.StrOf("@alice:example.com"))
	}
	ev, err := v.Build(pdu.Proto{
		Type: "m.room.create", StateKey: strp(""), Sender: "@alice:example.com",
		RoomID: "!room:example.com", Content: content, OriginServerTS: 1000,
	}, "example.com", k)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestBuildParseRoundTrip(t *testing.T) {
	k := specKey(t)
	lookup := func(entity, id string) (ed25519.PublicKey, bool) {
		return k.Public(), entity == "example.com" && id == k.ID
	}
	for _, ver := range pdu.SupportedVersions() {
		v := pdu.MustVersion(ver)
		create := buildCreate(t, v, k)
		if v.RoomIDIsCreateHash {
			if create.Object().Has("room_id") {
				t.Errorf("v%s create event has a room_id", ver)
			}
			if want := "!" + create.ID()[1:]; create.RoomID() != want {
				t.Errorf("v%s room ID = %s, want %s", ver, create.RoomID(), want)
			}
		} else if create.RoomID() != "!room:example.com" {
			t.Errorf("v%s room ID = %s", ver, create.RoomID())
		}
		msg, err := v.Build(pdu.Proto{
			Type: "m.room.message", Sender: "@alice:example.com", RoomID: create.RoomID(),
			Content:    cjson.MustFromGo(map[string]any{"body": "héllo <b>", "msgtype": "m.text"}),
			PrevEvents: []string{create.ID()}, AuthEvents: []string{create.ID()}, Depth: 2, OriginServerTS: 2000,
		}, "example.com", k)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := pdu.Parse(v, msg.JSON())
		if err != nil {
			t.Fatalf("v%s: parse built event: %v", ver, err)
		}
		if parsed.ID() != msg.ID() || !strings.HasPrefix(parsed.ID(), "$") || len(parsed.ID()) != 44 {
			t.Errorf("v%s: IDs differ or malformed: %s vs %s", ver, parsed.ID(), msg.ID())
		}
		if strings.ContainsAny(parsed.ID(), "+/=") {
			t.Errorf("v%s: event ID %s is not URL-safe", ver, parsed.ID())
		}
		if !parsed.ContentHashOK() {
			t.Errorf("v%s: content hash mismatch on own event", ver)
		}
		if err := pdu.VerifySignatures(parsed, lookup); err != nil {
			t.Errorf("v%s: verify own event: %v", ver, err)
		}
		// The redacted copy keeps the ID and still verifies (signatures cover the redacted form).
		red := parsed.Redacted()
		if red.ID() != parsed.ID() {
			t.Errorf("v%s: redaction changed the event ID", ver)
		}
		if err := pdu.VerifySignatures(red, lookup); err != nil {
			t.Errorf("v%s: verify redacted: %v", ver, err)
		}
		if red.ContentHashOK() {
			t.Errorf("v%s: redacted message still matches its content hash", ver)
		}
		// Tampering with content breaks the hash but not the signature; tampering
		// with a redaction-kept field breaks the signature and the ID.
		tampered, err := pdu.FromObject(v, parsed.Object().With("content", cjson.MustFromGo(map[string]any{"body": "evil"})))
		if err != nil {
			t.Fatal(err)
		}
		if tampered.ContentHashOK() {
			t.Errorf("v%s: tampered content passes the hash check", ver)
		}
		if err := pdu.VerifySignatures(tampered, lookup); err != nil {
			t.Errorf("v%s: content change must not break the signature: %v", ver, err)
		}
		moved, _ := pdu.FromObject(v, parsed.Object().With("origin_server_ts", cjson.IntOf(9)))
		if err := pdu.VerifySignatures(moved, lookup); !errors.Is(err, signing.ErrBadSignature) {
			t.Errorf("v%s: changed timestamp verified: %v", ver, err)
		}
		if moved.ID() == parsed.ID() {
			t.Errorf("v%s: changed timestamp kept the event ID", ver)
		}
		// Bytes are kept exactly as received.
		spaced := []byte(" " + string(msg.JSON()) + "\n")
		p2, err := pdu.Parse(v, spaced)
		if err != nil || string(p2.JSON()) != string(spaced) || p2.ID() != msg.ID() {
			t.Errorf("v%s: exact bytes not kept or ID changed: %v", ver, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	v := pdu.MustVersion("12")
	base := `"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[],"auth_events":[]`
	good := `{"type":"m.room.message","content":{},` + base + `}`
	if _, err := pdu.Parse(v, []byte(good)); err != nil {
		t.Fatalf("good event refused: %v", err)
	}
	bad := map[string]string{
		"not json":          `{"type":`,
		"float":             `{"type":"m.room.message","content":{"n":1.5},` + base + `}`,
		"no type":           `{"content":{},` + base + `}`,
		"type not string":   `{"type":1,"content":{},` + base + `}`,
		"content array":     `{"type":"t","content":[],` + base + `}`,
		"long type":         `{"type":"` + strings.Repeat("t", 256) + `","content":{},` + base + `}`,
		"long state_key":    `{"type":"t","state_key":"` + strings.Repeat("k", 256) + `","content":{},` + base + `}`,
		"bad sender":        `{"type":"t","content":{},"room_id":"!r:x","sender":"u","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[],"auth_events":[]}`,
		"negative depth":    `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":-1,"prev_events":[],"auth_events":[]}`,
		"prev not ids":      `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[1],"auth_events":[]}`,
		"too many prev":     `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[` + strings.TrimSuffix(strings.Repeat(`"$a",`, 21), ",") + `],"auth_events":[]}`,
		"too many auth":     `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[],"auth_events":[` + strings.TrimSuffix(strings.Repeat(`"$a",`, 11), ",") + `]}`,
		"no hashes":         `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"signatures":{},"depth":1,"prev_events":[],"auth_events":[]}`,
		"signature not str": `{"type":"t","content":{},"room_id":"!r:x","sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{"x":{"ed25519:1":5}},"depth":1,"prev_events":[],"auth_events":[]}`,
		"no room_id":        `{"type":"t","content":{},"sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[],"auth_events":[]}`,
		"redacts bad":       `{"type":"m.room.redaction","content":{"redacts":7},` + base + `}`,
	}
	for name, raw := range bad {
		if _, err := pdu.Parse(v, []byte(raw)); !errors.Is(err, pdu.ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	huge := `{"type":"t","content":{"b":"` + strings.Repeat("x", pdu.MaxEventSize) + `"},` + base + `}`
	if _, err := pdu.Parse(v, []byte(huge)); !errors.Is(err, pdu.ErrTooLarge) {
		t.Errorf("oversize event: err = %v, want ErrTooLarge", err)
	}
	// A v12 create event needs no room_id; earlier versions do.
	create := `{"type":"m.room.create","state_key":"","content":{},"sender":"@u:x","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":1,"prev_events":[],"auth_events":[]}`
	if _, err := pdu.Parse(v, []byte(create)); err != nil {
		t.Errorf("v12 create without room_id: %v", err)
	}
	if _, err := pdu.Parse(pdu.MustVersion("11"), []byte(create)); !errors.Is(err, pdu.ErrFormat) {
		t.Errorf("v11 create without room_id accepted: %v", err)
	}
}

func TestRedactsLocation(t *testing.T) {
	k := specKey(t)
	for _, ver := range []string{"10", "11"} {
		v := pdu.MustVersion(ver)
		ev, err := v.Build(pdu.Proto{Type: "m.room.redaction", Sender: "@u:x", RoomID: "!r:x", Redacts: "$target", Depth: 1}, "x", k)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Redacts() != "$target" {
			t.Errorf("v%s Redacts() = %q", ver, ev.Redacts())
		}
		inContent := ev.Content().Has("redacts")
		atTop := ev.Object().Has("redacts")
		if v.RedactsInContent != inContent || v.RedactsInContent == atTop {
			t.Errorf("v%s: redacts in content=%v top=%v", ver, inContent, atTop)
		}
	}
}

func TestAuthEventSelection(t *testing.T) {
	join := cjson.MustFromGo(map[string]any{"membership": "join", "join_authorised_via_users_server": "@mod:y"})
	invite3p := cjson.MustFromGo(map[string]any{"membership": "invite", "third_party_invite": map[string]any{"signed": map[string]any{"token": "tok"}}})
	cases := []struct {
		ver, typ, sk, sender string
		content              cjson.Value
		want                 string
	}{
		{"11", "m.room.create", "", "@a:x", cjson.EmptyObject(), ``},
		{"11", "m.room.message", "", "@a:x", cjson.EmptyObject(), `m.room.create/ m.room.power_levels/ m.room.member/@a:x`},
		{"12", "m.room.message", "", "@a:x", cjson.EmptyObject(), `m.room.power_levels/ m.room.member/@a:x`},
		{"12", "m.room.member", "@b:x", "@a:x", cjson.MustFromGo(map[string]any{"membership": "invite"}), `m.room.power_levels/ m.room.member/@a:x m.room.member/@b:x m.room.join_rules/`},
		{"12", "m.room.member", "@b:x", "@a:x", cjson.MustFromGo(map[string]any{"membership": "ban"}), `m.room.power_levels/ m.room.member/@a:x m.room.member/@b:x`},
		{"12", "m.room.member", "@a:x", "@a:x", join, `m.room.power_levels/ m.room.member/@a:x m.room.join_rules/ m.room.member/@mod:y`},
		{"7", "m.room.member", "@a:x", "@a:x", join, `m.room.create/ m.room.power_levels/ m.room.member/@a:x m.room.join_rules/`},
		{"10", "m.room.member", "@b:x", "@a:x", invite3p, `m.room.create/ m.room.power_levels/ m.room.member/@a:x m.room.member/@b:x m.room.join_rules/ m.room.third_party_invite/tok`},
	}
	for _, c := range cases {
		var got []string
		for _, k := range pdu.MustVersion(c.ver).AuthEventKeys(c.typ, c.sk, c.sender, c.content) {
			got = append(got, k.Type+"/"+k.StateKey)
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("v%s %s %s: got %q, want %q", c.ver, c.typ, c.content, s, c.want)
		}
	}
}

func TestRequiredSignersAuthorisingServer(t *testing.T) {
	k := specKey(t)
	for _, membership := range []string{"join", "leave", "ban"} {
		ev, err := pdu.MustVersion("10").Build(pdu.Proto{
			Type: "m.room.member", StateKey: strp("@u:a.org"), Sender: "@u:a.org", RoomID: "!r:a.org",
			Content: cjson.MustFromGo(map[string]any{"membership": membership, "join_authorised_via_users_server": "@mod:b.org"}),
		}, "a.org", k)
		if err != nil {
			t.Fatal(err)
		}
		if got := pdu.RequiredSigners(ev); len(got) != 2 || got[0] != "a.org" || got[1] != "b.org" {
			t.Errorf("%s: RequiredSigners = %v, want [a.org b.org]", membership, got)
		}
		// Signed by a.org only: verification must fail for want of b.org's signature.
		lookup := func(entity, id string) (ed25519.PublicKey, bool) { return k.Public(), entity == "a.org" }
		if err := pdu.VerifySignatures(ev, lookup); err == nil {
			t.Errorf("%s: verified without the authorising server's signature", membership)
		}
	}
}

func TestParseStoredKeepsIDAndFields(t *testing.T) {
	k := specKey(t)
	v := pdu.MustVersion("12")
	create := buildCreate(t, v, k)
	stored, err := pdu.ParseStored(v, create.JSON(), create.ID())
	if err != nil {
		t.Fatal(err)
	}
	if stored.ID() != create.ID() || stored.RoomID() != create.RoomID() || stored.Type() != "m.room.create" || string(stored.JSON()) != string(create.JSON()) {
		t.Errorf("stored event differs: %s %s", stored.ID(), stored.RoomID())
	}
	if _, err := pdu.ParseStored(v, []byte(`{"type":1}`), "$x"); !errors.Is(err, pdu.ErrFormat) {
		t.Errorf("malformed stored event: %v", err)
	}
}
