package signing

import (
	"encoding/base64"
	"strings"
)

// EncodeBase64 is unpadded standard base64, the encoding of hashes, keys and
// signatures.
func EncodeBase64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// EncodeBase64URL is unpadded URL-safe base64, the encoding of event IDs from
// room version 4 and of v12 room IDs.
func EncodeBase64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeBase64 decodes standard base64 with or without padding, as the spec
// asks decoders to accept. Non-zero trailing bits are tolerated: the spec's
// own signing-key seed has them.
func DecodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// DecodeBase64URL decodes URL-safe base64 with or without padding.
func DecodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
