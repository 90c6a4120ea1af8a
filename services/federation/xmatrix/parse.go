package xmatrix

import (
	"fmt"
	"strings"
)

// MaxHeaderLen bounds an Authorization header value. Real headers are about
// 200 bytes; server names are at most 261.
const MaxHeaderLen = 8 << 10

// Scheme is the auth-scheme of Matrix request authentication.
const Scheme = "X-Matrix"

// Params are the parameters of an X-Matrix header. Destination is empty when
// the header had none.
type Params struct {
	Origin      string
	Destination string
	KeyID       string
	Sig         string
}

// Parse reads one X-Matrix Authorization header value (see the package doc
// for what it accepts). Origin, key and sig must be present and non-empty;
// their contents are checked by Verify, not here. Errors wrap ErrBadHeader,
// or ErrMissing when the scheme is not X-Matrix.
func Parse(header string) (Params, error) {
	if len(header) > MaxHeaderLen {
		return Params{}, fmt.Errorf("%w: longer than %d bytes", ErrBadHeader, MaxHeaderLen)
	}
	rest, ok := cutScheme(header)
	if !ok {
		return Params{}, fmt.Errorf("%w: scheme is not %s", ErrMissing, Scheme)
	}
	p := paramParser{s: rest}
	var out Params
	seen := map[string]bool{}
	for {
		name, value, done, err := p.next()
		if err != nil {
			return Params{}, fmt.Errorf("%w: %v", ErrBadHeader, err)
		}
		if done {
			break
		}
		var dst *string
		switch name {
		case "origin":
			dst = &out.Origin
		case "destination":
			dst = &out.Destination
		case "key":
			dst = &out.KeyID
		case "sig", "signature":
			name, dst = "sig", &out.Sig
		default:
			continue // unknown parameters are ignored
		}
		if seen[name] {
			return Params{}, fmt.Errorf("%w: parameter %q given twice", ErrBadHeader, name)
		}
		if value == "" {
			return Params{}, fmt.Errorf("%w: parameter %q is empty", ErrBadHeader, name)
		}
		seen[name] = true
		*dst = value
	}
	for _, name := range []string{"origin", "key", "sig"} {
		if !seen[name] {
			return Params{}, fmt.Errorf("%w: parameter %q is missing", ErrBadHeader, name)
		}
	}
	return out, nil
}

// cutScheme strips "X-Matrix" (any case) and the whitespace after it. At
// least one space or tab must follow the scheme.
func cutScheme(h string) (string, bool) {
	if len(h) <= len(Scheme) || !strings.EqualFold(h[:len(Scheme)], Scheme) {
		return "", false
	}
	rest := h[len(Scheme):]
	if !isWS(rest[0]) {
		return "", false
	}
	return strings.TrimLeft(rest, " \t"), true
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// isTchar reports whether c may appear in an RFC 9110 token (§5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isBare reports whether c may appear in an unquoted value (package doc).
func isBare(c byte) bool {
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != '\\'
}
