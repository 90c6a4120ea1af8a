package queue

import (
	"bytes"
	"encoding/binary"

	"hearth/services/storage"
)

// Entry kinds, kept in Badger's user meta byte so that scans can tell PDUs
// from EDUs without reading values.
const (
	kindPDU byte = 'P'
	kindEDU byte = 'E'
)

// entryPrefix is the key prefix of all entries queued for dest.
func entryPrefix(dest string) []byte {
	return storage.Key(storage.PrefixFedQueue, []byte(dest), []byte{0})
}

// entryKey is the key of dest's entry number seq.
func entryKey(dest string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(entryPrefix(dest), seq)
}

// parseEntryKey splits an entry key; ok is false for a malformed key.
func parseEntryKey(k []byte) (dest string, seq uint64, ok bool) {
	if len(k) < 1+1+1+8 || k[0] != byte(storage.PrefixFedQueue) {
		return "", 0, false
	}
	name := k[1 : len(k)-9]
	if k[len(k)-9] != 0 || bytes.IndexByte(name, 0) >= 0 {
		return "", 0, false
	}
	return string(name), binary.BigEndian.Uint64(k[len(k)-8:]), true
}

// recordKey is the key of dest's record.
func recordKey(dest string) []byte {
	return storage.Key(storage.PrefixFedDestination, []byte(dest))
}
