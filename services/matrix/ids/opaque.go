package ids

// maxOpaqueIDLen is the default upper length of the Opaque Identifier
// Grammar ("unless otherwise specified").
const maxOpaqueIDLen = 255

// ValidOpaqueID reports whether s follows the Opaque Identifier Grammar (spec
// appendices, "Opaque Identifiers"): 1 to 255 characters from [0-9A-Za-z],
// '-', '.', '_' and '~', the unreserved set of RFC 3986, so such identifiers
// can go into URLs unescaped. Grammars that specify other lengths must check
// them separately.
func ValidOpaqueID(s string) bool {
	if s == "" || len(s) > maxOpaqueIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
