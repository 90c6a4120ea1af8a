package auth

import (
	"fmt"
	"strconv"
	"strings"

	"hearth/services/matrix/pdu"
)

// Error is an authorization failure: the rule that rejected the event and why.
//
// Rule is the number of the rule in the spec text of the event's own room
// version ("4.3.2" for a v6–v11 join whose sender is not the state key,
// "5.3.2" for the same rule in v12). A Rule of "state" marks a room state the
// rules cannot be applied against (its m.room.power_levels cannot be read).
type Error struct {
	Rule   string
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return "auth rule " + e.Rule + ": " + e.Reason
}

// reject builds an *Error. rule is written in the numbering of room version
// 12 (the spec's latest text, which every check in this package follows) and
// converted to v's own numbering.
func reject(v *pdu.RoomVersion, rule, format string, args ...any) error {
	return &Error{Rule: ruleNumber(v, rule), Reason: fmt.Sprintf(format, args...)}
}

// ruleNumber converts a rule number of room version 12 to the number of the
// same rule in v's spec text. The differences:
//
//   - v6–v11 lack v12's rule 2 (the room ID is the create event's ID), so
//     rules 3 and later are one lower (v12 5.3.2 is v11 4.3.2).
//   - v6–v7 lack the member rule on join_authorised_via_users_server (v12
//     5.2) and the restricted join rule (v12 5.3.5); v6 lacks the knock rule
//     (v12 5.7), so its "unknown membership" rule is 4.6.
//   - v10–v11 lack the creators rule 10.4, so later power-level rules are one
//     lower; v6–v9 have only the users check (9.1) before "no previous
//     power levels" (9.2). The v10 value checks 10.1/10.2, which this package
//     also applies to v6–v9, are reported as 9.1 there.
//
// Rule 1 (create) has the same numbers in every supported version.
func ruleNumber(v *pdu.RoomVersion, rule string) string {
	if v == nil || v.RoomIDIsCreateHash {
		return rule
	}
	parts := strings.Split(rule, ".")
	n := make([]int, len(parts))
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil {
			return rule
		}
		n[i] = x
	}
	if n[0] < 3 {
		return rule
	}
	top := n[0]
	switch {
	case top == 5 && len(n) > 1:
		n = memberNumber(v, n)
	case top == 10 && len(n) > 1:
		n[1] = powerNumber(v, n[1])
	}
	n[0]--
	out := make([]string, len(n))
	for i, x := range n {
		out[i] = strconv.Itoa(x)
	}
	return strings.Join(out, ".")
}

func memberNumber(v *pdu.RoomVersion, n []int) []int {
	if v.Restricted {
		return n
	}
	b := n[1]
	if len(n) > 2 && b == 3 && n[2] >= 5 {
		n[2]-- // no restricted join rule: public is 4.2.5, reject 4.2.6
	}
	switch {
	case b == 8 && !v.Knocking:
		n[1] = 6
	case b >= 3:
		n[1] = b - 1
	}
	return n
}

func powerNumber(v *pdu.RoomVersion, x int) int {
	switch {
	case v.IntegerPowerLevels && x >= 5:
		return x - 1
	case v.IntegerPowerLevels:
		return x
	case x <= 3:
		return 1
	default:
		return x - 3
	}
}
