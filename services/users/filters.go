package users

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	badger "github.com/dgraph-io/badger/v4"
)

// Filters are content-addressed: a filter's ID is derived from the SHA-256
// of its compacted JSON. Clients upload the same filter on every start, so
// this stores it once instead of once per start, and needs no counter. IDs
// are 16 characters of base64url, which can never start with '{' (the /sync
// "filter" parameter tells IDs from inline JSON that way). Each account
// keeps at most MaxFiltersPerUser; a new filter beyond that replaces the
// oldest (a client that still uses it gets M_NOT_FOUND and uploads again).

const (
	maxFilterBytes = 64 << 10
	filterIDBytes  = 12
)

func filterID(compact []byte) string {
	sum := sha256.Sum256(compact)
	return base64.RawURLEncoding.EncodeToString(sum[:filterIDBytes])
}

// PutFilter stores a filter (a JSON object of at most 64 KiB; its meaning is
// the sync package's business) and returns its ID.
func (s *Service) PutFilter(userID string, filter []byte) (string, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return "", err
	}
	c, err := compactObject(filter, maxFilterBytes)
	if err != nil {
		return "", err
	}
	id := filterID(c)
	now := s.now()
	err = s.db.Update(func(txn *badger.Txn) error {
		if _, err := loadAccount(txn, local); err != nil {
			return err
		}
		if _, err := txn.Get(filterKey(local, id)); err == nil {
			return nil // already stored
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := evictOldFilters(txn, local, s.opts.MaxFiltersPerUser); err != nil {
			return err
		}
		return txn.Set(filterKey(local, id), append(be64(uint64(ms(now))), c...))
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// evictOldFilters makes room for one more filter by deleting the oldest
// ones beyond max-1.
func evictOldFilters(txn *badger.Txn, local string, max int) error {
	prefix := filterPrefix(local)
	keys := keysWithPrefix(txn, prefix, 0)
	for len(keys) >= max {
		oldest, oldestAt := -1, uint64(0)
		for i, k := range keys {
			v, found, err := getValue(txn, k)
			if err != nil {
				return err
			}
			var at uint64
			if found && len(v) >= 8 {
				at = binary.BigEndian.Uint64(v)
			}
			if oldest < 0 || at < oldestAt {
				oldest, oldestAt = i, at
			}
		}
		if err := txn.Delete(keys[oldest]); err != nil {
			return err
		}
		keys = append(keys[:oldest], keys[oldest+1:]...)
	}
	return nil
}

// Filter returns a stored filter, or ErrNotFound.
func (s *Service) Filter(userID, filterID string) (json.RawMessage, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	if filterID == "" || len(filterID) > 64 {
		return nil, ErrNotFound
	}
	var v []byte
	var found bool
	err = s.db.View(func(txn *badger.Txn) error {
		v, found, err = getValue(txn, filterKey(local, filterID))
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found || len(v) < 8 {
		return nil, ErrNotFound
	}
	return v[8:], nil
}
