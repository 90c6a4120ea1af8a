package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// DB is the server's database.
type DB struct {
	bdb *badger.DB
	log *slog.Logger
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("storage: not found")

// Open opens (creating if needed) the database and runs pending migrations.
func Open(ctx context.Context, o Options, migrations []Migration) (*DB, error) {
	if o.Dir == "" && !o.InMemory {
		return nil, errors.New("storage: Dir is required")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	bo := badger.DefaultOptions(o.Dir).
		WithInMemory(o.InMemory).
		WithSyncWrites(!o.NoSync && !o.InMemory).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(orDefault(o.MemTableSize, defaultMemTable)).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(orDefault(o.BlockCacheSize, defaultBlockCache)).
		WithIndexCacheSize(orDefault(o.IndexCacheSize, defaultIndexCache)).
		WithNumCompactors(2).
		WithValueLogFileSize(64 << 20).
		WithValueThreshold(1 << 10).
		WithCompression(options.Snappy).
		WithNumGoroutines(2).
		WithMetricsEnabled(false).
		WithDetectConflicts(true)
	if o.InMemory {
		bo.Dir, bo.ValueDir = "", ""
	}
	if len(o.EncryptionKey) > 0 {
		bo = bo.WithEncryptionKey(o.EncryptionKey)
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", o.Dir, err)
	}
	db := &DB{bdb: bdb, log: log}
	if err := db.migrate(ctx, migrations); err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// Close flushes and closes the database. Call it on shutdown.
func (db *DB) Close() error { return db.bdb.Close() }

// Badger exposes the underlying database to the packages that own prefixes.
// They must keep to their own prefixes.
func (db *DB) Badger() *badger.DB { return db.bdb }

// Update runs fn in a read-write transaction and commits it; with syncing on,
// it returns only after the commit is on disk. Conflicting transactions are
// retried a few times.
func (db *DB) Update(fn func(txn *badger.Txn) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.bdb.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(txn *badger.Txn) error) error { return db.bdb.View(fn) }

// Get reads one key's value (a copy) or ErrNotFound.
func (db *DB) Get(key []byte) ([]byte, error) {
	var out []byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, err
}

// badgerLogger sends Badger's log lines to slog; its info and debug chatter
// is dropped.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}
