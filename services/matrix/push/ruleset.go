package push

import (
	"encoding/json"
	"errors"
	"strings"

	"hearth/services/matrix/cjson"
)

// Bounds on the work one ruleset may cause.
const (
	maxRules      = 2048 // rules kept per ruleset, all kinds together; the rest are ignored
	maxConditions = 64   // a rule with more conditions never matches
	maxActions    = 64   // actions after the first maxActions are ignored
)

// The rule kinds, in evaluation order.
const (
	kindOverride = iota
	kindContent
	kindRoom
	kindSender
	kindUnderride
	numKinds
)

var kindNames = [numKinds]string{"override", "content", "room", "sender", "underride"}

// Ruleset is a user's compiled push rules. The zero Ruleset has no rules
// (nothing notifies). A Ruleset is immutable and safe for concurrent use.
type Ruleset struct {
	kinds [numKinds][]rule
}

// Len is the number of rules in the ruleset.
func (rs Ruleset) Len() int {
	n := 0
	for _, k := range rs.kinds {
		n += len(k)
	}
	return n
}

// RuleIDs returns the IDs of the rules of one kind ("override", "content",
// "room", "sender" or "underride") in evaluation order.
func (rs Ruleset) RuleIDs(kind string) []string {
	for i, name := range kindNames {
		if name == kind {
			ids := make([]string, len(rs.kinds[i]))
			for j, r := range rs.kinds[i] {
				ids[j] = r.id
			}
			return ids
		}
	}
	return nil
}

// rawRule is one rule as JSON has it.
type rawRule struct {
	RuleID     string            `json:"rule_id"`
	Enabled    *bool             `json:"enabled"`
	Conditions []json.RawMessage `json:"conditions"`
	Pattern    *string           `json:"pattern"`
	Actions    []json.RawMessage `json:"actions"`
}

type rawRuleset [numKinds][]rawRule

// ParseRuleset parses push rules: either the content of the m.push_rules
// account data ({"global": {"override": […], …}}) or the global ruleset
// itself ({"override": […], …}). Parsing is lenient, as the stored rules come
// from clients: a kind that is not an array and a rule that is not a valid
// rule object are skipped (so they never match), and rules beyond the first
// 2048 are ignored. The error is for data that is not a JSON object, or whose
// "global" is not one.
func ParseRuleset(data []byte) (Ruleset, error) {
	raw, err := parseAccountData(data)
	if err != nil {
		return Ruleset{}, err
	}
	return raw.compile(), nil
}

// ParseRulesetValue is ParseRuleset for an already decoded value.
func ParseRulesetValue(v cjson.Value) (Ruleset, error) {
	return ParseRuleset(cjson.Encode(v))
}

// EffectiveRuleset returns the rules that apply to userID given the stored
// m.push_rules content (nil or empty when the user never changed anything):
// the predefined rules, as of this server version, with the enabled flag and
// actions the user set on them, preceded by the user's own rules (IDs not
// starting with ".") in their stored order, except that .m.rule.master stays
// first. Stored copies of predefined rules that no longer exist are dropped.
// This is the same merge the client API does when it serves the rules.
func EffectiveRuleset(userID string, stored []byte) (Ruleset, error) {
	defaults, err := parseKinds(DefaultRulesJSON(userID))
	if err != nil {
		panic("push: bad default rules: " + err.Error())
	}
	if len(stored) == 0 {
		return defaults.compile(), nil
	}
	user, err := parseAccountData(stored)
	if err != nil {
		return Ruleset{}, err
	}
	var out rawRuleset
	for k := range numKinds {
		var mine []rawRule
		changed := map[string]rawRule{}
		for _, r := range user[k] {
			if strings.HasPrefix(r.RuleID, ".") {
				changed[r.RuleID] = r
			} else {
				mine = append(mine, r)
			}
		}
		defs := defaults[k]
		for i, d := range defs {
			if c, ok := changed[d.RuleID]; ok {
				if c.Enabled != nil {
					defs[i].Enabled = c.Enabled
				}
				if c.Actions != nil {
					defs[i].Actions = c.Actions
				}
			}
		}
		var merged []rawRule
		if k == kindOverride && len(defs) > 0 && defs[0].RuleID == ".m.rule.master" {
			merged = append(merged, defs[0])
			defs = defs[1:]
		}
		merged = append(merged, mine...)
		out[k] = append(merged, defs...)
	}
	return out.compile(), nil
}

