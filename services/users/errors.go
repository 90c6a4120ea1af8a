package users

import (
	"errors"
	"fmt"
)

// Sentinel errors. The service wraps them with context (fmt.Errorf %w), so
// test with errors.Is. The client API maps them to Matrix errors:
//
//	error              HTTP  errcode
//	ErrUserInUse       400   M_USER_IN_USE
//	ErrInvalidUsername 400   M_INVALID_USERNAME
//	ErrWeakPassword    400   M_WEAK_PASSWORD
//	ErrUserDeactivated 403   M_USER_DEACTIVATED   (test before ErrForbidden: it wraps it)
//	ErrForbidden       403   M_FORBIDDEN          (inside UIA: 401 with the challenge body)
//	ErrUnknownToken    401   M_UNKNOWN_TOKEN, plus "soft_logout": true when SoftLogout(err)
//	ErrUnknownSession  401   a fresh UIA challenge (Begin a new session)
//	ErrNotFound        404   M_NOT_FOUND
//	ErrTooLarge        400   M_TOO_LARGE; for profiles M_PROFILE_TOO_LARGE
//	ErrKeyTooLarge     400   M_KEY_TOO_LARGE
//	ErrTooMany         403   M_FORBIDDEN (a per-user limit, e.g. devices, was reached)
//	ErrInvalidParam    400   M_INVALID_PARAM (M_BAD_JSON where the value is not JSON)
//
// Anything else is an internal failure (storage, randomness): 500 M_UNKNOWN,
// with the detail logged rather than sent.
var (
	ErrUserInUse       = errors.New("users: user ID already taken")
	ErrInvalidUsername = errors.New("users: invalid username")
	ErrWeakPassword    = errors.New("users: password too weak")
	ErrForbidden       = errors.New("users: forbidden")
	ErrUserDeactivated = fmt.Errorf("users: account deactivated: %w", ErrForbidden)
	ErrUnknownToken    = errors.New("users: unknown token")
	ErrUnknownSession  = errors.New("users: unknown or expired UIA session")
	ErrNotFound        = errors.New("users: not found")
	ErrTooLarge        = errors.New("users: too large")
	ErrKeyTooLarge     = errors.New("users: key too large")
	ErrTooMany         = errors.New("users: limit reached")
	ErrInvalidParam    = errors.New("users: invalid parameter")
)

// TokenError is the ErrUnknownToken returned for a token that exists but can
// no longer be used. SoftLogout says the device and its data are kept: the
// client may refresh or log in again with the same device ID.
type TokenError struct {
	SoftLogout bool
	Reason     string
}

func (e *TokenError) Error() string { return "users: unknown token: " + e.Reason }

// Unwrap makes errors.Is(err, ErrUnknownToken) true.
func (e *TokenError) Unwrap() error { return ErrUnknownToken }

// SoftLogout reports whether err says the client is soft logged out (the
// "soft_logout" flag of an M_UNKNOWN_TOKEN error).
func SoftLogout(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.SoftLogout
}

func errSoftLogout(reason string) error { return &TokenError{SoftLogout: true, Reason: reason} }

func invalidParam(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidParam, fmt.Sprintf(format, a...))
}

func tooLarge(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrTooLarge, fmt.Sprintf(format, a...))
}
