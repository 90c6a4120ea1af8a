package ids

import "strings"

// EventID is a parsed event ID (spec appendices, "Event IDs", and the room
// version documents). It has one of two forms:
//
//   - "$opaque:server" (room versions 1 and 2): Server is the server name of
//     the originating homeserver.
//   - "$hash" (room version 3 on): Opaque is the SHA-256 reference hash of
//     the event, 43 characters of unpadded base64 (standard alphabet in room
//     version 3, URL-safe from version 4), and Server is empty.
type EventID struct {
	Opaque string
	Server string
}

// IsHash reports whether the event ID is of the domain-less, hash form.
func (e EventID) IsHash() bool { return e.Server == "" }

// String returns the event ID in wire form; for a parsed value, exactly the
// input.
func (e EventID) String() string {
	if e.Server == "" {
		return "$" + e.Opaque
	}
	return "$" + e.Opaque + ":" + e.Server
}

// ParseEventID parses an event ID of any room version's form. A hash-form ID
// is accepted if it is valid in either base64 alphabet (but not a mixture of
// the two); a caller that knows the room version should use
// ValidEventIDForFormat instead. Legacy IDs follow the same rules as
// domain-form room IDs: a non-empty opaque part of valid Unicode without ':'
// or NUL, and at most 255 bytes overall.
func ParseEventID(s string) (EventID, error) {
	const kind = "event ID"
	if len(s) > maxIDLen {
		// Checked first so that the scan for ':' below is bounded.
		return EventID{}, invalid(kind, "longer than 255 bytes")
	}
	if len(s) > 1 && s[0] == '$' && strings.IndexByte(s, ':') < 0 {
		h := s[1:]
		if !validHash(h, true) && !validHash(h, false) {
			return EventID{}, invalid(kind, "neither '$opaque:server' nor '$' and 43 characters of unpadded base64")
		}
		return EventID{Opaque: h}, nil
	}
	local, server, err := splitSigilID(s, '$', kind)
	if err != nil {
		return EventID{}, err
	}
	if local == "" {
		return EventID{}, invalid(kind, "empty opaque part")
	}
	if reason := looseLocalpartReason(local); reason != "" {
		return EventID{}, invalid(kind, reason)
	}
	return EventID{Opaque: local, Server: server}, nil
}

// ValidEventIDForFormat reports whether s is a hash-form event ID, '$'
// followed by the 43-character unpadded base64 encoding of a SHA-256 hash, in
// the URL-safe alphabet (urlSafe true: room versions 4 and later) or the
// standard one (urlSafe false: room version 3).
func ValidEventIDForFormat(s string, urlSafe bool) bool {
	return len(s) == 1+hashIDLen && s[0] == '$' && validHash(s[1:], urlSafe)
}
