package roomserver

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
	"hearth/services/matrix/signing"
	"hearth/services/storage"
)

// Options configures a Server. ServerName, Key and DB are required.
type Options struct {
	ServerName string
	Key        signing.Key
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for room IDs before v12; nil means crypto/rand.
	Rand io.Reader
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Notify is called for each committed event once the watermark has
	// passed it, in position order. It must not block.
	Notify func(Notification)
}

// Notification tells listeners (the sync notifier) that the event at
// Position, and every event before it, is committed and readable.
type Notification struct {
	Position uint64
	RoomID   string
	Event    *pdu.Event
	// Servers are the servers with joined members in the room right after
	// the event, for events of local users (federation sends them there);
	// nil for other events.
	Servers []string
}

// Server is the room server.
type Server struct {
	db   *storage.DB
	opts Options
	log  *slog.Logger
	seq  *sequence
	pub  *publisher

	mu       sync.Mutex // guards rooms, nextRoom and nextSnap
	rooms    map[string]*room
	nextRoom uint64
	nextSnap uint64

	createMu sync.Mutex // serialises room creation (alias and ID checks)
}

// New opens the room server on db, finding the last event position.
func New(ctx context.Context, db *storage.DB, o Options) (*Server, error) {
	if o.ServerName == "" || o.Key.Private == nil || db == nil {
		return nil, errors.New("roomserver: ServerName, Key and DB are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{db: db, opts: o, log: o.Logger, rooms: map[string]*room{}}
	last, err := lastKeyNID(db, storage.PrefixEvent)
	if err != nil {
		return nil, err
	}
	s.seq = newSequence(last)
	lastSnap, err := lastSnapshotNID(db)
	if err != nil {
		return nil, err
	}
	s.nextSnap = lastSnap + 1
	s.pub = newPublisher(o.Notify, last)
	if v, err := db.Get(keyLastRoomNID); err == nil && len(v) == 8 {
		s.nextRoom = binary.BigEndian.Uint64(v) + 1
	} else if errors.Is(err, storage.ErrNotFound) {
		s.nextRoom = 1
	} else if err != nil {
		return nil, err
	}
	return s, nil
}

// lastKeyNID returns the big-endian integer after the prefix of the last key
// under prefix p, or 0.
func lastKeyNID(db *storage.DB, p storage.Prefix) (uint64, error) {
	var last uint64
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte{byte(p)}})
		defer it.Close()
		it.Seek([]byte{byte(p) + 1})
		if it.Valid() {
			k := it.Item().Key()
			if len(k) != 9 {
				return fmt.Errorf("roomserver: malformed key %x", k)
			}
			last = binary.BigEndian.Uint64(k[1:])
		}
		return nil
	})
	return last, err
}

// Position is the watermark: every event at or below it is committed and
// readable.
func (s *Server) Position() uint64 { return s.seq.watermark() }

// ServerName is the name this server signs as.
func (s *Server) ServerName() string { return s.opts.ServerName }

func (s *Server) now() int64 { return s.opts.Now().UnixMilli() }

// Version reports a room's version.
func (s *Server) Version(ctx context.Context, roomID string) (*pdu.RoomVersion, error) {
	r, err := s.room(roomID)
	if err != nil {
		return nil, err
	}
	return r.ver, nil
}
