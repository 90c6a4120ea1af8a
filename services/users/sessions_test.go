package users_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/users"
)

func TestLoginAuthenticateLogout(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	s, err := e.svc.Login(ctx, alice, "", "Alice's phone", false)
	mustOK(t, err)
	if !strings.HasPrefix(s.AccessToken, "hth_") || len(s.AccessToken) != 4+43 {
		t.Errorf("access token %q", s.AccessToken)
	}
	if s.RefreshToken != "" || s.ExpiresIn != 0 || !s.ExpiresAt.IsZero() {
		t.Errorf("non-refreshable session has expiry/refresh: %+v", s)
	}
	if len(s.DeviceID) != 10 || s.UserID != alice {
		t.Errorf("session = %+v", s)
	}
	for range 2 { // the second time from the cache
		got, err := e.svc.Authenticate(s.AccessToken)
		mustOK(t, err)
		if got.UserID != alice || got.DeviceID != s.DeviceID || got.AccessToken != "" {
			t.Errorf("Authenticate = %+v", got)
		}
	}
	d, err := e.svc.Device(alice, s.DeviceID)
	mustOK(t, err)
	if d.DisplayName != "Alice's phone" {
		t.Errorf("device = %+v", d)
	}

	ended, err := e.svc.Logout(s.AccessToken)
	mustOK(t, err)
	if ended.DeviceID != s.DeviceID || ended.UserID != alice {
		t.Errorf("Logout = %+v", ended)
	}
	_, err = e.svc.Authenticate(s.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	if users.SoftLogout(err) {
		t.Error("logged-out token reported as soft logout")
	}
	_, err = e.svc.Device(alice, s.DeviceID)
	wantErr(t, err, users.ErrNotFound) // spec: logout deletes the device
	_, err = e.svc.Logout(s.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
}

func TestLoginErrors(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.MaxDevicesPerUser = 2 })
	alice := e.register("alice")
	for _, tt := range []struct {
		name, user, device, display string
		want                        error
	}{
		{"no such user", "@bob:example.org", "", "", users.ErrNotFound},
		{"other server", "@alice:other.org", "", "", users.ErrNotFound},
		{"bad user", "alice", "", "", users.ErrNotFound},
		{"bad device", alice, "A B", "", users.ErrInvalidParam},
		{"control in device", alice, "A\nB", "", users.ErrInvalidParam},
		{"long device", alice, strings.Repeat("D", 300), "", users.ErrInvalidParam},
		{"long display name", alice, "", strings.Repeat("n", 257), users.ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Login(ctx, tt.user, tt.device, tt.display, false)
			wantErr(t, err, tt.want)
		})
	}
	e.login(alice, "ONE", false)
	e.login(alice, "TWO", false)
	_, err := e.svc.Login(ctx, alice, "THREE", "", false)
	wantErr(t, err, users.ErrTooMany)
	e.login(alice, "TWO", false) // re-login to an existing device is not a new device
}

func TestAuthenticateGarbage(t *testing.T) {
	e := newEnv(t)
	for _, tok := range []string{"", "hth_", "hth_nope", "hthr_x", "Bearer x", strings.Repeat("hth_", 1000), "hth_\x00\xff"} {
		_, err := e.svc.Authenticate(tok)
		wantErr(t, err, users.ErrUnknownToken)
		_, err = e.svc.Refresh(tok)
		wantErr(t, err, users.ErrUnknownToken)
		_, err = e.svc.Logout(tok)
		wantErr(t, err, users.ErrUnknownToken)
	}
}

func TestReloginSameDeviceReplacesTokens(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	first, err := e.svc.Login(ctx, alice, "PHONE", "first name", true)
	mustOK(t, err)
	if _, err := e.svc.Authenticate(first.AccessToken); err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Login(ctx, alice, "PHONE", "second name", false)
	mustOK(t, err)
	if second.DeviceID != "PHONE" {
		t.Errorf("device = %q", second.DeviceID)
	}
	_, err = e.svc.Authenticate(first.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Refresh(first.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
	if _, err := e.svc.Authenticate(second.AccessToken); err != nil {
		t.Fatal(err)
	}
	devs, err := e.svc.Devices(alice)
	mustOK(t, err)
	if len(devs) != 1 || devs[0].DisplayName != "first name" {
		t.Errorf("devices = %+v (re-login must keep the device and its name)", devs)
	}
}

func TestTokensOnlyHashedOnDisk(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	var secrets [][]byte
	for _, refresh := range []bool{false, true} {
		s := e.login(alice, "", refresh)
		secrets = append(secrets, []byte(s.AccessToken))
		if s.RefreshToken != "" {
			secrets = append(secrets, []byte(s.RefreshToken))
			r, err := e.svc.Refresh(s.RefreshToken)
			mustOK(t, err)
			secrets = append(secrets, []byte(r.AccessToken), []byte(r.RefreshToken))
		}
	}
	// Also the raw random bytes, in case something decoded and stored them.
	for _, s := range secrets[:len(secrets):len(secrets)] {
		_, b64, _ := strings.Cut(string(s), "_")
		raw, err := base64.RawURLEncoding.DecodeString(b64)
		mustOK(t, err)
		secrets = append(secrets, raw)
	}
	secrets = append(secrets, []byte("correct horse"))

	n := 0
	mustOK(t, e.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
			k := it.Item().Key()
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			for _, sec := range secrets {
				if bytes.Contains(k, sec) || bytes.Contains(v, sec) {
					t.Errorf("secret %q found under key %x", sec, k)
				}
			}
		}
		return nil
	}))
	if n == 0 {
		t.Fatal("scanned nothing")
	}
	// And nowhere in the files (write-ahead log, value log, tables).
	mustOK(t, e.db.Close())
	e.db = nil
	mustOK(t, filepath.WalkDir(e.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, sec := range secrets {
			if bytes.Contains(b, sec) {
				t.Errorf("secret %q found in %s", sec, filepath.Base(path))
			}
		}
		return nil
	}))
}

