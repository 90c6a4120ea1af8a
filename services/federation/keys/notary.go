package keys

import (
	"context"
	"fmt"
	"sync"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/ids"
)

const (
	// MaxQueryServers bounds the servers in one POST /_matrix/key/v2/query.
	MaxQueryServers = 100
	// MaxQueryBody bounds the body of POST /_matrix/key/v2/query.
	MaxQueryBody = 128 << 10
	// maxServedResponses bounds the responses returned for one server.
	maxServedResponses = 8
	// notaryWorkers bounds the servers fetched at once for one query.
	notaryWorkers = 4
)

// NotaryGet answers GET /_matrix/key/v2/query/{serverName}: the server's
// key responses, each co-signed by us, as {"server_keys":[...]}. For our own
// name it is our own key response. Stored responses are used when one is
// valid until minValidUntil (ms; zero means now); otherwise the server is
// asked first, and if it cannot answer the stored ones are returned anyway
// (the spec asks notaries to keep serving what they last saw). An unknown or
// unreachable server gives an empty list.
func (r *Ring) NotaryGet(ctx context.Context, server string, minValidUntil int64) ([]byte, error) {
	entries, err := r.notaryEntries(ctx, server, nil, minValidUntil)
	if err != nil {
		return nil, err
	}
	return cjson.Encode(cjson.ObjectOf(cjson.M("server_keys", cjson.ArrayOf(entries...)))), nil
}

// NotaryResponse answers POST /_matrix/key/v2/query. The body is
// {"server_keys":{server:{keyID:{"minimum_valid_until_ts":ts}}}}; an empty
// key map asks for all keys. Key IDs only decide whether to fetch: every
// kept response of the server is returned (the spec allows it). Errors wrap
// ErrBadQuery for a malformed body or more than MaxQueryServers servers.
// Servers are fetched a few at a time; ctx bounds how long the answer waits
// for them (servers not fetched in time are answered from the store).
func (r *Ring) NotaryResponse(ctx context.Context, reqBody []byte) ([]byte, error) {
	qs, err := parseQuery(reqBody)
	if err != nil {
		return nil, err
	}
	results := make([][]cjson.Value, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, notaryWorkers)
	for i, q := range qs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = r.notaryEntries(ctx, q.server, q.keyIDs, q.minValid)
		}()
	}
	wg.Wait()
	var all []cjson.Value
	for i := range qs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, results[i]...)
	}
	return cjson.Encode(cjson.ObjectOf(cjson.M("server_keys", cjson.ArrayOf(all...)))), nil
}

type serverQuery struct {
	server   string
	keyIDs   []string
	minValid int64 // 0: now
}

func parseQuery(body []byte) ([]serverQuery, error) {
	if len(body) > MaxQueryBody {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrBadQuery, MaxQueryBody)
	}
	obj, err := cjson.DecodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
	}
	servers := obj.Get("server_keys")
	if servers.Kind() != cjson.Object {
		return nil, fmt.Errorf("%w: server_keys is not an object", ErrBadQuery)
	}
	if servers.Len() > MaxQueryServers {
		return nil, fmt.Errorf("%w: more than %d servers", ErrBadQuery, MaxQueryServers)
	}
	out := make([]serverQuery, 0, servers.Len())
	for _, s := range servers.Members() {
		if s.Value.Kind() != cjson.Object {
			return nil, fmt.Errorf("%w: criteria for %q are not an object", ErrBadQuery, s.Key)
		}
		if s.Value.Len() > MaxKeys {
			return nil, fmt.Errorf("%w: more than %d key IDs for %q", ErrBadQuery, MaxKeys, s.Key)
		}
		q := serverQuery{server: s.Key}
		for _, k := range s.Value.Members() {
			if k.Value.Kind() != cjson.Object {
				return nil, fmt.Errorf("%w: criteria for %q %q are not an object", ErrBadQuery, s.Key, k.Key)
			}
			if ts := k.Value.Get("minimum_valid_until_ts"); ts.Exists() {
				n, ok := ts.IntValue()
				if !ok {
					return nil, fmt.Errorf("%w: minimum_valid_until_ts is not an integer", ErrBadQuery)
				}
				q.minValid = max(q.minValid, n)
			}
			q.keyIDs = append(q.keyIDs, k.Key)
		}
		out = append(out, q)
	}
	return out, nil
}

// notaryEntries returns server's key responses co-signed by us, fetching
// first when the store does not satisfy the query.
func (r *Ring) notaryEntries(ctx context.Context, server string, keyIDs []string, minValid int64) ([]cjson.Value, error) {
	if minValid <= 0 {
		minValid = r.nowMS()
	}
	if server == r.name {
		own, err := ownKeysObject(r.name, r.self, r.oldKeys, r.validity, r.now())
		if err != nil {
			return nil, err
		}
		return []cjson.Value{own}, nil
	}
	if !ids.ValidServerName(server) {
		return nil, nil
	}
	w := want{atTS: minValid}
	if !r.covered(server, w) || r.missingAny(server, keyIDs) {
		if err := r.refresh(ctx, server, w, false); err != nil {
			r.log.Debug("keys: notary serving stored keys", "server", server, "err", err)
		}
	}
	resps, err := loadResponses(r.db, server)
	if err != nil {
		return nil, err
	}
	if len(resps) > maxServedResponses {
		resps = resps[:maxServedResponses]
	}
	out := make([]cjson.Value, 0, len(resps))
	for _, s := range resps {
		obj, err := cjson.DecodeObject(s.raw)
		if err != nil {
			continue // checked when stored; a corrupt copy is not served
		}
		if obj, err = ownSignaturesOnly(obj, server); err != nil {
			continue
		}
		signed, err := SignJSON(obj, r.name, r.self)
		if err != nil {
			return nil, err
		}
		out = append(out, signed)
	}
	return out, nil
}

// missingAny reports whether any well-formed ed25519 key ID in keyIDs has
// no stored record.
func (r *Ring) missingAny(server string, keyIDs []string) bool {
	for _, id := range keyIDs {
		if !isEd25519ID(id) {
			continue
		}
		if _, ok, err := r.load(server, id); err == nil && !ok {
			return true
		}
	}
	return false
}
