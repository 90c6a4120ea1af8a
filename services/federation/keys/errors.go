package keys

import "errors"

var (
	// ErrKeyNotFound: no key with that ID is known or could be fetched that
	// is valid at the asked time. Request authentication maps it to 401
	// M_UNAUTHORIZED; event checks treat the signature as unverifiable.
	ErrKeyNotFound = errors.New("keys: no valid key found")
	// ErrBadQuery: a notary query body is malformed or over the limits
	// (400 M_BAD_JSON, or M_NOT_JSON when errors.Is(err, cjson.ErrNotJSON)).
	ErrBadQuery = errors.New("keys: bad key query")
)
