package push

import (
	"testing"

	"hearth/services/matrix/cjson"
)

// FuzzEvaluate feeds random rulesets and events to the evaluator; it must
// not panic, and evaluation must be deterministic.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"global":{"override":[{"rule_id":"r","enabled":true,"conditions":[{"kind":"event_match","key":"content.body","pattern":"*a?b*"}],"actions":["notify"]}]}}`),
		[]byte(`{"type":"m.room.message","sender":"@b:x","content":{"body":"xx aab yy"}}`))
	f.Add(DefaultRulesJSON("@alice:example.org"),
		[]byte(`{"type":"m.room.message","sender":"@b:x","content":{"body":"hi","m.mentions":{"user_ids":["@alice:example.org"]}}}`))
	f.Fuzz(func(t *testing.T, rules, event []byte) {
		rs, err := ParseRuleset(rules)
		if err != nil {
			return
		}
		if _, err := EffectiveRuleset("@alice:example.org", rules); err != nil {
			t.Fatalf("EffectiveRuleset failed where ParseRuleset succeeded: %v", err)
		}
		ev, err := cjson.Decode(event)
		if err != nil {
			if ev, err = cjson.RawJSON(event); err != nil {
				return
			}
		}
		for _, c := range []Context{
			{UserID: "@alice:example.org", DisplayName: "Alice", RoomMemberCount: 2},
			{UserID: "@alice:example.org", DisplayName: "a*?", RoomMemberCount: 40, SenderPowerLevel: 100,
				NotificationPowerLevels: map[string]int64{"room": 100}, RoomID: "!r:x"},
		} {
			a := rs.Evaluate(ev, c)
			b := rs.Evaluate(ev, c)
			if a.RuleID != b.RuleID || a.Notify != b.Notify || a.Highlight != b.Highlight || a.Sound != b.Sound {
				t.Fatalf("not deterministic: %+v vs %+v", a, b)
			}
			if !a.Notify && (a.Highlight || a.Sound != "" || a.Tweaks != nil) {
				t.Fatalf("tweaks without notify: %+v", a)
			}
		}
	})
}
