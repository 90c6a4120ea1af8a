package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"hearth/services/matrix/ids"
	"hearth/services/matrix/push"
	"hearth/services/users"
)

// Push rules (spec: pushrules.yaml, modules/push.md). Only storage and the
// CRUD API live here; evaluating rules (notification counts, pushes) is
// another service's job.
//
// A user's rules are kept as global account data of type m.push_rules with
// the content {"global": <ruleset>}, the whole effective ruleset, which is
// what the spec says clients see in /sync when their rules change. On read
// the stored set is merged with the current server-default rules: defaults
// come from the code (so they follow server upgrades), with the user's
// enabled/actions changes to them kept; user rules keep their stored order.
// Until a user changes something nothing is stored.
func (a *API) routesPushRules() {
	if a.opts.Users == nil {
		return
	}
	for _, p := range []string{"/pushrules/{$}", "/pushrules"} {
		a.client("GET", p, a.authed(a.getPushRules))
	}
	a.client("GET", "/pushrules/global/{$}", a.authed(a.getGlobalPushRules))
	a.client("GET", "/pushrules/global/{kind}/{ruleId}", a.authed(a.getPushRule))
	a.client("PUT", "/pushrules/global/{kind}/{ruleId}", a.authed(a.putPushRule))
	a.client("DELETE", "/pushrules/global/{kind}/{ruleId}", a.authed(a.deletePushRule))
	a.client("GET", "/pushrules/global/{kind}/{ruleId}/enabled", a.authed(a.getPushRuleEnabled))
	a.client("PUT", "/pushrules/global/{kind}/{ruleId}/enabled", a.authed(a.putPushRuleEnabled))
	a.client("GET", "/pushrules/global/{kind}/{ruleId}/actions", a.authed(a.getPushRuleActions))
	a.client("PUT", "/pushrules/global/{kind}/{ruleId}/actions", a.authed(a.putPushRuleActions))
}

const typePushRules = "m.push_rules"

// pushKinds are the rule kinds in evaluation order.
var pushKinds = []string{"override", "content", "room", "sender", "underride"}

// pushRule is one rule as the API shows it. Conditions is set for override
// and underride rules (possibly empty), Pattern for content rules.
type pushRule struct {
	RuleID     string             `json:"rule_id"`
	Default    bool               `json:"default"`
	Enabled    bool               `json:"enabled"`
	Conditions *[]json.RawMessage `json:"conditions,omitempty"`
	Pattern    *string            `json:"pattern,omitempty"`
	Actions    []json.RawMessage  `json:"actions"`
}

// ruleset maps each kind to its rules, most important first.
type ruleset map[string][]pushRule

func (rs ruleset) MarshalJSON() ([]byte, error) {
	m := make(map[string][]pushRule, len(pushKinds))
	for _, k := range pushKinds {
		m[k] = rs[k]
		if m[k] == nil {
			m[k] = []pushRule{}
		}
	}
	return json.Marshal(m)
}

// defaultPushRules returns the server-default push rules for a user (the
// spec's predefined rules, kept in one place by the push package).
func defaultPushRules(userID string) json.RawMessage {
	return json.RawMessage(push.DefaultRulesJSON(userID))
}

func defaultRuleset(userID string) ruleset {
	var rs ruleset
	if err := json.Unmarshal(defaultPushRules(userID), (*map[string][]pushRule)(&rs)); err != nil {
		panic("clientapi: bad default push rules: " + err.Error())
	}
	return rs
}

