package federation

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// outbound turns committed local events into queued PDUs for every other
// server in the room. It runs beside the room server's notifications (which
// must not block) and keeps a cursor in the store: after a crash it
// re-reads the local events past the cursor, so nothing acknowledged to a
// client is lost on the way out (a resend is harmless: receivers ignore
// events they have).
type outbound struct {
	s      *Server
	mu     sync.Mutex
	queue  []roomserver.Notification
	full   bool // notifications were dropped: replay from the cursor
	signal chan struct{}
	cursor uint64
	done   chan struct{}
}

const maxPendingNotifications = 100_000

var keyOutboundCursor = storage.Key(storage.PrefixFedMeta, []byte("outbound_cursor"))

func newOutbound(s *Server) *outbound {
	return &outbound{s: s, signal: make(chan struct{}, 1), done: make(chan struct{})}
}

// OnEvent is the room server's notification hook; it never blocks.
func (s *Server) OnEvent(n roomserver.Notification) {
	if n.Event == nil || pdu.Domain(n.Event.Sender()) != s.o.ServerName {
		return
	}
	o := s.out
	o.mu.Lock()
	if len(o.queue) >= maxPendingNotifications {
		o.full = true
	} else {
		o.queue = append(o.queue, n)
	}
	o.mu.Unlock()
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// Start resumes sending: the events committed since the cursor first,
// then new ones as they come, until ctx ends. Wait for it with Wait.
func (s *Server) Start(ctx context.Context) error {
	o := s.out
	v, err := s.o.DB.Get(keyOutboundCursor)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		o.cursor = s.o.Rooms.Position() // first start: nothing was owed
		if err := o.saveCursor(); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(v) == 8:
		o.cursor = binary.BigEndian.Uint64(v)
	}
	go o.run(ctx)
	return nil
}

// Wait blocks until the outbound loop has stopped.
func (s *Server) Wait() { <-s.out.done }

func (o *outbound) saveCursor() error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], o.cursor)
	return o.s.o.DB.Update(func(txn *badger.Txn) error { return txn.Set(keyOutboundCursor, b[:]) })
}

func (o *outbound) run(ctx context.Context) {
	defer close(o.done)
	replay := true
	for {
		if replay {
			if err := o.replay(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				o.s.log.Error("outbound replay failed", "err", err)
			}
		}
		o.mu.Lock()
		batch := o.queue
		o.queue = nil
		replay = o.full
		o.full = false
		o.mu.Unlock()
		if len(batch) > 0 && !replay {
			for _, n := range batch {
				if n.Position > o.cursor {
					o.sendTo(ctx, n.Event, n.Servers)
					o.cursor = n.Position
				}
			}
			if err := o.saveCursor(); err != nil {
				o.s.log.Error("saving the outbound cursor failed", "err", err)
			}
		}
		if replay {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-o.signal:
		}
	}
}

// replay sends the local events after the cursor.
func (o *outbound) replay(ctx context.Context) error {
	for {
		evs, reached, err := o.s.o.Rooms.LocalEventsSince(ctx, o.cursor, 500)
		if err != nil {
			return err
		}
		for _, e := range evs {
			o.send(ctx, e.Event)
		}
		if reached == o.cursor {
			return nil
		}
		o.cursor = reached
		if err := o.saveCursor(); err != nil {
			return err
		}
	}
}

// send queues one event (replayed after a restart or an overflow) for the
// servers in its room now: the servers at the time are not known any more.
func (o *outbound) send(ctx context.Context, ev *pdu.Event) {
	dests, err := o.s.o.Rooms.ServersInRoom(ctx, ev.RoomID())
	if err != nil {
		o.s.log.Error("outbound: servers in room", "room", ev.RoomID(), "err", err)
		return
	}
	o.sendTo(ctx, ev, dests)
}

// sendTo queues ev for servers (those in the room when it was committed)
// and a member event's target server.
func (o *outbound) sendTo(ctx context.Context, ev *pdu.Event, servers []string) {
	dests := append([]string(nil), servers...)
	if sk, ok := ev.StateKey(); ok && ev.Type() == "m.room.member" {
		if d := pdu.Domain(sk); d != "" {
			dests = append(dests, d)
		}
	}
	dests = without(dests, o.s.o.ServerName)
	if len(dests) == 0 {
		return
	}
	if err := o.s.o.Queue.EnqueuePDU(dests, ev.JSON()); err != nil {
		o.s.log.Error("outbound: queueing an event failed", "event", ev.ID(), "err", err)
	}
}

func without(list []string, drop string) []string {
	seen := map[string]bool{drop: true}
	out := list[:0:0]
	for _, d := range list {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// otherServers are the servers with joined members in a room, but us.
func (s *Server) otherServers(ctx context.Context, roomID string) []string {
	dests, err := s.o.Rooms.ServersInRoom(ctx, roomID)
	if err != nil {
		return nil
	}
	return without(dests, s.o.ServerName)
}

// Typing sends a local user's typing notice to the room's other servers.
func (s *Server) Typing(ctx context.Context, roomID, userID string, typing bool) {
	dests := s.otherServers(ctx, roomID)
	if len(dests) == 0 {
		return
	}
	content, _ := json.Marshal(map[string]any{"room_id": roomID, "user_id": userID, "typing": typing})
	if err := s.o.Queue.EnqueueEDU(dests, "m.typing", content, false); err != nil {
		s.log.Debug("typing not queued", "err", err)
	}
}

// Receipt sends a local user's public read receipt to the room's other
// servers.
func (s *Server) Receipt(ctx context.Context, roomID, userID, eventID, threadID string) {
	dests := s.otherServers(ctx, roomID)
	if len(dests) == 0 {
		return
	}
	data := map[string]any{"ts": s.o.Now().UnixMilli()}
	if threadID != "" {
		data["thread_id"] = threadID
	}
	content, _ := json.Marshal(map[string]any{roomID: map[string]any{"m.read": map[string]any{
		userID: map[string]any{"data": data, "event_ids": []string{eventID}}}}})
	if err := s.o.Queue.EnqueueEDU(dests, "m.receipt", content, true); err != nil {
		s.log.Info("receipt not queued", "err", err)
	}
}
