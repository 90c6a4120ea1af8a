package ids

import "strings"

// maxKeyIDLen bounds a key ID. The spec sets no limit; 255 bytes matches the
// other identifiers and is far above any real key ID ("ed25519:a_AbCd").
const maxKeyIDLen = 255

// KeyID is a parsed signing key identifier, "algorithm:version" (spec
// appendices, "Signing Details"; server-server "Publishing Keys"), such as
// "ed25519:abc_1". These name keys in server key responses and in the
// signatures of events and federation requests.
type KeyID struct {
	Algorithm string
	Version   string
}

// String returns the key ID in wire form; for a parsed value, exactly the
// input.
func (k KeyID) String() string { return k.Algorithm + ":" + k.Version }

// ParseKeyID parses a signing key ID.
//
// The version must match [a-zA-Z0-9_]+, as the server key definitions
// require. The spec gives no grammar for the algorithm; the only one in use
// is "ed25519". It is checked here against the Common Namespaced Identifier
// Grammar without the namespacing requirement (start with [a-z], continue
// with [a-z0-9._-]), which every algorithm name in the spec satisfies
// ("ed25519", "curve25519", "signed_curve25519") and which keeps ':' out.
//
// Keys in end-to-end encryption use the same "algorithm:id" shape with a
// device ID or a base64 public key after the ':', which this grammar does
// not admit; ParseKeyID is for homeserver signing keys only.
func ParseKeyID(s string) (KeyID, error) {
	const kind = "key ID"
	if s == "" {
		return KeyID{}, invalid(kind, "empty")
	}
	if len(s) > maxKeyIDLen {
		return KeyID{}, invalid(kind, "longer than 255 bytes")
	}
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		return KeyID{}, invalid(kind, "missing ':' between algorithm and version")
	}
	alg, ver := s[:colon], s[colon+1:]
	if alg == "" {
		return KeyID{}, invalid(kind, "empty algorithm")
	}
	if alg[0] < 'a' || alg[0] > 'z' {
		return KeyID{}, invalid(kind, "algorithm does not start with a-z")
	}
	for i := 0; i < len(alg); i++ {
		c := alg[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return KeyID{}, invalid(kind, "algorithm contains disallowed character "+quoteByteAt(alg, i))
		}
	}
	if ver == "" {
		return KeyID{}, invalid(kind, "empty version")
	}
	for i := 0; i < len(ver); i++ {
		c := ver[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return KeyID{}, invalid(kind, "version contains disallowed character "+quoteByteAt(ver, i))
		}
	}
	return KeyID{Algorithm: alg, Version: ver}, nil
}
