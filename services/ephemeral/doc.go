// Package ephemeral keeps the room data that is not part of the event graph:
// typing notifications and read receipts (spec: "Typing Notifications",
// "Receipts").
//
// Typing is kept in memory only: who is typing where, with an expiry each.
// It has its own stream position that increases on every change (a user
// starts, stops or times out). Positions start at the wall clock in
// microseconds, so tokens handed out before a restart stay below the ones
// handed out after it.
//
// Receipts (m.read, m.read.private, threaded or not) are kept in Badger:
//
//	PrefixReceipt       room 0 type 0 user 0 thread → {event_id, ts, pos}
//	PrefixReceiptStream pos (8 bytes BE)            → the receipt key above
//	PrefixEphemeralMeta "receipt_pos"               → the last position
//
// Each (room, type, user, thread) holds one receipt, the latest one sent:
// the spec associates each such tuple with a single event, and lets clients
// move it as they like (a public receipt may lag a private one), so a
// receipt for an older event still replaces the current one. The stream
// holds one entry per current receipt (the old entry is deleted when a
// receipt is replaced), so it never grows beyond the receipts themselves.
//
// m.read.private receipts are only ever shown to their own user.
//
// Service bundles both and serves them to /sync as m.typing and m.receipt
// events (it implements the sync package's EphemeralSource).
package ephemeral
