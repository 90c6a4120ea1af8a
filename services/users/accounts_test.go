package users_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
	"hearth/services/users"
)

func TestRegisterAndCheckPassword(t *testing.T) {
	e := newEnv(t)
	a, err := e.svc.Register(ctx, "Alice", "correct horse", users.RegisterOpts{Admin: true})
	mustOK(t, err)
	if a.UserID != "@alice:example.org" || a.Localpart != "alice" || !a.Admin || a.Kind != users.KindUser || !a.HasPassword {
		t.Errorf("account = %+v", a)
	}
	if !a.Created.Equal(e.clock.Now().Truncate(1e6)) {
		t.Errorf("created = %v", a.Created)
	}
	mustOK(t, e.svc.CheckPassword(ctx, a.UserID, "correct horse"))
	wantErr(t, e.svc.CheckPassword(ctx, a.UserID, "wrong horse"), users.ErrForbidden)
	wantErr(t, e.svc.CheckPassword(ctx, "@nobody:example.org", "correct horse"), users.ErrForbidden)
	wantErr(t, e.svc.CheckPassword(ctx, "@alice:elsewhere.org", "correct horse"), users.ErrForbidden)
	wantErr(t, e.svc.CheckPassword(ctx, "garbage", "x"), users.ErrForbidden)
	wantErr(t, e.svc.CheckPassword(ctx, a.UserID, "correct horse"+strings.Repeat("!", 2000)), users.ErrForbidden)

	got, err := e.svc.Account(a.UserID)
	mustOK(t, err)
	if got != a {
		t.Errorf("Account = %+v, want %+v", got, a)
	}
	p, err := e.svc.Profile(a.UserID)
	mustOK(t, err)
	if p.DisplayName != "alice" {
		t.Errorf("default display name = %q, want the localpart", p.DisplayName)
	}
	mustOK(t, e.svc.SetAdmin(a.UserID, false))
	if got, _ := e.svc.Account(a.UserID); got.Admin {
		t.Error("SetAdmin(false) did not stick")
	}
	_, err = e.svc.Account("@bob:example.org")
	wantErr(t, err, users.ErrNotFound)
}

func TestRegisterErrors(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.ReservedLocalparts = []string{"admin"} })
	e.register("taken")
	long := strings.Repeat("a", 255-len("@:example.org")+1)
	tests := []struct {
		name, user, pw string
		opts           users.RegisterOpts
		want           error
	}{
		{"taken", "taken", "correct horse", users.RegisterOpts{}, users.ErrUserInUse},
		{"taken other case", "TAKEN", "correct horse", users.RegisterOpts{}, users.ErrUserInUse},
		{"empty", "", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"colon", "a:b", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"space", "a b", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"unicode", "zoë", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"nul", "a\x00b", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"underscore", "_bridge", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"digits", "12345", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"reserved", "Admin", "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"too long id", long, "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"huge", strings.Repeat("a", 1<<20), "correct horse", users.RegisterOpts{}, users.ErrInvalidUsername},
		{"short password", "bob", "short", users.RegisterOpts{}, users.ErrWeakPassword},
		{"empty password", "bob", "", users.RegisterOpts{}, users.ErrWeakPassword},
		{"password is name", "bobbybob", "BobbyBob", users.RegisterOpts{}, users.ErrWeakPassword},
		{"huge password", "bob", strings.Repeat("p", 2000), users.RegisterOpts{}, users.ErrTooLarge},
		{"huge display name", "bob", "correct horse", users.RegisterOpts{DisplayName: strings.Repeat("d", 300)}, users.ErrTooLarge},
		{"bad display name", "bob", "correct horse", users.RegisterOpts{DisplayName: "\xff"}, users.ErrInvalidParam},
		{"bad kind", "bob", "correct horse", users.RegisterOpts{Kind: "robot"}, users.ErrInvalidParam},
		{"no password with password", "bob", "correct horse", users.RegisterOpts{NoPassword: true}, users.ErrInvalidParam},
		{"guest with name", "bob", "", users.RegisterOpts{Kind: users.KindGuest}, users.ErrInvalidParam},
		{"unknown session", "bob", "correct horse", users.RegisterOpts{UIASession: "nope"}, users.ErrUnknownSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Register(ctx, tt.user, tt.pw, tt.opts)
			wantErr(t, err, tt.want)
		})
	}
	// Just under the limit is fine.
	_, err := e.svc.Register(ctx, long[1:], "correct horse", users.RegisterOpts{})
	mustOK(t, err)
	if ok, _ := e.svc.Available("bob"); !ok {
		t.Error("failed registrations left bob taken")
	}
}

func TestAvailable(t *testing.T) {
	e := newEnv(t)
	e.register("alice")
	for _, tt := range []struct {
		name string
		ok   bool
		err  error
	}{
		{"alice", false, nil},
		{"ALICE", false, nil},
		{"bob", true, nil},
		{"b@b", false, users.ErrInvalidUsername},
		{"007", false, users.ErrInvalidUsername},
	} {
		ok, err := e.svc.Available(tt.name)
		if ok != tt.ok || !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
			t.Errorf("Available(%q) = %v, %v; want %v, %v", tt.name, ok, err, tt.ok, tt.err)
		}
	}
}

