package xmatrix

import (
	"errors"
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// Signer is what SignWith needs of a server signing key. keys.Signer (the
// interface the rest of the server holds) satisfies it.
type Signer interface {
	KeyID() string
	Sign(msg []byte) []byte
}

// SigningJSON returns the canonical JSON a request signature covers:
// {"method","uri","origin","destination","content"}. content is the request
// body; it is left out when empty and must otherwise be JSON that canonical
// JSON can represent (errors wrap ErrBadContent and the cjson error). uri is
// the request target: the path from "/_matrix/" with '?' and the query, if
// any, exactly as sent.
func SigningJSON(method, uri, origin, destination string, content []byte) ([]byte, error) {
	if method == "" || uri == "" || origin == "" || destination == "" {
		return nil, fmt.Errorf("xmatrix: method, uri, origin and destination are required")
	}
	m := []cjson.Member{
		cjson.M("method", cjson.StrOf(method)),
		cjson.M("uri", cjson.StrOf(uri)),
		cjson.M("origin", cjson.StrOf(origin)),
		cjson.M("destination", cjson.StrOf(destination)),
	}
	if len(content) > 0 {
		v, err := cjson.Decode(content)
		if errors.Is(err, cjson.ErrBadJSON) {
			// Numbers canonical JSON refuses (floats in client data): sign
			// and verify over their literal text (lenient.go).
			lc, lerr := lenientCanonical(content)
			if lerr == nil {
				v, err = cjson.RawJSON(lc)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadContent, err)
		}
		m = append(m, cjson.M("content", v))
	}
	return cjson.Encode(cjson.ObjectOf(m...)), nil
}

// Sign returns the Authorization header value for a request from origin to
// destination, signed with key. See SignWith.
func Sign(key signing.Key, method, uri, origin, destination string, content []byte) (string, error) {
	return SignWith(rawKey{key}, method, uri, origin, destination, content)
}

// SignWith is Sign for a key held behind the Signer interface (the TPM-backed
// server key). destination must be set: the spec says senders MUST send it.
func SignWith(s Signer, method, uri, origin, destination string, content []byte) (string, error) {
	msg, err := SigningJSON(method, uri, origin, destination, content)
	if err != nil {
		return "", err
	}
	return Format(Params{
		Origin:      origin,
		Destination: destination,
		KeyID:       s.KeyID(),
		Sig:         signing.EncodeBase64(s.Sign(msg)),
	})
}

type rawKey struct{ k signing.Key }

func (r rawKey) KeyID() string          { return r.k.ID }
func (r rawKey) Sign(msg []byte) []byte { return r.k.Sign(msg) }
