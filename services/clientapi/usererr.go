package clientapi

import (
	"context"
	"errors"
	"net/http"

	"hearth/services/users"
)

// userErr maps users service errors to Matrix errors (see users/errors.go).
func userErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, users.ErrUserInUse):
		return Errf(http.StatusBadRequest, "M_USER_IN_USE", "User ID already taken")
	case errors.Is(err, users.ErrInvalidUsername):
		return Errf(http.StatusBadRequest, "M_INVALID_USERNAME", "%v", err)
	case errors.Is(err, users.ErrWeakPassword):
		return Errf(http.StatusBadRequest, "M_WEAK_PASSWORD", "%v", err)
	case errors.Is(err, users.ErrUserDeactivated):
		return Errf(http.StatusForbidden, "M_USER_DEACTIVATED", "This account has been deactivated")
	case errors.Is(err, users.ErrForbidden):
		return errForbidden("%v", err)
	case errors.Is(err, users.ErrUnknownToken):
		e := Errf(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown or expired access token")
		if users.SoftLogout(err) {
			e.Extra = map[string]any{"soft_logout": true}
		}
		return e
	case errors.Is(err, users.ErrNotFound):
		return errNotFound("%v", err)
	case errors.Is(err, users.ErrTooLarge):
		return Errf(http.StatusBadRequest, "M_TOO_LARGE", "%v", err)
	case errors.Is(err, users.ErrKeyTooLarge):
		return Errf(http.StatusBadRequest, "M_KEY_TOO_LARGE", "%v", err)
	case errors.Is(err, users.ErrTooMany):
		return errForbidden("%v", err)
	case errors.Is(err, users.ErrInvalidParam):
		return errInvalidParam("%v", err)
	}
	return err
}

// UsersAuth authenticates access tokens with the users service.
type UsersAuth struct{ Users *users.Service }

// AuthenticateToken implements Accounts.
func (u UsersAuth) AuthenticateToken(_ context.Context, token string) (Caller, error) {
	s, err := u.Users.Authenticate(token)
	if err != nil {
		return Caller{}, userErr(err)
	}
	return Caller{UserID: s.UserID, DeviceID: s.DeviceID, IsGuest: s.IsGuest()}, nil
}
