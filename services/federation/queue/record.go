package queue

import (
	"encoding/json"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// record is what is kept per destination under PrefixFedDestination. Only
// the worker of that destination writes it.
type record struct {
	// NextTxn counts the transactions ever built for the destination.
	NextTxn uint64 `json:"next_txn"`
	// Failures counts the failed attempts since the last success.
	Failures int `json:"failures,omitempty"`
	// RetryAt is when to try again (Unix ms); 0 means now.
	RetryAt int64 `json:"retry_at,omitempty"`
	// Pending is the transaction built and perhaps sent but not yet
	// acknowledged; it is resent as it is until it is.
	Pending *pendingTxn `json:"pending,omitempty"`
}

// pendingTxn is enough to rebuild a transaction byte for byte: its entries
// are read back by sequence number, the in-memory EDUs it carried are kept
// here (as base64, which encoding/json does not alter; json.RawMessage
// would be HTML-escaped).
type pendingTxn struct {
	ID       string   `json:"id"`
	TS       int64    `json:"ts"`
	Seqs     []uint64 `json:"seqs,omitempty"`
	Volatile [][]byte `json:"volatile,omitempty"`
}

func (r record) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("queue: encode record: %w", err)
	}
	return b, nil
}

func decodeRecord(b []byte) (record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("queue: decode record: %w", err)
	}
	return r, nil
}

// putRecord writes dest's record in txn.
func putRecord(txn *badger.Txn, dest string, r record) error {
	b, err := r.encode()
	if err != nil {
		return err
	}
	return txn.Set(recordKey(dest), b)
}

// getRecord reads dest's record in txn; a missing record is the zero one.
func getRecord(txn *badger.Txn, dest string) (record, error) {
	it, err := txn.Get(recordKey(dest))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return record{}, nil
	}
	if err != nil {
		return record{}, err
	}
	var r record
	err = it.Value(func(v []byte) error {
		r, err = decodeRecord(v)
		return err
	})
	return r, err
}
