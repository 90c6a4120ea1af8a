// Package ids parses and validates Matrix identifiers: server names, user IDs,
// room IDs, event IDs, room aliases, signing key IDs, device IDs and opaque
// identifiers, following the grammar in the spec appendices ("Identifier
// Grammar") and the room version documents.
//
// Why a package of its own: every identifier that crosses a trust boundary
// (a client request, a federation transaction, a stored event) has to be
// checked against the same grammar, and the checks differ in subtle ways. A
// user ID from /register must obey the current strict grammar, while the same
// user ID in the sender of a federated event must be accepted under the much
// looser historical rules, or this server would reject events every other
// server accepts and the room would split. Keeping both rules side by side in
// one place makes that difference explicit and testable.
//
// Design rules:
//
//   - Pure: no I/O, no mutable state. Everything is a function of its input.
//   - Total: no input makes a function panic. Every parser returns either a
//     value or an error that wraps [ErrInvalid].
//   - Bounded: every identifier has a length limit in the spec (255 bytes for
//     the common identifiers); the length is checked before anything else, so
//     the work done is O(limit) regardless of how long the input is.
//   - Faithful: a parsed value's String method returns exactly the input it
//     was parsed from. Identifiers are compared byte-wise in Matrix (the spec
//     says server names are case-sensitive and IDs are opaque), so nothing is
//     normalised; instead, inputs for which a canonical spelling would differ
//     (a zero-padded port, for instance) are rejected.
//
// Errors: all failures are *Error values whose Unwrap returns [ErrInvalid], so
// callers can test with errors.Is and map to M_INVALID_PARAM,
// M_INVALID_USERNAME and the like, using the Reason text as the message.
package ids
