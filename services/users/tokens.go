package users

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Token format: a type prefix, then 32 random bytes in unpadded base64url.
// The prefix lets secret scanners and log filters recognise a leaked token
// and lets Authenticate reject garbage without a lookup.
const (
	accessPrefix   = "hth_"
	refreshPrefix  = "hthr_"
	tokenBytes     = 32
	maxTokenLength = 128
)

// tokenHash is the SHA-256 of a token: the only form in which a token is
// stored. Plain SHA-256 suffices: the tokens are 256-bit random values, so
// there is nothing to brute-force, and lookups stay cheap.
type tokenHash [sha256.Size]byte

func hashToken(tok string) tokenHash { return sha256.Sum256([]byte(tok)) }

// newToken returns a fresh token with the given prefix and its hash.
func (s *Service) newToken(prefix string) (string, tokenHash, error) {
	b, err := s.randBytes(tokenBytes)
	if err != nil {
		return "", tokenHash{}, err
	}
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok), nil
}

// wellFormed reports whether tok could be a token of ours with the prefix.
func wellFormed(tok, prefix string) bool {
	return len(tok) <= maxTokenLength && strings.HasPrefix(tok, prefix)
}

// accessRecord is stored under accessKey(hash).
type accessRecord struct {
	Localpart string `json:"u"`
	Device    string `json:"d"`
	Kind      Kind   `json:"k"`
	IssuedMS  int64  `json:"iat"`
	ExpiresMS int64  `json:"exp,omitempty"` // 0: never
	// RevokeOld is set on a token minted by Refresh until its first use,
	// which revokes the refresh token that was exchanged for it.
	RevokeOld bool `json:"ro,omitempty"`
}

// refreshRecord is stored under refreshKey(hash).
type refreshRecord struct {
	Localpart string `json:"u"`
	Device    string `json:"d"`
	ExpiresMS int64  `json:"exp,omitempty"` // 0: never
}

// hashes converts stored hash bytes back, skipping malformed entries.
func asHash(b []byte) (tokenHash, bool) {
	var h tokenHash
	if len(b) != len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}
