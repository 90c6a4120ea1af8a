package push

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
)

const me = "@alice:example.org"

func event(t testing.TB, s string) cjson.Value {
	t.Helper()
	v, err := cjson.DecodeObject([]byte(s))
	if err != nil {
		t.Fatalf("bad test event %s: %v", s, err)
	}
	return v
}

// oneRule builds a ruleset with one override rule with the given conditions
// (a JSON array) and ["notify"].
func oneRule(t testing.TB, conds string) Ruleset {
	t.Helper()
	rs, err := ParseRuleset([]byte(`{"global":{"override":[{"rule_id":"r","enabled":true,"conditions":` + conds + `,"actions":["notify"]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		all, words bool
	}{
		{"lunc?*", "Lunch plans", true, true},
		{"lunc?*", "LUNCH", true, true},
		{"lunc?*", " lunch", false, true},
		{"lunc?*", "lunc", false, false},
		{"ex*ple", "An example event.", false, true},
		{"ex*ple", "exple", true, true},
		{"ex*ple", "An exciting triple-whammy", false, true},
		{"ex*ple", "An exciting triplet", false, false},
		{"ex*ple", "texample", false, false},
		{"cake", "I like cake!", false, true},
		{"cake", "I like cakes", false, false},
		{"cake", "pancake", false, false},
		{"cake", "cake_lover", false, false},
		{"cake", "CAKE", true, true},
		{"cake*lie", "the cake is a lie", false, true},
		{"", "", true, true},
		{"", "x", false, false},
		{"", "a b", false, false},
		{"", "a  b", false, true},
		{"*", "", true, true},
		{"*", "anything", true, true},
		{"?", "é", true, true},
		{"?", "ab", false, false},
		{"?", "a b", false, true},
		{"a?c", "abc", true, true},
		{"a?c", "ac", false, false},
		{"m.room.message", "m.room.message", true, true},
		{"m.room.message", "m.room.messages", false, false},
		{"m.room.*", "m.room.message", true, true},
		{"ÉTÉ", "été", true, true},
		{"*a*a*a*a*a*a*a*b", strings.Repeat("a", 5000), false, false},
		{"a*", "xyz a", false, true},
		{"*z", "xyz", true, true},
		{"x*", "x", true, true},
		{"**x**", "axb", true, true},
		{"x*", "ax", false, false},
	}
	for _, tt := range tests {
		g := compileGlob(tt.pattern)
		budget := maxSteps
		if got := g.matchAll(tt.s, &budget); got != tt.all {
			t.Errorf("matchAll(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.all)
		}
		if got := g.matchWords(tt.s, &budget); got != tt.words {
			t.Errorf("matchWords(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.words)
		}
	}
	budget := maxSteps
	if g := compileGlob(strings.Repeat("a", 256)); !g.tooLarge || g.matchAll(strings.Repeat("a", 256), &budget) {
		t.Error("a pattern of 256 tokens must be refused")
	}
	if g := compileGlob(strings.Repeat("a", 255)); g.tooLarge || !g.matchAll(strings.Repeat("A", 255), &budget) {
		t.Error("a pattern of 255 tokens must work")
	}
	if g := compileGlob(strings.Repeat("?", 254) + "*"); !g.matchAll(strings.Repeat("x", 300), &budget) || g.matchAll(strings.Repeat("x", 253), &budget) {
		t.Error("255-token pattern with wildcards")
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		key  string
		want []string
	}{
		{"content.body", []string{"content", "body"}},
		{`content.m\.relates_to.rel_type`, []string{"content", "m.relates_to", "rel_type"}},
		{`content.m\\foo`, []string{"content", `m\foo`}},
		{`content.m\xfoo`, []string{"content", `m\xfoo`}},
		{`a\`, []string{`a\`}},
		{`a\\.b`, []string{`a\`, "b"}},
		{"", []string{""}},
		{"a..b", []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		got, ok := parsePath(tt.key)
		if !ok || strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("parsePath(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	if _, ok := parsePath(strings.Repeat("a.", 40)); ok {
		t.Error("too many segments accepted")
	}
}

func TestConditions(t *testing.T) {
	topic := `{"type":"m.room.topic","state_key":"","sender":"@bob:example.org","room_id":"!r:example.org","content":{"topic":"Lunch plans"}}`
	body := func(b string) string {
		q, _ := json.Marshal(b)
		return `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!r:example.org","content":{"msgtype":"m.text","body":` + string(q) + `}}`
	}
	create := `{"type":"m.room.create","state_key":"","sender":"@bob:example.org","content":{"m.federate":true,"n":5,"s":"true","z":null,"o":{},"a":[1]}}`
	aliases := `{"type":"m.room.canonical_alias","state_key":"","sender":"@bob:example.org","content":{"alias":"#a:x","alt_aliases":["#somewhere:example.org","#myroom:example.com",7,true,null,{"x":1}],"notarray":"#myroom:example.com"}}`
	ctx := Context{UserID: me, DisplayName: "Alice Liddell", RoomMemberCount: 5, SenderPowerLevel: 50}

	tests := []struct {
		name  string
		conds string
		ev    string
		ctx   *Context
		want  bool
	}{
		// event_match
		{"match glob", `[{"kind":"event_match","key":"content.topic","pattern":"lunc?*"}]`, topic, nil, true},
		{"match case", `[{"kind":"event_match","key":"content.topic","pattern":"LUNCH PLANS"}]`, topic, nil, true},
		{"match whole value", `[{"kind":"event_match","key":"content.topic","pattern":"lunch"}]`, topic, nil, false},
		{"match absent key", `[{"kind":"event_match","key":"content.nope","pattern":"*"}]`, topic, nil, false},
		{"match non-string", `[{"kind":"event_match","key":"content.n","pattern":"*"}]`, create, nil, false},
		{"match object", `[{"kind":"event_match","key":"content","pattern":"*"}]`, topic, nil, false},
		{"match through non-object", `[{"kind":"event_match","key":"content.topic.x","pattern":"*"}]`, topic, nil, false},
		{"match state_key empty", `[{"kind":"event_match","key":"state_key","pattern":""}]`, topic, nil, true},
		{"match no state_key", `[{"kind":"event_match","key":"state_key","pattern":""}]`, body("hi"), nil, false},
		{"match body word", `[{"kind":"event_match","key":"content.body","pattern":"ex*ple"}]`, body("An exciting triple-whammy"), nil, true},
		{"match body not word", `[{"kind":"event_match","key":"content.body","pattern":"cake"}]`, body("pancakes"), nil, false},
		{"match escaped dotted key", `[{"kind":"event_match","key":"content.m\\.relates_to.rel_type","pattern":"m.thread"}]`,
			`{"type":"m.room.message","sender":"@b:x","content":{"m.relates_to":{"rel_type":"m.thread"}}}`, nil, true},
		{"match unescaped dotted key", `[{"kind":"event_match","key":"content.m.relates_to.rel_type","pattern":"m.thread"}]`,
			`{"type":"m.room.message","sender":"@b:x","content":{"m.relates_to":{"rel_type":"m.thread"}}}`, nil, false},
		{"match missing pattern", `[{"kind":"event_match","key":"type"}]`, topic, nil, false},
		{"match missing key", `[{"kind":"event_match","pattern":"*"}]`, topic, nil, false},
		{"match bad pattern type", `[{"kind":"event_match","key":"type","pattern":5}]`, topic, nil, false},
		// event_property_is
		{"is true", `[{"kind":"event_property_is","key":"content.m\\.federate","value":true}]`, create, nil, true},
		{"is false", `[{"kind":"event_property_is","key":"content.m\\.federate","value":false}]`, create, nil, false},
		{"is no cast string", `[{"kind":"event_property_is","key":"content.s","value":true}]`, create, nil, false},
		{"is no cast int", `[{"kind":"event_property_is","key":"content.m\\.federate","value":1}]`, create, nil, false},
		{"is int", `[{"kind":"event_property_is","key":"content.n","value":5}]`, create, nil, true},
		{"is int other", `[{"kind":"event_property_is","key":"content.n","value":6}]`, create, nil, false},
		{"is string exact", `[{"kind":"event_property_is","key":"content.s","value":"true"}]`, create, nil, true},
		{"is string case", `[{"kind":"event_property_is","key":"content.s","value":"TRUE"}]`, create, nil, false},
		{"is string no glob", `[{"kind":"event_property_is","key":"content.s","value":"*"}]`, create, nil, false},
		{"is null", `[{"kind":"event_property_is","key":"content.z","value":null}]`, create, nil, true},
		{"is null absent", `[{"kind":"event_property_is","key":"content.nope","value":null}]`, create, nil, false},
		{"is object", `[{"kind":"event_property_is","key":"content.o","value":{}}]`, create, nil, false},
		{"is array", `[{"kind":"event_property_is","key":"content.a","value":[1]}]`, create, nil, false},
		{"is float", `[{"kind":"event_property_is","key":"content.n","value":5.5}]`, create, nil, false},
		{"is missing value", `[{"kind":"event_property_is","key":"content.z"}]`, create, nil, false},
		// event_property_contains
		{"contains string", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":"#myroom:example.com"}]`, aliases, nil, true},
		{"contains partial", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":":example.com"}]`, aliases, nil, false},
		{"contains int", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":7}]`, aliases, nil, true},
		{"contains bool", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":true}]`, aliases, nil, true},
		{"contains null", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":null}]`, aliases, nil, true},
		{"contains false", `[{"kind":"event_property_contains","key":"content.alt_aliases","value":false}]`, aliases, nil, false},
		{"contains not array", `[{"kind":"event_property_contains","key":"content.notarray","value":"#myroom:example.com"}]`, aliases, nil, false},
		{"contains absent", `[{"kind":"event_property_contains","key":"content.nope","value":"x"}]`, aliases, nil, false},
		// contains_display_name
		{"display name", `[{"kind":"contains_display_name"}]`, body("hey alice liddell, lunch?"), nil, true},
		{"display name part of word", `[{"kind":"contains_display_name"}]`, body("hey alice liddells"), nil, false},
		{"display name absent", `[{"kind":"contains_display_name"}]`, body("hey bob"), nil, false},
		{"display name empty", `[{"kind":"contains_display_name"}]`, body("hey"), &Context{UserID: me}, false},
		{"display name literal", `[{"kind":"contains_display_name"}]`, body("hey a*"), &Context{UserID: me, DisplayName: "a*"}, true},
		{"display name not glob", `[{"kind":"contains_display_name"}]`, body("hey ab"), &Context{UserID: me, DisplayName: "a*"}, false},
		{"display name no body", `[{"kind":"contains_display_name"}]`, topic, nil, false},
		// room_member_count
		{"count eq", `[{"kind":"room_member_count","is":"5"}]`, topic, nil, true},
		{"count eq prefix", `[{"kind":"room_member_count","is":"==5"}]`, topic, nil, true},
		{"count ne", `[{"kind":"room_member_count","is":"2"}]`, topic, nil, false},
		{"count lt", `[{"kind":"room_member_count","is":"<6"}]`, topic, nil, true},
		{"count lt no", `[{"kind":"room_member_count","is":"<5"}]`, topic, nil, false},
		{"count gt", `[{"kind":"room_member_count","is":">4"}]`, topic, nil, true},
		{"count gt no", `[{"kind":"room_member_count","is":">5"}]`, topic, nil, false},
		{"count le", `[{"kind":"room_member_count","is":"<=5"}]`, topic, nil, true},
		{"count le no", `[{"kind":"room_member_count","is":"<=4"}]`, topic, nil, false},
		{"count ge", `[{"kind":"room_member_count","is":">=5"}]`, topic, nil, true},
		{"count ge no", `[{"kind":"room_member_count","is":">=6"}]`, topic, nil, false},
		{"count garbage", `[{"kind":"room_member_count","is":"five"}]`, topic, nil, false},
		{"count empty", `[{"kind":"room_member_count","is":">"}]`, topic, nil, false},
		{"count negative", `[{"kind":"room_member_count","is":"-5"}]`, topic, nil, false},
		{"count number", `[{"kind":"room_member_count","is":5}]`, topic, nil, false},
		{"count huge", `[{"kind":"room_member_count","is":"<99999999999999999999999"}]`, topic, nil, false},
		// sender_notification_permission
		{"perm default ok", `[{"kind":"sender_notification_permission","key":"room"}]`, topic, nil, true},
		{"perm default low", `[{"kind":"sender_notification_permission","key":"room"}]`, topic, &Context{UserID: me, SenderPowerLevel: 49}, false},
		{"perm explicit", `[{"kind":"sender_notification_permission","key":"room"}]`, topic,
			&Context{UserID: me, SenderPowerLevel: 50, NotificationPowerLevels: map[string]int64{"room": 100}}, false},
		{"perm explicit ok", `[{"kind":"sender_notification_permission","key":"room"}]`, topic,
			&Context{UserID: me, SenderPowerLevel: 10, NotificationPowerLevels: map[string]int64{"room": 0}}, true},
		{"perm no key", `[{"kind":"sender_notification_permission"}]`, topic, nil, false},
		// unknown and malformed
		{"unknown kind", `[{"kind":"org.example.future","key":"type"}]`, topic, nil, false},
		{"unknown with good", `[{"kind":"event_match","key":"type","pattern":"*"},{"kind":"nope"}]`, topic, nil, false},
		{"condition not object", `["event_match"]`, topic, nil, false},
		{"no kind", `[{"key":"type","pattern":"*"}]`, topic, nil, false},
		{"no conditions", `[]`, topic, nil, true},
		{"all must hold", `[{"kind":"event_match","key":"type","pattern":"m.room.topic"},{"kind":"room_member_count","is":"2"}]`, topic, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ctx
			if tt.ctx != nil {
				c = *tt.ctx
			}
			res := oneRule(t, tt.conds).Evaluate(event(t, tt.ev), c)
			if got := res.RuleID == "r"; got != tt.want {
				t.Errorf("matched = %v, want %v (result %+v)", got, tt.want, res)
			}
		})
	}
}

func TestNullValueIsNotMissing(t *testing.T) {
	// "value": null must be a null value, not a missing one.
	rs := oneRule(t, `[{"kind":"event_property_is","key":"content.x","value":null}]`)
	if rs.Evaluate(event(t, `{"type":"t","content":{"x":null}}`), Context{}).RuleID != "r" {
		t.Error("null value did not match")
	}
}

// Realistic events.
const (
	msgIn = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org","event_id":"$1",
		"origin_server_ts":1,"content":{"msgtype":"m.text","body":"hello there"}}`
	notice = `{"type":"m.room.message","sender":"@bot:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.notice","body":"build passed"}}`
	userMention = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"Alice: look","m.mentions":{"user_ids":["@alice:example.org"]}}}`
	otherMention = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"carol: look","m.mentions":{"user_ids":["@carol:example.org"]}}}`
	roomMention = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"@room lunch","m.mentions":{"room":true}}}`
	legacyMention = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"@alice:example.org Alice hi @room"}}`
	reaction = `{"type":"m.reaction","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"m.relates_to":{"rel_type":"m.annotation","event_id":"$1","key":"👍"}}}`
	inviteMe = `{"type":"m.room.member","sender":"@bob:example.org","room_id":"!room:example.org","state_key":"@alice:example.org",
		"content":{"membership":"invite"}}`
	inviteOther = `{"type":"m.room.member","sender":"@bob:example.org","room_id":"!room:example.org","state_key":"@carol:example.org",
		"content":{"membership":"invite"}}`
	joinOther = `{"type":"m.room.member","sender":"@carol:example.org","room_id":"!room:example.org","state_key":"@carol:example.org",
		"content":{"membership":"join"}}`
	encrypted = `{"type":"m.room.encrypted","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"AwgA","session_id":"s","device_id":"D"}}`
	edit = `{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"* fixed","m.new_content":{"msgtype":"m.text","body":"fixed"},
		"m.relates_to":{"rel_type":"m.replace","event_id":"$1"},"m.mentions":{}}}`
	serverACL = `{"type":"m.room.server_acl","sender":"@bob:example.org","room_id":"!room:example.org","state_key":"",
		"content":{"allow":["*"],"deny":["evil.example"],"allow_ip_literals":false}}`
	tombstone = `{"type":"m.room.tombstone","sender":"@bob:example.org","room_id":"!room:example.org","state_key":"",
		"content":{"body":"moved","replacement_room":"!new:example.org"}}`
	callInvite = `{"type":"m.call.invite","sender":"@bob:example.org","room_id":"!room:example.org",
		"content":{"call_id":"c","lifetime":60000,"offer":{"sdp":"v=0","type":"offer"},"version":1}}`
	topicChange = `{"type":"m.room.topic","sender":"@bob:example.org","room_id":"!room:example.org","state_key":"",
		"content":{"topic":"new"}}`
	ownMessage = `{"type":"m.room.message","sender":"@alice:example.org","room_id":"!room:example.org",
		"content":{"msgtype":"m.text","body":"@room","m.mentions":{"room":true,"user_ids":["@alice:example.org"]}}}`
)