func TestResolveUser(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ in, want string }{
		{"alice", "@alice:example.org"},
		{"Alice", "@alice:example.org"},
		{"@ALICE:example.org", "@alice:example.org"},
		{"@alice:Example.org", ""},
		{"@alice:other.org", ""},
		{"@alice", ""},
		{"al ice", ""},
		{"\u212Aate", ""}, // Kelvin sign: not a spelling of "kate"
		{"", ""},
		{strings.Repeat("a", 300), ""},
	} {
		got, err := e.svc.ResolveUser(tt.in)
		if tt.want == "" {
			if !errors.Is(err, users.ErrForbidden) {
				t.Errorf("ResolveUser(%q) = %q, %v; want ErrForbidden", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveUser(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestGuestAndPasswordlessAccounts(t *testing.T) {
	e := newEnv(t)
	g, err := e.svc.Register(ctx, "", "", users.RegisterOpts{Kind: users.KindGuest})
	mustOK(t, err)
	if g.Kind != users.KindGuest || g.HasPassword || len(g.Localpart) != 15 || strings.Trim(g.Localpart, "0123456789") != "" {
		t.Errorf("guest = %+v", g)
	}
	wantErr(t, e.svc.CheckPassword(ctx, g.UserID, ""), users.ErrForbidden)
	s := e.login(g.UserID, "", false)
	if !s.IsGuest() {
		t.Error("guest session not marked as guest")
	}
	auth, err := e.svc.Authenticate(s.AccessToken)
	mustOK(t, err)
	if !auth.IsGuest() {
		t.Error("authenticated guest session not marked as guest")
	}
	_, err = e.svc.SetPassword(ctx, g.UserID, "correct horse", false, "")
	wantErr(t, err, users.ErrForbidden)

	bot, err := e.svc.Register(ctx, "bot", "", users.RegisterOpts{NoPassword: true, DisplayName: "Bot"})
	mustOK(t, err)
	if bot.HasPassword {
		t.Error("NoPassword account has a password")
	}
	wantErr(t, e.svc.CheckPassword(ctx, bot.UserID, ""), users.ErrForbidden)
}

func TestPasswordStoredAsArgon2idOnly(t *testing.T) {
	e := newEnv(t)
	const pw = "a very particular password"
	_, err := e.svc.Register(ctx, "alice", pw, users.RegisterOpts{})
	mustOK(t, err)
	var stored []byte
	mustOK(t, e.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(storage.Key(storage.PrefixUserAccount, []byte("alice")))
		if err != nil {
			return err
		}
		stored, err = it.ValueCopy(nil)
		return err
	}))
	if bytes.Contains(stored, []byte(pw)) {
		t.Fatal("plaintext password stored")
	}
	if !bytes.Contains(stored, []byte(`$argon2id$v=19$m=8,t=1,p=1$`)) {
		t.Errorf("stored account %s has no argon2id PHC string", stored)
	}
}

func TestRehashWhenParametersChange(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	e.opts.Argon2 = users.Argon2Params{Time: 2, MemoryKiB: 16, Threads: 1}
	e.restart()
	mustOK(t, e.svc.CheckPassword(ctx, alice, "correct horse"))
	v, err := e.db.Get(storage.Key(storage.PrefixUserAccount, []byte("alice")))
	mustOK(t, err)
	if !bytes.Contains(v, []byte("$m=16,t=2,p=1$")) {
		t.Errorf("hash not upgraded: %s", v)
	}
	mustOK(t, e.svc.CheckPassword(ctx, alice, "correct horse"))
}

func TestConcurrentRegisterSameName(t *testing.T) {
	e := newEnv(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var ok, inUse int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, users.ErrUserInUse):
			inUse++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 || inUse != n-1 {
		t.Errorf("%d succeeded, %d in use; want 1 and %d", ok, inUse, n-1)
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	keep := e.login(alice, "KEEP", false)
	other := e.login(alice, "OTHER", true)

	deleted, err := e.svc.SetPassword(ctx, alice, "new password!", false, "")
	mustOK(t, err)
	if len(deleted) != 0 {
		t.Errorf("deleted %v without logoutDevices", deleted)
	}
	wantErr(t, e.svc.CheckPassword(ctx, alice, "correct horse"), users.ErrForbidden)
	mustOK(t, e.svc.CheckPassword(ctx, alice, "new password!"))
	if _, err := e.svc.Authenticate(other.AccessToken); err != nil {
		t.Errorf("other device logged out: %v", err)
	}

	deleted, err = e.svc.SetPassword(ctx, alice, "newer password", true, "KEEP")
	mustOK(t, err)
	if len(deleted) != 1 || deleted[0] != "OTHER" {
		t.Errorf("deleted = %v, want [OTHER]", deleted)
	}
	if _, err := e.svc.Authenticate(keep.AccessToken); err != nil {
		t.Errorf("kept device logged out: %v", err)
	}
	_, err = e.svc.Authenticate(other.AccessToken)
	wantErr(t, err, users.ErrUnknownToken)
	_, err = e.svc.Refresh(other.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)

	_, err = e.svc.SetPassword(ctx, alice, "short", true, "")
	wantErr(t, err, users.ErrWeakPassword)
	_, err = e.svc.SetPassword(ctx, "@nobody:example.org", "long enough", true, "")
	wantErr(t, err, users.ErrNotFound)
}

func TestDeactivate(t *testing.T) {
	e := newEnv(t)
	alice := e.register("alice")
	s1 := e.login(alice, "D1", true)
	s2 := e.login(alice, "D2", false)
	if _, err := e.svc.Authenticate(s1.AccessToken); err != nil { // cache it
		t.Fatal(err)
	}
	_, err := e.svc.SetAccountData(alice, "", "m.test", []byte(`{"a":1}`))
	mustOK(t, err)

	deleted, err := e.svc.Deactivate(alice, false)
	mustOK(t, err)
	if len(deleted) != 2 {
		t.Errorf("deleted devices = %v", deleted)
	}
	for _, s := range []users.Session{s1, s2} {
		_, err := e.svc.Authenticate(s.AccessToken)
		wantErr(t, err, users.ErrUnknownToken)
		if users.SoftLogout(err) {
			t.Error("deactivation reported as soft logout")
		}
	}
	_, err = e.svc.Refresh(s1.RefreshToken)
	wantErr(t, err, users.ErrUnknownToken)
	err = e.svc.CheckPassword(ctx, alice, "correct horse")
	wantErr(t, err, users.ErrUserDeactivated)
	wantErr(t, err, users.ErrForbidden)
	_, err = e.svc.Login(ctx, alice, "", "", false)
	wantErr(t, err, users.ErrUserDeactivated)
	_, err = e.svc.Register(ctx, "alice", "correct horse", users.RegisterOpts{})
	wantErr(t, err, users.ErrUserInUse)
	wantErr(t, e.svc.SetDisplayName(alice, "x"), users.ErrUserDeactivated)
	_, err = e.svc.SetAccountData(alice, "", "m.test", []byte(`{}`))
	wantErr(t, err, users.ErrUserDeactivated)

	a, err := e.svc.Account(alice)
	mustOK(t, err)
	if !a.Deactivated || a.HasPassword || a.Erased {
		t.Errorf("account after deactivation = %+v", a)
	}
	if p, _ := e.svc.Profile(alice); p.DisplayName != "alice" {
		t.Errorf("profile without erase = %+v", p)
	}
	if _, err := e.svc.AccountData(alice, "", "m.test"); err != nil {
		t.Errorf("account data without erase: %v", err)
	}

	// Erasing later finishes the job.
	_, err = e.svc.Deactivate(alice, true)
	mustOK(t, err)
	a, _ = e.svc.Account(alice)
	if !a.Erased {
		t.Error("not marked erased")
	}
	if p, err := e.svc.Profile(alice); err != nil || p.DisplayName != "" || p.Extra != nil {
		t.Errorf("profile after erase = %+v, %v", p, err)
	}
	_, err = e.svc.AccountData(alice, "", "m.test")
	wantErr(t, err, users.ErrNotFound)
	items, _, err := e.svc.AccountDataSince(alice, 0, 0)
	mustOK(t, err)
	if len(items) != 0 {
		t.Errorf("account data after erase: %v", items)
	}
	_, err = e.svc.Deactivate("@nobody:example.org", false)
	wantErr(t, err, users.ErrNotFound)
}

func TestHashingRespectsContext(t *testing.T) {
	e := newEnv(t, func(o *users.Options) { o.MaxConcurrentHashes = 1 })
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := e.svc.Register(cctx, "alice", "correct horse", users.RegisterOpts{})
	if !errors.Is(err, context.Canceled) {
		// The slot may be free, in which case hashing goes ahead; either is fine
		// as long as nothing hangs or panics.
		mustOK(t, err)
	}
}

func TestOptionsValidation(t *testing.T) {
	db, err := storage.Open(ctx, storage.Options{InMemory: true, Logger: quietLogger()}, nil)
	mustOK(t, err)
	defer db.Close()
	for _, o := range []users.Options{
		{},
		{ServerName: "bad name"},
		{ServerName: server, Argon2: users.Argon2Params{Time: 1, MemoryKiB: 4, Threads: 1}},
		{ServerName: server, Argon2: users.Argon2Params{Time: 1, MemoryKiB: 8, Threads: 0}},
		{ServerName: server, MaxDevicesPerUser: -1},
		{ServerName: server, AccessTokenLifetime: -1},
	} {
		if _, err := users.New(db, o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
	if _, err := users.New(nil, users.Options{ServerName: server}); err == nil {
		t.Error("New accepted a nil database")
	}
	if _, err := users.New(db, users.Options{ServerName: server}); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}
