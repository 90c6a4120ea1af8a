package roomserver

import "errors"

// Errors the client API maps to Matrix errcodes.
var (
	// ErrNotFound: unknown room or event (M_NOT_FOUND).
	ErrNotFound = errors.New("roomserver: not found")
	// ErrForbidden: the auth rules refuse the event (M_FORBIDDEN).
	ErrForbidden = errors.New("roomserver: forbidden")
	// ErrBadEvent: the event is malformed or too large (M_BAD_JSON / M_TOO_LARGE).
	ErrBadEvent = errors.New("roomserver: bad event")
	// ErrUnsupportedVersion: a room version we do not support
	// (M_UNSUPPORTED_ROOM_VERSION).
	ErrUnsupportedVersion = errors.New("roomserver: unsupported room version")
	// ErrRoomInUse: a room alias is taken (M_ROOM_IN_USE).
	ErrRoomInUse = errors.New("roomserver: room alias in use")
)
