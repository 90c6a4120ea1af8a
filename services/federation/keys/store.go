package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
	"hearth/services/storage"
)

// Storage layout, all under storage.PrefixFedServerKey:
//
//	server 0x00 keyID         → key record (cjson, see keyRecord)
//	server 0x00 0x01 respID   → fetched_ts(8) valid_until_ts(8) response bytes
//
// Key IDs start with a letter, so the 0x01 tag cannot collide with them.
// respID is the first 16 bytes of the SHA-256 of the response bytes; a
// response is kept while at least one key record points at it, so a notary
// answer can return what the server signed, byte for byte.

// maxStoredKeys bounds the key records kept per server: a server that makes
// up a new key ID on every fetch cannot fill the disk. The records with the
// earliest end of validity go first.
const maxStoredKeys = 64

// sevenDays caps how long a fetched verify key is trusted (spec: "the lesser
// of valid_until_ts and 7 days into the future").
const sevenDays = int64(7 * 24 * 60 * 60 * 1000)

const respTag = 0x01

type keyRecord struct {
	pub        ed25519.PublicKey
	old        bool
	expiredTS  int64 // old keys only
	validUntil int64 // valid_until_ts of the response it came from
	fetchedTS  int64 // when we received that response
	resp       []byte
}

// end is the last timestamp (ms) the key may verify: for a current key the
// lesser of valid_until_ts and fetch time + 7 days; for an old key its
// expired_ts, but only up to just before we learnt it was old (a key listed
// as old was no longer in use when we fetched). So an old key never
// verifies a request, checked at "now", however often it is refetched.
func (k keyRecord) end() int64 {
	if k.old {
		return min(k.expiredTS, k.fetchedTS-1)
	}
	return min(k.validUntil, k.fetchedTS+sevenDays)
}

func (k keyRecord) encode() []byte {
	m := []cjson.Member{
		cjson.M("key", cjson.StrOf(signing.EncodeBase64(k.pub))),
		cjson.M("valid_until_ts", cjson.IntOf(k.validUntil)),
		cjson.M("fetched_ts", cjson.IntOf(k.fetchedTS)),
		cjson.M("resp", cjson.StrOf(signing.EncodeBase64(k.resp))),
	}
	if k.old {
		m = append(m, cjson.M("expired_ts", cjson.IntOf(k.expiredTS)))
	}
	return cjson.Encode(cjson.ObjectOf(m...))
}

func decodeKeyRecord(b []byte) (keyRecord, error) {
	v, err := cjson.DecodeObject(b)
	if err != nil {
		return keyRecord{}, err
	}
	var k keyRecord
	var ok1, ok2 bool
	k.validUntil, ok1 = v.Get("valid_until_ts").IntValue()
	k.fetchedTS, ok2 = v.Get("fetched_ts").IntValue()
	pub, err := publicKey(v)
	if err != nil || !ok1 || !ok2 {
		return keyRecord{}, errors.New("keys: corrupt key record")
	}
	k.pub = pub
	k.resp, _ = signing.DecodeBase64(v.Get("resp").StrOr(""))
	k.expiredTS, k.old = v.Get("expired_ts").IntValue()
	return k, nil
}

func serverPrefix(server string) []byte {
	return storage.Key(storage.PrefixFedServerKey, []byte(server), []byte{0})
}

func keyKey(server, keyID string) []byte {
	return storage.Key(storage.PrefixFedServerKey, []byte(server), []byte{0}, []byte(keyID))
}

func respKey(server string, id []byte) []byte {
	return storage.Key(storage.PrefixFedServerKey, []byte(server), []byte{0, respTag}, id)
}

// loadKey reads one key record.
func loadKey(db *storage.DB, server, keyID string) (keyRecord, bool, error) {
	b, err := db.Get(keyKey(server, keyID))
	if errors.Is(err, storage.ErrNotFound) {
		return keyRecord{}, false, nil
	}
	if err != nil {
		return keyRecord{}, false, fmt.Errorf("keys: read %s %s: %w", server, keyID, err)
	}
	k, err := decodeKeyRecord(b)
	if err != nil {
		return keyRecord{}, false, fmt.Errorf("keys: %s %s: %w", server, keyID, err)
	}
	return k, true, nil
}