// pushRules loads the user's effective ruleset.
func (a *API) pushRules(userID string) (ruleset, error) {
	rs := defaultRuleset(userID)
	raw, err := a.opts.Users.AccountData(userID, "", typePushRules)
	if errors.Is(err, users.ErrNotFound) {
		return rs, nil
	}
	if err != nil {
		return nil, userErr(err)
	}
	var stored struct {
		Global map[string][]pushRule `json:"global"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		a.log.Warn("ignoring unreadable stored push rules", "user", userID, "err", err)
		return rs, nil
	}
	for _, kind := range pushKinds {
		var mine []pushRule
		changed := map[string]pushRule{}
		for _, r := range stored.Global[kind] {
			if strings.HasPrefix(r.RuleID, ".") {
				changed[r.RuleID] = r
			} else if r.RuleID != "" {
				if r.Actions == nil {
					r.Actions = []json.RawMessage{}
				}
				r.Default = false
				mine = append(mine, r)
			}
		}
		defaults := rs[kind]
		for i, d := range defaults {
			if c, ok := changed[d.RuleID]; ok {
				defaults[i].Enabled = c.Enabled
				if c.Actions != nil {
					defaults[i].Actions = c.Actions
				}
			}
		}
		// User rules come before the defaults, except that .m.rule.master
		// always comes first.
		var merged []pushRule
		if kind == "override" && len(defaults) > 0 && defaults[0].RuleID == ".m.rule.master" {
			merged = append(merged, defaults[0])
			defaults = defaults[1:]
		}
		merged = append(merged, mine...)
		rs[kind] = append(merged, defaults...)
	}
	return rs, nil
}

// savePushRules stores the effective ruleset (see routesPushRules).
func (a *API) savePushRules(userID string, rs ruleset) error {
	content, err := json.Marshal(map[string]any{"global": rs})
	if err != nil {
		return err
	}
	if _, err := a.opts.Users.SetAccountData(userID, "", typePushRules, content); err != nil {
		return userErr(err)
	}
	return nil
}

func (a *API) getPushRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.pushRules(CallerOf(r).UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"global": rs})
	return nil
}

func (a *API) getGlobalPushRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := a.pushRules(CallerOf(r).UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs)
	return nil
}

// ruleKind validates the path's kind.
func ruleKind(r *http.Request) (string, error) {
	kind := r.PathValue("kind")
	if !slices.Contains(pushKinds, kind) {
		return "", errInvalidParam("Unknown push rule kind %q", kind)
	}
	return kind, nil
}

func findRule(rules []pushRule, id string) int {
	return slices.IndexFunc(rules, func(p pushRule) bool { return p.RuleID == id })
}

// lookupRule loads the ruleset and finds the path's rule.
func (a *API) lookupRule(r *http.Request) (rs ruleset, kind string, i int, err error) {
	if kind, err = ruleKind(r); err != nil {
		return nil, "", 0, err
	}
	if rs, err = a.pushRules(CallerOf(r).UserID); err != nil {
		return nil, "", 0, err
	}
	if i = findRule(rs[kind], r.PathValue("ruleId")); i < 0 {
		return nil, "", 0, errNotFound("The push rule was not found")
	}
	return rs, kind, i, nil
}

func (a *API) getPushRule(w http.ResponseWriter, r *http.Request) error {
	rs, kind, i, err := a.lookupRule(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rs[kind][i])
	return nil
}

func (a *API) getPushRuleEnabled(w http.ResponseWriter, r *http.Request) error {
	rs, kind, i, err := a.lookupRule(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"enabled": rs[kind][i].Enabled})
	return nil
}

func (a *API) getPushRuleActions(w http.ResponseWriter, r *http.Request) error {
	rs, kind, i, err := a.lookupRule(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": rs[kind][i].Actions})
	return nil
}

// changeRule runs change on the path's rule under the user's lock and
// stores the result.
func (a *API) changeRule(w http.ResponseWriter, r *http.Request, change func(*pushRule)) error {
	user := CallerOf(r).UserID
	defer lockUser(user)()
	rs, kind, i, err := a.lookupRule(r)
	if err != nil {
		return err
	}
	change(&rs[kind][i])
	if err := a.savePushRules(user, rs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) putPushRuleEnabled(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Enabled == nil {
		return errMissingParam("enabled is required")
	}
	return a.changeRule(w, r, func(p *pushRule) { p.Enabled = *body.Enabled })
}

func (a *API) putPushRuleActions(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Actions *[]json.RawMessage `json:"actions"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Actions == nil {
		return errMissingParam("actions is required")
	}
	if err := checkActions(*body.Actions); err != nil {
		return err
	}
	return a.changeRule(w, r, func(p *pushRule) { p.Actions = *body.Actions })
}

// Bounds on what a client may store in one rule.
const (
	maxRuleIDBytes  = 255
	maxRuleItems    = 64
	maxUserRulesAll = 1000
)

// checkActions accepts actions that are strings or objects; unknown ones
// are kept (evaluators ignore them).
func checkActions(actions []json.RawMessage) error {
	if len(actions) > maxRuleItems {
		return errInvalidParam("At most %d actions", maxRuleItems)
	}
	for _, act := range actions {
		var s string
		var o map[string]json.RawMessage
		if json.Unmarshal(act, &s) != nil && (json.Unmarshal(act, &o) != nil || o == nil) {
			return errBadJSON("Each action must be a string or an object")
		}
	}
	return nil
}

// checkConditions requires each condition to be an object with a string
// kind; the other fields depend on the kind and unknown kinds never match.
func checkConditions(conds []json.RawMessage) error {
	if len(conds) > maxRuleItems {
		return errInvalidParam("At most %d conditions", maxRuleItems)
	}
	for _, c := range conds {
		var cond struct {
			Kind *string `json:"kind"`
		}
		if json.Unmarshal(c, &cond) != nil || cond.Kind == nil || *cond.Kind == "" {
			return errBadJSON("Each condition must be an object with a kind")
		}
	}
	return nil
}

func (a *API) putPushRule(w http.ResponseWriter, r *http.Request) error {
	kind, err := ruleKind(r)
	if err != nil {
		return err
	}
	id := r.PathValue("ruleId")
	switch {
	case id == "" || len(id) > maxRuleIDBytes:
		return errInvalidParam("Rule IDs are 1 to %d bytes", maxRuleIDBytes)
	case strings.HasPrefix(id, "."):
		return errInvalidParam("Rule IDs starting with '.' are reserved for server-default rules")
	case strings.ContainsAny(id, `/\`):
		return errInvalidParam("Rule IDs may not contain slashes or backslashes")
	}
	if kind == "room" {
		if _, err := ids.ParseRoomID(id); err != nil {
			return errInvalidParam("The rule ID of a room rule must be a room ID")
		}
	}
	if kind == "sender" {
		if _, err := ids.ParseUserIDLenient(id); err != nil {
			return errInvalidParam("The rule ID of a sender rule must be a user ID")
		}
	}
	var body struct {
		Actions    *[]json.RawMessage `json:"actions"`
		Conditions *[]json.RawMessage `json:"conditions"`
		Pattern    *string            `json:"pattern"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Actions == nil {
		return errMissingParam("actions is required")
	}
	if err := checkActions(*body.Actions); err != nil {
		return err
	}
	rule := pushRule{RuleID: id, Enabled: true, Actions: *body.Actions}
	switch kind {
	case "override", "underride":
		conds := []json.RawMessage{}
		if body.Conditions != nil {
			conds = *body.Conditions
		}
		if err := checkConditions(conds); err != nil {
			return err
		}
		rule.Conditions = &conds
	case "content":
		if body.Pattern == nil || *body.Pattern == "" {
			return errMissingParam("pattern is required for content rules")
		}
		rule.Pattern = body.Pattern
	}
	q := r.URL.Query()
	before, after := q.Get("before"), q.Get("after")

	user := CallerOf(r).UserID
	defer lockUser(user)()
	rs, err := a.pushRules(user)
	if err != nil {
		return err
	}
	rules := rs[kind]
	old := findRule(rules, id)
	if old >= 0 {
		rule.Enabled = rules[old].Enabled
	} else {
		n := 0
		for _, k := range pushKinds {
			for _, p := range rs[k] {
				if !p.Default {
					n++
				}
			}
		}
		if n >= maxUserRulesAll {
			return errForbidden("Too many push rules")
		}
	}
	// Position: before/after a user rule (before wins when both are
	// given), else where it was, else first among the user rules.
	anchor := ""
	if before != "" {
		anchor = before
	} else if after != "" {
		anchor = after
	}
	if anchor != "" {
		if anchor == id || strings.HasPrefix(anchor, ".") || findRule(rules, anchor) < 0 {
			return Errf(http.StatusBadRequest, "M_UNKNOWN", "before/after rule not found: %s", anchor)
		}
	}
	if old >= 0 && anchor == "" {
		rules[old] = rule
		rs[kind] = rules
	} else {
		if old >= 0 {
			rules = slices.Delete(rules, old, old+1)
		}
		var at int
		switch {
		case before != "":
			at = findRule(rules, before)
		case after != "":
			at = findRule(rules, after) + 1
		default:
			// First user rule: after .m.rule.master for override.
			at = slices.IndexFunc(rules, func(p pushRule) bool { return !p.Default || p.RuleID != ".m.rule.master" })
			if at < 0 {
				at = len(rules)
			}
		}
		rs[kind] = slices.Insert(rules, at, rule)
	}
	if err := a.savePushRules(user, rs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) deletePushRule(w http.ResponseWriter, r *http.Request) error {
	user := CallerOf(r).UserID
	defer lockUser(user)()
	rs, kind, i, err := a.lookupRule(r)
	if err != nil {
		return err
	}
	if rs[kind][i].Default {
		return errInvalidParam("Server-default rules cannot be deleted")
	}
	rs[kind] = slices.Delete(rs[kind], i, i+1)
	if err := a.savePushRules(user, rs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}
