// Package push evaluates Matrix push rules (client-server API, modules/push.md)
// against events. It is pure: the caller parses the user's m.push_rules
// account data (ParseRuleset, or EffectiveRuleset to merge with the current
// predefined rules), gathers the room facts conditions need into a Context,
// and calls Evaluate.
//
// Semantics, following the spec:
//   - kinds are tried in the order override, content, room, sender,
//     underride; within a kind in list order; the first enabled rule that
//     matches decides, and no match means no notification;
//   - override and underride rules match when all their conditions hold (no
//     conditions: always); an unknown or malformed condition never holds, so
//     the rule never matches;
//   - content rules glob-match their pattern against content.body on word
//     boundaries; room rules match the room_id, sender rules the sender,
//     exactly;
//   - event_match globs ('*', '?', case-insensitive) on the whole string
//     value of a dotted key path ("content.m\.relates_to"), or on a
//     word-bounded substring for content.body; event_property_is and
//     event_property_contains compare strings, integers, booleans and null
//     exactly; contains_display_name looks for the display name as a
//     word-bounded, case-insensitive literal in content.body;
//     room_member_count compares with ==, <, >, <=, >=;
//     sender_notification_permission compares the sender's power level with
//     the notifications power level of the key;
//   - actions: "notify" and the set_tweak actions; the historical
//     "dont_notify" and "coalesce" (and anything unknown) are ignored.
//
// Work is bounded: globs run as a non-backtracking automaton over at most 255
// tokens, key paths have at most 32 segments, rules with more than 64
// conditions never match, a ruleset keeps at most 2048 rules, and one
// evaluation spends at most maxSteps automaton steps on globs (after that,
// globs do not match).
package push
