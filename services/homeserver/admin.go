package homeserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"hearth/services/users"
)

// Admin operations run against a stopped server's store (Badger allows one
// process per data folder; a running server makes Open fail with a clear
// message).

// CreateUser registers an account.
func (s *Server) CreateUser(ctx context.Context, localpart, password string, admin bool) (string, error) {
	acct, err := s.Users.Register(ctx, localpart, password, users.RegisterOpts{Admin: admin})
	if err != nil {
		return "", err
	}
	return acct.UserID, nil
}

// CreateRegToken makes a registration token; uses ≤ 0 means unlimited,
// validFor 0 means no expiry.
func (s *Server) CreateRegToken(token string, uses int, validFor time.Duration) (users.RegToken, error) {
	var usesPtr *int
	if uses > 0 {
		usesPtr = &uses
	}
	var exp *time.Time
	if validFor > 0 {
		t := time.Now().Add(validFor)
		exp = &t
	}
	return s.Users.CreateRegToken(token, usesPtr, exp)
}

// WriteStatus prints a short status report.
func (s *Server) WriteStatus(w io.Writer) error {
	toks, err := s.Users.RegTokens()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "server name:     %s\n", s.cfg.Server.Name)
	fmt.Fprintf(w, "data folder:     %s\n", s.cfg.Server.DataDir)
	fmt.Fprintf(w, "client API:      %s (%s)\n", s.cfg.Client.Listen, s.cfg.Server.PublicBaseURL)
	fmt.Fprintf(w, "registration:    %s\n", s.cfg.Registration.Mode)
	fmt.Fprintf(w, "event position:  %d\n", s.Rooms.Position())
	fmt.Fprintf(w, "reg. tokens:     %d\n", len(toks))
	return nil
}

// LockedError explains that the data folder is in use.
func LockedError(err error) error {
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return errors.New("the data folder is in use by a running Hearth; stop it first")
	}
	return err
}