func TestDefaultRules(t *testing.T) {
	rs := DefaultRuleset(me)
	dm := Context{UserID: me, DisplayName: "Alice", RoomMemberCount: 2, SenderPowerLevel: 100}
	group := Context{UserID: me, DisplayName: "Alice", RoomMemberCount: 12, SenderPowerLevel: 0}
	groupMod := group
	groupMod.SenderPowerLevel = 50
	groupStrict := groupMod
	groupStrict.NotificationPowerLevels = map[string]int64{"room": 75}

	tests := []struct {
		name string
		ev   string
		ctx  Context
		want Result
	}{
		{"1:1 message", msgIn, dm, Result{Notify: true, Sound: "default", RuleID: ".m.rule.room_one_to_one"}},
		{"group message", msgIn, group, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"user mention", userMention, group, Result{Notify: true, Highlight: true, Sound: "default", RuleID: ".m.rule.is_user_mention"}},
		{"other's mention", otherMention, group, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"room mention, power", roomMention, groupMod, Result{Notify: true, Highlight: true, RuleID: ".m.rule.is_room_mention"}},
		{"room mention, no power", roomMention, group, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"room mention, raised level", roomMention, groupStrict, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"legacy body mention no longer highlights", legacyMention, group, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"notice", notice, dm, Result{RuleID: ".m.rule.suppress_notices"}},
		{"reaction", reaction, dm, Result{RuleID: ".m.rule.reaction"}},
		{"invite for me", inviteMe, group, Result{Notify: true, Sound: "default", RuleID: ".m.rule.invite_for_me"}},
		{"invite for other", inviteOther, group, Result{RuleID: ".m.rule.member_event"}},
		{"join", joinOther, group, Result{RuleID: ".m.rule.member_event"}},
		{"encrypted 1:1", encrypted, dm, Result{Notify: true, Sound: "default", RuleID: ".m.rule.encrypted_room_one_to_one"}},
		{"encrypted group", encrypted, group, Result{Notify: true, RuleID: ".m.rule.encrypted"}},
		{"edit", edit, dm, Result{RuleID: ".m.rule.suppress_edits"}},
		{"server ACL", serverACL, group, Result{RuleID: ".m.rule.room.server_acl"}},
		{"tombstone", tombstone, group, Result{Notify: true, Highlight: true, RuleID: ".m.rule.tombstone"}},
		{"call", callInvite, group, Result{Notify: true, Sound: "ring", RuleID: ".m.rule.call"}},
		{"call 1:1", callInvite, dm, Result{Notify: true, Sound: "ring", RuleID: ".m.rule.call"}},
		{"topic: no rule", topicChange, group, Result{}},
		{"own message", ownMessage, groupMod, Result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rs.Evaluate(event(t, tt.ev), tt.ctx)
			if got.Notify != tt.want.Notify || got.Highlight != tt.want.Highlight || got.Sound != tt.want.Sound || got.RuleID != tt.want.RuleID {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDefaultRuleOrder(t *testing.T) {
	rs := DefaultRuleset(me)
	want := map[string]string{
		"override": ".m.rule.master .m.rule.suppress_notices .m.rule.invite_for_me .m.rule.member_event .m.rule.is_user_mention " +
			".m.rule.is_room_mention .m.rule.tombstone .m.rule.reaction .m.rule.room.server_acl .m.rule.suppress_edits",
		"content":   "",
		"room":      "",
		"sender":    "",
		"underride": ".m.rule.call .m.rule.encrypted_room_one_to_one .m.rule.room_one_to_one .m.rule.message .m.rule.encrypted",
	}
	for kind, ids := range want {
		if got := strings.Join(rs.RuleIDs(kind), " "); got != ids {
			t.Errorf("%s: %s, want %s", kind, got, ids)
		}
	}
	// The JSON form carries the user ID and is valid JSON.
	js := DefaultRulesJSON(`@we"ird:example.org`)
	var v map[string][]map[string]any
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"@we\"ird:example.org"`) || strings.Contains(string(js), userPlaceholder) {
		t.Error("user ID not substituted")
	}
}

func TestUserRules(t *testing.T) {
	group := Context{UserID: me, RoomMemberCount: 12}
	parse := func(s string) Ruleset {
		t.Helper()
		rs, err := EffectiveRuleset(me, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	tests := []struct {
		name  string
		rules string
		ev    string
		want  Result
	}{
		{"override beats mention",
			`{"global":{"override":[{"rule_id":"mute-bob","enabled":true,"conditions":[{"kind":"event_match","key":"sender","pattern":"@bob:*"}],"actions":["dont_notify"]}]}}`,
			userMention, Result{RuleID: "mute-bob"}},
		{"disabled override skipped",
			`{"global":{"override":[{"rule_id":"mute-bob","enabled":false,"conditions":[{"kind":"event_match","key":"sender","pattern":"@bob:*"}],"actions":[]}]}}`,
			userMention, Result{Notify: true, Highlight: true, Sound: "default", RuleID: ".m.rule.is_user_mention"}},
		{"master enabled",
			`{"global":{"override":[{"rule_id":".m.rule.master","default":true,"enabled":true,"conditions":[],"actions":[]},
			 {"rule_id":"loud","enabled":true,"conditions":[],"actions":["notify"]}]}}`,
			userMention, Result{RuleID: ".m.rule.master"}},
		{"user rule before defaults",
			`{"global":{"override":[{"rule_id":"loud","enabled":true,"conditions":[],"actions":["notify",{"set_tweak":"sound","value":"bell"},"coalesce"]}]}}`,
			notice, Result{Notify: true, Sound: "bell", RuleID: "loud"}},
		{"content rule",
			`{"global":{"content":[{"rule_id":"cake","enabled":true,"pattern":"cake","actions":["notify",{"set_tweak":"sound","value":"cakealarm.wav"},{"set_tweak":"highlight","value":true}]}]}}`,
			`{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org","content":{"msgtype":"m.text","body":"Who wants CAKE?"}}`,
			Result{Notify: true, Highlight: true, Sound: "cakealarm.wav", RuleID: "cake"}},
		{"content rule no match",
			`{"global":{"content":[{"rule_id":"cake","enabled":true,"pattern":"cake","actions":[]}]}}`,
			`{"type":"m.room.message","sender":"@bob:example.org","room_id":"!room:example.org","content":{"msgtype":"m.text","body":"pancakes"}}`,
			Result{Notify: true, RuleID: ".m.rule.message"}},
		{"content rule without pattern",
			`{"global":{"content":[{"rule_id":"x","enabled":true,"actions":[]}]}}`,
			msgIn, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"room rule",
			`{"global":{"room":[{"rule_id":"!room:example.org","enabled":true,"actions":[]}]}}`,
			msgIn, Result{RuleID: "!room:example.org"}},
		{"room rule other room",
			`{"global":{"room":[{"rule_id":"!other:example.org","enabled":true,"actions":[]}]}}`,
			msgIn, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"sender rule",
			`{"global":{"sender":[{"rule_id":"@bob:example.org","enabled":true,"actions":["notify",{"set_tweak":"highlight","value":false}]}]}}`,
			msgIn, Result{Notify: true, RuleID: "@bob:example.org"}},
		{"room before sender",
			`{"global":{"sender":[{"rule_id":"@bob:example.org","enabled":true,"actions":["notify"]}],"room":[{"rule_id":"!room:example.org","enabled":true,"actions":[]}]}}`,
			msgIn, Result{RuleID: "!room:example.org"}},
		{"content before room",
			`{"global":{"content":[{"rule_id":"hi","enabled":true,"pattern":"hello","actions":["notify"]}],"room":[{"rule_id":"!room:example.org","enabled":true,"actions":[]}]}}`,
			msgIn, Result{Notify: true, RuleID: "hi"}},
		{"disabled default",
			`{"global":{"underride":[{"rule_id":".m.rule.message","default":true,"enabled":false,"conditions":[],"actions":["notify"]}]}}`,
			msgIn, Result{}},
		{"changed default actions",
			`{"global":{"underride":[{"rule_id":".m.rule.message","default":true,"enabled":true,"conditions":[],"actions":["notify",{"set_tweak":"sound","value":"x"}]}]}}`,
			msgIn, Result{Notify: true, Sound: "x", RuleID: ".m.rule.message"}},
		{"stored defaults cannot change conditions",
			`{"global":{"underride":[{"rule_id":".m.rule.message","default":true,"enabled":true,"conditions":[{"kind":"nope"}],"actions":["notify"]}]}}`,
			msgIn, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"unknown condition disables rule",
			`{"global":{"override":[{"rule_id":"future","enabled":true,"conditions":[{"kind":"org.example.new"}],"actions":[]}]}}`,
			msgIn, Result{Notify: true, RuleID: ".m.rule.message"}},
		{"malformed rules skipped",
			`{"global":{"override":[5,{"rule_id":7},{"rule_id":"x","enabled":"yes","actions":[]}],"content":{"x":1}}}`,
			msgIn, Result{Notify: true, RuleID: ".m.rule.message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parse(tt.rules).Evaluate(event(t, tt.ev), group)
			if got.Notify != tt.want.Notify || got.Highlight != tt.want.Highlight || got.Sound != tt.want.Sound || got.RuleID != tt.want.RuleID {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRuleset(t *testing.T) {
	for _, bad := range []string{``, `[]`, `null`, `"x"`, `{"global":[]}`, `{"global":null}`, `{`} {
		if _, err := ParseRuleset([]byte(bad)); err == nil {
			t.Errorf("ParseRuleset(%q) succeeded", bad)
		}
	}
	// The stored form is the default rules plus the user's, in order; a bare
	// ruleset is accepted too.
	stored := `{"global":` + string(DefaultRulesJSON(me)) + `}`
	a, err := ParseRuleset([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseRuleset(DefaultRulesJSON(me))
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 15 || b.Len() != 15 {
		t.Errorf("len %d %d, want 15", a.Len(), b.Len())
	}
	if r := a.Evaluate(event(t, userMention), Context{UserID: me}); r.RuleID != ".m.rule.is_user_mention" {
		t.Errorf("got %+v", r)
	}
	v, _ := cjson.Decode([]byte(stored))
	c, err := ParseRulesetValue(v)
	if err != nil || c.Len() != 15 {
		t.Errorf("ParseRulesetValue: %v %d", err, c.Len())
	}
	// Floats elsewhere in stored rules do not break parsing.
	f, err := ParseRuleset([]byte(`{"global":{"override":[{"rule_id":"f","enabled":true,"conditions":[{"kind":"event_property_is","key":"content.n","value":1.5}],"actions":["notify",{"set_tweak":"volume","value":0.5}]},
		{"rule_id":"g","enabled":true,"conditions":[],"actions":["notify",{"set_tweak":"volume","value":0.5},{"set_tweak":"flash"}]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Evaluate(event(t, `{"type":"t","content":{"n":1}}`), Context{})
	if r.RuleID != "g" || string(r.Tweaks["volume"]) != "0.5" || string(r.Tweaks["flash"]) != "null" || len(r.Tweaks) != 2 {
		t.Errorf("got %+v", r)
	}
	// Rule count is bounded.
	var sb strings.Builder
	sb.WriteString(`{"override":[`)
	for i := range 3000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"rule_id":"r","conditions":[{"kind":"nope"}],"actions":[]}`)
	}
	sb.WriteString(`]}`)
	big, err := ParseRuleset([]byte(sb.String()))
	if err != nil || big.Len() != maxRules {
		t.Errorf("big ruleset: %v, %d rules", err, big.Len())
	}
	// Too many conditions: never matches.
	many := `[` + strings.Repeat(`{"kind":"event_match","key":"type","pattern":"*"},`, maxConditions) + `{"kind":"event_match","key":"type","pattern":"*"}]`
	if oneRule(t, many).Evaluate(event(t, msgIn), Context{}).RuleID != "" {
		t.Error("a rule with too many conditions matched")
	}
}

func TestEffectiveRulesetMerge(t *testing.T) {
	rs, err := EffectiveRuleset(me, []byte(`{"global":{"override":[
		{"rule_id":".m.rule.suppress_notices","default":true,"enabled":false,"conditions":[],"actions":[]},
		{"rule_id":"mine","enabled":true,"conditions":[],"actions":[]},
		{"rule_id":".m.rule.gone","default":true,"enabled":true,"conditions":[],"actions":[]}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	ids := rs.RuleIDs("override")
	if len(ids) != 11 || ids[0] != ".m.rule.master" || ids[1] != "mine" || ids[2] != ".m.rule.suppress_notices" {
		t.Errorf("override order %v", ids)
	}
	if d, _ := EffectiveRuleset(me, nil); d.Len() != 15 {
		t.Errorf("defaults: %d rules", d.Len())
	}
	if _, err := EffectiveRuleset(me, []byte(`[]`)); err == nil {
		t.Error("EffectiveRuleset accepted an array")
	}
}

func TestRawAndClientEvents(t *testing.T) {
	rs := DefaultRuleset(me)
	// Raw JSON (client format, with a float) still evaluates.
	raw, err := cjson.RawJSON([]byte(`{"type":"m.room.message","sender":"@bob:example.org","content":{"msgtype":"m.notice","body":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := rs.Evaluate(raw, Context{UserID: me}); r.RuleID != ".m.rule.suppress_notices" {
		t.Errorf("raw event: %+v", r)
	}
	content, _ := cjson.RawJSON([]byte(`{"msgtype":"m.text","body":"hi","m.mentions":{"user_ids":["@alice:example.org"]}}`))
	ev := cjson.ObjectOf(cjson.M("type", cjson.StrOf("m.room.message")), cjson.M("sender", cjson.StrOf("@bob:x")), cjson.M("content", content))
	if r := rs.Evaluate(ev, Context{UserID: me}); r.RuleID != ".m.rule.is_user_mention" {
		t.Errorf("raw content: %+v", r)
	}
	// Room rules fall back to Context.RoomID for events without room_id.
	rr, _ := ParseRuleset([]byte(`{"room":[{"rule_id":"!r:x","actions":[]}]}`))
	noRoom := event(t, `{"type":"m.room.message","sender":"@bob:x","content":{"body":"x"}}`)
	if r := rr.Evaluate(noRoom, Context{UserID: me, RoomID: "!r:x"}); r.RuleID != "!r:x" {
		t.Errorf("room fallback: %+v", r)
	}
	if r := rr.Evaluate(noRoom, Context{UserID: me}); r.RuleID != "" {
		t.Errorf("no room: %+v", r)
	}
	// Not an object: only condition-less rules can match.
	if r := rs.Evaluate(cjson.StrOf("x"), Context{UserID: me}); r.RuleID != "" {
		t.Errorf("string event: %+v", r)
	}
}

func TestBoundedWork(t *testing.T) {
	// A pathological pattern against a long body finishes quickly because
	// matching never backtracks.
	pat := strings.Repeat("*a", 120) + "b"
	rs, err := ParseRuleset([]byte(`{"content":[{"rule_id":"p","pattern":"` + pat + `","actions":["notify"]}],
		"override":[{"rule_id":"q","conditions":[{"kind":"event_match","key":"content.body","pattern":"` + pat + `"},{"kind":"event_match","key":"content.x","pattern":"` + pat + `"}],"actions":["notify"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b := strings.Repeat("a", 60000)
	ev := event(t, `{"type":"m.room.message","sender":"@b:x","content":{"body":"`+b+`","x":"`+b+`"}}`)
	if r := rs.Evaluate(ev, Context{}); r.RuleID != "" {
		t.Errorf("got %+v", r)
	}
}

func BenchmarkEvaluateDefault(b *testing.B) {
	rs := DefaultRuleset(me)
	ev := event(b, msgIn)
	c := Context{UserID: me, DisplayName: "Alice", RoomMemberCount: 12, SenderPowerLevel: 0}
	b.ReportAllocs()
	for b.Loop() {
		if r := rs.Evaluate(ev, c); !r.Notify {
			b.Fatal("no notify")
		}
	}
}

func BenchmarkParseDefault(b *testing.B) {
	data := []byte(`{"global":` + string(DefaultRulesJSON(me)) + `}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRuleset(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWorstCaseRuleset(t *testing.T) {
	// The client API allows 1000 user rules of 64 conditions; make many
	// expensive globs on a 60 kB body.
	cond := `{"kind":"event_match","key":"content.body","pattern":"` + strings.Repeat("*a", 127) + `"}`
	conds := "[" + strings.Repeat(cond+",", 63) + cond + "]"
	var sb strings.Builder
	sb.WriteString(`{"override":[`)
	for i := range 300 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"rule_id":"r","conditions":` + conds + `,"actions":["notify"]}`)
	}
	sb.WriteString(`]}`)
	rs, err := ParseRuleset([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	ev := event(t, `{"type":"m.room.message","sender":"@b:x","content":{"body":"`+strings.Repeat("b", 60000)+`"}}`)
	start := time.Now()
	rs.Evaluate(ev, Context{})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("evaluation took %v", d)
	}
	t.Logf("worst case: %v", time.Since(start))
}
