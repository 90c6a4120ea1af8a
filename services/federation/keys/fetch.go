package keys

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

const (
	// maxNotaryResponse bounds a notary's answer about one server: a few
	// key responses of at most MaxResponseSize each.
	maxNotaryResponse = 4 * MaxResponseSize
	// maxNotaryEntries bounds the entries looked at in one notary answer.
	maxNotaryEntries = 8
	// maxNotaryKeys bounds the notary key IDs resolved for one entry.
	maxNotaryKeys = 4
)

// fetch asks server for its keys, then (if allowed) each notary in turn,
// until w is satisfied. got reports whether any usable response was stored.
func (r *Ring) fetch(ctx context.Context, server string, w want, notaries bool) (got bool, err error) {
	var errs []error
	try := func(from string, f func() error) bool {
		if err := f(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", from, err))
			return false
		}
		got = true
		if r.covered(server, w) {
			return true
		}
		errs = append(errs, fmt.Errorf("%s: no key %q valid at %d", from, w.keyID, w.atTS))
		return false
	}
	if try(server, func() error { return r.fetchDirect(ctx, server) }) {
		return true, nil
	}
	if !notaries {
		return got, errors.Join(errs...)
	}
	for _, n := range r.notaries {
		if n == server {
			continue
		}
		if try("notary "+n, func() error { return r.fetchViaNotary(ctx, n, server, w) }) {
			return true, nil
		}
	}
	return got, errors.Join(errs...)
}

// covered reports whether the store now satisfies w.
func (r *Ring) covered(server string, w want) bool {
	if w.keyID != "" {
		_, ok, err := r.cached(server, w.keyID, w.atTS)
		return ok && err == nil
	}
	resps, err := loadResponses(r.db, server)
	if err != nil {
		return false
	}
	for _, s := range resps {
		if s.end() >= w.atTS {
			return true
		}
	}
	return false
}

func (r *Ring) fetchDirect(ctx context.Context, server string) error {
	body, err := r.fetcher.ServerKeys(ctx, server)
	if err != nil {
		return err
	}
	sk, err := parseServerKeys(body, server)
	if err != nil {
		return err
	}
	return r.save(server, body, sk, r.nowMS())
}

// fetchViaNotary asks notary for server's keys and stores every entry that
// is server's own self-signed response co-signed by notary.
func (r *Ring) fetchViaNotary(ctx context.Context, notary, server string, w want) error {
	criteria := cjson.EmptyObject()
	if w.keyID != "" {
		criteria = cjson.ObjectOf(cjson.M(w.keyID, cjson.ObjectOf(
			cjson.M("minimum_valid_until_ts", cjson.IntOf(w.atTS)))))
	}
	q := cjson.ObjectOf(cjson.M("server_keys", cjson.ObjectOf(cjson.M(server, criteria))))
	raw, err := r.fetcher.NotaryQuery(ctx, notary, cjson.Encode(q))
	if err != nil {
		return err
	}
	if len(raw) > maxNotaryResponse {
		return fmt.Errorf("%w: notary answer larger than %d bytes", errBadResponse, maxNotaryResponse)
	}
	obj, err := cjson.DecodeObject(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadResponse, err)
	}
	entries := obj.Get("server_keys")
	if entries.Kind() != cjson.Array {
		return fmt.Errorf("%w: server_keys is not an array", errBadResponse)
	}
	stored := 0
	var lastErr error = errors.New("no entry for the server")
	for i, e := range entries.Items() {
		if i == maxNotaryEntries {
			break
		}
		if name, _ := e.Get("server_name").Str(); name != server {
			continue // not what we asked about: not trusted for anything
		}
		if err := r.acceptNotaryEntry(ctx, notary, server, e); err != nil {
			lastErr = err
			continue
		}
		stored++
	}
	if stored == 0 {
		return lastErr
	}
	return nil
}

func (r *Ring) acceptNotaryEntry(ctx context.Context, notary, server string, e cjson.Value) error {
	// The notary's co-signature, checked with keys fetched from the notary
	// itself (never through another notary, so lookups cannot loop).
	known := map[string]ed25519.PublicKey{}
	keyIDs := signing.KeyIDs(e, notary)
	if len(keyIDs) > maxNotaryKeys {
		keyIDs = keyIDs[:maxNotaryKeys]
	}
	now := r.nowMS()
	for _, id := range keyIDs {
		if pub, err := r.verifyKey(ctx, notary, id, now, false); err == nil {
			known[id] = pub
		}
	}
	lookup := func(entity, id string) (ed25519.PublicKey, bool) {
		k, ok := known[id]
		return k, ok && entity == notary
	}
	if err := signing.VerifyJSON(e, notary, lookup); err != nil {
		return fmt.Errorf("notary signature: %w", err)
	}
	// Keep the server's own response: its signatures only.
	own, err := ownSignaturesOnly(e, server)
	if err != nil {
		return err
	}
	sk, err := checkServerKeys(own, server)
	if err != nil {
		return err
	}
	raw := cjson.Encode(own)
	if len(raw) > MaxResponseSize {
		return fmt.Errorf("%w: entry larger than %d bytes", errBadResponse, MaxResponseSize)
	}
	return r.save(server, raw, sk, now)
}

// ownSignaturesOnly returns a key response with every signature but the
// server's own removed.
func ownSignaturesOnly(obj cjson.Value, server string) (cjson.Value, error) {
	sigs := obj.Path("signatures", server)
	if sigs.Kind() != cjson.Object {
		return cjson.Value{}, fmt.Errorf("%w: not signed by %s", errBadResponse, server)
	}
	return obj.With("signatures", cjson.ObjectOf(cjson.M(server, sigs))), nil
}
