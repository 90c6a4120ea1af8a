package clientapi

import (
	"errors"
	"net/http"

	"hearth/services/roomserver"
)

// roomErr maps room server errors to Matrix errors.
func roomErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, roomserver.ErrNotFound):
		return errNotFound("%v", err)
	case errors.Is(err, roomserver.ErrForbidden):
		return errForbidden("%v", err)
	case errors.Is(err, roomserver.ErrUnsupportedVersion):
		return Errf(http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION", "%v", err)
	case errors.Is(err, roomserver.ErrRoomInUse):
		return Errf(http.StatusBadRequest, "M_ROOM_IN_USE", "%v", err)
	case errors.Is(err, roomserver.ErrBadEvent):
		return errBadJSON("%v", err)
	}
	return err
}
