package ids

import "strings"

// RoomID is a parsed room ID (spec appendices, "Room IDs"). It has one of two
// forms, depending on the room version:
//
//   - "!opaque:server" (room versions 1 to 11): Server is the server name of
//     the creating homeserver, which only namespaces the ID.
//   - "!hash" (room version 12 on): Opaque is the reference hash of the
//     m.room.create event in URL-safe unpadded base64, 43 characters, and
//     Server is empty.
type RoomID struct {
	Opaque string
	Server string
}

// IsHash reports whether the room ID is of the domain-less, hash form.
func (r RoomID) IsHash() bool { return r.Server == "" }

// String returns the room ID in wire form; for a parsed value, exactly the
// input.
func (r RoomID) String() string {
	if r.Server == "" {
		return "!" + r.Opaque
	}
	return "!" + r.Opaque + ":" + r.Server
}

// ParseRoomID parses a room ID of either form. Which form applies is decided
// by the presence of ':', which the base64 alphabet does not contain. The
// caller, who knows the room version, should check IsHash against it.
//
// For the domain form the spec allows the opaque part to be any valid
// non-surrogate Unicode except ':' and NUL; it must additionally be
// non-empty here, since "!:server" names nothing a server would generate.
// For the hash form the encoding must be canonical (see validHash).
func ParseRoomID(s string) (RoomID, error) {
	const kind = "room ID"
	if len(s) > maxIDLen {
		// Checked first so that the scan for ':' below is bounded.
		return RoomID{}, invalid(kind, "longer than 255 bytes")
	}
	if len(s) > 1 && s[0] == '!' && strings.IndexByte(s, ':') < 0 {
		if !validHash(s[1:], true) {
			return RoomID{}, invalid(kind, "neither '!opaque:server' nor '!' and 43 characters of URL-safe unpadded base64")
		}
		return RoomID{Opaque: s[1:]}, nil
	}
	local, server, err := splitSigilID(s, '!', kind)
	if err != nil {
		return RoomID{}, err
	}
	if local == "" {
		return RoomID{}, invalid(kind, "empty opaque part")
	}
	if reason := looseLocalpartReason(local); reason != "" {
		return RoomID{}, invalid(kind, reason)
	}
	return RoomID{Opaque: local, Server: server}, nil
}
