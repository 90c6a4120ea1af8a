package users

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// Session is an authenticated device of a user. Login and Refresh fill in
// the token fields; Authenticate leaves them empty.
type Session struct {
	UserID   string
	DeviceID string
	Kind     Kind
	// AccessToken and RefreshToken are the secrets just issued. They are
	// returned once and stored only as hashes. RefreshToken is "" unless the
	// client asked for refresh tokens.
	AccessToken  string
	RefreshToken string
	// ExpiresIn is the access token's lifetime (expires_in_ms); 0 means it
	// does not expire. ExpiresAt is the same as an instant (zero: never).
	ExpiresIn time.Duration
	ExpiresAt time.Time
}

// IsGuest reports whether the session belongs to a guest account.
func (s Session) IsGuest() bool { return s.Kind == KindGuest }

// Login creates a device (or reuses deviceID, replacing all of that device's
// tokens, as the spec requires) and issues an access token, plus a refresh
// token when withRefresh is set. deviceID "" means a new, random device ID.
// displayName names a new device and is ignored for an existing one.
//
// Login does not check credentials: the caller has done that (CheckPassword,
// a login token, a completed registration).
func (s *Service) Login(ctx context.Context, userID, deviceID, displayName string, withRefresh bool) (Session, error) {
	if err := ctx.Err(); err != nil {
		return Session{}, err
	}
	local, err := s.localpart(userID)
	if err != nil {
		return Session{}, err
	}
	if deviceID != "" && !ids.ValidDeviceID(deviceID) {
		return Session{}, invalidParam("invalid device ID")
	}
	if err := checkDeviceName(displayName); err != nil {
		return Session{}, err
	}
	now := s.now()
	var sess Session
	var dropped []tokenHash
	err = s.db.Update(func(txn *badger.Txn) error {
		dropped = nil
		acct, err := loadAccount(txn, local)
		if err != nil {
			return err
		}
		id, dev, existed, err := s.loginDevice(txn, local, deviceID)
		if err != nil {
			return err
		}
		if existed {
			if dropped, err = deleteDeviceTokens(txn, &dev); err != nil {
				return err
			}
		} else {
			if countDevices(txn, local, s.opts.MaxDevicesPerUser) >= s.opts.MaxDevicesPerUser {
				return errTooManyDevices(s.opts.MaxDevicesPerUser)
			}
			dev = deviceRecord{DisplayName: displayName, CreatedMS: ms(now)}
		}
		sess, err = s.issueTokens(txn, local, id, acct.Kind, &dev, withRefresh, now, false)
		if err != nil {
			return err
		}
		return setJSON(txn, deviceKey(local, id), &dev)
	})
	s.cache.drop(dropped)
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

func errTooManyDevices(n int) error {
	return &limitError{what: "devices", max: n}
}

type limitError struct {
	what string
	max  int
}

func (e *limitError) Error() string {
	return "users: limit reached: at most " + strconv.Itoa(e.max) + " " + e.what + " per account"
}
func (e *limitError) Unwrap() error { return ErrTooMany }

// loadAccount reads an account that may log in.
func loadAccount(txn *badger.Txn, local string) (accountRecord, error) {
	var acct accountRecord
	found, err := getJSON(txn, accountKey(local), &acct)
	if err != nil {
		return acct, err
	}
	if !found {
		return acct, ErrNotFound
	}
	if acct.Deactivated {
		return acct, ErrUserDeactivated
	}
	return acct, nil
}

// loginDevice finds the device for a login: the named one (existing or not)
// or a fresh random ID.
func (s *Service) loginDevice(txn *badger.Txn, local, deviceID string) (string, deviceRecord, bool, error) {
	var dev deviceRecord
	if deviceID != "" {
		found, err := getJSON(txn, deviceKey(local, deviceID), &dev)
		return deviceID, dev, found, err
	}
	for range 8 {
		id, err := s.newDeviceID()
		if err != nil {
			return "", dev, false, err
		}
		if _, err := txn.Get(deviceKey(local, id)); errors.Is(err, badger.ErrKeyNotFound) {
			return id, dev, false, nil
		} else if err != nil {
			return "", dev, false, err
		}
	}
	return "", dev, false, errors.New("users: could not pick an unused device ID")
}

// issueTokens mints an access token (and a refresh token if withRefresh) for
// a device, writes their records and names them in dev. The caller writes
// dev and has deleted the tokens dev named before.
func (s *Service) issueTokens(txn *badger.Txn, local, device string, kind Kind, dev *deviceRecord, withRefresh bool, now time.Time, revokeOld bool) (Session, error) {
	at, ah, err := s.newToken(accessPrefix)
	if err != nil {
		return Session{}, err
	}
	rec := accessRecord{Localpart: local, Device: device, Kind: kind, IssuedMS: ms(now), RevokeOld: revokeOld}
	sess := Session{UserID: s.userID(local), DeviceID: device, Kind: kind, AccessToken: at}
	if withRefresh {
		rt, rh, err := s.newToken(refreshPrefix)
		if err != nil {
			return Session{}, err
		}
		rrec := refreshRecord{Localpart: local, Device: device}
		if s.opts.RefreshTokenLifetime > 0 {
			rrec.ExpiresMS = ms(now.Add(s.opts.RefreshTokenLifetime))
		}
		if err := setJSON(txn, refreshKey(rh), &rrec); err != nil {
			return Session{}, err
		}
		dev.Refresh = rh[:]
		sess.RefreshToken = rt
		sess.ExpiresIn = s.opts.AccessTokenLifetime
		sess.ExpiresAt = now.Add(s.opts.AccessTokenLifetime)
		rec.ExpiresMS = ms(sess.ExpiresAt)
	}
	if err := setJSON(txn, accessKey(ah), &rec); err != nil {
		return Session{}, err
	}
	dev.Access = ah[:]
	return sess, nil
}

// Authenticate resolves an access token to its session. An unknown or
// logged-out token gives ErrUnknownToken; an expired one gives a
// *TokenError with SoftLogout set. The first use of a token minted by
// Refresh revokes the refresh token it replaced (one write); every other
// call is served from memory after the first.
func (s *Service) Authenticate(token string) (Session, error) {
	if !wellFormed(token, accessPrefix) {
		return Session{}, ErrUnknownToken
	}
	h := hashToken(token)
	now := ms(s.now())
	e, ok := s.cache.get(h)
	if !ok {
		gen := s.cache.generation()
		var rec accessRecord
		var found bool
		err := s.db.View(func(txn *badger.Txn) error {
			var err error
			found, err = getJSON(txn, accessKey(h), &rec)
			return err
		})
		if err != nil {
			return Session{}, err
		}
		if !found {
			return Session{}, ErrUnknownToken
		}
		e = cachedToken{userID: s.userID(rec.Localpart), device: rec.Device, kind: rec.Kind, expiresMS: rec.ExpiresMS, revokeOld: rec.RevokeOld}
		if !e.revokeOld {
			s.cache.put(gen, h, e)
		}
	}
	if e.expiresMS != 0 && now >= e.expiresMS {
		return Session{}, errSoftLogout("access token expired")
	}
	if e.revokeOld {
		if err := s.finishRotation(h); err != nil {
			return Session{}, err
		}
	}
	return Session{UserID: e.userID, DeviceID: e.device, Kind: e.kind, ExpiresAt: fromMS(e.expiresMS)}, nil
}

// finishRotation handles the first use of a refreshed access token: the
// refresh token it was minted from is revoked. The token is dropped from the
// cache rather than updated; the next Authenticate re-reads it.
func (s *Service) finishRotation(h tokenHash) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		var rec accessRecord
		found, err := getJSON(txn, accessKey(h), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrUnknownToken
		}
		if !rec.RevokeOld {
			return nil
		}
		var dev deviceRecord
		found, err = getJSON(txn, deviceKey(rec.Localpart, rec.Device), &dev)
		if err != nil {
			return err
		}
		if !found {
			return ErrUnknownToken
		}
		if bytes.Equal(dev.Access, h[:]) && dev.OldRefresh != nil {
			if oh, ok := asHash(dev.OldRefresh); ok {
				if err := txn.Delete(refreshKey(oh)); err != nil {
					return err
				}
			}
			dev.OldRefresh = nil
			if err := setJSON(txn, deviceKey(rec.Localpart, rec.Device), &dev); err != nil {
				return err
			}
		}
		rec.RevokeOld = false
		return setJSON(txn, accessKey(h), &rec)
	})
	s.cache.drop([]tokenHash{h})
	return err
}

