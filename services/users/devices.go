package users

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// Device is a client device of an account, as the device management API
// shows it.
type Device struct {
	UserID      string
	DeviceID    string
	DisplayName string    // "" when none was set
	LastSeenIP  string    // "" when unknown
	LastSeen    time.Time // zero when never seen; up to seenInterval stale
	Created     time.Time
}

// deviceRecord is stored under deviceKey. It names the hashes of the tokens
// the device owns so that deleting the device finds them.
type deviceRecord struct {
	DisplayName string `json:"name,omitempty"`
	CreatedMS   int64  `json:"created"`
	LastSeenMS  int64  `json:"seen,omitempty"`
	LastSeenIP  string `json:"ip,omitempty"`
	Access      []byte `json:"at,omitempty"`
	Refresh     []byte `json:"rt,omitempty"`
	// OldRefresh is the refresh token the current pair was minted from; it
	// stays valid until the new access or refresh token is first used.
	OldRefresh []byte `json:"ort,omitempty"`
}

const (
	maxDeviceNameBytes = 256
	maxIPBytes         = 64
	seenInterval       = 5 * time.Minute
	deviceIDLen        = 10
)

func checkDeviceName(name string) error {
	if len(name) > maxDeviceNameBytes {
		return tooLarge("device display name longer than %d bytes", maxDeviceNameBytes)
	}
	if !utf8.ValidString(name) {
		return invalidParam("device display name is not UTF-8")
	}
	return nil
}

func (s *Service) device(local, id string, rec *deviceRecord) Device {
	return Device{
		UserID:      s.userID(local),
		DeviceID:    id,
		DisplayName: rec.DisplayName,
		LastSeenIP:  rec.LastSeenIP,
		LastSeen:    fromMS(rec.LastSeenMS),
		Created:     fromMS(rec.CreatedMS),
	}
}

// Devices lists the devices of a user, ordered by device ID.
func (s *Service) Devices(userID string) ([]Device, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	var out []Device
	err = s.db.View(func(txn *badger.Txn) error {
		prefix := devicePrefix(local)
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var rec deviceRecord
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
				return fmt.Errorf("users: decoding device: %w", err)
			}
			out = append(out, s.device(local, string(it.Item().Key()[len(prefix):]), &rec))
		}
		return nil
	})
	return out, err
}

// Device returns one device, or ErrNotFound.
func (s *Service) Device(userID, deviceID string) (Device, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return Device{}, err
	}
	if !ids.ValidDeviceID(deviceID) {
		return Device{}, ErrNotFound
	}
	var rec deviceRecord
	var found bool
	err = s.db.View(func(txn *badger.Txn) error {
		found, err = getJSON(txn, deviceKey(local, deviceID), &rec)
		return err
	})
	if err != nil {
		return Device{}, err
	}
	if !found {
		return Device{}, ErrNotFound
	}
	return s.device(local, deviceID, &rec), nil
}

