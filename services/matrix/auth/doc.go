// Package auth implements the Matrix authorization rules of room versions 6
// to 12 (content/rooms/v6.md … v12.md): whether an event is allowed against a
// room state.
//
// Allowed applies every rule except the auth-events checks (rule 3; rule 2
// before v12), which CheckAuthEvents applies given the event's auth events.
// Checks on receipt of a PDU call both (with the state formed by the auth
// events); the check against the state before the event, the check against
// the current state (soft failure) and state resolution's iterative auth
// checks call Allowed. Whether an event, or one of its auth events, was
// rejected is the caller's knowledge: the rules' "rejected" conditions (3.3,
// and "accepted" in v12 rule 2) are its job.
//
// Rules are numbered as in v12's text throughout the code and comments;
// Error.Rule carries the number of the event's own room version.
//
// Decisions where the spec is silent or loose:
//
//   - Rule 1 applies to every event of type m.room.create, as the text says;
//     content.room_version is "recognised" if this server supports it.
//   - A room without m.room.join_rules (or whose content lacks join_rule) has
//     join rule "invite".
//   - Power-level content: absent users/events/notifications are empty, not
//     "not an object". Before v10 the spec checks only users; this package
//     rejects any value that is neither an integer nor an integer string (and
//     non-object events/notifications) in v6–v9 as well, so every accepted
//     power-levels event can be read. "Changed" compares parsed integers, so
//     "50" → 50 is no change.
//   - Rule 5.2 (join_authorised_via_users_server) applies to every membership
//     and only checks that the event carries an ed25519 signature of that
//     user's server; verification belongs to the PDU checks on receipt.
//   - Rule 5.3.1 allows the creator's first join whoever the sender is, as the
//     text says (prev_events must be exactly the create event).
//   - Third-party invites: public keys may be standard or URL-safe base64,
//     padded or not; any signature in signed (any server, any key ID) may
//     match; at most 16 keys and 16 signatures are tried.
//   - If the state's m.room.power_levels cannot be read, every event but
//     m.room.create is rejected with Rule "state"; it cannot happen for
//     events this package accepted.
package auth
