package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
)

func TestReopenKeepsDataAndSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ran := 0
	ms := []storage.Migration{
		{Version: 1, Name: "one", Run: func(ctx context.Context, db *storage.DB) error {
			ran++
			return db.Update(func(txn *badger.Txn) error {
				return txn.Set(storage.Key(storage.PrefixMeta, []byte("m1")), []byte("done"))
			})
		}},
	}
	db, err := storage.Open(ctx, storage.Options{Dir: dir}, ms)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.SchemaVersion(); v != 1 {
		t.Errorf("schema = %d, want 1", v)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen with one more migration: only the new one runs.
	ms = append(ms, storage.Migration{Version: 2, Name: "two", Run: func(ctx context.Context, db *storage.DB) error {
		ran += 10
		return nil
	}})
	db, err = storage.Open(ctx, storage.Options{Dir: dir}, ms)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ran != 11 {
		t.Errorf("migrations ran %d (want 1 then 10)", ran)
	}
	if v, _ := db.SchemaVersion(); v != 2 {
		t.Errorf("schema = %d, want 2", v)
	}
	got, err := db.Get(storage.Key(storage.PrefixMeta, []byte("m1")))
	if err != nil || string(got) != "done" {
		t.Errorf("data after reopen = %q, %v", got, err)
	}
	if _, err := db.Get([]byte{0xEE}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	noop := func(context.Context, *storage.DB) error { return nil }
	db, err := storage.Open(ctx, storage.Options{Dir: dir}, []storage.Migration{{1, "a", noop}, {2, "b", noop}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = storage.Open(ctx, storage.Options{Dir: dir}, []storage.Migration{{1, "a", noop}})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema with an older program: %v", err)
	}
}

func TestFailedMigrationIsRetried(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	fail := true
	ms := []storage.Migration{{1, "flaky", func(context.Context, *storage.DB) error {
		if fail {
			return errors.New("power cut")
		}
		return nil
	}}}
	if _, err := storage.Open(ctx, storage.Options{Dir: dir}, ms); err == nil {
		t.Fatal("failed migration did not fail Open")
	}
	fail = false
	db, err := storage.Open(ctx, storage.Options{Dir: dir}, ms)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(); v != 1 {
		t.Errorf("schema = %d after retry", v)
	}
}

func TestEncryptedNeedsTheKey(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	key := []byte(strings.Repeat("k", 32))
	db, err := storage.Open(ctx, storage.Options{Dir: dir, EncryptionKey: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(txn *badger.Txn) error {
		return txn.Set(storage.Key(storage.PrefixMeta, []byte("s")), []byte("secret"))
	})
	db.Close()
	if _, err := storage.Open(ctx, storage.Options{Dir: dir, EncryptionKey: []byte(strings.Repeat("x", 32))}, nil); err == nil {
		t.Fatal("opened an encrypted store with the wrong key")
	}
	db, err = storage.Open(ctx, storage.Options{Dir: dir, EncryptionKey: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Get(storage.Key(storage.PrefixMeta, []byte("s"))); err != nil || string(v) != "secret" {
		t.Errorf("read back %q, %v", v, err)
	}
}

func TestPrefixRegistry(t *testing.T) {
	if o, ok := storage.Owner(storage.PrefixMeta); !ok || o != "storage" {
		t.Errorf("owner of meta = %q", o)
	}
	if _, ok := storage.Owner(0xEE); ok {
		t.Error("unregistered prefix has an owner")
	}
	if k := storage.Key(storage.PrefixMeta, []byte{1, 2}, []byte{3}); string(k) != "\x01\x01\x02\x03" {
		t.Errorf("Key = %x", k)
	}
}
