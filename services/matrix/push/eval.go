package push

import (
	"encoding/json"
	"strconv"
	"strings"

	"hearth/services/matrix/cjson"
)

// Context is what conditions need to know beyond the event; the caller
// gathers it (this package does no I/O).
type Context struct {
	// UserID is the owner of the rules.
	UserID string
	// DisplayName is the owner's display name in the room, for the
	// deprecated contains_display_name condition ("" never matches).
	DisplayName string
	// RoomID is used for room rules when the event has no room_id (events
	// in client format may lack it).
	RoomID string
	// RoomMemberCount is the number of joined members of the room.
	RoomMemberCount int
	// SenderPowerLevel is the sender's power level in the room (use
	// math.MaxInt64 for room creators of room version 12).
	SenderPowerLevel int64
	// NotificationPowerLevels is the "notifications" object of the room's
	// m.room.power_levels; a missing key needs level 50 (the spec's default
	// for "room", and what the power package uses for every key).
	NotificationPowerLevels map[string]int64
}

// defaultNotificationLevel is the level needed for a notification key that
// the power levels do not list.
const defaultNotificationLevel = 50

// Result is the outcome of evaluating a ruleset on an event.
type Result struct {
	// Notify is set when the matching rule has the "notify" action.
	Notify bool
	// Highlight and Sound are the highlight and sound tweaks of the
	// matching rule; they are only set when Notify is (without a
	// notification there is nothing to tweak).
	Highlight bool
	Sound     string
	// RuleID is the ID of the rule that matched, "" when none did.
	RuleID string
	// Tweaks holds the rule's other set_tweak actions (name to raw JSON
	// value; a tweak without a value is null), to be passed to push
	// gateways as they are. Nil when there are none or Notify is false.
	// It is shared by all results of the rule: do not modify it.
	Tweaks map[string]json.RawMessage
}

// Evaluate runs the rules on an event, in the order override, content,
// room, sender, underride; the first enabled rule that matches decides.
// The event is an object in client or federation (PDU) format; what is read
// is type, content, sender, state_key, room_id and whatever paths the rules
// name. Events that the user sent themselves never notify (push.md: servers
// MUST NOT notify for them) and match no rule.
func (rs Ruleset) Evaluate(ev cjson.Value, c Context) Result {
	ev = normalize(ev)
	if s, ok := ev.Get("sender").Str(); ok && c.UserID != "" && s == c.UserID {
		return Result{}
	}
	e := evalState{ev: ev, c: c, budget: maxSteps}
	for k, rules := range rs.kinds {
		for i := range rules {
			r := &rules[i]
			if !r.enabled || r.never || !e.matches(k, r) {
				continue
			}
			res := Result{RuleID: r.id, Notify: r.act.notify}
			if res.Notify {
				res.Highlight = r.act.highlight
				res.Sound = r.act.sound
				res.Tweaks = r.act.tweaks
			}
			return res
		}
	}
	return Result{}
}

// evalState caches what several rules read.
type evalState struct {
	ev     cjson.Value
	c      Context
	budget int // glob work left (maxSteps)

	bodyDone bool
	body     string
	bodyOK   bool
	typeDone bool
	typ      string
	typeOK   bool
}

func (e *evalState) eventType() (string, bool) {
	if !e.typeDone {
		e.typeDone = true
		e.typ, e.typeOK = e.ev.Get("type").Str()
	}
	return e.typ, e.typeOK
}

func (e *evalState) contentBody() (string, bool) {
	if !e.bodyDone {
		e.bodyDone = true
		e.body, e.bodyOK = lookup(e.ev, bodyPath).Str()
	}
	return e.body, e.bodyOK
}

var bodyPath = []string{"content", "body"}

func (e *evalState) matches(kind int, r *rule) bool {
	switch kind {
	case kindContent:
		body, ok := e.contentBody()
		return ok && r.pattern.matchWords(body, &e.budget)
	case kindRoom:
		room, ok := e.ev.Get("room_id").Str()
		if !ok {
			room = e.c.RoomID
		}
		return room != "" && room == r.id
	case kindSender:
		s, ok := e.ev.Get("sender").Str()
		return ok && s == r.id
	}
	for i := range r.conds {
		if !e.cond(&r.conds[i]) {
			return false
		}
	}
	return true
}

// Condition kinds.
const (
	condNever = iota // unknown or malformed: never matches
	condEventMatch
	condPropertyIs
	condPropertyContains
	condDisplayName
	condMemberCount
	condSenderPermission
)

type cond struct {
	kind  int
	path  []string
	glob  glob        // event_match
	body  bool        // event_match on content.body: word matching
	typ   bool        // event_match on type (cached)
	value cjson.Value // event_property_is / _contains
	op    string      // room_member_count: "==", "<", ">", "<=", ">="
	count int64       // room_member_count
	key   string      // sender_notification_permission
}

