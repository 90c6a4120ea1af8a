package users_test

import (
	"errors"
	"testing"

	"hearth/services/matrix/ids"
	"hearth/services/storage"
	"hearth/services/users"
)

func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=99999999999,t=1,p=1$x$y",
		"$argon2i$v=19$m=8,t=1,p=1$x$y",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = users.ParsePHC(s) // must not panic
	})
}

func FuzzNormaliseLocalpart(f *testing.F) {
	db, err := storage.Open(ctx, storage.Options{InMemory: true, Logger: quietLogger()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	svc, err := users.New(db, users.Options{ServerName: server, Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"alice", "ALICE", "_x", "123", "a:b", "zoë", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		local, err := svc.NormaliseLocalpart(s)
		if err != nil {
			if !errors.Is(err, users.ErrInvalidUsername) {
				t.Fatalf("error %v is not ErrInvalidUsername", err)
			}
			return
		}
		if _, err := ids.NewUserID(local, server); err != nil {
			t.Fatalf("NormaliseLocalpart(%q) = %q, not a valid localpart: %v", s, local, err)
		}
		if uid, err := svc.ResolveUser(s); err != nil || uid != "@"+local+":"+server {
			t.Fatalf("ResolveUser(%q) = %q, %v; Register would create %q", s, uid, err, local)
		}
	})
}
