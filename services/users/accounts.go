package users

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// Kind says what sort of account it is.
type Kind string

const (
	KindUser  Kind = "user"
	KindGuest Kind = "guest"
)

// Account is what the service knows about an account, without secrets.
type Account struct {
	UserID      string
	Localpart   string
	Kind        Kind
	Admin       bool
	HasPassword bool
	Deactivated bool
	// Erased is set when the user asked for erasure at deactivation: events
	// they sent are then served redacted to users who join later.
	Erased  bool
	Created time.Time
}

// RegisterOpts are the optional parts of Register.
type RegisterOpts struct {
	// Kind is KindUser ("" means so) or KindGuest. A guest's localpart is
	// generated (all digits) and it has no password; the localpart and
	// password arguments must be "".
	Kind Kind
	// Admin makes the account a server admin.
	Admin bool
	// DisplayName is the initial display name; "" means the localpart for
	// users and none for guests.
	DisplayName string
	// NoPassword creates an account that cannot log in with a password
	// (application service users, accounts for SSO); password must be "".
	NoPassword bool
	// UIASession, if set, names the UIA session that authorised this
	// registration. A registration token it reserved is consumed in the same
	// commit as the account is created, and the session ends.
	UIASession string
}

// accountRecord is stored under accountKey(localpart).
type accountRecord struct {
	Kind         Kind   `json:"kind"`
	Admin        bool   `json:"admin,omitempty"`
	PasswordHash string `json:"pw,omitempty"`
	CreatedMS    int64  `json:"created"`
	Deactivated  bool   `json:"deactivated,omitempty"`
	Erased       bool   `json:"erased,omitempty"`
}

func (s *Service) account(local string, r *accountRecord) Account {
	return Account{
		UserID:      s.userID(local),
		Localpart:   local,
		Kind:        r.Kind,
		Admin:       r.Admin,
		HasPassword: r.PasswordHash != "",
		Deactivated: r.Deactivated,
		Erased:      r.Erased,
		Created:     fromMS(r.CreatedMS),
	}
}

// NormaliseLocalpart maps a requested username to the localpart Register
// would create, or explains with ErrInvalidUsername why it cannot be one.
// Upper-case ASCII is lowered (the spec requires servers to downcase
// usernames, so that @USER cannot be another user than @user); anything
// else outside the user ID grammar is rejected rather than escaped. Reserved:
// localparts starting with '_' (the customary application service
// namespace), all-digit localparts (guests), and Options.ReservedLocalparts.
// The full user ID must fit in 255 bytes.
func (s *Service) NormaliseLocalpart(username string) (string, error) {
	if len(username) > 255 {
		return "", fmt.Errorf("%w: longer than 255 bytes", ErrInvalidUsername)
	}
	local := lowerASCII(username)
	if _, err := ids.NewUserID(local, s.opts.ServerName); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidUsername, err)
	}
	switch {
	case local[0] == '_':
		return "", fmt.Errorf("%w: localparts starting with '_' are reserved", ErrInvalidUsername)
	case allDigits(local):
		return "", fmt.Errorf("%w: all-digit localparts are reserved for guests", ErrInvalidUsername)
	case slices.Contains(s.opts.ReservedLocalparts, local):
		return "", fmt.Errorf("%w: %q is reserved", ErrInvalidUsername, local)
	}
	return local, nil
}

// lowerASCII lowers A–Z only. Unicode case mapping would turn some
// non-ASCII letters (the Kelvin sign, for one) into ASCII ones and so make
// two spellings reach one account.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ResolveUser turns the "user" of an m.id.user identifier — a localpart or a
// full user ID, in any letter case — into this server's user ID. It does
// not say whether the account exists. A user ID of another server, or
// something that cannot be a user ID, gives ErrForbidden, which is what a
// login with it should answer.
func (s *Service) ResolveUser(user string) (string, error) {
	if len(user) > 255 {
		return "", fmt.Errorf("%w: user identifier too long", ErrForbidden)
	}
	local := user
	if strings.HasPrefix(user, "@") {
		l, server, ok := strings.Cut(user[1:], ":")
		if !ok || server != s.opts.ServerName {
			return "", fmt.Errorf("%w: not a user of this server", ErrForbidden)
		}
		local = l
	}
	local = lowerASCII(local)
	if !ids.ValidLocalpart(local) {
		return "", fmt.Errorf("%w: not a valid user", ErrForbidden)
	}
	return s.userID(local), nil
}

