package users

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
	"hearth/services/storage"
)

// Service is the account, device and token store. It is safe for concurrent
// use. Build it once per server with New; it needs no Close (the caller owns
// the database).
type Service struct {
	db   *storage.DB
	opts Options
	log  *slog.Logger

	randMu sync.Mutex

	hashSem   chan struct{}
	dummyOnce sync.Once
	dummyHash string

	cache *tokenCache
	uia   *UIA

	// regMu serialises registration token checks with reservations; pending
	// counts reservations held by live UIA sessions (see regtokens.go).
	regMu   sync.Mutex
	pending map[string]int

	// adMu serialises account data writers so stream positions commit in
	// order (see doc.go).
	adMu sync.Mutex

	seen *seenThrottle
}

// New builds the service on db.
func New(db *storage.DB, opts Options) (*Service, error) {
	if db == nil {
		return nil, errors.New("users: nil database")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		db:      db,
		opts:    o,
		log:     o.Logger.With("service", "users"),
		hashSem: make(chan struct{}, o.MaxConcurrentHashes),
		cache:   newTokenCache(o.TokenCacheSize),
		pending: make(map[string]int),
		seen:    newSeenThrottle(o.TokenCacheSize),
	}
	s.uia = newUIA(uiaConfig{
		now:     o.Now,
		random:  s.randBytes,
		ttl:     o.UIASessionLifetime,
		max:     o.MaxUIASessions,
		release: s.releaseRegToken,
	})
	return s, nil
}

// UIA returns the service's user-interactive authentication session store.
func (s *Service) UIA() *UIA { return s.uia }

// ServerName is the domain of this server's user IDs.
func (s *Service) ServerName() string { return s.opts.ServerName }

func (s *Service) now() time.Time { return s.opts.Now() }

// randBytes reads n bytes from the injected source.
func (s *Service) randBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	s.randMu.Lock()
	_, err := io.ReadFull(s.opts.Rand, b)
	s.randMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("users: reading randomness: %w", err)
	}
	return b, nil
}

// localpart checks that userID is a user ID of this server and returns its
// localpart. IDs of other servers are simply not found here.
func (s *Service) localpart(userID string) (string, error) {
	u, err := ids.ParseUserID(userID)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if u.Server != s.opts.ServerName {
		return "", fmt.Errorf("%w: %s is not a user of this server", ErrNotFound, userID)
	}
	return u.Localpart, nil
}

func (s *Service) userID(localpart string) string {
	return "@" + localpart + ":" + s.opts.ServerName
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// getJSON reads key into v; it reports false for a missing key.
func getJSON(txn *badger.Txn, key []byte, v any) (bool, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := it.Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
		return false, fmt.Errorf("users: decoding %x: %w", key[:1], err)
	}
	return true, nil
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// getValue returns a copy of key's value, or nil and false if missing.
func getValue(txn *badger.Txn, key []byte) ([]byte, bool, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := it.ValueCopy(nil)
	return v, err == nil, err
}

// keysWithPrefix lists the keys under prefix (keys only, copied), at most
// limit of them when limit > 0.
func keysWithPrefix(txn *badger.Txn, prefix []byte, limit int) [][]byte {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	var out [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, it.Item().KeyCopy(nil))
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}
