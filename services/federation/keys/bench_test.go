package keys_test

import (
	"context"
	"testing"
	"time"

	"hearth/services/federation/keys"
	"hearth/services/storage"
)

// BenchmarkVerifyKeyCached is the hot path: every incoming event and
// request looks up a key that is already stored.
func BenchmarkVerifyKeyCached(b *testing.B) {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	n := &fakeNet{clock: c, servers: map[string]*fakeServer{}}
	us := &fakeServer{name: "us.test", signer: keys.FromSigningKey(testKey(b, "ed25519:a", 1))}
	n.servers["them.test"] = &fakeServer{name: "them.test", signer: keys.FromSigningKey(testKey(b, "ed25519:b", 2)), validity: time.Hour}
	db, err := storage.Open(context.Background(), storage.Options{Dir: b.TempDir(), Logger: quiet()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r, err := keys.NewRing(keys.RingOptions{
		DB: db, ServerName: us.name, Self: us.signer, Now: c.Now, Logger: quiet(),
		Fetcher: &fakeFetcher{net: n, blocked: map[string]bool{}, calls: map[string]int{}},
	})
	if err != nil {
		b.Fatal(err)
	}
	at := c.MS()
	if _, err := r.VerifyKey(context.Background(), "them.test", "ed25519:b", at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.VerifyKey(context.Background(), "them.test", "ed25519:b", at); err != nil {
			b.Fatal(err)
		}
	}
}
