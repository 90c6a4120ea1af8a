package ids

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxIDLen is the limit, in bytes and including sigil and domain, that the
// spec puts on user IDs, room IDs, event IDs and room aliases.
const maxIDLen = 255

// isStrictLocalpartChar reports whether c may appear in a user ID localpart
// under the current grammar (spec v1.8+): a-z, 0-9, '.', '_', '=', '-', '/', '+'.
func isStrictLocalpartChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '.', '_', '=', '-', '/', '+':
		return true
	}
	return false
}

// strictLocalpartReason returns "" if s is a valid strict user ID localpart,
// otherwise why not.
func strictLocalpartReason(s string) string {
	if s == "" {
		return "empty localpart"
	}
	for i := 0; i < len(s); i++ {
		if !isStrictLocalpartChar(s[i]) {
			return "localpart contains disallowed character " + quoteByteAt(s, i)
		}
	}
	return ""
}

// looseLocalpartReason returns "" if s is acceptable as the localpart of a
// historical user ID, a domain-form room ID, a legacy event ID or a room
// alias: any valid, non-surrogate Unicode except ':' and NUL. Go's UTF-8
// validation already rejects encoded surrogates. Emptiness is checked by the
// callers because the rules differ per identifier.
func looseLocalpartReason(s string) string {
	if !utf8.ValidString(s) {
		return "localpart is not valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0:
			return "localpart contains NUL"
		case ':':
			return "localpart contains ':'"
		}
	}
	return ""
}

// quoteByteAt renders the character starting at s[i] for an error message,
// escaping it so that control characters and invalid bytes are visible.
func quoteByteAt(s string, i int) string {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return strconv.Quote(s[i : i+1])
	}
	return strconv.QuoteRuneToASCII(r)
}

// splitSigilID splits "&localpart:server" into its parts, checking the overall
// length, the sigil and the server name. The localpart ends at the first ':',
// which is unambiguous because no localpart grammar admits ':'; the server
// name itself may contain ':' (port, IPv6 literal). The localpart is returned
// unchecked.
func splitSigilID(s string, sigil byte, kind string) (local, server string, err error) {
	if s == "" {
		return "", "", invalid(kind, "empty")
	}
	if len(s) > maxIDLen {
		return "", "", invalid(kind, "longer than 255 bytes")
	}
	if s[0] != sigil {
		return "", "", invalid(kind, "does not start with '"+string(sigil)+"'")
	}
	rest := s[1:]
	colon := strings.IndexByte(rest, ':')
	if colon < 0 {
		return "", "", invalid(kind, "missing ':' before the server name")
	}
	local, server = rest[:colon], rest[colon+1:]
	if _, reason := parseServerName(server); reason != "" {
		return "", "", invalid(kind, "server name: "+reason)
	}
	return local, server, nil
}
