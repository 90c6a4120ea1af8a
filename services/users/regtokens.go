package users

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// Registration tokens (the m.login.registration_token UIA stage): pre-shared
// strings of the opaque identifier grammar, at most 64 characters, each with
// an optional number of allowed uses and an optional expiry.
//
// Uses are counted twice over, as the stage's usual implementations do:
// Completed counts registrations that finished with the token (stored), and
// Pending counts UIA sessions that passed the stage but have not registered
// yet (in memory, tied to the sessions: a session that ends or expires
// without registering gives its use back, and a restart, which drops all
// sessions, starts from zero). A token is valid while it has not expired and
// Completed + Pending < UsesAllowed, so a token for one use cannot be spent
// by two registrations racing each other.

// RegToken describes a registration token.
type RegToken struct {
	Token       string
	UsesAllowed *int       // nil: unlimited
	Pending     int        // reserved by UIA sessions in progress
	Completed   int        // registrations completed with it
	ExpiryTime  *time.Time // nil: never expires
}

// regTokenRecord is stored under regTokenKey(token).
type regTokenRecord struct {
	UsesAllowed *int  `json:"uses_allowed,omitempty"`
	Completed   int   `json:"completed"`
	ExpiryMS    int64 `json:"expiry,omitempty"`
	CreatedMS   int64 `json:"created"`
}

const (
	maxRegTokenLen  = 64
	maxRegTokenList = 10000
)

func validRegToken(t string) bool { return len(t) <= maxRegTokenLen && ids.ValidOpaqueID(t) }

func (r *regTokenRecord) valid(pending int, now time.Time) bool {
	if r.ExpiryMS != 0 && ms(now) >= r.ExpiryMS {
		return false
	}
	return r.UsesAllowed == nil || r.Completed+pending < *r.UsesAllowed
}

func (s *Service) regToken(token string, r *regTokenRecord, pending int) RegToken {
	t := RegToken{Token: token, Completed: r.Completed, Pending: pending}
	if r.UsesAllowed != nil {
		n := *r.UsesAllowed
		t.UsesAllowed = &n
	}
	if r.ExpiryMS != 0 {
		e := time.UnixMilli(r.ExpiryMS)
		t.ExpiryTime = &e
	}
	return t
}

// CreateRegToken creates a registration token. token "" means a random one
// of 16 characters; usesAllowed nil means unlimited; expiry nil means never.
func (s *Service) CreateRegToken(token string, usesAllowed *int, expiry *time.Time) (RegToken, error) {
	if token == "" {
		b, err := s.randBytes(12)
		if err != nil {
			return RegToken{}, err
		}
		token = base64.RawURLEncoding.EncodeToString(b)
	}
	if !validRegToken(token) {
		return RegToken{}, invalidParam("registration token must be 1–64 characters of [A-Za-z0-9._~-]")
	}
	now := s.now()
	rec := regTokenRecord{CreatedMS: ms(now)}
	if usesAllowed != nil {
		if *usesAllowed < 0 {
			return RegToken{}, invalidParam("uses allowed must not be negative")
		}
		n := *usesAllowed
		rec.UsesAllowed = &n
	}
	if expiry != nil {
		if !expiry.After(now) {
			return RegToken{}, invalidParam("expiry is in the past")
		}
		rec.ExpiryMS = ms(*expiry)
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(regTokenKey(token)); err == nil {
			return invalidParam("registration token already exists")
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return setJSON(txn, regTokenKey(token), &rec)
	})
	if err != nil {
		return RegToken{}, err
	}
	return s.regToken(token, &rec, 0), nil
}

// RegTokens lists the registration tokens (at most 10 000), ordered by token.
func (s *Service) RegTokens() ([]RegToken, error) {
	var out []RegToken
	s.regMu.Lock()
	defer s.regMu.Unlock()
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := regTokenPrefix()
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < maxRegTokenList; it.Next() {
			var rec regTokenRecord
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
				return fmt.Errorf("users: decoding registration token: %w", err)
			}
			tok := string(it.Item().Key()[len(prefix):])
			out = append(out, s.regToken(tok, &rec, s.pending[tok]))
		}
		return nil
	})
	return out, err
}

// RegToken describes one registration token, or ErrNotFound.
func (s *Service) RegToken(token string) (RegToken, error) {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	rec, found, err := s.loadRegToken(token)
	if err != nil {
		return RegToken{}, err
	}
	if !found {
		return RegToken{}, ErrNotFound
	}
	return s.regToken(token, &rec, s.pending[token]), nil
}