// Refresh exchanges a refresh token for a new access token and a new refresh
// token bound to the same device. The old access token is revoked at once.
// The old refresh token stays valid until the new access token or the new
// refresh token is first used (spec, "Refreshing access tokens"): refreshing
// with it again replaces the unused pair minted last time.
//
// Errors: ErrUnknownToken for an unknown or revoked refresh token (the
// client is logged out); a *TokenError with SoftLogout for an expired one
// (the device survives; log in again with its ID).
func (s *Service) Refresh(refreshToken string) (Session, error) {
	if !wellFormed(refreshToken, refreshPrefix) {
		return Session{}, ErrUnknownToken
	}
	h := hashToken(refreshToken)
	now := s.now()
	var sess Session
	var dropped []tokenHash
	err := s.db.Update(func(txn *badger.Txn) error {
		dropped = nil
		var rrec refreshRecord
		found, err := getJSON(txn, refreshKey(h), &rrec)
		if err != nil {
			return err
		}
		if !found {
			return ErrUnknownToken
		}
		if rrec.ExpiresMS != 0 && ms(now) >= rrec.ExpiresMS {
			return errSoftLogout("refresh token expired")
		}
		acct, err := loadAccount(txn, rrec.Localpart)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUserDeactivated) {
			return ErrUnknownToken
		} else if err != nil {
			return err
		}
		var dev deviceRecord
		found, err = getJSON(txn, deviceKey(rrec.Localpart, rrec.Device), &dev)
		if err != nil {
			return err
		}
		if !found {
			return ErrUnknownToken
		}
		var revoke [][]byte
		switch {
		case bytes.Equal(dev.Refresh, h[:]):
			// The usual case: the current pair is replaced, and the refresh
			// token before this one (if its grace period was still open) goes.
			revoke = [][]byte{dev.OldRefresh}
			dev.OldRefresh = h[:]
		case bytes.Equal(dev.OldRefresh, h[:]):
			// A repeated refresh: the pair minted from this token last time
			// was never used (its first use would have revoked this token).
			revoke = [][]byte{dev.Refresh}
		default:
			return ErrUnknownToken
		}
		if ah, ok := asHash(dev.Access); ok {
			if err := txn.Delete(accessKey(ah)); err != nil {
				return err
			}
			dropped = append(dropped, ah)
		}
		for _, b := range revoke {
			if rh, ok := asHash(b); ok {
				if err := txn.Delete(refreshKey(rh)); err != nil {
					return err
				}
			}
		}
		dev.Access, dev.Refresh = nil, nil
		sess, err = s.issueTokens(txn, rrec.Localpart, rrec.Device, acct.Kind, &dev, true, now, true)
		if err != nil {
			return err
		}
		return setJSON(txn, deviceKey(rrec.Localpart, rrec.Device), &dev)
	})
	s.cache.drop(dropped)
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// Logout deletes the device the access token belongs to, with all of its
// tokens (spec: /logout "The device associated with the access token is also
// deleted"), and returns the session it ended so the caller can delete the
// device's keys. The caller has authenticated the token.
func (s *Service) Logout(token string) (Session, error) {
	if !wellFormed(token, accessPrefix) {
		return Session{}, ErrUnknownToken
	}
	h := hashToken(token)
	var rec accessRecord
	dropped := []tokenHash{h}
	err := s.db.Update(func(txn *badger.Txn) error {
		dropped = dropped[:1]
		found, err := getJSON(txn, accessKey(h), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrUnknownToken
		}
		hs, err := deleteDeviceTxn(txn, rec.Localpart, rec.Device)
		if err != nil {
			return err
		}
		dropped = append(dropped, hs...)
		return txn.Delete(accessKey(h))
	})
	s.cache.drop(dropped)
	if err != nil {
		return Session{}, err
	}
	return Session{UserID: s.userID(rec.Localpart), DeviceID: rec.Device, Kind: rec.Kind}, nil
}

// LogoutAll deletes every device of the user with all tokens and returns the
// deleted device IDs (spec: /logout/all).
func (s *Service) LogoutAll(userID string) ([]string, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	var deleted []string
	var dropped []tokenHash
	err = s.db.Update(func(txn *badger.Txn) error {
		var err error
		deleted, dropped, err = deleteAllDevicesTxn(txn, local, "")
		return err
	})
	s.cache.drop(dropped)
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
