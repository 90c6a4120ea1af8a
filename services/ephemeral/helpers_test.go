package ephemeral

import badger "github.com/dgraph-io/badger/v4"

type badgerTxn = badger.Txn

func countPrefix(txn *badger.Txn, p byte) int {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n
}
