package keys_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

var ctx = context.Background()

const day = 24 * time.Hour

func mustKey(t *testing.T, r *keys.Ring, server, keyID string, atTS int64) ed25519.PublicKey {
	t.Helper()
	k, err := r.VerifyKey(ctx, server, keyID, atTS)
	if err != nil {
		t.Fatalf("VerifyKey(%s, %s, %d): %v", server, keyID, atTS, err)
	}
	return k
}

func noKey(t *testing.T, r *keys.Ring, server, keyID string, atTS int64) {
	t.Helper()
	k, err := r.VerifyKey(ctx, server, keyID, atTS)
	if !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("VerifyKey(%s, %s, %d) = %x, %v; want ErrKeyNotFound", server, keyID, atTS, k, err)
	}
}

func TestOwnKeysWithoutFetching(t *testing.T) {
	e := newEnv(t)
	us := e.server("us.test", 1)
	retired := testKey(t, "ed25519:old", 9)
	us.old = []keys.OldKey{{ID: "ed25519:old", Public: retired.Public(), ExpiredTS: e.clock.MS() - 1000}}
	f := e.fetcher()
	r := e.ring(us, f)
	if k := mustKey(t, r, "us.test", "ed25519:k1", e.clock.MS()); !k.Equal(us.signer.Public()) {
		t.Fatal("own current key differs")
	}
	if k := mustKey(t, r, "us.test", "ed25519:old", e.clock.MS()-2000); !k.Equal(retired.Public()) {
		t.Fatal("own old key differs")
	}
	noKey(t, r, "us.test", "ed25519:old", e.clock.MS())
	noKey(t, r, "us.test", "ed25519:nope", e.clock.MS())
	if len(f.calls) != 0 {
		t.Fatalf("fetched for our own keys: %v", f.calls)
	}
}

func TestFetchThenCache(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	f := e.fetcher()
	r := e.ring(us, f)
	now := e.clock.MS()
	if k := mustKey(t, r, "them.test", "ed25519:k2", now); !k.Equal(them.signer.Public()) {
		t.Fatal("fetched key differs from the server's")
	}
	f.expect(t, "keys them.test", 1)
	e.clock.Advance(time.Hour)
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	mustKey(t, r, "them.test", "ed25519:k2", now-day.Milliseconds()) // events from before we fetched
	f.expect(t, "keys them.test", 1)
}

func TestSevenDayCap(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	them.validity = 30 * day
	f := e.fetcher()
	r := e.ring(us, f)
	t0 := e.clock.MS()
	mustKey(t, r, "them.test", "ed25519:k2", t0)
	mustKey(t, r, "them.test", "ed25519:k2", t0+int64(6*day/time.Millisecond))
	f.expect(t, "keys them.test", 1)
	// Beyond fetch time + 7 days, although valid_until_ts is 30 days out:
	// the ring refetches, and the fresh response is still capped.
	e.clock.Advance(2 * time.Minute)
	noKey(t, r, "them.test", "ed25519:k2", t0+int64(8*day/time.Millisecond))
	f.expect(t, "keys them.test", 2)
	// A week later the key is fetched again and valid for requests now.
	e.clock.Advance(8 * day)
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 3)
}

func TestRefetchAfterValidUntil(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	them.validity = time.Hour
	f := e.fetcher()
	r := e.ring(us, f)
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	e.clock.Advance(30 * time.Minute)
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 1)
	e.clock.Advance(31 * time.Minute) // past valid_until_ts
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 2)
}

func TestRotationAndOldKeys(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	f := e.fetcher()
	r := e.ring(us, f)
	first := them.signer
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())

	// them.test rotates: k2 becomes old, expired now; k3 is current.
	e.clock.Advance(2 * time.Hour)
	expired := e.clock.MS()
	them.old = []keys.OldKey{{ID: "ed25519:k2", Public: first.Public(), ExpiredTS: expired}}
	them.signer = keys.FromSigningKey(testKey(t, "ed25519:k3", 3))
	e.clock.Advance(time.Hour)
	mustKey(t, r, "them.test", "ed25519:k3", e.clock.MS())

	// k2 still verifies events from before it expired, not after, and
	// never a request now.
	if k := mustKey(t, r, "them.test", "ed25519:k2", expired-1); !k.Equal(first.Public()) {
		t.Fatal("old key differs")
	}
	mustKey(t, r, "them.test", "ed25519:k2", expired)
	noKey(t, r, "them.test", "ed25519:k2", expired+1)
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
}

