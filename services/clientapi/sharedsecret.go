package clientapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"hearth/services/users"
)

// Shared-secret registration (/_synapse/admin/v1/register) is the convention
// admin tools and load generators use to create users on any homeserver: GET
// a nonce, then POST the user with an HMAC-SHA1 over
// nonce NUL username NUL password NUL ("admin"|"notadmin") keyed by the
// configured secret. Off unless a secret is configured.

const (
	nonceLifetime = time.Minute
	maxNonces     = 10000
)

// nonces are single-use and expire.
type nonces struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]time.Time
}

func newNonces(now func() time.Time) *nonces { return &nonces{now: now, m: map[string]time.Time{}} }

func (n *nonces) issue() string {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	if len(n.m) >= maxNonces {
		for k, exp := range n.m {
			if now.After(exp) {
				delete(n.m, k)
			}
		}
		if len(n.m) >= maxNonces {
			for k := range n.m {
				delete(n.m, k)
				break
			}
		}
	}
	n.m[id] = now.Add(nonceLifetime)
	return id
}

// take consumes a nonce; false if unknown or expired.
func (n *nonces) take(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	exp, ok := n.m[id]
	delete(n.m, id)
	return ok && n.now().Before(exp)
}

func (a *API) sharedSecretNonce(w http.ResponseWriter, r *http.Request) error {
	if a.opts.Registration.SharedSecret == "" {
		return errUnrecognized(http.StatusNotFound)
	}
	writeJSON(w, http.StatusOK, map[string]string{"nonce": a.nonces.issue()})
	return nil
}

func (a *API) sharedSecretRegister(w http.ResponseWriter, r *http.Request) error {
	secret := a.opts.Registration.SharedSecret
	if secret == "" {
		return errUnrecognized(http.StatusNotFound)
	}
	var body struct {
		Nonce       string `json:"nonce"`
		Username    string `json:"username"`
		DisplayName string `json:"displayname"`
		Password    string `json:"password"`
		Admin       bool   `json:"admin"`
		MAC         string `json:"mac"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	if body.Nonce == "" || body.Username == "" || body.Password == "" || body.MAC == "" {
		return errMissingParam("nonce, username, password and mac are required")
	}
	if !a.nonces.take(body.Nonce) {
		return errForbidden("Unknown or expired nonce")
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(body.Nonce + "\x00" + body.Username + "\x00" + body.Password + "\x00"))
	if body.Admin {
		mac.Write([]byte("admin"))
	} else {
		mac.Write([]byte("notadmin"))
	}
	got, err := hex.DecodeString(body.MAC)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return errForbidden("HMAC incorrect")
	}
	acct, err := a.opts.Users.Register(r.Context(), body.Username, body.Password, users.RegisterOpts{Admin: body.Admin, DisplayName: body.DisplayName})
	if err != nil {
		return userErr(err)
	}
	s, err := a.opts.Users.Login(r.Context(), acct.UserID, "", "", false)
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, a.sessionBody(s))
	return nil
}
