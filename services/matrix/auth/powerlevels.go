package auth

import (
	"maps"
	"slices"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/matrix/power"
)

// levelFields are the top-level power levels rule 10.6 compares.
var levelFields = []string{"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}

// plContent is power-level content as written: only the values present.
type plContent struct {
	top                   map[string]int64
	events, notifications map[string]int64
	users                 map[string]int64
}

// plError is a content problem with the v12 number of the rule it breaks.
type plError struct{ rule, reason string }

// parsePL reads and validates power-level content (rules 10.1–10.3).
//
// From room version 10 the spec requires integers throughout. Before, it only
// requires users to map valid user IDs to integers or integer strings, and
// says nothing about the other values; this package is stricter and rejects,
// in v6–v9 too, any value that is neither an integer nor an integer string
// and any events/notifications that is not an object (reported as rule 9.1).
// Such content could not be read as power levels later anyway.
//
// checkUserIDs is false for content already in the room state, which was
// validated when it was accepted.
func parsePL(v *pdu.RoomVersion, content cjson.Value, checkUserIDs bool) (plContent, *plError) {
	p := plContent{top: map[string]int64{}}
	for _, f := range levelFields {
		val := content.Get(f)
		if !val.Exists() {
			continue
		}
		n, ok := levelValue(v, val)
		if !ok {
			return p, &plError{"10.1", f + " is " + val.String() + ", not an integer"}
		}
		p.top[f] = n
	}
	var err *plError
	if p.events, err = levelMap(v, content, "events", "10.2", nil); err != nil {
		return p, err
	}
	if p.notifications, err = levelMap(v, content, "notifications", "10.2", nil); err != nil {
		return p, err
	}
	var keyOK func(string) bool
	if checkUserIDs {
		keyOK = validUserID
	}
	if p.users, err = levelMap(v, content, "users", "10.3", keyOK); err != nil {
		return p, err
	}
	return p, nil
}

// levelMap reads an object of levels. An absent property is an empty map:
// the spec's "is not an object" does not make users, events or notifications
// required.
func levelMap(v *pdu.RoomVersion, content cjson.Value, key, rule string, keyOK func(string) bool) (map[string]int64, *plError) {
	val := content.Get(key)
	m := map[string]int64{}
	if !val.Exists() {
		return m, nil
	}
	if val.Kind() != cjson.Object {
		return nil, &plError{rule, key + " is a " + val.Kind().String() + ", not an object"}
	}
	for _, mem := range val.Members() {
		if keyOK != nil && !keyOK(mem.Key) {
			return nil, &plError{rule, key + " has key " + cjson.StrOf(mem.Key).String() + ", not a valid user ID"}
		}
		n, ok := levelValue(v, mem.Value)
		if !ok {
			return nil, &plError{rule, key + "." + mem.Key + " is " + mem.Value.String() + ", not an integer"}
		}
		m[mem.Key] = n
	}
	return m, nil
}

// levelValue reads one level: an integer, or before v10 also a string holding
// one (parsed by the power package, the one place that knows the spec's
// string grammar).
func levelValue(v *pdu.RoomVersion, val cjson.Value) (int64, bool) {
	if n, ok := val.IntValue(); ok {
		return n, true
	}
	if v.IntegerPowerLevels || val.Kind() != cjson.String {
		return 0, false
	}
	l, err := power.Parse(v, cjson.ObjectOf(cjson.M("ban", val)))
	if err != nil {
		return 0, false
	}
	return l.Ban, true
}

// powerLevels applies rule 10 (rule 9 in v6–v11) to an m.room.power_levels
// event that passed rules 6–9.
func (c *checker) powerLevels() error {
	v := c.v
	next, perr := parsePL(v, c.ev.Content(), true)
	if perr != nil {
		return reject(v, perr.rule, "%s", perr.reason)
	}
	if v.PrivilegedCreators {
		for _, creator := range power.Creators(v, c.create) {
			if _, ok := next.users[creator]; ok {
				return reject(v, "10.4", "users lists the room creator %s", creator)
			}
		}
	}
	prevEv := c.state.Get("m.room.power_levels", "")
	if prevEv == nil {
		return nil // 10.5
	}
	prev, perr := parsePL(v, prevEv.Content(), false)
	if perr != nil {
		return &Error{Rule: "state", Reason: "current m.room.power_levels is invalid: " + perr.reason}
	}
	sender := c.ev.Sender()
	own := c.levels.User(sender)
	for _, f := range levelFields {
		o, hadOld := prev.top[f]
		n, hasNew := next.top[f]
		if hadOld == hasNew && o == n {
			continue
		}
		if hadOld && o > own {
			return reject(v, "10.6.1", "cannot change %s from %d with power level %s", f, o, levelString(own))
		}
		if hasNew && n > own {
			return reject(v, "10.6.2", "cannot set %s to %d with power level %s", f, n, levelString(own))
		}
	}
	for _, pair := range [][2]map[string]int64{{prev.events, next.events}, {prev.notifications, next.notifications}} {
		if err := c.checkLevelMap(pair[0], pair[1], own); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(prev.users)) {
		o := prev.users[k]
		if n, ok := next.users[k]; k == sender || (ok && n == o) {
			continue
		}
		if o >= own {
			return reject(v, "10.9.1", "cannot change the level of %s (%d) with power level %s", k, o, levelString(own))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(next.users)) {
		n := next.users[k]
		if o, ok := prev.users[k]; ok && o == n {
			continue
		}
		if n > own {
			return reject(v, "10.10.1", "cannot give %s power level %d with power level %s", k, n, levelString(own))
		}
	}
	return nil // 10.11
}

// checkLevelMap applies rules 10.7 and 10.8 to events or notifications.
func (c *checker) checkLevelMap(prev, next map[string]int64, own int64) error {
	for _, k := range slices.Sorted(maps.Keys(prev)) {
		o := prev[k]
		if n, ok := next[k]; ok && n == o {
			continue
		}
		if o > own {
			return reject(c.v, "10.7.1", "cannot change the level of %s (%d) with power level %s", k, o, levelString(own))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(next)) {
		n := next[k]
		if o, ok := prev[k]; ok && o == n {
			continue
		}
		if n > own {
			return reject(c.v, "10.8.1", "cannot set the level of %s to %d with power level %s", k, n, levelString(own))
		}
	}
	return nil
}
