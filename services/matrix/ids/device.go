package ids

import (
	"unicode"
	"unicode/utf8"
)

// maxDeviceIDLen bounds a device ID. The spec sets no limit; 255 bytes is
// generous and keeps key IDs such as "ed25519:DEVICEID" and database keys
// bounded.
const maxDeviceIDLen = 255

// ValidDeviceID reports whether s is acceptable as a device ID.
//
// The spec treats device IDs as opaque: the legacy login and registration
// APIs let clients supply any string, and only the OAuth 2.0 flow says
// clients SHOULD use the RFC 3986 unreserved set. Restricting to that set
// would lock out existing clients, so the rule here is deliberately looser:
// non-empty, at most 255 bytes, valid UTF-8, and only printable characters
// (Unicode letters, marks, numbers, punctuation and symbols) with no
// whitespace, control or format characters. That excludes what breaks logs,
// URLs and display (NUL, newlines, bidi overrides, zero-width characters)
// while admitting every device ID a real client generates.
func ValidDeviceID(s string) bool {
	if s == "" || len(s) > maxDeviceIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