func (s *Service) loadRegToken(token string) (regTokenRecord, bool, error) {
	var rec regTokenRecord
	if !validRegToken(token) {
		return rec, false, nil
	}
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		found, err = getJSON(txn, regTokenKey(token), &rec)
		return err
	})
	return rec, found, err
}

// DeleteRegToken deletes a registration token; sessions that reserved a use
// of it can then no longer register. A missing token is no error.
func (s *Service) DeleteRegToken(token string) error {
	if !validRegToken(token) {
		return nil
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Delete(regTokenKey(token)) })
}

// RegTokenValid reports whether token can be used to register now (the
// answer of /register/m.login.registration_token/validity). Unknown,
// malformed, expired and used-up tokens are all invalid.
func (s *Service) RegTokenValid(token string) bool {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	rec, found, err := s.loadRegToken(token)
	if err != nil {
		s.log.Warn("reading registration token", "err", err)
		return false
	}
	return found && rec.valid(s.pending[token], s.now())
}

// UseRegToken consumes one use of a token directly, outside UIA (for
// instance an admin tool registering on someone's behalf). ErrForbidden if
// the token is not valid.
func (s *Service) UseRegToken(token string) error {
	if !validRegToken(token) {
		return fmt.Errorf("%w: invalid registration token", ErrForbidden)
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	now := s.now()
	return s.db.Update(func(txn *badger.Txn) error {
		var rec regTokenRecord
		found, err := getJSON(txn, regTokenKey(token), &rec)
		if err != nil {
			return err
		}
		if !found || !rec.valid(s.pending[token], now) {
			return fmt.Errorf("%w: invalid registration token", ErrForbidden)
		}
		rec.Completed++
		return setJSON(txn, regTokenKey(token), &rec)
	})
}

// reserveRegToken checks a token and, if valid, counts one pending use for
// it and lets attach bind the reservation to its holder; if attach fails,
// the reservation is given back.
func (s *Service) reserveRegToken(token string, attach func() error) error {
	if !validRegToken(token) {
		return fmt.Errorf("%w: invalid registration token", ErrForbidden)
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	rec, found, err := s.loadRegToken(token)
	if err != nil {
		return err
	}
	if !found || !rec.valid(s.pending[token], s.now()) {
		return fmt.Errorf("%w: invalid registration token", ErrForbidden)
	}
	s.pending[token]++
	if err := attach(); err != nil {
		s.releaseLocked(token)
		return err
	}
	return nil
}

// releaseRegToken gives back a pending use; the UIA store calls it when a
// session holding a reservation ends.
func (s *Service) releaseRegToken(token string) {
	s.regMu.Lock()
	s.releaseLocked(token)
	s.regMu.Unlock()
}

func (s *Service) releaseLocked(token string) {
	if s.pending[token] <= 1 {
		delete(s.pending, token)
	} else {
		s.pending[token]--
	}
}

// sessionRegToken checks that a UIA session authorising a registration is
// done and returns the registration token it reserved ("" if none).
func (s *Service) sessionRegToken(session string) (string, error) {
	done, err := s.uia.Done(session)
	if err != nil {
		return "", err
	}
	if !done {
		return "", fmt.Errorf("%w: authentication is not complete", ErrForbidden)
	}
	return s.uia.regTokenOf(session), nil
}

// consumeRegToken counts a completed use of a reserved token inside the
// registering transaction. The caller holds regMu from before the
// transaction until it has released the reservation after the commit, so
// nobody sees the use counted twice or not at all.
func consumeRegToken(txn *badger.Txn, token string) error {
	var rec regTokenRecord
	found, err := getJSON(txn, regTokenKey(token), &rec)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: registration token was deleted", ErrForbidden)
	}
	rec.Completed++
	return setJSON(txn, regTokenKey(token), &rec)
}

// endRegistrationSession ends the UIA session of a completed registration
// and gives back its reservation, which the registration has turned into a
// completed use. The caller holds regMu. If the session expired meanwhile,
// the sweep that removed it gives the reservation back instead (exactly
// once either way).
func (s *Service) endRegistrationSession(session string) {
	if tok, ok := s.uia.take(session); ok && tok != "" {
		s.releaseLocked(tok)
	}
}
