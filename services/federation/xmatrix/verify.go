package xmatrix

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"

	"hearth/services/matrix/ids"
	"hearth/services/matrix/signing"
)

// maxHeaders bounds how many X-Matrix Authorization headers one request may
// carry (a sender with several keys may send one per key).
const maxHeaders = 4

// KeyLookup finds a server's public key by key ID, valid now. keys.Ring's
// VerifyKey with the current time is the real one.
type KeyLookup func(ctx context.Context, server, keyID string) (ed25519.PublicKey, error)

// Verify authenticates a server-server request and returns the origin server
// name. body is the request body as read (the caller bounds its size);
// ourName is this server's name. Every X-Matrix Authorization header must
// name the same valid origin, a destination that is ourName (or none), an
// ed25519 key the lookup finds, and a signature over the canonical request
// object that verifies. Errors wrap the sentinels in errors.go.
func Verify(r *http.Request, body []byte, ourName string, lookup KeyLookup) (origin string, err error) {
	var all []Params
	for _, h := range r.Header.Values("Authorization") {
		if _, ok := cutScheme(h); !ok {
			continue // another scheme
		}
		if len(all) == maxHeaders {
			return "", fmt.Errorf("%w: more than %d X-Matrix headers", ErrBadHeader, maxHeaders)
		}
		p, err := Parse(h)
		if err != nil {
			return "", err
		}
		all = append(all, p)
	}
	if len(all) == 0 {
		return "", ErrMissing
	}
	origin = all[0].Origin
	if !ids.ValidServerName(origin) {
		return "", fmt.Errorf("%w: origin is not a valid server name", ErrBadHeader)
	}
	uri := requestTarget(r)
	for _, p := range all {
		if p.Origin != origin {
			return "", fmt.Errorf("%w: headers name different origins", ErrBadHeader)
		}
		if err := verifyOne(r.Context(), p, r.Method, uri, body, ourName, lookup); err != nil {
			return "", err
		}
	}
	return origin, nil
}

func verifyOne(ctx context.Context, p Params, method, uri string, body []byte, ourName string, lookup KeyLookup) error {
	dest := p.Destination
	if dest == "" {
		dest = ourName // an older sender that signed for us without saying so
	} else if dest != ourName {
		return fmt.Errorf("%w: destination %q", ErrWrongDestination, truncate(dest))
	}
	kid, err := ids.ParseKeyID(p.KeyID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadHeader, err)
	}
	if kid.Algorithm != signing.AlgEd25519 {
		return fmt.Errorf("%w: key algorithm %q is not ed25519", ErrBadHeader, kid.Algorithm)
	}
	sig, err := signing.DecodeBase64(p.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: sig is not a base64 ed25519 signature", ErrBadSignature)
	}
	msg, err := SigningJSON(method, uri, p.Origin, dest, body)
	if err != nil {
		return err
	}
	pub, err := lookup(ctx, p.Origin, p.KeyID)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrUnknownKey, p.Origin, p.KeyID, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: %s %s", ErrUnknownKey, p.Origin, p.KeyID)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%w: %s %s", ErrBadSignature, p.Origin, p.KeyID)
	}
	return nil
}

// requestTarget is the URI the sender signed: the request target as it
// arrived on the wire when the server recorded it in origin form, else the
// URL's own rendering (requests built in tests or proxies' absolute form).
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// truncate keeps error messages short; the value came from outside.
func truncate(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
