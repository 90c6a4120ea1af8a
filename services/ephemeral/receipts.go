package ephemeral

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/storage"
)

// Receipt types.
const (
	Read        = "m.read"
	ReadPrivate = "m.read.private"
)

// ErrInvalid marks a receipt with a bad field (type, IDs, thread).
var ErrInvalid = errors.New("ephemeral: invalid receipt")

// Bounds.
const (
	maxIDLen = 255
	// maxRoomReceipts bounds the receipts of one room read for one sync.
	maxRoomReceipts = 2000
	// maxStreamScan is how many stream entries an incremental read scans
	// before it reads the rooms one by one instead.
	maxStreamScan = 10_000
)

// Receipt is one stored receipt.
type Receipt struct {
	RoomID, Type, UserID, EventID string
	// ThreadID is "" for an unthreaded receipt, "main" or a thread root.
	ThreadID string
	TS       int64
	Pos      uint64
}

// Receipts stores read receipts in Badger. It is safe for concurrent use.
type Receipts struct {
	db *storage.DB
	mu gosync.Mutex // serialises writers so positions become visible in order
	// head is the last committed position: every receipt at or below it
	// is readable.
	head atomic.Uint64
}

// stored is the value of a receipt key.
type stored struct {
	EventID string `json:"e"`
	TS      int64  `json:"t"`
	Pos     uint64 `json:"p"`
}

var metaPosKey = storage.Key(storage.PrefixEphemeralMeta, []byte("receipt_pos"))

// NewReceipts opens the receipt store on db.
func NewReceipts(db *storage.DB) (*Receipts, error) {
	r := &Receipts{db: db}
	err := db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(metaPosKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error {
			if len(b) != 8 {
				return fmt.Errorf("ephemeral: bad receipt position %x", b)
			}
			r.head.Store(binary.BigEndian.Uint64(b))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("ephemeral: open receipts: %w", err)
	}
	return r, nil
}

// Position is the last receipt stream position.
func (r *Receipts) Position() uint64 { return r.head.Load() }

func receiptKey(room, typ, user, thread string) []byte {
	return storage.Key(storage.PrefixReceipt, []byte(room), []byte{0}, []byte(typ), []byte{0},
		[]byte(user), []byte{0}, []byte(thread))
}

func roomPrefix(room string) []byte {
	return storage.Key(storage.PrefixReceipt, []byte(room), []byte{0})
}

func streamKey(pos uint64) []byte {
	return storage.Key(storage.PrefixReceiptStream, binary.BigEndian.AppendUint64(nil, pos))
}

// parseReceiptKey splits a receipt key into its parts.
func parseReceiptKey(k []byte) (room, typ, user, thread string, ok bool) {
	if len(k) < 1 || k[0] != byte(storage.PrefixReceipt) {
		return "", "", "", "", false
	}
	parts := bytes.SplitN(k[1:], []byte{0}, 4)
	if len(parts) != 4 {
		return "", "", "", "", false
	}
	return string(parts[0]), string(parts[1]), string(parts[2]), string(parts[3]), true
}

func validID(s string, sigil byte) bool {
	return len(s) > 1 && len(s) <= maxIDLen && s[0] == sigil && !strings.ContainsRune(s, 0)
}

// Validate checks the fields of a receipt as Put would.
func Validate(roomID, typ, userID, eventID, threadID string) error {
	switch {
	case typ != Read && typ != ReadPrivate:
		return fmt.Errorf("%w: unknown receipt type %q", ErrInvalid, typ)
	case !validID(roomID, '!'):
		return fmt.Errorf("%w: bad room ID", ErrInvalid)
	case !validID(userID, '@'):
		return fmt.Errorf("%w: bad user ID", ErrInvalid)
	case !validID(eventID, '$'):
		return fmt.Errorf("%w: bad event ID", ErrInvalid)
	case threadID != "" && threadID != "main" && !validID(threadID, '$'):
		return fmt.Errorf("%w: thread_id must be \"main\" or an event ID", ErrInvalid)
	}
	return nil
}

// Put stores user's receipt of type typ for eventID in room (threadID ""
// for an unthreaded one), replacing the user's previous receipt of the same
// type and thread, and returns its stream position. It returns once the
// receipt is on disk. Errors: ErrInvalid, or a storage error.
func (r *Receipts) Put(ctx context.Context, roomID, typ, userID, eventID, threadID string, ts int64) (uint64, error) {
	if err := Validate(roomID, typ, userID, eventID, threadID); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	key := receiptKey(roomID, typ, userID, threadID)
	r.mu.Lock()
	defer r.mu.Unlock()
	pos := r.head.Load() + 1
	val, _ := json.Marshal(stored{EventID: eventID, TS: ts, Pos: pos})
	err := r.db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		switch {
		case err == nil:
			var old stored
			if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &old) }); err == nil && old.Pos > 0 {
				if err := txn.Delete(streamKey(old.Pos)); err != nil {
					return err
				}
			}
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		if err := txn.Set(key, val); err != nil {
			return err
		}
		if err := txn.Set(streamKey(pos), key); err != nil {
			return err
		}
		return txn.Set(metaPosKey, binary.BigEndian.AppendUint64(nil, pos))
	})
	if err != nil {
		return 0, fmt.Errorf("ephemeral: put receipt: %w", err)
	}
	r.head.Store(pos)
	return pos, nil
}

