package users

import (
	"context"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// CheckPassword verifies a user's password. A wrong password, a missing
// account and an account without a password all give ErrForbidden after the
// same amount of hashing work, so timing does not tell them apart; a
// deactivated account gives ErrUserDeactivated (which also matches
// ErrForbidden). A hash made with parameters other than the current ones is
// redone after a successful check.
func (s *Service) CheckPassword(ctx context.Context, userID, password string) error {
	local, err := s.localpart(userID)
	if err != nil {
		s.burnPasswordCheck(ctx, password)
		return fmt.Errorf("%w: invalid username or password", ErrForbidden)
	}
	var rec accountRecord
	var found bool
	err = s.db.View(func(txn *badger.Txn) error {
		found, err = getJSON(txn, accountKey(local), &rec)
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case !found || rec.PasswordHash == "" && !rec.Deactivated:
		s.burnPasswordCheck(ctx, password)
		return fmt.Errorf("%w: invalid username or password", ErrForbidden)
	case rec.Deactivated:
		s.burnPasswordCheck(ctx, password)
		return ErrUserDeactivated
	}
	ok, rehash, err := s.verifyPassword(ctx, rec.PasswordHash, password)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: invalid username or password", ErrForbidden)
	}
	if rehash {
		s.upgradeHash(ctx, local, rec.PasswordHash, password)
	}
	return nil
}

// upgradeHash replaces an old-parameter hash after a successful login, unless
// the password changed meanwhile. Failure only costs another try next time.
func (s *Service) upgradeHash(ctx context.Context, local, old, password string) {
	h, err := s.hashPassword(ctx, password)
	if err == nil {
		err = s.db.Update(func(txn *badger.Txn) error {
			var rec accountRecord
			found, err := getJSON(txn, accountKey(local), &rec)
			if err != nil || !found || rec.PasswordHash != old {
				return err
			}
			rec.PasswordHash = h
			return setJSON(txn, accountKey(local), &rec)
		})
	}
	if err != nil {
		s.log.Warn("rehashing password", "user", s.userID(local), "err", err)
	}
}

// SetPassword sets a new password. With logoutDevices, every device but
// keepDevice ("" for none) is deleted with its tokens (spec:
// logout_devices, which defaults to true); the deleted device IDs are
// returned so the caller can delete their keys.
func (s *Service) SetPassword(ctx context.Context, userID, newPassword string, logoutDevices bool, keepDevice string) ([]string, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	if err := s.checkNewPassword(local, newPassword); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return nil, err
	}
	var deleted []string
	var dropped []tokenHash
	err = s.db.Update(func(txn *badger.Txn) error {
		deleted, dropped = nil, nil
		rec, err := loadAccount(txn, local)
		if err != nil {
			return err
		}
		if rec.Kind == KindGuest {
			return fmt.Errorf("%w: guests have no password", ErrForbidden)
		}
		rec.PasswordHash = hash
		if err := setJSON(txn, accountKey(local), &rec); err != nil {
			return err
		}
		if logoutDevices {
			deleted, dropped, err = deleteAllDevicesTxn(txn, local, keepDevice)
		}
		return err
	})
	s.cache.drop(dropped)
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// Deactivate deactivates an account for good: its devices and tokens are
// deleted, its password hash is wiped, and its ID is never handed out again.
// With erase, the profile, account data and filters are deleted too and the
// account is marked Erased. Deactivating again is harmless and finishes an
// erasure that an earlier call could not complete. Returns the deleted device
// IDs. Leaving rooms and deleting keys are the caller's part.
func (s *Service) Deactivate(userID string, erase bool) ([]string, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	var deleted []string
	var dropped []tokenHash
	err = s.db.Update(func(txn *badger.Txn) error {
		deleted, dropped = nil, nil
		var rec accountRecord
		found, err := getJSON(txn, accountKey(local), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		rec.Deactivated, rec.PasswordHash = true, ""
		rec.Erased = rec.Erased || erase
		if err := setJSON(txn, accountKey(local), &rec); err != nil {
			return err
		}
		if erase {
			if err := txn.Delete(profileKey(local)); err != nil {
				return err
			}
		}
		deleted, dropped, err = deleteAllDevicesTxn(txn, local, "")
		return err
	})
	s.cache.drop(dropped)
	if err != nil {
		return nil, err
	}
	if erase {
		// Possibly many keys: deleted in bounded batches after the account is
		// safely deactivated.
		if err := s.deleteBatched(adItemPrefix(local), adLogPrefix(local), filterPrefix(local), adCountKey(local)); err != nil {
			return deleted, fmt.Errorf("users: erasing %s: %w", userID, err)
		}
	}
	return deleted, nil
}

// deleteBatched deletes every key under the given prefixes, a bounded number
// per transaction so no transaction grows too big.
func (s *Service) deleteBatched(prefixes ...[]byte) error {
	const batch = 1000
	for _, p := range prefixes {
		for {
			var n int
			err := s.db.Update(func(txn *badger.Txn) error {
				keys := keysWithPrefix(txn, p, batch)
				n = len(keys)
				for _, k := range keys {
					if err := txn.Delete(k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if n < batch {
				break
			}
		}
	}
	return nil
}
