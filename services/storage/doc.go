// Package storage opens the one Badger database of a Hearth server, tuned for
// a 1 GiB board, and keeps its layout honest: every key starts with a one-byte
// prefix owned by exactly one package (the registry in prefixes.go), and the
// schema version stored under the meta prefix says which forward-only
// migrations have run.
//
// Durability: writes are synced before Commit returns (SyncWrites). Badger
// queues concurrent commits and writes and syncs them as one batch, so many
// writers share one fsync: that is the group commit the server relies on to
// acknowledge events only once they are on disk.
package storage
