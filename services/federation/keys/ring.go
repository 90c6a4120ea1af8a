package keys

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hearth/services/matrix/ids"
	"hearth/services/matrix/signing"
	"hearth/services/storage"
)

// Fetcher makes the two outbound requests the ring needs. The federation
// client implements it; it must bound its own response sizes and times
// (the ring checks sizes again).
type Fetcher interface {
	// ServerKeys does GET /_matrix/key/v2/server on server.
	ServerKeys(ctx context.Context, server string) ([]byte, error)
	// NotaryQuery does POST /_matrix/key/v2/query on notary with body.
	NotaryQuery(ctx context.Context, notary string, body []byte) ([]byte, error)
}

// RingOptions configures a Ring. DB, ServerName, Self and Fetcher are
// required; the zero value of every other field works.
type RingOptions struct {
	// DB holds fetched keys under storage.PrefixFedServerKey.
	DB *storage.DB
	// ServerName is our own server name.
	ServerName string
	// Self is our signing key.
	Self Signer
	// OldKeys are our own retired keys, published and used to verify our
	// old events. Nil means none.
	OldKeys []OldKey
	// Validity is how long our published key responses are valid; zero
	// means DefaultValidity.
	Validity time.Duration
	// Fetcher fetches remote keys.
	Fetcher Fetcher
	// Notaries are the server names of trusted notaries, asked in order when
	// a server cannot give its keys itself. Nil means none: keys come only
	// from the servers themselves.
	Notaries []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Ring finds the verification keys of other servers: from Badger when a
// stored key is valid for the time asked, else from the server itself, else
// from the notaries; it also answers notary queries for others. It is safe
// for concurrent use.
type Ring struct {
	db       *storage.DB
	name     string
	self     Signer
	oldKeys  []OldKey
	validity time.Duration
	fetcher  Fetcher
	notaries []string
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	flights map[flightKey]*flight
	servers map[string]*serverState
	mem     map[string]map[string]keyRecord // server → key ID → record, a copy of Badger
	saves   uint64                          // counts saves, so a read racing one is not copied
}

// maxMemServers bounds the in-memory copy of stored keys; when it is full it
// starts again empty.
const maxMemServers = 1024

// NewRing checks o and returns a Ring.
func NewRing(o RingOptions) (*Ring, error) {
	switch {
	case o.DB == nil:
		return nil, errors.New("keys: RingOptions.DB is required")
	case o.Self == nil:
		return nil, errors.New("keys: RingOptions.Self is required")
	case o.Fetcher == nil:
		return nil, errors.New("keys: RingOptions.Fetcher is required")
	case !ids.ValidServerName(o.ServerName):
		return nil, fmt.Errorf("keys: RingOptions.ServerName %q is not a valid server name", o.ServerName)
	}
	if err := checkOwnKey(o.Self.KeyID(), o.Self.Public()); err != nil {
		return nil, err
	}
	for _, k := range o.OldKeys {
		if err := checkOwnKey(k.ID, k.Public); err != nil {
			return nil, err
		}
	}
	for _, n := range o.Notaries {
		if !ids.ValidServerName(n) {
			return nil, fmt.Errorf("keys: notary %q is not a valid server name", n)
		}
	}
	r := &Ring{
		db: o.DB, name: o.ServerName, self: o.Self, oldKeys: o.OldKeys, validity: o.Validity,
		fetcher: o.Fetcher, notaries: o.Notaries, now: o.Now, log: o.Logger,
		flights: map[flightKey]*flight{},
		servers: map[string]*serverState{},
		mem:     map[string]map[string]keyRecord{},
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// VerifyKey returns server's key keyID if it is valid at atTS (ms since the
// epoch): the origin_server_ts of an event, or now for a request. Our own
// keys come from the options. A stored key is used while its validity
// covers atTS (current keys: the lesser of valid_until_ts and fetch time + 7
// days; old keys: expired_ts); otherwise the server is asked, then the
// notaries. Errors wrap ErrKeyNotFound.
func (r *Ring) VerifyKey(ctx context.Context, server, keyID string, atTS int64) (ed25519.PublicKey, error) {
	return r.verifyKey(ctx, server, keyID, atTS, true)
}

// RequestKey is VerifyKey at the current time, the check for request
// authentication; it has the shape of xmatrix.KeyLookup.
func (r *Ring) RequestKey(ctx context.Context, server, keyID string) (ed25519.PublicKey, error) {
	return r.VerifyKey(ctx, server, keyID, r.nowMS())
}

// Lookup adapts VerifyKey to signing.KeyLookup for signing.VerifyJSON, with
// every key checked at atTS; errors count as "not found". ctx bounds any
// fetch the lookup makes.
func (r *Ring) Lookup(ctx context.Context, atTS int64) signing.KeyLookup {
	return func(server, keyID string) (ed25519.PublicKey, bool) {
		k, err := r.VerifyKey(ctx, server, keyID, atTS)
		return k, err == nil
	}
}

func (r *Ring) verifyKey(ctx context.Context, server, keyID string, atTS int64, useNotaries bool) (ed25519.PublicKey, error) {
	if server == r.name {
		return r.ownKey(keyID, atTS)
	}
	if !ids.ValidServerName(server) {
		return nil, fmt.Errorf("%w: %q is not a valid server name", ErrKeyNotFound, server)
	}
	if !isEd25519ID(keyID) {
		return nil, fmt.Errorf("%w: %q is not an ed25519 key ID", ErrKeyNotFound, keyID)
	}
	if k, ok, err := r.cached(server, keyID, atTS); err != nil || ok {
		return k, err
	}
	ferr := r.refresh(ctx, server, want{keyID: keyID, atTS: atTS}, useNotaries)
	if k, ok, err := r.cached(server, keyID, atTS); err != nil || ok {
		return k, err
	}
	if ferr != nil {
		return nil, fmt.Errorf("%w: %s %s at %d: %w", ErrKeyNotFound, server, keyID, atTS, ferr)
	}
	return nil, fmt.Errorf("%w: %s %s at %d", ErrKeyNotFound, server, keyID, atTS)
}

// cached returns the stored key when its validity covers atTS.
func (r *Ring) cached(server, keyID string, atTS int64) (ed25519.PublicKey, bool, error) {
	rec, ok, err := r.load(server, keyID)
	if err != nil || !ok || atTS > rec.end() {
		return nil, false, err
	}
	return rec.pub, true, nil
}

// load reads a key record through the in-memory copy.
func (r *Ring) load(server, keyID string) (keyRecord, bool, error) {
	r.mu.Lock()
	rec, ok := r.mem[server][keyID]
	gen := r.saves
	r.mu.Unlock()
	if ok {
		return rec, true, nil
	}
	rec, ok, err := loadKey(r.db, server, keyID)
	if err != nil || !ok {
		return rec, ok, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.saves {
		return rec, true, nil // a save ran meanwhile: the next read copies
	}
	if len(r.mem) >= maxMemServers {
		clear(r.mem)
	}
	if r.mem[server] == nil {
		r.mem[server] = map[string]keyRecord{}
	}
	r.mem[server][keyID] = rec
	return rec, true, nil
}

// save stores a checked response and drops the in-memory copy of server's
// keys.
func (r *Ring) save(server string, raw []byte, sk serverKeys, fetchedTS int64) error {
	err := save(r.db, server, raw, sk, fetchedTS)
	r.mu.Lock()
	delete(r.mem, server)
	r.saves++
	r.mu.Unlock()
	return err
}

func (r *Ring) ownKey(keyID string, atTS int64) (ed25519.PublicKey, error) {
	if keyID == r.self.KeyID() {
		return r.self.Public(), nil
	}
	for _, k := range r.oldKeys {
		if k.ID == keyID && atTS <= k.ExpiredTS {
			return k.Public, nil
		}
	}
	return nil, fmt.Errorf("%w: own key %s at %d", ErrKeyNotFound, keyID, atTS)
}

func (r *Ring) nowMS() int64 { return r.now().UnixMilli() }