type rawCond struct {
	Kind    string          `json:"kind"`
	Key     *string         `json:"key"`
	Pattern *string         `json:"pattern"`
	Value   json.RawMessage `json:"value"`
	Is      *string         `json:"is"`
}

func compileCond(raw json.RawMessage) cond {
	never := cond{kind: condNever}
	var rc rawCond
	if json.Unmarshal(raw, &rc) != nil {
		return never
	}
	var c cond
	if rc.Key != nil {
		p, ok := parsePath(*rc.Key)
		if !ok {
			return never
		}
		c.path = p
	}
	switch rc.Kind {
	case "event_match":
		if rc.Key == nil || rc.Pattern == nil {
			return never
		}
		c.kind = condEventMatch
		c.glob = compileGlob(*rc.Pattern)
		if c.glob.tooLarge {
			return never
		}
		c.body = len(c.path) == 2 && c.path[0] == "content" && c.path[1] == "body"
		c.typ = len(c.path) == 1 && c.path[0] == "type"
	case "event_property_is", "event_property_contains":
		if rc.Key == nil || rc.Value == nil {
			return never
		}
		v, err := cjson.Decode(rc.Value)
		if err != nil {
			return never // e.g. a float
		}
		switch v.Kind() {
		case cjson.Null, cjson.Bool, cjson.Int, cjson.String:
		default:
			return never // compound values are not supported
		}
		c.value = v
		c.kind = condPropertyIs
		if rc.Kind == "event_property_contains" {
			c.kind = condPropertyContains
		}
	case "contains_display_name":
		c.kind = condDisplayName
	case "room_member_count":
		if rc.Is == nil {
			return never
		}
		op, n, ok := parseMemberCount(*rc.Is)
		if !ok {
			return never
		}
		c.kind, c.op, c.count = condMemberCount, op, n
	case "sender_notification_permission":
		if rc.Key == nil {
			return never
		}
		c.kind, c.key = condSenderPermission, *rc.Key
	default:
		return never
	}
	return c
}

// parseMemberCount reads the "is" of room_member_count: a decimal integer
// optionally prefixed by ==, <, >, <= or >= (no prefix means ==).
func parseMemberCount(is string) (op string, n int64, ok bool) {
	op = "=="
	for _, p := range []string{"==", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(is, p) {
			op, is = p, is[len(p):]
			break
		}
	}
	if is == "" || len(is) > 18 {
		return "", 0, false
	}
	for i := 0; i < len(is); i++ {
		if is[i] < '0' || is[i] > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.ParseInt(is, 10, 64)
	return op, n, err == nil
}

func (e *evalState) cond(c *cond) bool {
	switch c.kind {
	case condEventMatch:
		var s string
		var ok bool
		switch {
		case c.body:
			s, ok = e.contentBody()
		case c.typ:
			s, ok = e.eventType()
		default:
			s, ok = lookup(e.ev, c.path).Str()
		}
		if !ok {
			return false
		}
		if c.body {
			return c.glob.matchWords(s, &e.budget)
		}
		return c.glob.matchAll(s, &e.budget)
	case condPropertyIs:
		return scalarEqual(lookup(e.ev, c.path), c.value)
	case condPropertyContains:
		arr := lookup(e.ev, c.path)
		if arr.Kind() != cjson.Array {
			return false
		}
		for _, it := range arr.Items() {
			if scalarEqual(normalize(it), c.value) {
				return true
			}
		}
		return false
	case condDisplayName:
		if e.c.DisplayName == "" {
			return false
		}
		body, ok := e.contentBody()
		if !ok {
			return false
		}
		g := compileLiteral(e.c.DisplayName)
		return g.matchWords(body, &e.budget)
	case condMemberCount:
		n := int64(e.c.RoomMemberCount)
		switch c.op {
		case "<":
			return n < c.count
		case ">":
			return n > c.count
		case "<=":
			return n <= c.count
		case ">=":
			return n >= c.count
		}
		return n == c.count
	case condSenderPermission:
		need, ok := e.c.NotificationPowerLevels[c.key]
		if !ok {
			need = defaultNotificationLevel
		}
		return e.c.SenderPowerLevel >= need
	}
	return false
}

// scalarEqual reports whether a (from the event) and b (from a rule, a
// string, integer, boolean or null) are the same JSON value: same type,
// same value, no conversions.
func scalarEqual(a, b cjson.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case cjson.Null:
		return true
	case cjson.Bool:
		x, _ := a.BoolValue()
		y, _ := b.BoolValue()
		return x == y
	case cjson.Int:
		x, _ := a.IntValue()
		y, _ := b.IntValue()
		return x == y
	case cjson.String:
		x, _ := a.Str()
		y, _ := b.Str()
		return x == y
	}
	return false
}
