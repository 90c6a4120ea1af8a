package ids

// hashIDLen is the length of a SHA-256 reference hash in unpadded base64:
// 32 bytes = 256 bits = 42 full sextets plus 4 bits, so 43 characters.
const hashIDLen = 43

// b64Value returns the 6-bit value of c in the standard (urlSafe false) or
// URL-safe (urlSafe true) base64 alphabet, and whether c belongs to it.
func b64Value(c byte, urlSafe bool) (byte, bool) {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A', true
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26, true
	case '0' <= c && c <= '9':
		return c - '0' + 52, true
	case c == '+' && !urlSafe, c == '-' && urlSafe:
		return 62, true
	case c == '/' && !urlSafe, c == '_' && urlSafe:
		return 63, true
	}
	return 0, false
}

// validHash reports whether h is exactly the unpadded base64 encoding of a
// 32-byte hash in the chosen alphabet. The last character carries 4 bits of
// the hash and 2 bits of padding; those padding bits must be zero, as in
// every encoder's output. Accepting non-zero padding bits would let several
// distinct strings name the same hash, and since IDs are compared as strings
// that would be a source of confusion rather than of interoperability.
func validHash(h string, urlSafe bool) bool {
	if len(h) != hashIDLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		v, ok := b64Value(h[i], urlSafe)
		if !ok {
			return false
		}
		if i == hashIDLen-1 && v&3 != 0 {
			return false
		}
	}
	return true
}