// parseAccountData accepts {"global": ruleset} or a bare ruleset.
func parseAccountData(data []byte) (rawRuleset, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return rawRuleset{}, errors.New("push: rules are not a JSON object")
	}
	if g, ok := top["global"]; ok {
		return parseKinds(g)
	}
	return parseKindsFrom(top), nil
}

// parseKinds parses a ruleset object ({"override": […], …}).
func parseKinds(data []byte) (rawRuleset, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return rawRuleset{}, errors.New(`push: "global" is not a JSON object`)
	}
	return parseKindsFrom(top), nil
}

func parseKindsFrom(top map[string]json.RawMessage) rawRuleset {
	var rs rawRuleset
	total := 0
	for k, name := range kindNames {
		var items []json.RawMessage
		if json.Unmarshal(top[name], &items) != nil {
			continue
		}
		for _, it := range items {
			if total >= maxRules {
				return rs
			}
			var r rawRule
			if json.Unmarshal(it, &r) != nil || r.RuleID == "" {
				continue
			}
			rs[k] = append(rs[k], r)
			total++
		}
	}
	return rs
}

func (raw rawRuleset) compile() Ruleset {
	var rs Ruleset
	for k := range numKinds {
		rules := make([]rule, 0, len(raw[k]))
		for _, r := range raw[k] {
			rules = append(rules, compileRule(k, r))
		}
		rs.kinds[k] = rules
	}
	return rs
}

// rule is one compiled rule.
type rule struct {
	id      string
	enabled bool
	never   bool   // some part can never match
	conds   []cond // override and underride
	pattern glob   // content
	act     actions
}

func compileRule(kind int, r rawRule) rule {
	c := rule{id: r.RuleID, enabled: r.Enabled == nil || *r.Enabled}
	switch kind {
	case kindOverride, kindUnderride:
		if len(r.Conditions) > maxConditions {
			c.never = true
			break
		}
		for _, raw := range r.Conditions {
			cd := compileCond(raw)
			if cd.kind == condNever {
				c.never = true
				c.conds = nil
				break
			}
			c.conds = append(c.conds, cd)
		}
	case kindContent:
		if r.Pattern == nil {
			c.never = true
			break
		}
		c.pattern = compileGlob(*r.Pattern)
		c.never = c.pattern.tooLarge
	}
	c.act = compileActions(r.Actions)
	return c
}

// actions is the effect of a rule's actions.
type actions struct {
	notify    bool
	highlight bool
	sound     string
	tweaks    map[string]json.RawMessage
}

// compileActions reads "notify" and set_tweak actions. The historical
// "dont_notify" and "coalesce", unknown actions and malformed ones are
// ignored. When a tweak is set twice the last one wins.
func compileActions(list []json.RawMessage) actions {
	var a actions
	if len(list) > maxActions {
		list = list[:maxActions]
	}
	for _, raw := range list {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s == "notify" {
				a.notify = true
			}
			continue
		}
		var obj struct {
			SetTweak *string         `json:"set_tweak"`
			Value    json.RawMessage `json:"value"`
		}
		if json.Unmarshal(raw, &obj) != nil || obj.SetTweak == nil {
			continue
		}
		switch name := *obj.SetTweak; name {
		case "highlight":
			// No value means true; only a boolean is a valid value.
			a.highlight = obj.Value == nil || string(obj.Value) == "true"
		case "sound":
			var v string
			if json.Unmarshal(obj.Value, &v) == nil {
				a.sound = v
			} else {
				a.sound = ""
			}
		default:
			if a.tweaks == nil {
				a.tweaks = map[string]json.RawMessage{}
			}
			val := obj.Value
			if val == nil {
				val = json.RawMessage("null")
			}
			a.tweaks[name] = val
		}
	}
	return a
}
