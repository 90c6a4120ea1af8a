package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// Migration moves the schema from Version-1 to Version. Migrations are
// forward-only. Run must be idempotent and resumable: if the process dies
// midway it runs again from the start on the next open, so it must notice
// work already done (or do it in one transaction).
type Migration struct {
	Version uint64
	Name    string
	Run     func(ctx context.Context, db *DB) error
}

var keySchemaVersion = Key(PrefixMeta, []byte("schema_version"))

// SchemaVersion is the version of the last migration that completed.
func (db *DB) SchemaVersion() (uint64, error) {
	v, err := db.Get(keySchemaVersion)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("storage: corrupt schema version (%d bytes)", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// migrate runs, in order, every migration above the stored version, recording
// each version as it completes.
func (db *DB) migrate(ctx context.Context, ms []Migration) error {
	cur, err := db.SchemaVersion()
	if err != nil {
		return err
	}
	for i, m := range ms {
		if m.Version != uint64(i+1) {
			return fmt.Errorf("storage: migration %q has version %d, want %d (versions must be 1, 2, 3, …)", m.Name, m.Version, i+1)
		}
	}
	if cur > uint64(len(ms)) {
		return fmt.Errorf("storage: database schema %d is newer than this program knows (%d); refusing to open", cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if err := ctx.Err(); err != nil {
			return err
		}
		db.log.Info("storage: migrating", "version", m.Version, "name", m.Name)
		if err := m.Run(ctx, db); err != nil {
			return fmt.Errorf("storage: migration %d %q: %w", m.Version, m.Name, err)
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], m.Version)
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(keySchemaVersion, buf[:]) }); err != nil {
			return fmt.Errorf("storage: record schema %d: %w", m.Version, err)
		}
	}
	return nil
}
