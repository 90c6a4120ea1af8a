package pdu_test

import (
	"testing"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
)

func mustDecode(t testing.TB, s string) cjson.Value {
	t.Helper()
	v, err := cjson.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

const topLevel = `"event_id":"$e","room_id":"!r:x","sender":"@u:x","state_key":"","hashes":{"sha256":"h"},"signatures":{},"depth":1,"prev_events":[],"prev_state":[],"auth_events":[],"origin":"x","origin_server_ts":1,"membership":"join","unsigned":{"age":1},"extra":1`

func TestRedactionPerVersion(t *testing.T) {
	type tc struct {
		typ, content string
		want         map[string]string // version -> redacted content
	}
	all := func(s string) map[string]string {
		m := map[string]string{}
		for _, v := range pdu.SupportedVersions() {
			m[v] = s
		}
		return m
	}
	split := func(before, from string, a, b string) map[string]string {
		m := map[string]string{}
		for _, v := range pdu.SupportedVersions() {
			if atLeast(v, from) {
				m[v] = b
			} else {
				m[v] = a
			}
		}
		_ = before
		return m
	}
	cases := []tc{
		{"m.room.message", `{"body":"hi","msgtype":"m.text"}`, all(`{}`)},
		{"m.room.member", `{"membership":"join","displayname":"U","join_authorised_via_users_server":"@a:x","third_party_invite":{"signed":{"mxid":"@u:x"},"display_name":"d"}}`,
			map[string]string{
				"6": `{"membership":"join"}`, "7": `{"membership":"join"}`, "8": `{"membership":"join"}`,
				"9":  `{"join_authorised_via_users_server":"@a:x","membership":"join"}`,
				"10": `{"join_authorised_via_users_server":"@a:x","membership":"join"}`,
				"11": `{"join_authorised_via_users_server":"@a:x","membership":"join","third_party_invite":{"signed":{"mxid":"@u:x"}}}`,
				"12": `{"join_authorised_via_users_server":"@a:x","membership":"join","third_party_invite":{"signed":{"mxid":"@u:x"}}}`,
			}},
		{"m.room.create", `{"creator":"@u:x","room_version":"9","m.federate":false}`,
			split("", "11", `{"creator":"@u:x"}`, `{"creator":"@u:x","m.federate":false,"room_version":"9"}`)},
		{"m.room.join_rules", `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!a:x"}],"x":1}`,
			split("", "8", `{"join_rule":"restricted"}`, `{"allow":[{"room_id":"!a:x","type":"m.room_membership"}],"join_rule":"restricted"}`)},
		{"m.room.power_levels", `{"ban":50,"events":{},"events_default":0,"invite":0,"kick":50,"notifications":{"room":20},"redact":50,"state_default":50,"users":{},"users_default":0}`,
			split("", "11", `{"ban":50,"events":{},"events_default":0,"kick":50,"redact":50,"state_default":50,"users":{},"users_default":0}`,
				`{"ban":50,"events":{},"events_default":0,"invite":0,"kick":50,"redact":50,"state_default":50,"users":{},"users_default":0}`)},
		{"m.room.history_visibility", `{"history_visibility":"shared","x":1}`, all(`{"history_visibility":"shared"}`)},
		{"m.room.redaction", `{"redacts":"$x","reason":"spam"}`, split("", "11", `{}`, `{"redacts":"$x"}`)},
		{"m.room.aliases", `{"aliases":["#a:x"]}`, all(`{}`)},
	}
	for _, c := range cases {
		for _, ver := range pdu.SupportedVersions() {
			v := pdu.MustVersion(ver)
			obj := mustDecode(t, `{"type":"`+c.typ+`","content":`+c.content+`,`+topLevel+`}`)
			red := v.Redact(obj)
			if got := red.Get("content").String(); got != c.want[ver] {
				t.Errorf("v%s %s content = %s, want %s", ver, c.typ, got, c.want[ver])
			}
			var wantTop string
			if atLeast(ver, "11") {
				wantTop = `["auth_events","content","depth","event_id","hashes","origin_server_ts","prev_events","room_id","sender","signatures","state_key","type"]`
			} else {
				wantTop = `["auth_events","content","depth","event_id","hashes","membership","origin","origin_server_ts","prev_events","prev_state","room_id","sender","signatures","state_key","type"]`
			}
			if got := keys(red); got != wantTop {
				t.Errorf("v%s top-level keys = %s\nwant %s", ver, got, wantTop)
			}
			if again := v.Redact(red); !again.Equal(red) {
				t.Errorf("v%s %s: redaction is not idempotent", ver, c.typ)
			}
		}
	}
}

func keys(v cjson.Value) string {
	var ks []string
	for _, m := range v.Members() {
		ks = append(ks, m.Key)
	}
	return cjson.Strings(ks).String()
}

func atLeast(ver, min string) bool {
	order := map[string]int{"6": 6, "7": 7, "8": 8, "9": 9, "10": 10, "11": 11, "12": 12}
	return order[ver] >= order[min]
}
