// Package pdu is the Matrix event (persistent data unit) per room version:
// the room-version table, parsing received events while keeping their exact
// bytes, redaction, content and reference hashes, event IDs, v12 room IDs,
// signing and verifying events, auth-event selection, and building local
// events.
//
// Every step that depends on the room version goes through a *RoomVersion, so
// that one object carries every difference between versions (DESIGN.md,
// "Protocol rules that bite"). Rooms 6 to 12 are supported; 12 is the default
// for new rooms.
package pdu
