package storage

import (
	"log/slog"
)

// Options configures the database. The zero value of every field but Dir (or
// InMemory) works and means the small-board default given in its comment.
type Options struct {
	// Dir is the data folder. Required unless InMemory.
	Dir string
	// InMemory keeps everything in RAM (tests of code that needs no
	// durability). Never used by the server itself.
	InMemory bool
	// EncryptionKey, if set, must be 16, 24 or 32 bytes (AES); data at rest
	// is then encrypted. Empty means no encryption (development).
	EncryptionKey []byte
	// MemTableSize in bytes; 0 means 8 MiB (Badger's default is 64 MiB).
	MemTableSize int64
	// BlockCacheSize in bytes; 0 means 8 MiB. Must stay above zero with encryption.
	BlockCacheSize int64
	// IndexCacheSize in bytes; 0 means 8 MiB. Must stay above zero with encryption.
	IndexCacheSize int64
	// NoSync turns off syncing on commit. Only benchmarks that measure
	// something else set it; the server never does.
	NoSync bool
	// Logger receives Badger's warnings and errors; nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultMemTable   = 8 << 20
	defaultBlockCache = 8 << 20
	defaultIndexCache = 8 << 20
)