// Register creates an account. Errors: ErrInvalidUsername, ErrUserInUse
// (also for the IDs of deactivated accounts, which are never reused),
// ErrWeakPassword, ErrTooLarge, ErrInvalidParam; with opts.UIASession,
// ErrUnknownSession or ErrForbidden if the session's registration token can
// no longer be consumed.
func (s *Service) Register(ctx context.Context, username, password string, opts RegisterOpts) (Account, error) {
	kind := opts.Kind
	if kind == "" {
		kind = KindUser
	}
	if err := checkDisplayName(opts.DisplayName); err != nil {
		return Account{}, err
	}
	var local, hash string
	switch kind {
	case KindUser:
		var err error
		if local, err = s.NormaliseLocalpart(username); err != nil {
			return Account{}, err
		}
		// Fail fast on a taken name before spending a password hash on it.
		if ok, err := s.free(local); err != nil {
			return Account{}, err
		} else if !ok {
			return Account{}, ErrUserInUse
		}
		if opts.NoPassword {
			if password != "" {
				return Account{}, invalidParam("NoPassword with a password")
			}
			break
		}
		if err := s.checkNewPassword(local, password); err != nil {
			return Account{}, err
		}
		if hash, err = s.hashPassword(ctx, password); err != nil {
			return Account{}, err
		}
	case KindGuest:
		if username != "" || password != "" {
			return Account{}, invalidParam("guests get a generated username and no password")
		}
	default:
		return Account{}, invalidParam("unknown account kind %q", kind)
	}
	var regTok string
	if opts.UIASession != "" {
		var err error
		if regTok, err = s.sessionRegToken(opts.UIASession); err != nil {
			return Account{}, err
		}
		if regTok != "" {
			s.regMu.Lock()
			defer s.regMu.Unlock()
		}
	}
	now := s.now()
	rec := accountRecord{Kind: kind, Admin: opts.Admin, PasswordHash: hash, CreatedMS: ms(now)}
	err := s.db.Update(func(txn *badger.Txn) error {
		if kind == KindGuest {
			var err error
			if local, err = s.newGuestLocalpart(txn); err != nil {
				return err
			}
		} else if _, err := txn.Get(accountKey(local)); err == nil {
			return ErrUserInUse
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if regTok != "" {
			if err := consumeRegToken(txn, regTok); err != nil {
				return err
			}
		}
		if err := setJSON(txn, accountKey(local), &rec); err != nil {
			return err
		}
		name := opts.DisplayName
		if name == "" && kind == KindUser {
			name = local
		}
		return writeProfile(txn, local, newProfileObject(name))
	})
	if err != nil {
		return Account{}, err
	}
	switch {
	case regTok != "":
		s.endRegistrationSession(opts.UIASession)
	case opts.UIASession != "":
		s.uia.End(opts.UIASession)
	}
	return s.account(local, &rec), nil
}

// free reports whether no account has the localpart.
func (s *Service) free(local string) (bool, error) {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(accountKey(local))
		return err
	})
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return true, nil
	}
	return false, err
}

// newGuestLocalpart picks an unused all-digit localpart.
func (s *Service) newGuestLocalpart(txn *badger.Txn) (string, error) {
	for range 8 {
		b, err := s.randBytes(8)
		if err != nil {
			return "", err
		}
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		local := strconv.FormatUint(v%9e14+1e14, 10) // 15 digits
		if _, err := txn.Get(accountKey(local)); errors.Is(err, badger.ErrKeyNotFound) {
			return local, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("users: could not pick an unused guest ID")
}

// Available reports whether username could be registered now. An invalid or
// reserved username gives ErrInvalidUsername (the answer of
// /register/available); a taken one gives false.
func (s *Service) Available(username string) (bool, error) {
	local, err := s.NormaliseLocalpart(username)
	if err != nil {
		return false, err
	}
	return s.free(local)
}

// Account returns an account (also a deactivated one), or ErrNotFound.
func (s *Service) Account(userID string) (Account, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return Account{}, err
	}
	var rec accountRecord
	var found bool
	err = s.db.View(func(txn *badger.Txn) error {
		found, err = getJSON(txn, accountKey(local), &rec)
		return err
	})
	if err != nil {
		return Account{}, err
	}
	if !found {
		return Account{}, ErrNotFound
	}
	return s.account(local, &rec), nil
}

// SetAdmin grants or revokes server admin rights.
func (s *Service) SetAdmin(userID string, admin bool) error {
	return s.updateAccount(userID, func(r *accountRecord) error {
		r.Admin = admin
		return nil
	})
}

func (s *Service) updateAccount(userID string, fn func(*accountRecord) error) error {
	local, err := s.localpart(userID)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		var rec accountRecord
		found, err := getJSON(txn, accountKey(local), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if err := fn(&rec); err != nil {
			return err
		}
		return setJSON(txn, accountKey(local), &rec)
	})
}