// Since returns the receipts in rooms stored after position from (all of
// them for from 0, at most maxRoomReceipts per room), as m.receipt
// contents by room and thread ("" for unthreaded receipts), each
// {event: {type: {user: {ts, thread_id?}}}} (one content per thread, so
// that one user's receipts on one event in different threads do not
// collide), and the position the answer is complete up to. m.read.private receipts are only
// returned to their own user (viewer). A from ahead of the stream (a store
// restored from a backup) counts as 0.
func (r *Receipts) Since(ctx context.Context, viewer string, rooms []string, from uint64) (map[string]map[string]map[string]any, uint64, error) {
	head := r.head.Load()
	if from > head {
		from = 0
	}
	out := map[string]map[string]map[string]any{}
	if from == head || len(rooms) == 0 {
		return out, head, nil
	}
	want := make(map[string]bool, len(rooms))
	for _, room := range rooms {
		want[room] = true
	}
	add := func(rc Receipt) {
		if rc.Pos <= from || rc.Pos > head || !want[rc.RoomID] {
			return
		}
		if rc.Type == ReadPrivate && rc.UserID != viewer {
			return
		}
		threads := out[rc.RoomID]
		if threads == nil {
			threads = map[string]map[string]any{}
			out[rc.RoomID] = threads
		}
		content := threads[rc.ThreadID]
		if content == nil {
			content = map[string]any{}
			threads[rc.ThreadID] = content
		}
		byType, _ := content[rc.EventID].(map[string]any)
		if byType == nil {
			byType = map[string]any{}
			content[rc.EventID] = byType
		}
		byUser, _ := byType[rc.Type].(map[string]any)
		if byUser == nil {
			byUser = map[string]any{}
			byType[rc.Type] = byUser
		}
		body := map[string]any{"ts": rc.TS}
		if rc.ThreadID != "" {
			body["thread_id"] = rc.ThreadID
		}
		byUser[rc.UserID] = body
	}
	err := r.db.View(func(txn *badger.Txn) error {
		if from > 0 && head-from <= maxStreamScan {
			return r.scanStream(ctx, txn, from, head, want, add)
		}
		for _, room := range rooms {
			if err := r.scanRoom(ctx, txn, room, add); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, from, fmt.Errorf("ephemeral: read receipts: %w", err)
	}
	return out, head, nil
}

// scanStream reads the receipts whose stream entries are in (from, head].
func (r *Receipts) scanStream(ctx context.Context, txn *badger.Txn, from, head uint64, want map[string]bool, add func(Receipt)) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64,
		Prefix: []byte{byte(storage.PrefixReceiptStream)}})
	defer it.Close()
	perRoom := map[string]int{}
	for it.Seek(streamKey(from + 1)); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != 9 || binary.BigEndian.Uint64(k[1:]) > head {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rk, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		room, _, _, _, ok := parseReceiptKey(rk)
		if !ok || !want[room] || perRoom[room] >= maxRoomReceipts {
			continue
		}
		rc, ok, err := readReceipt(txn, rk)
		if err != nil {
			return err
		}
		if ok {
			perRoom[room]++
			add(rc)
		}
	}
	return nil
}

// scanRoom reads every receipt of a room (up to maxRoomReceipts).
func (r *Receipts) scanRoom(ctx context.Context, txn *badger.Txn, room string, add func(Receipt)) error {
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64, Prefix: roomPrefix(room)})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid() && n < maxRoomReceipts; it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, ok, err := decodeReceipt(it.Item())
		if err != nil {
			return err
		}
		if ok {
			n++
			add(rc)
		}
	}
	return nil
}

func readReceipt(txn *badger.Txn, key []byte) (Receipt, bool, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, err
	}
	return decodeReceipt(it)
}

func decodeReceipt(it *badger.Item) (Receipt, bool, error) {
	room, typ, user, thread, ok := parseReceiptKey(it.Key())
	if !ok {
		return Receipt{}, false, nil
	}
	var s stored
	if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &s) }); err != nil {
		return Receipt{}, false, nil // a damaged record: skip it
	}
	return Receipt{RoomID: room, Type: typ, UserID: user, ThreadID: thread, EventID: s.EventID, TS: s.TS, Pos: s.Pos}, true, nil
}

// Get returns user's current receipt of type typ in a thread of a room.
func (r *Receipts) Get(roomID, typ, userID, threadID string) (Receipt, bool, error) {
	var rc Receipt
	var ok bool
	err := r.db.View(func(txn *badger.Txn) error {
		var err error
		rc, ok, err = readReceipt(txn, receiptKey(roomID, typ, userID, threadID))
		return err
	})
	return rc, ok, err
}

// sortedRooms returns the keys of m, sorted.
func sortedRooms[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
