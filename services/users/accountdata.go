package users

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"unicode"
	"unicode/utf8"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// AccountDataItem is one piece of account data with the stream position of
// its latest change.
type AccountDataItem struct {
	RoomID  string // "" for global account data
	Type    string
	Content json.RawMessage
	Pos     uint64
}

const (
	maxAccountDataBytes = 64 << 10
	maxTypeBytes        = 255
	// DefaultAccountDataLimit is what AccountDataSince returns at most when
	// given no limit.
	DefaultAccountDataLimit = 1000
)

func checkType(typ string) error {
	if typ == "" {
		return invalidParam("empty type")
	}
	if len(typ) > maxTypeBytes {
		return tooLarge("type longer than %d bytes", maxTypeBytes)
	}
	if !utf8.ValidString(typ) {
		return invalidParam("type is not UTF-8")
	}
	for _, r := range typ {
		if unicode.IsControl(r) {
			return invalidParam("type contains a control character")
		}
	}
	return nil
}

func checkRoom(roomID string) error {
	if roomID == "" {
		return nil
	}
	if _, err := ids.ParseRoomID(roomID); err != nil {
		return invalidParam("%v", err)
	}
	return nil
}

// compactJSON checks that v is JSON and returns it without insignificant
// whitespace.
func compactJSON(v []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, invalidParam("not valid JSON")
	}
	return buf.Bytes(), nil
}

// compactObject is compactJSON for values that must be JSON objects.
func compactObject(v []byte, max int) (json.RawMessage, error) {
	if len(v) > max {
		return nil, tooLarge("larger than %d bytes", max)
	}
	c, err := compactJSON(v)
	if err != nil {
		return nil, err
	}
	if len(c) == 0 || c[0] != '{' {
		return nil, invalidParam("not a JSON object")
	}
	return c, nil
}

func readU64(txn *badger.Txn, key []byte) (uint64, error) {
	v, found, err := getValue(txn, key)
	if err != nil || !found {
		return 0, err
	}
	if len(v) != 8 {
		return 0, errors.New("users: corrupt counter")
	}
	return binary.BigEndian.Uint64(v), nil
}

// SetAccountData stores account data for a user, global (roomID "") or for
// a room, and returns the change's stream position. content must be a JSON
// object of at most 64 KiB; it is stored compacted. Refusing the types that
// clients may not set directly (m.fully_read, m.push_rules) is the client
// API's job; the server itself sets them through here.
func (s *Service) SetAccountData(userID, roomID, typ string, content []byte) (uint64, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return 0, err
	}
	if err := checkRoom(roomID); err != nil {
		return 0, err
	}
	if err := checkType(typ); err != nil {
		return 0, err
	}
	c, err := compactObject(content, maxAccountDataBytes)
	if err != nil {
		return 0, err
	}
	var pos uint64
	s.adMu.Lock()
	err = s.db.Update(func(txn *badger.Txn) error {
		if _, err := loadAccount(txn, local); err != nil {
			return err
		}
		head, err := readU64(txn, adStreamKey())
		if err != nil {
			return err
		}
		pos = head + 1
		old, found, err := getValue(txn, adItemKey(local, roomID, typ))
		if err != nil {
			return err
		}
		if found && len(old) >= 8 {
			if err := txn.Delete(adLogKey(local, binary.BigEndian.Uint64(old))); err != nil {
				return err
			}
		} else {
			n, err := readU64(txn, adCountKey(local))
			if err != nil {
				return err
			}
			if n >= uint64(s.opts.MaxAccountDataItems) {
				return &limitError{what: "account data entries", max: s.opts.MaxAccountDataItems}
			}
			if err := txn.Set(adCountKey(local), be64(n+1)); err != nil {
				return err
			}
		}
		val := append(be64(pos), c...)
		if err := txn.Set(adItemKey(local, roomID, typ), val); err != nil {
			return err
		}
		ref := append(append([]byte(roomID), sep), typ...)
		if err := txn.Set(adLogKey(local, pos), ref); err != nil {
			return err
		}
		return txn.Set(adStreamKey(), be64(pos))
	})
	s.adMu.Unlock()
	if err != nil {
		return 0, err
	}
	if s.opts.OnAccountData != nil {
		s.opts.OnAccountData(userID, pos)
	}
	return pos, nil
}

// AccountData returns one piece of account data, or ErrNotFound.
func (s *Service) AccountData(userID, roomID, typ string) (json.RawMessage, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	if checkRoom(roomID) != nil || checkType(typ) != nil {
		return nil, ErrNotFound
	}
	var v []byte
	var found bool
	err = s.db.View(func(txn *badger.Txn) error {
		v, found, err = getValue(txn, adItemKey(local, roomID, typ))
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

// AccountDataPosition is the head of the account data stream: the position
// of the latest change of anyone's account data (0 before the first).
func (s *Service) AccountDataPosition() (uint64, error) {
	var head uint64
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		head, err = readU64(txn, adStreamKey())
		return err
	})
	return head, err
}

// AccountDataSince returns the user's account data changed after position
// since, oldest change first, at most limit items (0 means
// DefaultAccountDataLimit). Each (room, type) appears once, with its
// current content. since 0 returns everything (an initial sync).
//
// next is the position to pass as since next time. If fewer than limit
// items came back it is the stream head as of the read, so the caller is
// up to date; otherwise it is the position of the last item returned and
// more may follow.
func (s *Service) AccountDataSince(userID string, since uint64, limit int) (items []AccountDataItem, next uint64, err error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = DefaultAccountDataLimit
	}
	err = s.db.View(func(txn *badger.Txn) error {
		head, err := readU64(txn, adStreamKey())
		if err != nil {
			return err
		}
		next = head
		if since >= head {
			return nil
		}
		prefix := adLogPrefix(local)
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(adLogKey(local, since+1)); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != len(prefix)+8 {
				continue
			}
			pos := binary.BigEndian.Uint64(k[len(prefix):])
			ref, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			room, typ, ok := bytes.Cut(ref, []byte{sep})
			if !ok {
				continue
			}
			v, found, err := getValue(txn, adItemKey(local, string(room), string(typ)))
			if err != nil {
				return err
			}
			if !found || len(v) < 8 {
				continue
			}
			items = append(items, AccountDataItem{RoomID: string(room), Type: string(typ), Content: v[8:], Pos: pos})
			if len(items) == limit {
				next = pos
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return items, next, nil
}
