package users

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password hashing: argon2id, stored in the PHC string format
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The parameters travel with
// each hash, so raising Options.Argon2 later leaves old hashes verifiable;
// CheckPassword rehashes them with the current parameters on the next
// successful login.

const (
	saltLen           = 16
	hashLen           = 32
	maxPasswordBytes  = 1024 // argon2 takes any length; this bounds the work
	argon2Version     = argon2.Version
	phcPrefix         = "$argon2id$"
	maxStoredHashText = 256
)

func (p Argon2Params) check() error {
	switch {
	case p.Time == 0 || p.Time > 64:
		return errors.New("users: Options.Argon2.Time must be 1..64")
	case p.Threads == 0:
		return errors.New("users: Options.Argon2.Threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads):
		return errors.New("users: Options.Argon2.MemoryKiB must be at least 8 × Threads")
	case p.MemoryKiB > maxArgon2MemoryKiB:
		return errors.New("users: Options.Argon2.MemoryKiB must be at most 1 GiB")
	}
	return nil
}

// checkNewPassword applies the password policy: a minimum length in
// characters, a maximum in bytes, and not the localpart itself.
func (s *Service) checkNewPassword(localpart, pw string) error {
	if len(pw) > maxPasswordBytes {
		return tooLarge("password longer than %d bytes", maxPasswordBytes)
	}
	if pw == "" || utf8.RuneCountInString(pw) < s.opts.PasswordMinLength {
		return fmt.Errorf("%w: shorter than %d characters", ErrWeakPassword, max(s.opts.PasswordMinLength, 1))
	}
	if strings.EqualFold(pw, localpart) {
		return fmt.Errorf("%w: same as the username", ErrWeakPassword)
	}
	return nil
}

// acquireHash waits for a hashing slot.
func (s *Service) acquireHash(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSem <- struct{}{}:
		return func() {
			<-s.hashSem
			if len(s.hashSem) == 0 && s.opts.HashesDone != nil {
				s.opts.HashesDone()
			}
		}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword returns the PHC string for pw under the current parameters.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	salt, err := s.randBytes(saltLen)
	if err != nil {
		return "", err
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	p := s.opts.Argon2
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, hashLen)
	return encodePHC(p, salt, key), nil
}

func encodePHC(p Argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// phcHash is a parsed PHC string.
type phcHash struct {
	params Argon2Params
	salt   []byte
	key    []byte
}

// parsePHC parses an argon2id PHC string strictly, with bounds on every
// number, so that a damaged record cannot make verification allocate
// without limit.
func parsePHC(s string) (phcHash, error) {
	bad := func(why string) (phcHash, error) {
		return phcHash{}, fmt.Errorf("users: stored password hash: %s", why)
	}
	if len(s) > maxStoredHashText || !strings.HasPrefix(s, phcPrefix) {
		return bad("not an argon2id PHC string")
	}
	parts := strings.Split(s[len(phcPrefix):], "$")
	if len(parts) != 4 {
		return bad("wrong number of fields")
	}
	if parts[0] != "v="+strconv.Itoa(argon2Version) {
		return bad("unsupported version")
	}
	var h phcHash
	for _, kv := range strings.Split(parts[1], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("malformed parameters")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("malformed parameter " + k)
		}
		switch k {
		case "m":
			h.params.MemoryKiB = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return bad("too many threads")
			}
			h.params.Threads = uint8(n)
		default:
			return bad("unknown parameter " + k)
		}
	}
	if err := h.params.check(); err != nil {
		return bad("parameters out of range")
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[2]); err != nil || len(h.salt) < 8 {
		return bad("bad salt")
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[3]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return bad("bad hash")
	}
	return h, nil
}

// verifyPassword reports whether pw matches the PHC string, comparing in
// constant time, and whether the hash should be redone with the current
// parameters.
func (s *Service) verifyPassword(ctx context.Context, phc, pw string) (ok, rehash bool, err error) {
	h, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	if len(pw) > maxPasswordBytes {
		pw = pw[:maxPasswordBytes] // still do the work; it cannot match
		defer func() { ok = false }()
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	key := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	return ok, h.params != s.opts.Argon2 || len(h.key) != hashLen, nil
}

// burnPasswordCheck does the work of one verification against a hash that
// matches nothing, so that a login for a missing or passwordless account
// takes as long as one with a wrong password.
func (s *Service) burnPasswordCheck(ctx context.Context, pw string) {
	s.dummyOnce.Do(func() {
		h, err := s.hashPassword(context.Background(), "hearth: no password can match this")
		if err != nil {
			return
		}
		s.dummyHash = h
	})
	if s.dummyHash != "" {
		_, _, _ = s.verifyPassword(ctx, s.dummyHash, pw)
	}
}