func TestOldKeyExpiringInTheFutureIsNotCurrent(t *testing.T) {
	// An old key whose expired_ts lies in the future is still not valid
	// after we learnt it was old: it must not authenticate requests.
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	oldK := testKey(t, "ed25519:o", 7)
	them.old = []keys.OldKey{{ID: "ed25519:o", Public: oldK.Public(), ExpiredTS: e.clock.MS() + int64(day/time.Millisecond)}}
	f := e.fetcher()
	r := e.ring(us, f)
	mustKey(t, r, "them.test", "ed25519:o", e.clock.MS()-1)
	e.clock.Advance(time.Minute)
	noKey(t, r, "them.test", "ed25519:o", e.clock.MS())
}

func TestBadResponsesRefused(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	good := them.signer
	other := keys.FromSigningKey(testKey(t, "ed25519:k2", 42)) // same ID, other key
	second := keys.FromSigningKey(testKey(t, "ed25519:second", 43))
	build := func(name string, verify map[string]keys.Signer, signers ...keys.Signer) func(time.Time) []byte {
		return func(now time.Time) []byte {
			vk := cjson.EmptyObject()
			for id, s := range verify {
				vk = vk.With(id, cjson.ObjectOf(cjson.M("key", cjson.StrOf(signing.EncodeBase64(s.Public())))))
			}
			obj := cjson.ObjectOf(
				cjson.M("server_name", cjson.StrOf(name)),
				cjson.M("verify_keys", vk),
				cjson.M("valid_until_ts", cjson.IntOf(now.Add(day).UnixMilli())),
			)
			for _, s := range signers {
				obj, _ = keys.SignJSON(obj, name, s)
			}
			return cjson.Encode(obj)
		}
	}
	cases := map[string]func(time.Time) []byte{
		"signed by another key":      build("them.test", map[string]keys.Signer{"ed25519:k2": good}, other),
		"lists a key it did not use": build("them.test", map[string]keys.Signer{"ed25519:k2": good, "ed25519:second": second}, good),
		"unsigned":                   build("them.test", map[string]keys.Signer{"ed25519:k2": good}),
		"server_name mismatch":       build("evil.test", map[string]keys.Signer{"ed25519:k2": good}, good),
		"not JSON":                   func(time.Time) []byte { return []byte("<html>") },
		"too large": func(now time.Time) []byte {
			b := build("them.test", map[string]keys.Signer{"ed25519:k2": good}, good)(now)
			return append(b[:len(b)-1], []byte(`,"pad":"`+strings.Repeat("a", keys.MaxResponseSize)+`"}`)...)
		},
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			them.body = body
			f := e.fetcher()
			r := e.ring(us, f)
			noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
			f.expect(t, "keys them.test", 1)
		})
	}
	// The control: the same builder with the right key is accepted, and a
	// response with two keys that both signed is too.
	them.body = build("them.test", map[string]keys.Signer{"ed25519:k2": good, "ed25519:second": second}, good, second)
	r := e.ring(us, e.fetcher())
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	mustKey(t, r, "them.test", "ed25519:second", e.clock.MS())
}

func TestTooManyKeysRefused(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	for i := 0; i < keys.MaxKeys; i++ {
		them.old = append(them.old, keys.OldKey{ID: fmt.Sprintf("ed25519:o%d", i), Public: testKey(t, "ed25519:x", byte(100+i)).Public(), ExpiredTS: 1})
	}
	r := e.ring(us, e.fetcher())
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	them.old = them.old[:keys.MaxKeys-1]
	e.clock.Advance(2 * time.Minute) // past the back-off
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
}

func TestBackoffAndWake(t *testing.T) {
	e := newEnv(t)
	us, _ := e.server("us.test", 1), e.server("them.test", 2)
	f := e.fetcher()
	f.block("them.test", true)
	r := e.ring(us, f)

	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	for i := 0; i < 50; i++ {
		noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	}
	f.expect(t, "keys them.test", 1)
	e.clock.Advance(61 * time.Second)
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 2)
	e.clock.Advance(61 * time.Second) // the pause has doubled to two minutes
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 2)
	e.clock.Advance(60 * time.Second)
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 3)
	// The pause never exceeds ten minutes.
	for i := 0; i < 6; i++ {
		e.clock.Advance(11 * time.Minute)
		noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	}
	f.expect(t, "keys them.test", 9)
	// The server comes back and contacts us: Wake lets the next lookup fetch.
	f.block("them.test", false)
	noKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	r.Wake("them.test")
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	f.expect(t, "keys them.test", 10)
}

