package keys

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/signing"
	"hearth/services/storage"
)

func seedSigner(t testing.TB, id string, seed byte) Signer {
	t.Helper()
	k, err := signing.KeyFromSeed(id, bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return FromSigningKey(k)
}

func testDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func response(t *testing.T, server string, s Signer, old []OldKey, validUntil time.Time) ([]byte, serverKeys) {
	t.Helper()
	raw, err := OwnKeys(server, s, old, time.Until(validUntil), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sk, err := parseServerKeys(raw, server)
	if err != nil {
		t.Fatal(err)
	}
	return raw, sk
}

// TestOlderResponseDoesNotOverride: a response replayed from the past (a
// lower valid_until_ts) cannot turn an old key current again.
func TestOlderResponseDoesNotOverride(t *testing.T) {
	db := testDB(t)
	k1 := seedSigner(t, "ed25519:a", 1)
	k2 := seedSigner(t, "ed25519:b", 2)
	now := time.Now()
	oldRaw, oldSK := response(t, "s.test", k1, nil, now.Add(time.Hour))
	newRaw, newSK := response(t, "s.test", k2, []OldKey{{ID: "ed25519:a", Public: k1.Public(), ExpiredTS: now.UnixMilli()}}, now.Add(2*time.Hour))
	if err := save(db, "s.test", newRaw, newSK, now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if err := save(db, "s.test", oldRaw, oldSK, now.UnixMilli()+10); err != nil {
		t.Fatal(err)
	}
	rec, ok, err := loadKey(db, "s.test", "ed25519:a")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !rec.old || rec.expiredTS != now.UnixMilli() {
		t.Fatalf("record = %+v; want the newer response's old key", rec)
	}
	// The older response is referenced by nothing and is not kept.
	resps, err := loadResponses(db, "s.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(resps) != 1 || !bytes.Equal(resps[0].raw, newRaw) {
		t.Fatalf("%d responses kept, want only the newer one", len(resps))
	}
}

func TestStoredKeysBounded(t *testing.T) {
	db := testDB(t)
	now := time.Now()
	// A server that shows a new key ID every time.
	for i := 0; i < maxStoredKeys+10; i++ {
		s := seedSigner(t, fmt.Sprintf("ed25519:k%d", i), byte(i))
		raw, sk := response(t, "s.test", s, nil, now.Add(time.Duration(i+1)*time.Minute))
		if err := save(db, "s.test", raw, sk, now.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	var nKeys, nResps int
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: serverPrefix("s.test")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if it.Item().Key()[len(serverPrefix("s.test"))] == respTag {
				nResps++
			} else {
				nKeys++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if nKeys != maxStoredKeys || nResps != maxStoredKeys {
		t.Fatalf("%d keys and %d responses stored, want %d each", nKeys, nResps, maxStoredKeys)
	}
	// The ones pruned are those whose validity ended first.
	if _, ok, _ := loadKey(db, "s.test", "ed25519:k0"); ok {
		t.Fatal("earliest-ending key kept")
	}
	if _, ok, _ := loadKey(db, "s.test", fmt.Sprintf("ed25519:k%d", maxStoredKeys+9)); !ok {
		t.Fatal("latest key dropped")
	}
}

func TestServersDoNotShareKeys(t *testing.T) {
	// "a.test" and "a.test.evil" must not see each other's records through
	// the prefix scan.
	db := testDB(t)
	raw, sk := response(t, "a.test.evil", seedSigner(t, "ed25519:k", 1), nil, time.Now().Add(time.Hour))
	if err := save(db, "a.test.evil", raw, sk, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := loadKey(db, "a.test", "ed25519:k"); ok {
		t.Fatal("key of a.test.evil found for a.test")
	}
	if r, _ := loadResponses(db, "a.test"); len(r) != 0 {
		t.Fatal("responses leak between servers")
	}
}

func TestKeyRecordRoundTrip(t *testing.T) {
	pub := seedSigner(t, "ed25519:k", 1).Public()
	for _, rec := range []keyRecord{
		{pub: pub, validUntil: 5, fetchedTS: 3, resp: []byte{1, 2}},
		{pub: pub, old: true, expiredTS: 7, validUntil: 5, fetchedTS: 3, resp: []byte{1}},
	} {
		got, err := decodeKeyRecord(rec.encode())
		if err != nil {
			t.Fatal(err)
		}
		if !got.pub.Equal(rec.pub) || got.old != rec.old || got.expiredTS != rec.expiredTS ||
			got.validUntil != rec.validUntil || got.fetchedTS != rec.fetchedTS || !bytes.Equal(got.resp, rec.resp) {
			t.Fatalf("round trip %+v -> %+v", rec, got)
		}
	}
	if _, err := decodeKeyRecord([]byte(`{"key":"x"}`)); err == nil {
		t.Fatal("corrupt record decoded")
	}
}
