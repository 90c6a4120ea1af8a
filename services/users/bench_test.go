package users_test

import (
	"fmt"
	"testing"

	"hearth/services/users"
)

// BenchmarkAuthenticate measures the per-request cost of resolving an access
// token: "cached" is the steady state, "uncached" a Badger read per call.
func BenchmarkAuthenticate(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		e := newEnv(b)
		s := e.login(e.register("alice"), "", false)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		e := newEnv(b)
		s := e.login(e.register("alice"), "", false)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.svc.Authenticate(s.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		e := newEnv(b, func(o *users.Options) { o.TokenCacheSize = 1 })
		alice := e.register("alice")
		toks := []string{e.login(alice, "", false).AccessToken, e.login(alice, "", false).AccessToken}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := e.svc.Authenticate(toks[i%2]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkLogin measures issuing tokens: one synced commit each. "new-device"
// spreads logins over many accounts so each has a realistic handful of
// devices; "same-device" logs in again to one device, replacing its tokens.
func BenchmarkLogin(b *testing.B) {
	b.Run("new-device", func(b *testing.B) {
		e := newEnv(b)
		var ids []string
		for i := range 200 {
			ids = append(ids, e.register(fmt.Sprintf("user%d", i)))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := e.svc.Login(ctx, ids[i%len(ids)], "", "", true); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("same-device", func(b *testing.B) {
		e := newEnv(b)
		alice := e.register("alice")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.svc.Login(ctx, alice, "PHONE", "", true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheckPassword measures one password check with the production
// argon2id parameters (t=2, m=19 MiB, p=1).
func BenchmarkCheckPassword(b *testing.B) {
	e := newEnv(b, func(o *users.Options) { o.Argon2 = users.Argon2Params{} })
	alice := e.register("alice")
	b.ReportAllocs()
	for b.Loop() {
		if err := e.svc.CheckPassword(ctx, alice, "correct horse"); err != nil {
			b.Fatal(err)
		}
	}
}