// RenameDevice sets a device's display name; "" removes it.
func (s *Service) RenameDevice(userID, deviceID, displayName string) error {
	local, err := s.localpart(userID)
	if err != nil {
		return err
	}
	if err := checkDeviceName(displayName); err != nil {
		return err
	}
	if !ids.ValidDeviceID(deviceID) {
		return ErrNotFound
	}
	return s.db.Update(func(txn *badger.Txn) error {
		var rec deviceRecord
		found, err := getJSON(txn, deviceKey(local, deviceID), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		rec.DisplayName = displayName
		return setJSON(txn, deviceKey(local, deviceID), &rec)
	})
}

// DeleteDevices deletes the named devices of a user and every token they
// own. IDs that name no device are skipped. Deleting a device's E2EE keys is
// the caller's job (the keys service).
func (s *Service) DeleteDevices(userID string, deviceIDs []string) error {
	local, err := s.localpart(userID)
	if err != nil {
		return err
	}
	if len(deviceIDs) > s.opts.MaxDevicesPerUser {
		return tooLarge("more than %d device IDs", s.opts.MaxDevicesPerUser)
	}
	want := make(map[string]bool, len(deviceIDs))
	for _, id := range deviceIDs {
		if ids.ValidDeviceID(id) {
			want[id] = true
		}
	}
	var hashes []tokenHash
	err = s.db.Update(func(txn *badger.Txn) error {
		hashes = hashes[:0]
		for id := range want {
			h, err := deleteDeviceTxn(txn, local, id)
			if err != nil {
				return err
			}
			hashes = append(hashes, h...)
		}
		return nil
	})
	s.cache.drop(hashes)
	return err
}

// deleteDeviceTxn deletes one device and its tokens, returning the hashes of
// the deleted tokens for the cache. A missing device is no error.
func deleteDeviceTxn(txn *badger.Txn, local, id string) ([]tokenHash, error) {
	var rec deviceRecord
	found, err := getJSON(txn, deviceKey(local, id), &rec)
	if err != nil || !found {
		return nil, err
	}
	hashes, err := deleteDeviceTokens(txn, &rec)
	if err != nil {
		return nil, err
	}
	return hashes, txn.Delete(deviceKey(local, id))
}

// deleteDeviceTokens deletes every token a device record names and clears
// the names.
func deleteDeviceTokens(txn *badger.Txn, rec *deviceRecord) ([]tokenHash, error) {
	var hashes []tokenHash
	if h, ok := asHash(rec.Access); ok {
		if err := txn.Delete(accessKey(h)); err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	for _, b := range [][]byte{rec.Refresh, rec.OldRefresh} {
		if h, ok := asHash(b); ok {
			if err := txn.Delete(refreshKey(h)); err != nil {
				return nil, err
			}
		}
	}
	rec.Access, rec.Refresh, rec.OldRefresh = nil, nil, nil
	return hashes, nil
}

// deleteAllDevicesTxn deletes every device of a user except keep (which may
// be ""), returning the deleted IDs and token hashes.
func deleteAllDevicesTxn(txn *badger.Txn, local, keep string) ([]string, []tokenHash, error) {
	prefix := devicePrefix(local)
	var deleted []string
	var hashes []tokenHash
	for _, k := range keysWithPrefix(txn, prefix, 0) {
		id := string(k[len(prefix):])
		if id == keep {
			continue
		}
		h, err := deleteDeviceTxn(txn, local, id)
		if err != nil {
			return nil, nil, err
		}
		deleted = append(deleted, id)
		hashes = append(hashes, h...)
	}
	return deleted, hashes, nil
}

// DeviceSeen records that a device made a request from ip. Writes are
// throttled to one per device per few minutes (the spec allows last_seen to
// be "a few minutes out of date"), so calling it on every request is cheap.
func (s *Service) DeviceSeen(userID, deviceID, ip string) error {
	if len(ip) > maxIPBytes {
		ip = ip[:maxIPBytes]
	}
	now := s.now()
	key := userID + "\x00" + deviceID
	if !s.seen.due(key, ip, now) {
		return nil
	}
	local, err := s.localpart(userID)
	if err != nil {
		return err
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		var rec deviceRecord
		found, err := getJSON(txn, deviceKey(local, deviceID), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		rec.LastSeenMS, rec.LastSeenIP = ms(now), ip
		return setJSON(txn, deviceKey(local, deviceID), &rec)
	})
	if err != nil {
		s.seen.forget(key)
	}
	return err
}

// seenThrottle remembers when each device's last-seen was written.
type seenThrottle struct {
	mu  sync.Mutex
	max int
	m   map[string]seenEntry
}

type seenEntry struct {
	at time.Time
	ip string
}

func newSeenThrottle(max int) *seenThrottle {
	return &seenThrottle{max: max, m: make(map[string]seenEntry)}
}

// due reports whether a write is due and, if so, records it as done.
func (t *seenThrottle) due(key, ip string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.m[key]; ok && e.ip == ip && now.Sub(e.at) < seenInterval && !now.Before(e.at) {
		return false
	}
	if len(t.m) >= t.max {
		clear(t.m) // bounded memory; the cost is a few early writes
	}
	t.m[key] = seenEntry{at: now, ip: ip}
	return true
}

func (t *seenThrottle) forget(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}

// newDeviceID returns a random device ID of ten upper-case letters.
func (s *Service) newDeviceID() (string, error) {
	b, err := s.randBytes(deviceIDLen)
	if err != nil {
		return "", err
	}
	for i := range b {
		b[i] = 'A' + b[i]%26 // the slight bias does not matter for an ID
	}
	return string(b), nil
}

// countDevices counts a user's devices (keys only).
func countDevices(txn *badger.Txn, local string, limit int) int {
	return len(keysWithPrefix(txn, devicePrefix(local), limit))
}
