package push

import (
	"encoding/json"
	"strings"
)

// userPlaceholder in defaultRulesJSON stands for the owner's Matrix ID (a
// JSON string, quotes included).
const userPlaceholder = `"[USER]"`

// defaultRulesJSON are the predefined server-default rules of the spec as of
// v1.17 (push.md, "Predefined Rules"), in evaluation order. The legacy rules
// that looked for mentions in the body (.m.rule.contains_user_name,
// .m.rule.contains_display_name, .m.rule.roomnotif) were removed in v1.17
// (MSC4210) and are not included.
const defaultRulesJSON = `{
"override": [
 {"rule_id": ".m.rule.master", "default": true, "enabled": false, "conditions": [], "actions": []},
 {"rule_id": ".m.rule.suppress_notices", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "content.msgtype", "pattern": "m.notice"}],
  "actions": []},
 {"rule_id": ".m.rule.invite_for_me", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.member"},
   {"kind": "event_match", "key": "content.membership", "pattern": "invite"},
   {"kind": "event_match", "key": "state_key", "pattern": "[USER]"}],
  "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
 {"rule_id": ".m.rule.member_event", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.member"}],
  "actions": []},
 {"rule_id": ".m.rule.is_user_mention", "default": true, "enabled": true,
  "conditions": [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids", "value": "[USER]"}],
  "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
 {"rule_id": ".m.rule.is_room_mention", "default": true, "enabled": true,
  "conditions": [{"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": true},
   {"kind": "sender_notification_permission", "key": "room"}],
  "actions": ["notify", {"set_tweak": "highlight"}]},
 {"rule_id": ".m.rule.tombstone", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.tombstone"},
   {"kind": "event_match", "key": "state_key", "pattern": ""}],
  "actions": ["notify", {"set_tweak": "highlight"}]},
 {"rule_id": ".m.rule.reaction", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.reaction"}],
  "actions": []},
 {"rule_id": ".m.rule.room.server_acl", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.server_acl"},
   {"kind": "event_match", "key": "state_key", "pattern": ""}],
  "actions": []},
 {"rule_id": ".m.rule.suppress_edits", "default": true, "enabled": true,
  "conditions": [{"kind": "event_property_is", "key": "content.m\\.relates_to.rel_type", "value": "m.replace"}],
  "actions": []}
],
"content": [],
"room": [],
"sender": [],
"underride": [
 {"rule_id": ".m.rule.call", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.call.invite"}],
  "actions": ["notify", {"set_tweak": "sound", "value": "ring"}]},
 {"rule_id": ".m.rule.encrypted_room_one_to_one", "default": true, "enabled": true,
  "conditions": [{"kind": "room_member_count", "is": "2"},
   {"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
  "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
 {"rule_id": ".m.rule.room_one_to_one", "default": true, "enabled": true,
  "conditions": [{"kind": "room_member_count", "is": "2"},
   {"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
  "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
 {"rule_id": ".m.rule.message", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
  "actions": ["notify"]},
 {"rule_id": ".m.rule.encrypted", "default": true, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
  "actions": ["notify"]}
]
}`

// DefaultRulesJSON returns the predefined rules for userID as the JSON of a
// ruleset ({"override": […], "content": [], "room": [], "sender": [],
// "underride": […]}), the value of "global" in m.push_rules. Every rule has
// "default": true.
func DefaultRulesJSON(userID string) []byte {
	q, _ := json.Marshal(userID)
	return []byte(strings.ReplaceAll(defaultRulesJSON, userPlaceholder, string(q)))
}

// DefaultRuleset returns the predefined rules of the spec (v1.17 list) with
// userID substituted.
func DefaultRuleset(userID string) Ruleset {
	rs, err := parseKinds(DefaultRulesJSON(userID))
	if err != nil {
		panic("push: bad default rules: " + err.Error())
	}
	return rs.compile()
}
