package users

import (
	"context"
	"errors"
	"fmt"
)

// UIA stage types this service can verify.
const (
	StagePassword          = "m.login.password"
	StageDummy             = "m.login.dummy"
	StageRegistrationToken = "m.login.registration_token"
)

// AuthPassword runs the m.login.password stage of a UIA session: it checks
// the password of userID and marks the stage complete. userID must be the
// user the request acts for (the access token's owner), resolved with
// ResolveUser from the auth dict's identifier; the client API rejects an
// identifier naming anyone else. A wrong password gives ErrForbidden, and
// after repeated failures the session is dropped.
func (s *Service) AuthPassword(ctx context.Context, session, userID, password string) error {
	done, err := s.uia.checkNext(session, StagePassword)
	if err != nil || done {
		return err
	}
	if err := s.CheckPassword(ctx, userID, password); err != nil {
		if errors.Is(err, ErrForbidden) {
			s.uia.failed(session)
		}
		return err
	}
	return s.uia.Complete(session, StagePassword)
}

// AuthDummy runs the m.login.dummy stage, which always succeeds when the
// flow allows it.
func (s *Service) AuthDummy(session string) error {
	return s.uia.Complete(session, StageDummy)
}

// AuthRegistrationToken runs the m.login.registration_token stage: a valid
// token completes the stage and reserves one use of it for this session
// (counted as pending until the registration completes or the session ends).
// An invalid, expired or used-up token gives ErrForbidden.
func (s *Service) AuthRegistrationToken(session, token string) error {
	done, err := s.uia.checkNext(session, StageRegistrationToken)
	if err != nil || done {
		return err
	}
	err = s.reserveRegToken(token, func() error {
		return s.uia.withNoSweep(session, func(us *uiaSession) error {
			if us.regToken != "" {
				return fmt.Errorf("%w: a registration token was already used in this session", ErrForbidden)
			}
			if err := us.complete(StageRegistrationToken); err != nil {
				return err
			}
			us.regToken = token
			return nil
		})
	})
	if errors.Is(err, ErrForbidden) {
		s.uia.failed(session)
	}
	return err
}
