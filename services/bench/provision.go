package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
)

// Registrar creates accounts on the server under test.
type Registrar interface {
	Register(ctx context.Context, c *Client, username, password string) (User, error)
}

// SharedSecret registers through /_synapse/admin/v1/register, the
// convention Synapse, Dendrite, Conduit and Hearth share.
type SharedSecret struct{ Secret string }

// SharedSecretMAC is the hex HMAC-SHA1, keyed by secret, over nonce NUL
// username NUL password NUL ("admin" or "notadmin").
func SharedSecretMAC(secret, nonce, username, password string, admin bool) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(nonce))
	m.Write([]byte{0})
	m.Write([]byte(username))
	m.Write([]byte{0})
	m.Write([]byte(password))
	m.Write([]byte{0})
	if admin {
		m.Write([]byte("admin"))
	} else {
		m.Write([]byte("notadmin"))
	}
	return hex.EncodeToString(m.Sum(nil))
}

const sharedSecretPath = "/_synapse/admin/v1/register"

// Register fetches a nonce and registers username.
func (s SharedSecret) Register(ctx context.Context, c *Client, username, password string) (User, error) {
	var n struct {
		Nonce string `json:"nonce"`
	}
	if _, err := c.Do(ctx, "GET", sharedSecretPath, "", nil, &n); err != nil {
		return User{}, fmt.Errorf("shared-secret nonce: %w", err)
	}
	body := map[string]any{
		"nonce": n.Nonce, "username": username, "password": password, "admin": false,
		"mac": SharedSecretMAC(s.Secret, n.Nonce, username, password, false),
	}
	var out User
	if _, err := c.Do(ctx, "POST", sharedSecretPath, "", body, &out); err != nil {
		return User{}, fmt.Errorf("shared-secret register %s: %w", username, err)
	}
	if out.ID == "" || out.Token == "" {
		return User{}, fmt.Errorf("shared-secret register %s: no user_id or access_token", username)
	}
	out.Name = username
	return out, nil
}

// RegistrationToken registers through /register with the
// m.login.registration_token stage of user-interactive auth.
type RegistrationToken struct{ Token string }

// Register runs the two-request UIA flow: the first request gets a
// session, the second completes the token stage.
func (r RegistrationToken) Register(ctx context.Context, c *Client, username, password string) (User, error) {
	body := map[string]any{"username": username, "password": password}
	var out User
	_, err := c.Do(ctx, "POST", clientV3+"/register", "", body, &out)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 401 {
		if err == nil {
			err = errors.New("registration did not ask for a registration token")
		}
		return User{}, fmt.Errorf("register %s: %w", username, err)
	}
	session, err := uiaSession(se.Body)
	if err != nil {
		return User{}, fmt.Errorf("register %s: %w", username, err)
	}
	body["auth"] = map[string]any{"type": "m.login.registration_token", "token": r.Token, "session": session}
	if _, err := c.Do(ctx, "POST", clientV3+"/register", "", body, &out); err != nil {
		return User{}, fmt.Errorf("register %s: %w", username, err)
	}
	if out.ID == "" || out.Token == "" {
		return User{}, fmt.Errorf("register %s: no user_id or access_token", username)
	}
	out.Name = username
	return out, nil
}