func TestRestartKeepsState(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	plain := e.login(alice, "PLAIN", false)
	refr := e.login(alice, "REFR", true)
	pos, err := e.svc.SetAccountData(alice, "", "m.test", []byte(`{"n":1}`))
	mustOK(t, err)
	fid, err := e.svc.PutFilter(alice, []byte(`{"room":{}}`))
	mustOK(t, err)
	_, err = e.svc.CreateRegToken("tok", ptr(3), nil)
	mustOK(t, err)

	e.restart()

	mustOK(t, e.svc.CheckPassword(ctx, alice, "correct horse"))
	for _, s := range []users.Session{plain, refr} {
		got, err := e.svc.Authenticate(s.AccessToken)
		if err != nil || got.DeviceID != s.DeviceID {
			t.Errorf("after restart Authenticate(%s) = %+v, %v", s.DeviceID, got, err)
		}
	}
	devs, err := e.svc.Devices(alice)
	mustOK(t, err)
	if len(devs) != 2 || devs[0].DeviceID != "PLAIN" || devs[1].DeviceID != "REFR" {
		t.Errorf("devices after restart = %+v", devs)
	}
	r, err := e.svc.Refresh(refr.RefreshToken)
	mustOK(t, err)
	if _, err := e.svc.Authenticate(r.AccessToken); err != nil {
		t.Error(err)
	}
	pos2, err := e.svc.SetAccountData(alice, "", "m.other", []byte(`{}`))
	mustOK(t, err)
	if pos2 <= pos {
		t.Errorf("stream position went from %d to %d across a restart", pos, pos2)
	}
	if f, err := e.svc.Filter(alice, fid); err != nil || string(f) != `{"room":{}}` {
		t.Errorf("filter after restart = %s, %v", f, err)
	}
	if !e.svc.RegTokenValid("tok") {
		t.Error("registration token lost")
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.AccessTokenLifetime = 5 * time.Minute })
	alice := e.register("alice")
	s0 := e.login(alice, "DEV", true)
	if s0.RefreshToken == "" || !strings.HasPrefix(s0.RefreshToken, "hthr_") {
		t.Fatalf("no refresh token: %+v", s0)
	}
	if s0.ExpiresIn != 5*time.Minute || !s0.ExpiresAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Errorf("expiry = %v / %v", s0.ExpiresIn, s0.ExpiresAt)
	}

	s1, err := e.svc.Refresh(s0.RefreshToken)
	mustOK(t, err)
	if s1.DeviceID != "DEV" || s1.UserID != alice || s1.AccessToken == s0.AccessToken || s1.RefreshToken == s0.RefreshToken {
		t.Fatalf("refreshed = %+v", s1)
	}
	// The old access token is revoked at once.
	_, err = e.svc.Authenticate(s0.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)

	// The response got lost: the client refreshes again with the old token.
	// That is allowed and replaces the unused pair.
	s1b, err := e.svc.Refresh(s0.RefreshToken)
	mustOK(t, err)
	_, err = e.svc.Authenticate(s1.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Refresh(s1.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)

	// Using the new access token revokes the old refresh token.
	got, err := e.svc.Authenticate(s1b.AccessToken)
	mustOK(t, err)
	if got.DeviceID != "DEV" {
		t.Errorf("device = %q", got.DeviceID)
	}
	_, err = e.svc.Refresh(s0.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)

	// Using the new refresh token directly also revokes its predecessor.
	s2, err := e.svc.Refresh(s1b.RefreshToken)
	mustOK(t, err)
	s3, err := e.svc.Refresh(s2.RefreshToken)
	mustOK(t, err)
	_, err = e.svc.Refresh(s1b.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Authenticate(s2.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	if _, err := e.svc.Authenticate(s3.AccessToken); err != nil {
		t.Fatal(err)
	}
	devs, _ := e.svc.Devices(alice)
	if len(devs) != 1 {
		t.Errorf("refresh changed the devices: %+v", devs)
	}
	// Access tokens cannot refresh, refresh tokens cannot authenticate.
	_, err = e.svc.Refresh(s3.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Authenticate(s3.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
}

func TestAccessTokenExpiry(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.AccessTokenLifetime = time.Minute })
	alice := e.register("alice")
	s := e.login(alice, "", true)
	forever := e.login(alice, "", false)
	if _, err := e.svc.Authenticate(s.AccessToken); err != nil { // cached now
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Second)
	if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err := e.svc.Authenticate(s.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	if !users.SoftLogout(err) {
		t.Errorf("expired token not a soft logout: %v", err)
	}
	// Also when not cached.
	e.restart()
	_, err = e.svc.Authenticate(s.AccessToken)
	if !users.SoftLogout(err) {
		t.Errorf("expired token after restart: %v", err)
	}
	e.clock.Advance(1000 * time.Hour)
	if _, err := e.svc.Authenticate(forever.AccessToken); err != nil {
		t.Errorf("token without refresh expired: %v", err)
	}
	// The refresh token still works and the device survives.
	r, err := e.svc.Refresh(s.RefreshToken)
	mustOK(t, err)
	if _, err := e.svc.Authenticate(r.AccessToken); err != nil {
		t.Error(err)
	}
}

func TestRefreshTokenExpiry(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.RefreshTokenLifetime = time.Hour })
	alice := e.register("alice")
	s := e.login(alice, "DEV", true)
	e.clock.Advance(time.Hour)
	_, err := e.svc.Refresh(s.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
	if !users.SoftLogout(err) {
		t.Errorf("expired refresh token: %v, want soft logout", err)
	}
	// Soft logout: logging in again with the same device ID works.
	s2, err := e.svc.Login(ctx, alice, "DEV", "", true)
	mustOK(t, err)
	if _, err := e.svc.Refresh(s2.RefreshToken); err != nil {
		t.Error(err)
	}
}

func TestLogoutAll(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.register("alice"), e.register("bob")
	var sessions []users.Session
	for i := range 3 {
		sessions = append(sessions, e.login(alice, "", i%2 == 0))
	}
	bs := e.login(bob, "", false)
	for _, s := range sessions {
		if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	deleted, err := e.svc.LogoutAll(alice)
	mustOK(t, err)
	if len(deleted) != 3 {
		t.Errorf("deleted %v", deleted)
	}
	for _, s := range sessions {
		_, err := e.svc.Authenticate(s.AccessToken)
		wantErr(t, err, users.ErrUnknownToken)
	}
	if devs, _ := e.svc.Devices(alice); len(devs) != 0 {
		t.Errorf("devices left: %+v", devs)
	}
	if _, err := e.svc.Authenticate(bs.AccessToken); err != nil {
		t.Errorf("bob logged out too: %v", err)
	}
}

func TestConcurrentLogins(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	const n = 32
	sessions := make([]users.Session, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sessions[i], errs[i] = e.svc.Login(ctx, alice, "", "", i%2 == 0)
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		mustOK(t, errs[i])
		if seen[sessions[i].DeviceID] {
			t.Errorf("device %s handed out twice", sessions[i].DeviceID)
		}
		seen[sessions[i].DeviceID] = true
	}
	wg = sync.WaitGroup{}
	for i := range n {
		wg.Go(func() {
			got, err := e.svc.Authenticate(sessions[i].AccessToken)
			if err != nil || got.DeviceID != sessions[i].DeviceID {
				t.Errorf("Authenticate %d: %+v, %v", i, got, err)
			}
		})
	}
	wg.Wait()
	devs, err := e.svc.Devices(alice)
	mustOK(t, err)
	if len(devs) != n {
		t.Errorf("%d devices, want %d", len(devs), n)
	}
}

// TestLogoutRacesAuthenticate checks that a token logged out while lookups
// are in flight never stays usable from the cache.
func TestLogoutRacesAuthenticate(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	for round := range 20 {
		s := e.login(alice, "", false)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						e.svc.Authenticate(s.AccessToken)
					}
				}
			})
		}
		_, err := e.svc.Logout(s.AccessToken)
		mustOK(t, err)
		close(stop)
		wg.Wait()
		if _, err := e.svc.Authenticate(s.AccessToken); err == nil {
			t.Fatalf("round %d: logged-out token still authenticates", round)
		}
	}
}

func TestTokenCacheBounded(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.TokenCacheSize = 4 })
	alice := e.register("alice")
	var ss []users.Session
	for range 10 {
		s := e.login(alice, "", false)
		ss = append(ss, s)
		if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.svc.CacheLen(); n > 4 {
		t.Errorf("cache holds %d entries, limit 4", n)
	}
	for _, s := range ss {
		if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
			t.Error(err)
		}
	}
}