// storedResponse is a kept key response of one server.
type storedResponse struct {
	raw        []byte
	fetchedTS  int64
	validUntil int64
}

func (s storedResponse) end() int64 { return min(s.validUntil, s.fetchedTS+sevenDays) }

// loadResponses returns the kept responses of server, newest valid_until_ts
// first.
func loadResponses(db *storage.DB, server string) ([]storedResponse, error) {
	var out []storedResponse
	prefix := respKey(server, nil)
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 8})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if len(v) < 16 {
				continue
			}
			out = append(out, storedResponse{
				fetchedTS:  int64(binary.BigEndian.Uint64(v[0:8])),
				validUntil: int64(binary.BigEndian.Uint64(v[8:16])),
				raw:        v[16:],
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("keys: read responses of %s: %w", server, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].validUntil > out[j].validUntil })
	return out, nil
}

// save merges a checked response into the store. A key's record is replaced
// only by a response at least as fresh (valid_until_ts not older) as the one
// it came from, so a notary replaying an old response cannot undo a newer
// one. Responses no key points at any more are deleted.
func save(db *storage.DB, server string, raw []byte, sk serverKeys, fetchedTS int64) error {
	sum := sha256.Sum256(raw)
	id := sum[:16]
	err := db.Update(func(txn *badger.Txn) error {
		recs, onDisk, resps, err := scanServer(txn, server)
		if err != nil {
			return err
		}
		changed := map[string]bool{}
		put := func(keyID string, rec keyRecord) {
			if cur, ok := recs[keyID]; ok && cur.validUntil > rec.validUntil {
				return
			}
			recs[keyID] = rec
			changed[keyID] = true
		}
		for keyID, pub := range sk.verify {
			put(keyID, keyRecord{pub: pub, validUntil: sk.validUntil, fetchedTS: fetchedTS, resp: id})
		}
		for keyID, o := range sk.old {
			put(keyID, keyRecord{pub: o.pub, old: true, expiredTS: o.expiredTS, validUntil: sk.validUntil, fetchedTS: fetchedTS, resp: id})
		}
		prune(recs)
		used := map[string]bool{}
		for keyID, rec := range recs {
			used[string(rec.resp)] = true
			if !changed[keyID] {
				continue
			}
			if err := txn.Set(keyKey(server, keyID), rec.encode()); err != nil {
				return err
			}
		}
		for keyID := range onDisk {
			if _, kept := recs[keyID]; kept {
				continue
			}
			if err := txn.Delete(keyKey(server, keyID)); err != nil {
				return err
			}
		}
		if used[string(id)] && !resps[string(id)] {
			v := make([]byte, 16, 16+len(raw))
			binary.BigEndian.PutUint64(v[0:8], uint64(fetchedTS))
			binary.BigEndian.PutUint64(v[8:16], uint64(sk.validUntil))
			if err := txn.Set(respKey(server, id), append(v, raw...)); err != nil {
				return err
			}
		}
		for r := range resps {
			if !used[r] {
				if err := txn.Delete(respKey(server, []byte(r))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keys: store keys of %s: %w", server, err)
	}
	return nil
}

// scanServer reads the key records of server, the IDs of all its key
// records on disk (corrupt ones included) and the IDs of its responses.
func scanServer(txn *badger.Txn, server string) (recs map[string]keyRecord, onDisk, resps map[string]bool, err error) {
	recs, onDisk, resps = map[string]keyRecord{}, map[string]bool{}, map[string]bool{}
	prefix := serverPrefix(server)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rest := bytes.TrimPrefix(it.Item().Key(), prefix)
		if len(rest) > 0 && rest[0] == respTag {
			resps[string(rest[1:])] = true
			continue
		}
		onDisk[string(rest)] = true
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return nil, nil, nil, err
		}
		rec, err := decodeKeyRecord(v)
		if err != nil {
			continue // a corrupt record is dropped here and refetched later
		}
		recs[string(rest)] = rec
	}
	return recs, onDisk, resps, nil
}

// prune drops the records with the earliest end until maxStoredKeys remain.
func prune(recs map[string]keyRecord) {
	if len(recs) <= maxStoredKeys {
		return
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		ei, ej := recs[ids[i]].end(), recs[ids[j]].end()
		if ei != ej {
			return ei < ej
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids[:len(ids)-maxStoredKeys] {
		delete(recs, id)
	}
}