func TestUnknownKeyIDsDoNotFlood(t *testing.T) {
	e := newEnv(t)
	us, _ := e.server("us.test", 1), e.server("them.test", 2)
	f := e.fetcher()
	r := e.ring(us, f)
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	for i := 0; i < 100; i++ {
		noKey(t, r, "them.test", "ed25519:forged", e.clock.MS())
	}
	f.expect(t, "keys them.test", 1)
	e.clock.Advance(2 * time.Minute)
	noKey(t, r, "them.test", "ed25519:forged", e.clock.MS())
	f.expect(t, "keys them.test", 2)
}

func TestInvalidInputsNeverFetch(t *testing.T) {
	e := newEnv(t)
	us := e.server("us.test", 1)
	f := e.fetcher()
	r := e.ring(us, f)
	noKey(t, r, "bad server!", "ed25519:k", e.clock.MS())
	noKey(t, r, "them.test", "curve25519:k", e.clock.MS())
	noKey(t, r, "them.test", "ed25519:a-b", e.clock.MS())
	if len(f.calls) != 0 {
		t.Fatalf("fetched for invalid input: %v", f.calls)
	}
}

func TestSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		us, _ := e.server("us.test", 1), e.server("them.test", 2)
		f := e.fetcher()
		f.gate = make(chan struct{})
		r := e.ring(us, f)
		const n = 20
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				_, err := r.VerifyKey(ctx, "them.test", "ed25519:k2", e.clock.MS())
				errs <- err
			}()
		}
		synctest.Wait() // every caller is blocked: one in the fetch, the rest waiting for it
		close(f.gate)
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		f.expect(t, "keys them.test", 1)
	})
}

func TestCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		us, _ := e.server("us.test", 1), e.server("them.test", 2)
		f := e.fetcher()
		f.gate = make(chan struct{})
		r := e.ring(us, f)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := r.VerifyKey(cctx, "them.test", "ed25519:k2", e.clock.MS())
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		// The fetch itself carries on and stores the key for later callers.
		close(f.gate)
		synctest.Wait()
		mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
		f.expect(t, "keys them.test", 1)
	})
}

func TestLookup(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	r := e.ring(us, e.fetcher())
	obj, err := keys.SignJSON(cjson.ObjectOf(cjson.M("a", cjson.IntOf(1))), "them.test", them.signer)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyJSON(obj, "them.test", r.Lookup(ctx, e.clock.MS())); err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyJSON(obj.With("a", cjson.IntOf(2)), "them.test", r.Lookup(ctx, e.clock.MS())); err == nil {
		t.Fatal("tampered object verified")
	}
	obj2, _ := keys.SignJSON(cjson.EmptyObject(), "nobody.test", them.signer)
	if err := signing.VerifyJSON(obj2, "nobody.test", r.Lookup(ctx, e.clock.MS())); err == nil {
		t.Fatal("object of an unknown server verified")
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	e := newEnv(t)
	us, them := e.server("us.test", 1), e.server("them.test", 2)
	dir := t.TempDir()
	db := openDB(t, dir)
	r := e.ringOn(db, us, e.fetcher())
	mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir)
	defer db.Close()
	f := e.fetcher()
	f.block("them.test", true)
	r = e.ringOn(db, us, f)
	e.clock.Advance(time.Hour)
	if k := mustKey(t, r, "them.test", "ed25519:k2", e.clock.MS()); !k.Equal(them.signer.Public()) {
		t.Fatal("reopened key differs")
	}
	if len(f.calls) != 0 {
		t.Fatalf("fetched after reopen: %v", f.calls)
	}
}

func TestNewRingChecksOptions(t *testing.T) {
	e := newEnv(t)
	us := e.server("us.test", 1)
	db := openDB(t, t.TempDir())
	defer db.Close()
	good := keys.RingOptions{DB: db, ServerName: "us.test", Self: us.signer, Fetcher: e.fetcher()}
	if _, err := keys.NewRing(good); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*keys.RingOptions){
		"no db":      func(o *keys.RingOptions) { o.DB = nil },
		"no self":    func(o *keys.RingOptions) { o.Self = nil },
		"no fetcher": func(o *keys.RingOptions) { o.Fetcher = nil },
		"bad name":   func(o *keys.RingOptions) { o.ServerName = "a b" },
		"bad notary": func(o *keys.RingOptions) { o.Notaries = []string{""} },
		"bad self key": func(o *keys.RingOptions) {
			o.Self = keys.FromSigningKey(signing.Key{ID: "x", Private: testKey(t, "ed25519:a", 1).Private})
		},
	} {
		o := good
		mutate(&o)
		if _, err := keys.NewRing(o); err == nil {
			t.Errorf("%s: NewRing accepted it", name)
		}
	}
}
