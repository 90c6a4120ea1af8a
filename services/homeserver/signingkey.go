package homeserver

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/signing"
	"hearth/services/storage"
)

var keySigningSeed = storage.Key(storage.PrefixMeta, []byte("server_signing_key"))

// loadSigningKey returns the server's ed25519 signing key, creating it on
// first start. The seed lives in the store (encrypted at rest when the store
// is); sealing it with the TPM is the appliance's job and replaces this
// function without touching its callers.
func loadSigningKey(db *storage.DB) (signing.Key, error) {
	v, err := db.Get(keySigningSeed)
	if errors.Is(err, storage.ErrNotFound) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return signing.Key{}, err
		}
		var idb [4]byte
		rand.Read(idb[:])
		id := fmt.Sprintf("%s:a_%x", signing.AlgEd25519, idb)
		v = append([]byte(id+"\x00"), seed...)
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(keySigningSeed, v) }); err != nil {
			return signing.Key{}, err
		}
	} else if err != nil {
		return signing.Key{}, err
	}
	for i, b := range v {
		if b == 0 {
			return signing.KeyFromSeed(string(v[:i]), v[i+1:])
		}
	}
	return signing.Key{}, errors.New("homeserver: corrupt signing key record")
}
