package xmatrix

import "errors"

// The errors Verify, Parse and SigningJSON wrap; see the package doc for the
// HTTP status and errcode each one maps to.
var (
	// ErrMissing: the request carries no X-Matrix Authorization header.
	ErrMissing = errors.New("xmatrix: no X-Matrix authorization")
	// ErrBadHeader: the header is malformed, too long, lacks a parameter, or
	// names an invalid origin or key ID.
	ErrBadHeader = errors.New("xmatrix: malformed X-Matrix authorization")
	// ErrWrongDestination: the header names a destination other than us.
	ErrWrongDestination = errors.New("xmatrix: request is for another server")
	// ErrUnknownKey: the origin's signing key could not be found.
	ErrUnknownKey = errors.New("xmatrix: origin key not found")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("xmatrix: signature does not verify")
	// ErrBadContent: the body is not JSON canonical JSON can represent, so
	// the signature over it cannot be checked.
	ErrBadContent = errors.New("xmatrix: request body is not canonical JSON")
)
