package ephemeral

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/storage"
)

// Options configures a Service. The zero value works.
type Options struct {
	// Now is the clock for typing timeouts and receipt timestamps; nil
	// means time.Now.
	Now func() time.Time
	// Wake, if not nil, is called after a change: with userID "" when the
	// room's members should look again (typing, a public receipt), with a
	// user when only that user should (a private receipt).
	Wake   func(roomID, userID string)
	Logger *slog.Logger
}

// Service holds the typing and receipt state of the server.
type Service struct {
	Typing   *Typing
	Receipts *Receipts
	opts     Options
}

// New opens the service on db.
func New(db *storage.DB, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	rc, err := NewReceipts(db)
	if err != nil {
		return nil, err
	}
	s := &Service{Receipts: rc, opts: o}
	s.Typing = NewTyping(o.Now, func(room string) { s.wake(room, "") })
	return s, nil
}

func (s *Service) wake(room, user string) {
	if s.opts.Wake != nil {
		s.opts.Wake(room, user)
	}
}

// Close stops the typing timer.
func (s *Service) Close() { s.Typing.Close() }

// SetTyping records that user started (for timeout) or stopped typing in
// a room and wakes the room's long polls.
func (s *Service) SetTyping(roomID, userID string, typing bool, timeout time.Duration) {
	s.Typing.Set(roomID, userID, typing, timeout)
}

// PutReceipt stores a receipt stamped with the current time and wakes
// those who may see it. Errors: ErrInvalid or a storage error.
func (s *Service) PutReceipt(ctx context.Context, roomID, typ, userID, eventID, threadID string) (uint64, error) {
	pos, err := s.Receipts.Put(ctx, roomID, typ, userID, eventID, threadID, s.opts.Now().UnixMilli())
	if err != nil {
		return 0, err
	}
	if typ == ReadPrivate {
		s.wake(roomID, userID)
	} else {
		s.wake(roomID, "")
	}
	return pos, nil
}

// Ephemeral serves /sync (sync.EphemeralSource): for each of rooms, an
// m.typing event when its typing list changed after typingFrom (for 0:
// when someone types), and m.receipt events (one per thread) with the
// receipts stored after receiptFrom that user may see; and the positions
// the answer is complete up to.
func (s *Service) Ephemeral(ctx context.Context, user string, rooms []string, typingFrom, receiptFrom uint64) (map[string][]cjson.Value, uint64, uint64, error) {
	out := map[string][]cjson.Value{}
	typing, tpos := s.Typing.changes(rooms, typingFrom)
	for _, room := range sortedRooms(typing) {
		out[room] = append(out[room], cjson.ObjectOf(
			cjson.M("type", cjson.StrOf("m.typing")),
			cjson.M("content", cjson.ObjectOf(cjson.M("user_ids", cjson.Strings(typing[room])))),
		))
	}
	receipts, rpos, err := s.Receipts.Since(ctx, user, rooms, receiptFrom)
	if err != nil {
		return nil, typingFrom, receiptFrom, err
	}
	for _, room := range sortedRooms(receipts) {
		threads := receipts[room]
		for _, thread := range sortedRooms(threads) {
			content, err := cjson.FromGo(threads[thread])
			if err != nil {
				return nil, typingFrom, receiptFrom, fmt.Errorf("ephemeral: encode receipts: %w", err)
			}
			out[room] = append(out[room], cjson.ObjectOf(
				cjson.M("type", cjson.StrOf("m.receipt")),
				cjson.M("content", content),
			))
		}
	}
	return out, tpos, rpos, nil
}
